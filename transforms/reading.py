"""Read the objects of an archive of images from any Beam filesystem.

Transforms:

* :class:`ReadImages`: glob patterns in, one :class:`ObjectRecord` per object
  out: ``(uri, size, mtime_us, data)``, where ``data`` is the object's bytes,
  or a :class:`~photosieve.errors.HashFailure` when they could not be had
  (too large, gone, permission denied, a broken archive). Its tagged output
  ``ledger`` carries per-bundle counts for the run summary.
* Its two halves, for pipelines that decide between listing and reading
  (incremental audits): :class:`~photosieve.transforms.listing.ListFiles`
  (patterns in, ``files``: ``(uri, (size, mtime_s))`` one per match, and
  ``ledger``) and :class:`ReadListedFiles` (``(uri, [(size, mtime_s), ...])``
  in, ObjectRecords and ``ledger`` out).

Objects are files, or with ``archives=True`` the members of ``.zip``,
``.tar``, ``.tar.gz``/``.tgz`` files, named ``archive.zip!/member.jpg``.
Every uri is escaped (:mod:`photosieve.names`): any bytes a name holds
survive Beam's coders and Parquet, and ``unescape`` gives the path to open.
Listing is :mod:`photosieve.transforms.listing`'s.
:mod:`photosieve.archives` reads archives, each member to its own record
(or a counted skip, for directories and links), whatever damage is around it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve import archives
from photosieve import ledger as keys
from photosieve.archives import DEFAULT_MAX_ARCHIVE_BYTES
from photosieve.cli import values
from photosieve.errors import FailureReason, HashFailure
from photosieve.listing import count_skip, is_local
from photosieve.names import MEMBER_SEPARATOR, unescape
from photosieve.reading import (
    ARCHIVE_SUFFIXES,
    DEFAULT_MAX_OBJECT_BYTES,
    ReadError,
    is_archive,
    open_local,
    read_object,
)
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.listing import ListFiles, count_listed, first_listing

__all__ = [
    "ARCHIVE_SUFFIXES",
    "MEMBER_SEPARATOR",
    "ObjectRecord",
    "ReadImages",
    "ReadListedFiles",
]


class ObjectRecord(NamedTuple):
    """One object to hash: its name, listing metadata and bytes (or why there are none).

    Attributes:
        uri: path or URI; archive members are ``archive!/member``.
        size: bytes as listed (the archive's declared size for members).
        mtime_us: last-modified time, microseconds since the epoch (UTC), or None.
        data: the bytes, or a HashFailure (stage ``read``) whose ``algorithms``
            are left empty for the hashing step to fill in.
    """

    uri: str
    size: int | None
    mtime_us: int | None
    data: bytes | HashFailure




def _open_raw(uri: str) -> BinaryIO:
    """Open a listed object by its escaped uri: regular local files only, other storage via Beam."""
    path = unescape(uri)
    if is_local(path):
        return open_local(path)  # never blocks on a file swapped for a FIFO since listing
    # Images are read as stored: Beam's default (AUTO) would gunzip "x.gz".
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _read_failure(uri: str, reason: FailureReason, message: str) -> HashFailure:
    return HashFailure(uri, "read", reason, message)


class _ReadObjectsFn(beam.DoFn):
    """``(path, [(size, mtime_s), ...])`` -> ObjectRecords, expanding archives."""

    def __init__(self, max_bytes: int, archives: bool, max_archive_bytes: int):
        self._max_bytes = max_bytes
        self._archives = archives
        self._max_archive_bytes = max_archive_bytes
        self._tally: Tally | None = None

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, listed: tuple[str, Sequence[tuple[int, float]]]) -> Iterator[ObjectRecord]:
        path, metadata = listed
        metadata = list(metadata)
        size, mtime_us = first_listing(metadata)
        count_listed(self._tally, metadata)
        if self._archives and is_archive(path):
            self._tally.add(keys.FILES_ARCHIVES)
            yield from self._read_archive(path, size, mtime_us)
            return
        try:
            data = read_object(path, _open_raw, max_bytes=self._max_bytes, size_hint=size)
        except ReadError as exc:
            data = _read_failure(path, exc.reason, exc.message)
        self._tally.add(keys.OBJECTS_READ)
        yield ObjectRecord(path, size, mtime_us, data)

    def finish_bundle(self):
        yield from self._tally.flush()

    def _read_archive(self, path: str, size: int, mtime_us: int | None) -> Iterator[ObjectRecord]:
        """Each member's record; skips (directories, links...) are only counted.

        Rows about the archive itself (damage, truncation, the inflate limit,
        an unreadable file) are objects named by the archive's uri, counted
        as ``files.archive_failures`` too.
        """
        tally = self._tally
        members = 0
        for item in archives.read_members(
            path,
            lambda: _open_raw(path),
            max_bytes=self._max_bytes,
            max_archive_bytes=self._max_archive_bytes,
            size=size,
            mtime_us=mtime_us,
        ):
            if isinstance(item, archives.Skipped):
                count_skip(tally, "archive", item.kind, item.uri)
                continue
            members += 1
            if item.uri == path:
                tally.add(keys.FILES_ARCHIVE_FAILURES)
            data = item.data
            if isinstance(data, archives.MemberFailure):
                data = _read_failure(item.uri, data.reason, data.message)
            yield ObjectRecord(item.uri, item.size, item.mtime_us, data)
        tally.add(keys.OBJECTS_READ, members)
        tally.add(keys.FILES_ARCHIVE_OBJECTS, members)


class _ReadResult(NamedTuple):
    """ReadImages' outputs: ``objects`` and ``ledger`` (listing and reading counts)."""

    objects: beam.PCollection
    ledger: beam.PCollection


class ReadImages(beam.PTransform):
    """Lists the objects matching glob patterns and reads each one's bytes.

    Each matched file is read once even when several patterns match it: the
    listing is grouped by path, which also spreads the reads over the workers
    (without that, a pattern's whole listing would stay in one bundle).
    Objects above ``max_bytes`` are not read; they come out with a
    ``too_large`` failure, like files that vanish or refuse to open:

    >>> import os, shutil, tempfile
    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> folder = tempfile.mkdtemp()
    >>> for name, data in [("a.jpg", b"abc"), ("big.jpg", b"x" * 100)]:
    ...     with open(os.path.join(folder, name), "wb") as handle:
    ...         _ = handle.write(data)
    >>> def outcome(record):  # the file's name, and its bytes or why there are none
    ...     data = record.data
    ...     return os.path.basename(record.uri), getattr(data, "reason", data)
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     read = p | ReadImages([os.path.join(folder, "*.jpg")], max_bytes=10)
    ...     outcomes = read.objects | beam.Map(outcome)
    ...     expected = [("a.jpg", b"abc"), ("big.jpg", FailureReason.TOO_LARGE)]
    ...     _ = assert_that(outcomes, equal_to(expected))
    >>> shutil.rmtree(folder)

    In a pipeline, ``read.objects | HashImages(plan, run_id=...)`` hashes them.

    Args:
        patterns: Beam glob patterns (``*`` within a directory, ``**`` across).
        max_bytes: larger objects become failures, unread.
            Default: ``photosieve.reading.DEFAULT_MAX_OBJECT_BYTES``.
        archives: read members of ``.zip``/``.tar``/``.tar.gz`` files as
            objects instead of hashing the archive file itself.
        max_archive_bytes: with ``archives``, the bytes one archive may
            inflate to in all; later members fail ``archive_limit``.
            Default: ``photosieve.archives.DEFAULT_MAX_ARCHIVE_BYTES``.

    Returns a tuple-like result: the main output is ObjectRecords, the
    ``ledger`` output per-bundle counts (see :class:`Tally`).

    See also: :class:`photosieve.transforms.hashing.HashImages`, which consumes the records.
    """

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The input flags: what to read (-i), and archive members."""
        parser.add_argument(
            "-i",
            "--input",
            nargs="+",
            action=values.ExtendOrReplace,
            metavar="GLOB",
            help="Files, directories (read recursively) or glob patterns on any Beam filesystem "
            "(gs://, s3://, hdfs:// with the matching extras); repeatable. Required.",
        )
        parser.add_argument(
            "--archives",
            action="store_true",
            help="Hash the members of .zip/.tar/.tar.gz files (as archive!/member) instead of the "
            "archive file. Default: off.",
        )
        parser.add_argument(
            "--max-archive-bytes",
            type=values.byte_size,
            default=DEFAULT_MAX_ARCHIVE_BYTES,
            metavar="N",
            help="With --archives: bytes one archive may inflate to in all (or with K/M/G/T, "
            "binary); later members are archive_limit errors. "
            f"Default: {DEFAULT_MAX_ARCHIVE_BYTES >> 30}G.",
        )

    def __init__(
        self,
        patterns: Sequence[str],
        *,
        max_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        archives: bool = False,
        max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    ):
        super().__init__()
        # The parts check their own arguments.
        self._list = ListFiles(patterns)
        self._read = ReadListedFiles(
            max_bytes=max_bytes, archives=archives, max_archive_bytes=max_archive_bytes
        )

    def expand(self, pbegin):
        listed = pbegin | "ListFiles" >> self._list
        read = listed["files"] | "GroupByPath" >> beam.GroupByKey() | "ReadFiles" >> self._read
        ledger = (listed[LEDGER], read.ledger) | "FlattenReadLedgers" >> beam.Flatten()
        return _ReadResult(read.objects, ledger)

    def display_data(self):
        return {**self._list.display_data(), **self._read.display_data()}


class ReadListedFiles(beam.PTransform):
    """Reads listed files, grouped by uri: ``(uri, [(size, mtime_s), ...])`` in, ObjectRecords out.

    The second half of :class:`ReadImages` (see it for the arguments); the
    tagged output ``ledger`` counts files listed and objects read. A file
    listed twice (two patterns matched it) is read once:

    >>> import os, shutil, tempfile
    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "a.jpg")
    >>> with open(path, "wb") as handle:
    ...     _ = handle.write(b"abc")
    >>> listing = (path, [(3, 1_700_000_000.0), (3, 1_700_000_000.0)])
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     read = p | beam.Create([listing]) | ReadListedFiles(max_bytes=10)
    ...     records = read.objects | beam.Map(lambda r: (r.size, r.mtime_us, r.data))
    ...     _ = assert_that(records, equal_to([(3, 1_700_000_000_000_000, b"abc")]))
    >>> shutil.rmtree(folder)
    """

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        archives: bool = False,
        max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    ):
        super().__init__()
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
        if max_archive_bytes < 1:
            raise ValueError(f"max_archive_bytes must be >= 1, got {max_archive_bytes}")
        self._max_bytes = max_bytes
        self._archives = archives
        self._max_archive_bytes = max_archive_bytes

    def expand(self, listed):
        return listed | "ReadObjects" >> beam.ParDo(
            _ReadObjectsFn(self._max_bytes, self._archives, self._max_archive_bytes)
        ).with_outputs(LEDGER, main="objects")

    def display_data(self):
        return {
            "max_bytes": self._max_bytes,
            "archives": self._archives,
            "max_archive_bytes": self._max_archive_bytes,
        }
