"""Fetching a list file's bytes: any filesystem, gzip, version, text decoding, limits.

The core never imports Beam. Functions that read take a path plus an
optional ``open_fn(path, mode) -> binary file object``; the default opens
local files. The Beam layer passes a function over
``apache_beam.io.filesystems.FileSystems.open`` for ``gs://`` and ``s3://``
paths; it should hand over the bytes *as stored*
(``compression_type=CompressionTypes.UNCOMPRESSED``), so that a list's
version is the same wherever it is read from. Gzip is recognised by its
magic bytes and decompressed here.

Lists come from other organisations, so nothing in a file is trusted to be
small or well-formed: the content is read (and inflated) in chunks up to
``max_bytes`` (a gzip bomb stops at the limit, never at the end of memory);
local paths that are not regular files (a FIFO that never ends, ``/dev/zero``,
a socket, a directory) are refused before any byte is read; and a line longer
than :data:`MAX_LINE_BYTES` is a problem at that line, blanked so the readers
never see it.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import re
import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists.hash_list import MAX_PROBLEM_TEXT, ListProblem, ProblemKind
from photosieve.reading import open_regular

OpenFn = Callable[[str, str], IO[bytes]]

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_REMOTE_SCHEMES = ("gs://", "s3://", "http://", "https://", "hdfs://", "az://")

# What a list may inflate to by default: a 10-million-line CSV of PDQ hashes
# with ids and labels is about 1.5 GB, so this leaves room and still stops a
# gzip bomb (8 MB of zeros inflate to 8 GiB) long before memory runs out.
DEFAULT_MAX_LIST_BYTES = 4 << 30
# A hash line, even with ids and labels, is well under 1 KB. The limit stays far
# below the CSV reader's 1 MiB block, whose overflow is a whole-file error.
MAX_LINE_BYTES = 64 << 10
# Stored bytes are read, and gzip inflated, this much at a time.
_CHUNK_BYTES = 1 << 20
# Line lengths are measured over slices of this size (bounded temporaries).
_SCAN_BYTES = 64 << 20
_NON_REGULAR = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_byte_size(text: str | int) -> int:
    """``4294967296``, ``4G``, ``4GiB``, ``512M`` -> bytes (binary units); ConfigError otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        parsed = _SIZE.match(str(text))
        if not parsed:
            raise ConfigError(
                f"expected a byte count such as 4294967296, 512M or 4GiB, got {text!r}"
            )
        value = int(parsed.group(1)) << (10 * " kmgt".index(parsed.group(2).lower() or " "))
    if value <= 0:
        raise ConfigError(f"a byte limit must be positive, got {text!r}")
    return value


def _not_regular(path: str, mode: int) -> ListFormatError:
    what = _NON_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
    reason = f"is {what}, not a regular file: a list must be a file"
    return ListFormatError([ListProblem.make(path, None, ProblemKind.UNREADABLE, reason)])


def local_open(path: str, mode: str = "rb") -> IO[bytes]:
    """The default ``open_fn``: local regular files only.

    The path is stat-ed before opening (opening a FIFO waits for a writer,
    opening a device may act on it) and the descriptor is checked again with
    ``fstat``, opened non-blocking, so a path swapped for a FIFO in between
    cannot hang the read either.

    Raises:
        ConfigError: a remote path.
        ListFormatError: a FIFO, device, socket or directory.
        OSError: the file cannot be opened.
    """
    if path.startswith(_REMOTE_SCHEMES):
        raise ConfigError(
            f"{path} is not a local file: pass open_fn (e.g. Beam's FileSystems.open) to read it"
        )
    if mode != "rb":
        raise ValueError(f"lists are read as 'rb', not {mode!r}")
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise _not_regular(path, status.st_mode)
    return open_regular(path, lambda mode: _not_regular(path, mode))


