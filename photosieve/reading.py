"""Reading objects' bytes with typed failures, whatever the storage.

The CLI reads local files; pipelines read local files the same way and
other storage through Beam's filesystems (``gs://``, ``s3://``...). Both go
through :func:`read_object`, so a missing object, a permission error or an
oversized object becomes the same :class:`~photosieve.errors.HashFailure`
reason everywhere. Local files are opened with :func:`open_local`, which
never blocks on (or reads) a FIFO or device.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import BinaryIO

from photosieve.errors import FailureReason, PhotosieveError
from photosieve.listing import OTHER, file_kind
from photosieve.names import split_member

# Policy: objects above this size are reported, not read. Real photos are
# < 50 MB; a multi-GB "image" is a video or an archive misnamed, and reading
# it whole would stall a worker.
DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024
# Read in pieces so an object that grows past the limit while being read
# (or lies about its size) is stopped early.
_CHUNK = 8 * 1024 * 1024
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def is_archive(path: str) -> bool:
    """Whether ``path`` names an archive whose members are read as objects (with ``--archives``)."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def container_path(uri: str, archives: bool) -> str:
    """The listed file an object came from: the archive of a member, else the object itself.

    >>> container_path("s/a.zip!/d/m.jpg", archives=True), container_path("s/x%21/y.jpg", archives=True)
    ('s/a.zip', 's/x%21/y.jpg')
    """
    if archives:
        head, member = split_member(uri)
        if member is not None and is_archive(head):
            return head
    return uri


class ReadError(PhotosieveError):
    """An object whose bytes could not be had; carries the failure reason."""

    def __init__(self, reason: FailureReason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def classify_os_error(exc: BaseException) -> FailureReason:
    """Map an I/O exception (local, or a cloud client's) to a failure reason."""
    if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
        return FailureReason.NOT_FOUND
    text = f"{type(exc).__name__} {exc}".lower()
    if "notfound" in text or "not found" in text or "no such" in text or "404" in text:
        return FailureReason.NOT_FOUND
    return FailureReason.UNREADABLE


def open_regular(path: str, refuse: Callable[[int], Exception]) -> BinaryIO:
    """Open a local file for reading only if it is a regular file, without ever blocking.

    ``open`` on a FIFO blocks until a writer comes, and a device streams
    forever; a path can be swapped for one between a check and the open.
    ``O_NONBLOCK`` makes the open itself return at once, and ``fstat`` on the
    opened descriptor (not the name, which could change again) decides: for
    anything but a regular file, ``refuse(st_mode)`` is raised. Shared by
    object reading (:func:`open_local`) and list reading
    (:func:`photosieve.lists.source.local_open`), which word the refusal
    their own way.

    Raises:
        the exception ``refuse`` returns; OSError when the open itself fails.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(mode)
        os.set_blocking(fd, True)  # a regular file: plain reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_local(path: str) -> BinaryIO:
    """Open a listed local object (a regular file) without ever blocking.

    Listing already skips FIFOs and devices, but a file can be swapped for
    one between listing and reading (see :func:`open_regular`).

    Raises:
        ReadError: UNREADABLE for anything but a regular file (named).
        OSError: the open itself failed (classified by the caller).
    """
    return open_regular(path, _not_an_object)


def _not_an_object(mode: int) -> ReadError:
    kind = file_kind(mode)
    if stat.S_ISDIR(mode):
        what = "a directory"
    else:
        what = "a non-regular file" if kind == OTHER else f"a {kind}"
    return ReadError(FailureReason.UNREADABLE, f"not a regular file: {what}; not read")


def read_object(
    uri: str,
    open_fn: Callable[[str], BinaryIO] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
    size_hint: int | None = None,
) -> bytes:
    """Return the object's bytes, or raise ReadError with a specific reason.

    Args:
        uri: path or URI.
        open_fn: opens ``uri`` for binary reading (default: :func:`open_local`,
            regular files only; pipelines pass Beam's ``FileSystems.open``
            for other filesystems).
        max_bytes: larger objects raise ReadError(TOO_LARGE) without being read.
        size_hint: the size a listing reported, checked before opening.
    """
    if size_hint is not None and size_hint > max_bytes:
        raise ReadError(FailureReason.TOO_LARGE, f"object is {size_hint} bytes, over the {max_bytes}-byte limit")
    opener = open_fn or open_local
    try:
        with opener(uri) as handle:
            pieces = []
            total = 0
            while True:
                piece = handle.read(_CHUNK)
                if not piece:
                    break
                total += len(piece)
                if total > max_bytes:
                    raise ReadError(FailureReason.TOO_LARGE, f"object exceeds the {max_bytes}-byte limit")
                pieces.append(piece)
    except ReadError:
        raise
    except IsADirectoryError as exc:  # other filesystems' openers
        raise ReadError(FailureReason.UNREADABLE, f"is a directory: {exc.strerror}") from exc
    except Exception as exc:  # storage clients raise their own types
        reason = classify_os_error(exc)
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ReadError(reason, f"cannot read: {type(exc).__name__}: {detail}"[:300]) from exc
    return b"".join(pieces)
