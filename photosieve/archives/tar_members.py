"""Tar members one by one, damaged headers skipped to the next valid one as GNU tar does."""

from __future__ import annotations

import bz2
import lzma
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from photosieve.archives.members import (
    Member,
    MemberNames,
    Skipped,
    failure,
    failure_reason,
    member_failure,
    spent,
    too_large,
)
from photosieve.errors import FailureReason

# Read and skip tar data in pieces this big. The skip of a big tar.gz member
# was slow because tarfile's gzip stream re-copies what it inflated on every
# 8 KiB read (a cost in proportion to the compression ratio); with the reader
# below, 64 KiB pieces skip zeros 21 times faster than tarfile and random data
# within a third of it, while 1 MiB pieces are 2.5 times slower on random data
# (the copies leave the CPU cache): benchmarks/bench_archives.py.
TAR_BUFSIZE = 64 * 1024
_GZIP_INPUT = 64 * 1024  # compressed bytes handed to zlib per call (zlib copies the rest)
_GZIP_CAREFUL_STEP = 1  # after a zlib error: input bytes per call, to keep what precedes it
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer, checked by zlib
# Longest GNU long-name / pax header data accepted (tarfile reads it whole).
_MAX_TAR_META_BYTES = 1024 * 1024
_TAR_META_TYPES = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _TarStream(tarfile.TarFile):
    """A stream-mode TarFile whose headers :func:`_tar_members` reads itself.

    ``TarFile.next`` stops silently at the first damaged header (and in its
    constructor raises for a damaged first one); returning None here keeps
    the constructor from reading a header, so one loop handles them all.
    """

    def next(self):
        return None