@dataclass(frozen=True)
class Source:
    """A list file's content.

    Attributes:
        path: as given.
        version: SHA-256 (hex) of the bytes as stored.
        data: the content, gunzipped if it was gzip.
        compressed: whether it was gzip.
        max_bytes: the limit the content was read under; readers that
            expand it further (Parquet's decoded columns) keep to it too.
    """

    path: str
    version: str
    data: bytes
    compressed: bool
    max_bytes: int = DEFAULT_MAX_LIST_BYTES


class _StorageError(Exception):
    """An OSError from the storage handle itself, kept apart from gzip's OSErrors."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class _Hashing(io.RawIOBase):
    """The stored bytes as a raw stream, hashed as they pass."""

    def __init__(self, handle: IO[bytes]):
        self._handle = handle
        self._pending = b""  # what a handle gave beyond the size asked for
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data, self._pending = self._pending, b""
        if not data:
            try:
                data = self._handle.read(len(buffer))
            except OSError as exc:
                raise _StorageError(exc) from exc
            self.digest.update(data)
        data, self._pending = data[: len(buffer)], data[len(buffer) :]
        buffer[: len(data)] = data
        return len(data)


def too_large(path: str, limit: int, what: str) -> ListFormatError:
    """A list over ``--max-list-bytes``: it ``what`` (holds, inflates to, decodes to) more."""
    reason = (
        f"{what} more than {limit} bytes, the limit on a list's content"
        " (--max-list-bytes raises it)"
    )
    return ListFormatError([ListProblem.make(path, None, ProblemKind.TOO_LARGE, reason)])


def _check_handle(path: str, handle: IO[bytes]) -> int | None:
    """The stored size of a local file's handle, or None; refuse a non-regular file.

    (For an ``open_fn`` that does not check itself; too late to avoid a
    blocking open, but not too late to avoid reading forever.)
    """
    try:
        fd = handle.fileno()
    except (AttributeError, OSError, ValueError):  # remote handles have no descriptor
        return None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        raise _not_regular(path, status.st_mode)
    return status.st_size


def _read_capped(stream: IO[bytes], limit: int, path: str, compressed: bool) -> bytes:
    """Everything ``stream`` gives, in chunks, refusing more than ``limit`` bytes."""
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy
    total = 0
    while True:
        chunk = stream.read(_CHUNK_BYTES)
        if not chunk:
            return out.getvalue()
        total += len(chunk)
        if total > limit:
            raise too_large(path, limit, "inflates to" if compressed else "holds")
        out.write(chunk)


def read_source(
    path: str, open_fn: OpenFn | None = None, *, max_bytes: int | None = None
) -> Source:
    """Read ``path`` through ``open_fn``, inflating gzip, up to ``max_bytes`` of content.

    Raises:
        ConfigError: the file cannot be read.
        ListFormatError: not a regular file, broken gzip, or more content
            than ``max_bytes`` (default :data:`DEFAULT_MAX_LIST_BYTES`).
    """
    limit = DEFAULT_MAX_LIST_BYTES if max_bytes is None else max_bytes
    opener = open_fn or local_open
    compressed = False
    try:
        with opener(path, "rb") as handle:
            size = _check_handle(path, handle)
            raw = _Hashing(handle)
            stored = io.BufferedReader(raw, _CHUNK_BYTES)
            compressed = stored.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC
            if compressed:
                data = _read_capped(gzip.GzipFile(fileobj=stored, mode="rb"), limit, path, True)
                while stored.read(_CHUNK_BYTES):  # the version covers every stored byte
                    pass
            elif size is not None and size > limit:
                raise too_large(path, limit, "holds")
            else:
                data = _read_capped(stored, limit, path, False)
    except _StorageError as exc:
        raise ConfigError(f"cannot read list file {path}: {exc.error}") from exc.error
    except (OSError, EOFError, zlib.error) as exc:
        if not compressed:
            raise ConfigError(f"cannot read list file {path}: {exc}") from exc
        raise ListFormatError(
            [ListProblem.make(path, None, ProblemKind.UNREADABLE, f"broken gzip data: {exc}")]
        ) from exc
    return Source(
        path=path,
        version=raw.digest.hexdigest(),
        data=data,
        compressed=compressed,
        max_bytes=limit,
    )


def _content(source: Source) -> tuple[bytes, list[ListProblem]]:
    """The content without a BOM, lines over :data:`MAX_LINE_BYTES` blanked and reported.

    Lines end at ``\\n`` (``\\r`` also ends one, for measuring); a long
    line keeps its number (its ``\\n`` stays) so every other line's number
    stays right. The common case, no long line, costs one vectorised pass
    and no copy.
    """
    data = source.data[len(UTF8_BOM) :] if source.data.startswith(UTF8_BOM) else source.data
    spans = _long_spans(data)
    if not spans:
        return data, []
    problems, parts, position, number = [], [], 0, 1
    for start, end in spans:
        number += data.count(b"\n", position, start)
        problems.append(
            ListProblem.make(
                source.path,
                number,
                ProblemKind.LINE_TOO_LONG,
                f"line of {end - start} bytes, over the limit of {MAX_LINE_BYTES}",
                data[start : start + 2 * MAX_PROBLEM_TEXT].decode("utf-8", errors="replace"),
            )
        )
        parts.append(data[position:start])
        position = end
    parts.append(data[position:])
    return b"".join(parts), problems


def _long_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of the lines longer than MAX_LINE_BYTES, in order."""
    if len(data) <= MAX_LINE_BYTES:
        return []
    view = np.frombuffer(data, dtype=np.uint8)
    spans: list[tuple[int, int]] = []
    last = -1  # offset of the previous line break
    for offset in range(0, view.size, _SCAN_BYTES):
        block = view[offset : offset + _SCAN_BYTES]
        breaks = np.flatnonzero((block == 0x0A) | (block == 0x0D)) + offset
        bounds = np.concatenate([[last], breaks])
        long = np.flatnonzero(np.diff(bounds) - 1 > MAX_LINE_BYTES)
        spans += [(int(bounds[i]) + 1, int(bounds[i + 1])) for i in long]
        if breaks.size:
            last = int(breaks[-1])
    if view.size - last - 1 > MAX_LINE_BYTES:
        spans.append((last + 1, int(view.size)))
    return spans


