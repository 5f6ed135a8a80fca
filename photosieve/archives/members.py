"""What an archive reader yields, and the helpers the zip and tar readers share."""

from __future__ import annotations

import gzip
import lzma
import tarfile
import zipfile
import zlib
from collections import Counter
from typing import NamedTuple

from photosieve.errors import FailureReason
from photosieve.names import member_uri, occurrence_uri
from photosieve.reading import ReadError, classify_os_error

# Policy: an archive may inflate to this many bytes in all. A real photo
# archive inflates about 1:1 (JPEG does not compress); far more than the
# file's size means a bomb. 16 GiB still lets a 16 GB tar.gz of photos through.
DEFAULT_MAX_ARCHIVE_BYTES = 16 * 1024**3
MESSAGE_CHARS = 300


class MemberFailure(NamedTuple):
    """Why a member (or the archive) gave no bytes."""

    reason: FailureReason
    message: str


class Member(NamedTuple):
    """One object of an archive: escaped uri, declared size, mtime, bytes or failure."""

    uri: str
    size: int | None
    mtime_us: int | None
    data: bytes | MemberFailure


class Skipped(NamedTuple):
    """A member that is not an object; ``kind`` is ``directory``, ``symlink``, ``hardlink``..."""

    uri: str
    kind: str


def member_failure(reason: FailureReason, message: str) -> MemberFailure:
    """A MemberFailure whose message is cut to what a table row should hold."""
    return MemberFailure(reason, message[:MESSAGE_CHARS])


def failure(uri, size, mtime_us, reason: FailureReason, message: str) -> Member:
    """A Member that failed (see :func:`member_failure`)."""
    return Member(uri, size, mtime_us, member_failure(reason, message))


def failure_reason(exc: BaseException) -> FailureReason:
    """Damaged archive data is CORRUPT; storage trouble keeps its own reason."""
    if isinstance(exc, ReadError):
        return exc.reason
    damaged = (
        tarfile.TarError,
        zipfile.BadZipFile,
        gzip.BadGzipFile,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        ValueError,
    )
    if isinstance(exc, OSError) and not isinstance(exc, damaged):
        return classify_os_error(exc)
    return FailureReason.CORRUPT


def too_large(size: int, max_bytes: int) -> MemberFailure:
    return MemberFailure(
        FailureReason.TOO_LARGE, f"object is {size} bytes, over the {max_bytes}-byte limit"
    )


def spent(limit: int) -> MemberFailure:
    return MemberFailure(
        FailureReason.ARCHIVE_LIMIT,
        f"the archive's {limit}-byte inflate limit is spent: this member is not inflated",
    )


class Budget:
    """Inflated bytes an archive may still produce."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def spend(self, n: int) -> None:
        self.left = max(self.left - n, 0)


class MemberNames:
    """Distinct uris for members, in archive order (see :func:`names.occurrence_uri`)."""

    def __init__(self, container: str):
        self._container = container
        self._seen: Counter = Counter()

    def uri(self, name: str) -> str:
        uri = member_uri(self._container, name)
        self._seen[uri] += 1
        return occurrence_uri(uri, self._seen[uri])