class _Prefixed:
    """A read-only stream: ``head`` (already read, to sniff the format), then ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        head, self._head = self._head, b""
        if size is None or size < 0:
            return head + self._rest.read()
        if len(head) > size:
            head, self._head = head[:size], head[size:]
            return head
        return head + self._rest.read(size - len(head))


class _Inflated:
    """``read(n)`` that keeps what was inflated before the compressed data ended.

    A buffered ``read(n)`` that meets the end of truncated data raises and
    drops what it had inflated in that call, which would lose the members
    before the cut. The unbuffered reader under BZ2File/LZMAFile (gzip has
    :class:`_Gunzip`)
    returns up to ``n`` bytes per call and raises only when it has none;
    ``read1`` does the same through an 8 KiB buffer (five times slower for
    a big member), and is the fallback should that reader move.
    """

    def __init__(self, reader):
        self._reader = reader  # collected, it would close the reader under us
        raw = getattr(getattr(reader, "_buffer", None), "raw", None)
        self.read = raw.read if callable(getattr(raw, "read", None)) else reader.read1


class _Gunzip:
    """The gzip members of ``source``, one after another, inflated by zlib in pieces.

    GzipFile reads its input 8 KiB at a time (Python 3.11) and computes the
    CRC again in Python's loop, which makes skipping a big member several
    times slower than this; zlib checks each member's CRC itself
    (``wbits=31``).
    ``read(n)`` returns at most ``n`` bytes, and raises (EOFError for a cut,
    zlib.error for damage or a bad CRC) only when it has none: the bytes
    before the trouble come out first.
    """

    def __init__(self, source):
        self._source = source
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._pending = b""  # input not yet handed to zlib
        self._step = _GZIP_INPUT  # input per zlib call; small once zlib has failed

    def read(self, size: int) -> bytes:
        while True:
            if self._inflater.eof:  # a member ended: another may follow, or zero padding
                self._pending = self._inflater.unused_data + self._pending
                while not self._pending.lstrip(b"\0"):
                    more = self._source.read(_GZIP_INPUT)
                    if not more:
                        return b""
                    self._pending = more
                self._pending = self._pending.lstrip(b"\0")
                self._inflater = zlib.decompressobj(_GZIP_WBITS)
            compressed = self._pending or self._source.read(_GZIP_INPUT)
            if not compressed:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            view = memoryview(compressed)
            piece, rest = view[: self._step], view[self._step :]
            before = self._inflater.copy() if self._step > _GZIP_CAREFUL_STEP else None
            try:
                out = self._inflater.decompress(piece, size)
            except zlib.error:
                if before is None:
                    raise
                # zlib drops what the failing call inflated: go back and feed
                # it byte by byte (64 KiB at most, once), so that all the bytes
                # before the damage come out first.
                self._inflater, self._step, self._pending = before, _GZIP_CAREFUL_STEP, compressed
                continue
            tail = self._inflater.unconsumed_tail
            self._pending = (tail + rest if tail else rest) if len(rest) else tail
            if out:
                return out


def _decompressed(handle: BinaryIO) -> tuple[BinaryIO, bool]:
    """The tar stream inside ``handle`` (gzip, bzip2, xz or none), and whether it is inflated.

    Not tarfile's own decompression: these return no more than asked
    (tarfile's ``_Stream`` inflates a whole input buffer at once, up to
    ~1000 times its size for a bomb, and copies what is left over on every
    read: the 85 s skip of the issue), read multi-member gzip, and raise
    EOFError when the compressed data ends early.
    """
    head = handle.read(6)
    source = _Prefixed(head, handle)
    if head.startswith(b"\x1f\x8b"):
        return _Gunzip(source), True
    if head.startswith(b"BZh"):
        return _Inflated(bz2.BZ2File(source)), True
    if head.startswith((b"\xfd7zXZ\x00", b"\x5d\x00\x00")):
        return _Inflated(lzma.LZMAFile(source)), True
    return source, False


def read_tar(
    uri, handle, max_bytes, max_archive_bytes, size, mtime_us
) -> Iterator[Member | Skipped]:
    """Tar members, skipping damaged headers to the next valid one as GNU tar does.

    A run of blocks that are not headers (and not the zero blocks of an end
    marker) is ONE row for the archive: ``corrupt``, "damaged header at
    offset N: skipped M bytes" (offsets in the uncompressed stream). Zero
    blocks are read past too, so archives concatenated after an end marker
    (``cat a.tar b.tar``) are read whole, as ``tar --ignore-zeros`` does.
    """
    source, inflated = _decompressed(handle)

    def archive_row(reason: FailureReason, message: str) -> Member:
        return failure(uri, size, mtime_us, reason, message)

    with _TarStream.open(fileobj=source, mode="r|", bufsize=TAR_BUFSIZE) as archive:
        stream = archive.fileobj
        names = MemberNames(uri)
        damaged_at = None  # start of the run of bad blocks being skipped
        while True:
            if inflated and archive.offset > max_archive_bytes:
                yield archive_row(
                    FailureReason.ARCHIVE_LIMIT,
                    f"the archive's {max_archive_bytes}-byte inflate limit is spent at offset "
                    f"{archive.offset}: the rest of it is not read",
                )
                return
            try:
                if archive.offset != stream.tell():  # skip the data of the member before
                    stream.seek(archive.offset)
                    if stream.tell() != archive.offset:
                        raise EOFError(f"data ends at offset {stream.tell()}")
                at = stream.tell()
                info = _next_header(archive)
            except tarfile.EmptyHeaderError:  # the data ends here, between headers
                break
            except tarfile.EOFHeaderError:  # a zero block: an end marker, or padding
                archive.offset = stream.tell()
                continue
            except (tarfile.TruncatedHeaderError, EOFError) as exc:
                if damaged_at is not None:
                    yield archive_row(FailureReason.CORRUPT, _skipped(damaged_at, stream.tell()))
                yield archive_row(
                    FailureReason.TRUNCATED,
                    f"the archive ends early after offset {archive.offset}: {exc}",
                )
                return
            except (tarfile.HeaderError, ValueError):  # not a header: skip this block
                damaged_at = at if damaged_at is None else damaged_at
                archive.offset = stream.tell()
                continue
            if damaged_at is not None:
                yield archive_row(FailureReason.CORRUPT, _skipped(damaged_at, at))
                damaged_at = None
            member = names.uri(info.name)
            kind = _tar_kind(info)
            if kind is not None:
                yield Skipped(member, kind)
                continue
            data, stop = _tar_data(archive, info, max_bytes, inflated, max_archive_bytes)
            yield Member(member, info.size, _tar_time_us(info.mtime), data)
            if stop:
                if data.reason is not FailureReason.TRUNCATED:  # the end is its own row
                    yield archive_row(
                        data.reason,
                        f"the archive's data is damaged in the member at offset {info.offset}: "
                        "the rest of it cannot be read",
                    )
                return
        if damaged_at is not None:
            yield archive_row(FailureReason.CORRUPT, _skipped(damaged_at, stream.tell()))
        elif stream.tell() == 0:
            yield archive_row(FailureReason.EMPTY, "the archive holds no data")


def _skipped(start: int, end: int) -> str:
    return f"damaged header at offset {start}: skipped {end - start} bytes"


def _next_header(archive: tarfile.TarFile) -> tarfile.TarInfo:
    """``TarInfo.fromtarfile``, refusing long-name/pax data too large to read whole."""
    stream = archive.fileobj
    info = archive.tarinfo.frombuf(stream.read(tarfile.BLOCKSIZE), archive.encoding, archive.errors)
    info.offset = stream.tell() - tarfile.BLOCKSIZE
    if info.size < 0:
        raise tarfile.InvalidHeaderError(f"negative size {info.size}")
    if info.type in _TAR_META_TYPES and info.size > _MAX_TAR_META_BYTES:
        raise tarfile.InvalidHeaderError(f"extended header of {info.size} bytes")
    return info._proc_member(archive)


def _tar_kind(info: tarfile.TarInfo) -> str | None:
    """The skip kind of a member that is not an object; None for data.

    Unknown types are data, as GNU tar extracts them: a made-up type letter
    must not hide an image.
    """
    if info.isdir():
        return "directory"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.ischr() or info.isblk():
        return "device"
    if info.isfifo():
        return "fifo"
    return None


def _tar_data(archive, info, max_bytes, inflated, max_archive_bytes):
    """``(bytes or failure, stop)``: stop when the stream cannot be read past this member."""
    if info.size > max_bytes:
        return too_large(info.size, max_bytes), False  # skipped at the loop's next seek
    if inflated and info.offset_data + info.size > max_archive_bytes:
        return spent(max_archive_bytes), False  # the loop's next turn ends the archive
    try:
        return archive.extractfile(info).read(), False
    except (EOFError, tarfile.ReadError) as exc:  # "unexpected end of data"
        message = f"the archive ends inside this member ({exc}); members after it, if any, are lost"
        return member_failure(FailureReason.TRUNCATED, message), True
    except Exception as exc:  # noqa: BLE001 - damaged compressed data: nothing after is readable
        message = f"tar member: {type(exc).__name__}: {exc}"
        return member_failure(failure_reason(exc), message), True


def _tar_time_us(mtime) -> int | None:
    try:
        return int(mtime * 1_000_000)
    except (OverflowError, ValueError, TypeError):
        return None
