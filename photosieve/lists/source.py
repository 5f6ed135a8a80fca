"""Fetching a list file's bytes: any filesystem, gzip, version, text decoding.

The core never imports Beam. Functions that read take a path plus an
optional ``open_fn(path, mode) -> binary file object``; the default opens
local files. The Beam layer passes a function over
``apache_beam.io.filesystems.FileSystems.open`` for ``gs://`` and ``s3://``
paths; it should hand over the bytes *as stored*
(``compression_type=CompressionTypes.UNCOMPRESSED``), so that a list's
version is the same wherever it is read from. Gzip is recognised by its
magic bytes and decompressed here.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists.hash_list import ListProblem, ProblemKind

OpenFn = Callable[[str, str], IO[bytes]]

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_REMOTE_SCHEMES = ("gs://", "s3://", "http://", "https://", "hdfs://", "az://")


def local_open(path: str, mode: str = "rb") -> IO[bytes]:
    """The default ``open_fn``: local files only."""
    if path.startswith(_REMOTE_SCHEMES):
        raise ConfigError(
            f"{path} is not a local file: pass open_fn (e.g. Beam's FileSystems.open) to read it"
        )
    return open(path, mode)


@dataclass(frozen=True)
class Source:
    """A list file's content.

    Attributes:
        path: as given.
        version: SHA-256 (hex) of the bytes as stored.
        data: the content, gunzipped if it was gzip.
        compressed: whether it was gzip.
    """

    path: str
    version: str
    data: bytes
    compressed: bool


def read_source(path: str, open_fn: OpenFn | None = None) -> Source:
    """Read ``path`` whole through ``open_fn``; raise ConfigError if it cannot be read."""
    opener = open_fn or local_open
    try:
        with opener(path, "rb") as handle:
            stored = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read list file {path}: {exc}") from exc
    version = hashlib.sha256(stored).hexdigest()
    data, compressed = stored, False
    if stored.startswith(GZIP_MAGIC):
        try:
            data, compressed = gzip.decompress(stored), True
        except (OSError, EOFError, zlib.error) as exc:
            raise ListFormatError(
                [ListProblem.make(path, None, ProblemKind.UNREADABLE, f"broken gzip data: {exc}")]
            ) from exc
    return Source(path=path, version=version, data=data, compressed=compressed)


# UTF-8 is checked in slices of this size (no full-size str is built).
_UTF8_CHECK_BYTES = 16 << 20


def utf8_bytes(source: Source) -> tuple[bytes, list[ListProblem]]:
    """The content as UTF-8 bytes without a BOM; lines that are not UTF-8 blanked and reported.

    The common case (valid UTF-8) costs one incremental decoding pass and no
    copy of the content beyond the BOM slice.
    """
    data = source.data[len(UTF8_BOM) :] if source.data.startswith(UTF8_BOM) else source.data
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _UTF8_CHECK_BYTES):
            decoder.decode(data[start : start + _UTF8_CHECK_BYTES])
        decoder.decode(b"", final=True)
        return data, []
    except UnicodeDecodeError:
        text, problems = decode_text(source)
        return text.encode("utf-8"), problems


def decode_text(source: Source) -> tuple[str, list[ListProblem]]:
    """The content as text. Lines that are not UTF-8 become blank, each reported as a problem.

    Blanking keeps every other line's number right and lets lenient reading
    go on; the line itself is never guessed at.
    """
    data = source.data[len(UTF8_BOM) :] if source.data.startswith(UTF8_BOM) else source.data
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    problems = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                ListProblem.make(
                    source.path,
                    number,
                    ProblemKind.BAD_ENCODING,
                    f"not UTF-8 (byte {exc.start + 1} of the line)",
                    line.decode("utf-8", errors="replace"),
                )
            )
            lines[number - 1] = b""
    return b"\n".join(lines).decode("utf-8"), problems
