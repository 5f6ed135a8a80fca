"""Count libtiff's error messages into the decoder's warning counters, off stderr.

libtiff reports damage ("LZWDecode: Not enough data", "TIFFFillStrip: Read
error on strip 3") through a process-global error handler whose default
writes to file descriptor 2, where Python's warning filters cannot reach:
on an archive of hostile objects a run printed lines nobody could attribute
(47 of 10,000 mutated images). :func:`install` replaces that handler, once per
process, with one that counts each message by libtiff module into the Counter
of the thread that is decoding (the one ``photosieve.decode`` gives each
thread for Python warnings), as ``"libtiff:<module>"`` (``"libtiff"`` when
the module is not a C name). It never prints.

Nothing else changes. Pillow (src/libImaging/TiffDecode.c, 12.x) does not use
the error handler: it turns libtiff failures into OSError from return codes
(``TIFFReadEncodedStrip(...) == -1`` -> ``IMAGING_CODEC_BROKEN``), so the same
images fail with the same exceptions. Pillow itself sets the warning handlers
(plain and ``Ext``) to NULL before each decode, so libtiff warnings are
already silent there and are left to it; the ``Ext`` error handler is NULL by
default and left alone.

The library is found as the copy Pillow's ``_imaging`` module has loaded (its
path in ``/proc/self/maps``, else the one bundled beside the PIL package), so
the handler is set in that copy's globals. When none is found (another
platform, a static build), :func:`install` returns False and nothing changes.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import threading
from collections import Counter

__all__ = ["install", "installed", "unattributed"]

# void (*TIFFErrorHandler)(const char *module, const char *fmt, va_list ap).
# va_list is passed as a pointer (x86-64, AArch64); the message is not
# formatted, only its module counted, so fmt and ap are never read.
_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)

# libtiff's modules are C function names (TIFFFillStrip, LZWDecode) or the
# name given to TIFFClientOpen (Pillow's "tempfile.tif"); anything but a C
# name is counted as plain "libtiff", so no name from a file reaches a table.
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

_LOCK = threading.Lock()
_STATE: dict = {"tried": False, "library": None, "handler": None}
_UNATTRIBUTED: Counter = Counter()


def install(thread_counts: threading.local) -> bool:
    """Count libtiff errors into ``thread_counts.counts`` (a Counter) of the calling thread.

    Idempotent and thread-safe; the first call decides. Messages from a
    thread without ``counts`` (not decoding) go to :func:`unattributed`.

    Returns:
        True if the handler is installed in the libtiff Pillow uses.
    """
    with _LOCK:
        if _STATE["tried"]:
            return _STATE["handler"] is not None
        _STATE["tried"] = True
        library = _pillow_libtiff()
        if library is None:
            return False

        def count(module: bytes | None, fmt: bytes | None, ap: int | None) -> None:
            try:
                name = (module or b"").decode("latin-1")
                key = f"libtiff:{name}" if _MODULE.fullmatch(name) else "libtiff"
                counts = getattr(thread_counts, "counts", None)
                (_UNATTRIBUTED if counts is None else counts)[key] += 1
            except BaseException:  # noqa: BLE001 - ctypes would print it to stderr
                pass

        handler = _HANDLER_TYPE(count)
        try:
            setter = library.TIFFSetErrorHandler
            setter.restype = ctypes.c_void_p
            setter.argtypes = [_HANDLER_TYPE]
            setter(handler)
        except (AttributeError, OSError, ctypes.ArgumentError):
            return False
        _STATE["library"], _STATE["handler"] = library, handler  # kept alive for good
        return True


def installed() -> bool:
    """Whether libtiff's error handler is the counting one."""
    return _STATE["handler"] is not None


def unattributed() -> Counter:
    """libtiff messages raised by threads that were not decoding (a live Counter)."""
    return _UNATTRIBUTED


def _pillow_libtiff() -> ctypes.CDLL | None:
    """The libtiff that PIL._imaging links, already loaded, or None."""
    try:
        from PIL import _imaging
    except ImportError:
        return None
    for path in _candidates(os.path.dirname(os.path.dirname(_imaging.__file__))):
        try:
            return ctypes.CDLL(path)  # already mapped: the same handle, the same globals
        except OSError:
            continue
    return None


def _candidates(site: str) -> list[str]:
    """Paths of libtiff: mapped in this process (Pillow's bundled copy first), then bundled.

    A libtiff that is not mapped is not the one ``_imaging`` links (it is
    loaded with it); the bundled paths serve platforms without /proc.
    """
    found: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rsplit(" ", 1)[-1].strip()
                name = os.path.basename(path)
                if name.startswith("libtiff") and ".so" in name and path not in found:
                    found.append(path)
    except OSError:
        pass
    found.sort(key=lambda path: not path.startswith(site + os.sep))
    for pattern in ("pillow.libs/libtiff*.so*", "PIL/.dylibs/libtiff*.dylib"):
        found.extend(p for p in sorted(glob.glob(os.path.join(site, pattern))) if p not in found)
    return found