# UTF-8 is checked in slices of this size (no full-size str is built).
_UTF8_CHECK_BYTES = 16 << 20


def utf8_bytes(source: Source) -> tuple[bytes, list[ListProblem]]:
    """The content as UTF-8 bytes without a BOM; long lines and lines not UTF-8 blanked, reported.

    The common case (valid UTF-8, no long line) costs one incremental
    decoding pass and no copy of the content beyond the BOM slice.
    """
    data, problems = _content(source)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _UTF8_CHECK_BYTES):
            decoder.decode(data[start : start + _UTF8_CHECK_BYTES])
        decoder.decode(b"", final=True)
        return data, problems
    except UnicodeDecodeError:
        text, bad = _blank_undecodable(source.path, data)
        return text.encode("utf-8"), sorted(problems + bad, key=lambda p: p.line or 0)


def decode_text(source: Source) -> tuple[str, list[ListProblem]]:
    """The content as text. Long lines and lines that are not UTF-8 become blank, each reported.

    Blanking keeps every other line's number right and lets lenient reading
    go on; the line itself is never guessed at.
    """
    data, problems = _content(source)
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError:
        pass
    text, bad = _blank_undecodable(source.path, data)
    return text, sorted(problems + bad, key=lambda p: p.line or 0)


def _blank_undecodable(path: str, data: bytes) -> tuple[str, list[ListProblem]]:
    problems = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                ListProblem.make(
                    path,
                    number,
                    ProblemKind.BAD_ENCODING,
                    f"not UTF-8 (byte {exc.start + 1} of the line)",
                    line.decode("utf-8", errors="replace"),
                )
            )
            lines[number - 1] = b""
    return b"\n".join(lines).decode("utf-8"), problems
