"""Reading objects' bytes with typed failures, whatever the storage.

The CLI reads local files; pipelines read through Beam's filesystems
(``gs://``, ``s3://``...). Both go through :func:`read_object`, so a missing
object, a permission error or an oversized object becomes the same
:class:`~photosieve.errors.HashFailure` reason everywhere.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from photosieve.errors import FailureReason, PhotosieveError
from photosieve.names import MEMBER_SEPARATOR, split_member

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
        open_fn: opens ``uri`` for binary reading (default: local ``open``;
            pipelines pass Beam's ``FileSystems.open``).
        max_bytes: larger objects raise ReadError(TOO_LARGE) without being read.
        size_hint: the size a listing reported, checked before opening.
    """
    if size_hint is not None and size_hint > max_bytes:
        raise ReadError(FailureReason.TOO_LARGE, f"object is {size_hint} bytes, over the {max_bytes}-byte limit")
    opener = open_fn or (lambda path: open(path, "rb"))
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
    except IsADirectoryError as exc:
        raise ReadError(FailureReason.UNREADABLE, f"is a directory: {exc.strerror}") from exc
    except Exception as exc:  # storage clients raise their own types
        reason = classify_os_error(exc)
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ReadError(reason, f"cannot read: {type(exc).__name__}: {detail}"[:300]) from exc
    return b"".join(pieces)


def walk_local(paths: list[str]) -> Iterator[str]:
    """Expand files and directories (recursively, sorted) into file paths.

    Paths that don't exist are yielded as given, so the caller reports them.
    """
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield os.path.join(root, name)
        else:
            yield path
