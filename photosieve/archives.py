"""Archive members as objects: zip and tar readers that survive damage and attack.

An archive is many objects in one file, and some are built to hide what
they hold: a decoy encrypted member first, a garbage block after the first
tar member, two members of one name, or zip entries that all point at one
compressed stream (David Fifield's "zip bomb without recursion",
https://www.bamsoftware.com/hacks/zipbomb/). So every member ends in
exactly one value of its own, and reading goes on after it:

* :class:`Member`: ``(uri, size, mtime_us, data)``, where ``data`` is the
  bytes or a :class:`MemberFailure` (reason and message). A failure of the
  archive itself (unreadable, not an archive, a damaged region, the end cut
  off, the inflate budget spent) is a Member whose uri is the archive's.
* :class:`Skipped`: a member that is deliberately not an object
  (directories, links, devices, FIFOs), counted, not hashed.

Names are escaped with :mod:`photosieve.names`; the 2nd, 3rd... member of a
name already used gets :func:`~photosieve.names.occurrence_uri`.

Limits, per archive: each member is read up to ``max_bytes``; at most
``max_archive_bytes`` bytes are *inflated* (decompressed) in all, counting
skipped members of a compressed tar too, since skipping them inflates them.
Stored (uncompressed) data is bounded by the file's own size and not counted.
"""

from __future__ import annotations

import bisect
import bz2
import gzip
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import BinaryIO, NamedTuple

from photosieve.errors import FailureReason
from photosieve.names import member_uri, occurrence_uri
from photosieve.reading import ReadError, classify_os_error

__all__ = [
    "DEFAULT_MAX_ARCHIVE_BYTES",
    "Member",
    "MemberFailure",
    "Skipped",
    "read_members",
]

# Policy: an archive may inflate to this many bytes in all. A real photo
# archive inflates about 1:1 (JPEG does not compress); far more than the
# file's size means a bomb. 16 GiB still lets a 16 GB tar.gz of photos through.
DEFAULT_MAX_ARCHIVE_BYTES = 16 * 1024**3
# Read and skip tar data in pieces this big. The skip of a big tar.gz member
# was slow because tarfile's gzip stream re-copies what it inflated on every
# 8 KiB read (quadratic in the compression ratio); with the reader below,
# 64 KiB pieces skip random data as fast as tarfile and zeros 19 times
# faster, while 1 MiB pieces are 3 times slower on random data (the copies
# leave the CPU cache): benchmarks/bench_archives.py.
TAR_BUFSIZE = 64 * 1024
_CHUNK = 1024 * 1024  # zip members are inflated in pieces, each counted
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
_ZIP_FLAG_ENCRYPTED = 0x41  # general purpose bits 0 and 6, strong encryption (APPNOTE.TXT 4.4.4)
_ZIP_FLAG_UTF8 = 0x800  # bit 11: the name is UTF-8, else CP437
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_ZIP_LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)
_ZIP_CENTRAL_HEADER = struct.Struct(zipfile.structCentralDir)
_CD_FLAGS_AT, _FH_FLAGS_AT = 8, 6  # byte offsets of the flag field in the two headers
_ZIP_NAME_LENGTH, _ZIP_EXTRA_LENGTH = zipfile._FH_FILENAME_LENGTH, zipfile._FH_EXTRA_FIELD_LENGTH
_MESSAGE_CHARS = 300


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


def read_members(
    uri: str,
    open_fn: Callable[[], BinaryIO],
    *,
    max_bytes: int,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    size: int | None = None,
    mtime_us: int | None = None,
) -> Iterator[Member | Skipped]:
    """Every member of the archive ``uri`` (escaped), each once; never raises for bad data.

    Args:
        uri: the archive's escaped uri; ``.zip`` is read as zip, the rest as
            tar (compressed or not, whatever the suffix says).
        open_fn: opens the archive for binary reading (seekable for zip).
        max_bytes: members declared or found larger fail ``too_large``.
        max_archive_bytes: inflated bytes allowed for the whole archive;
            members after it is spent fail ``archive_limit``.
        size, mtime_us: the archive's listing, for rows about the archive itself.
    """
    found = 0
    try:
        with open_fn() as handle:
            reader = _zip_members if uri.lower().endswith(".zip") else _tar_members
            for item in reader(uri, handle, max_bytes, max_archive_bytes, size, mtime_us):
                found += 1
                yield item
    except Exception as exc:  # noqa: BLE001 - what no reader foresaw is one row, not a crash
        message = f"archive after {found} member(s): {type(exc).__name__}: {exc}"
        yield _failure(uri, size, mtime_us, _archive_failure_reason(exc), message)


def _failure(uri, size, mtime_us, reason: FailureReason, message: str) -> Member:
    return Member(uri, size, mtime_us, MemberFailure(reason, message[:_MESSAGE_CHARS]))


def _archive_failure_reason(exc: BaseException) -> FailureReason:
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


def _too_large(size: int, max_bytes: int) -> MemberFailure:
    return MemberFailure(
        FailureReason.TOO_LARGE, f"object is {size} bytes, over the {max_bytes}-byte limit"
    )


def _spent(limit: int) -> MemberFailure:
    return MemberFailure(
        FailureReason.ARCHIVE_LIMIT,
        f"the archive's {limit}-byte inflate limit is spent: this member is not inflated",
    )


class _Budget:
    """Inflated bytes an archive may still produce."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def spend(self, n: int) -> None:
        self.left = max(self.left - n, 0)


class _Names:
    """Distinct uris for members, in archive order (see :func:`names.occurrence_uri`)."""

    def __init__(self, container: str):
        self._container = container
        self._seen: Counter = Counter()

    def uri(self, name: str) -> str:
        uri = member_uri(self._container, name)
        self._seen[uri] += 1
        return occurrence_uri(uri, self._seen[uri])


# -- zip ---------------------------------------------------------------------------


def _zip_members(uri, handle, max_bytes, max_archive_bytes, size, mtime_us):
    try:
        archive = zipfile.ZipFile(handle)
    except UnicodeDecodeError:  # a name flagged UTF-8 that is not: zipfile refuses them all
        handle = _Patched(handle, _false_utf8_flags(handle))
        archive = zipfile.ZipFile(handle)
    with archive:
        infos = archive.infolist()
        overlapping = _overlapping_entries(handle, infos, archive.start_dir)
        names = _Names(uri)
        budget = _Budget(max_archive_bytes)
        for index, info in enumerate(infos):
            member = names.uri(_zip_name(info))
            if info.is_dir() and info.file_size == 0:  # a "directory" with data is read
                yield Skipped(member, "directory")
                continue
            data = (
                MemberFailure(
                    FailureReason.OVERLAPPING_ENTRY,
                    f"entry at offset {info.header_offset} overlaps another entry's data "
                    "(no archiver writes that; a zip bomb's trick): not inflated",
                )
                if index in overlapping
                else _zip_data(archive, info, max_bytes, budget)
            )
            yield Member(member, info.file_size, _zip_time_us(info.date_time), data)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its bytes say: UTF-8 when valid, else undecodable bytes kept.

    zipfile decodes names without the UTF-8 flag as CP437, which maps every
    byte, so encoding back gives the stored bytes exactly; ``orig_filename``
    is the name before zipfile cuts it at a NUL.
    """
    if info.flag_bits & _ZIP_FLAG_UTF8:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape")


class _Patched:
    """A seekable binary stream with some bytes replaced: ``{offset: bytes}``."""

    def __init__(self, handle: BinaryIO, patches: dict[int, bytes]):
        self._handle = handle
        self._patches = sorted(patches.items())

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def read(self, size: int = -1) -> bytes:
        start = self._handle.tell()
        data = self._handle.read(size)
        end = start + len(data)
        first = bisect.bisect_left(self._patches, (start - 8,))  # patches are 2 bytes long
        if first >= len(self._patches) or self._patches[first][0] >= end:
            return data
        out = bytearray(data)
        for offset, patch in self._patches[first:]:
            if offset >= end:
                break
            for index, byte in enumerate(patch):
                if start <= offset + index < end:
                    out[offset + index - start] = byte
        return bytes(out)


def _false_utf8_flags(handle: BinaryIO) -> dict[int, bytes]:
    """Patches that clear the UTF-8 flag of entries whose names are not UTF-8.

    zipfile decodes a flagged name strictly and refuses the whole archive
    when one fails, so one such entry would hide every member. Cleared, the
    name is read as CP437, and :func:`_zip_name` gets its bytes back (kept
    escaped, as for any name that is not UTF-8). Both the central and the
    local header are patched: zipfile compares the names of the two.
    """
    endrec = zipfile._EndRecData(handle)
    if not endrec:
        raise zipfile.BadZipFile("File is not a zip file")
    size_cd, offset_cd = endrec[zipfile._ECD_SIZE], endrec[zipfile._ECD_OFFSET]
    concat = endrec[zipfile._ECD_LOCATION] - size_cd - offset_cd
    if endrec[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    start_dir = offset_cd + concat
    handle.seek(start_dir)
    directory = handle.read(size_cd)
    patches: dict[int, bytes] = {}
    position = 0
    while position + zipfile.sizeCentralDir <= len(directory):
        fields = _ZIP_CENTRAL_HEADER.unpack_from(directory, position)
        if fields[zipfile._CD_SIGNATURE] != zipfile.stringCentralDir:
            break
        name_at = position + zipfile.sizeCentralDir
        name = directory[name_at : name_at + fields[zipfile._CD_FILENAME_LENGTH]]
        flags = fields[zipfile._CD_FLAG_BITS]
        if flags & _ZIP_FLAG_UTF8 and not _is_utf8(name):
            patches[start_dir + position + _CD_FLAGS_AT] = struct.pack("<H", flags & ~_ZIP_FLAG_UTF8)
            local = fields[zipfile._CD_LOCAL_HEADER_OFFSET] + concat
            handle.seek(local + _FH_FLAGS_AT)
            local_flags = handle.read(2)
            if len(local_flags) == 2:
                cleared = struct.unpack("<H", local_flags)[0] & ~_ZIP_FLAG_UTF8
                patches[local + _FH_FLAGS_AT] = struct.pack("<H", cleared)
        position = name_at + sum(
            fields[k]
            for k in (
                zipfile._CD_FILENAME_LENGTH,
                zipfile._CD_EXTRA_FIELD_LENGTH,
                zipfile._CD_COMMENT_LENGTH,
            )
        )
    handle.seek(0)
    return patches


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _overlapping_entries(handle: BinaryIO, infos: list, start_dir: int) -> set[int]:
    """Indexes of the entries whose local header + data overlap another's, or the directory.

    Entries of a real zip lie one after another; a bomb makes thousands of
    central-directory entries point into one stream. Spans are
    ``[header_offset, header_offset + local header + compress_size)``; one
    sweep in offset order finds, for each entry, an earlier span reaching
    past its start or a later one starting before its end.
    """
    spans = [
        (info.header_offset, info.header_offset + _local_header_size(handle, info)
         + info.compress_size, index)
        for index, info in enumerate(infos)
    ]  # fmt: skip
    spans.append((start_dir, start_dir + 1, -1))  # the central directory itself
    spans.sort()
    flagged = set()
    reach = -1  # furthest end of the spans so far
    for rank, (start, end, index) in enumerate(spans):
        after = spans[rank + 1][0] if rank + 1 < len(spans) else end
        if start < reach or after < end:
            flagged.add(index)
        reach = max(reach, end)
    flagged.discard(-1)
    return flagged


def _local_header_size(handle: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Length of the entry's local header as stored (the central one's guess if unreadable)."""
    guess = _ZIP_LOCAL_HEADER.size + len(info.orig_filename.encode("utf-8", "replace"))
    guess += len(info.extra)
    try:
        handle.seek(info.header_offset)
        header = handle.read(_ZIP_LOCAL_HEADER.size)
    except (OSError, ValueError):
        return guess
    if len(header) != _ZIP_LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
        return guess  # opening it will say what is wrong
    fields = _ZIP_LOCAL_HEADER.unpack(header)
    return _ZIP_LOCAL_HEADER.size + fields[_ZIP_NAME_LENGTH] + fields[_ZIP_EXTRA_LENGTH]


def _zip_data(archive, info, max_bytes: int, budget: _Budget) -> bytes | MemberFailure:
    """One member's bytes or failure; ``budget`` is spent as it inflates."""
    if info.flag_bits & _ZIP_FLAG_ENCRYPTED:
        return MemberFailure(FailureReason.ENCRYPTED, "encrypted zip member (no password is tried)")
    if info.compress_type not in _ZIP_METHODS:
        method = zipfile.compressor_names.get(info.compress_type, "unknown")
        return MemberFailure(
            FailureReason.UNSUPPORTED_FORMAT,
            f"zip compression method {info.compress_type} ({method}) is not supported",
        )
    if info.file_size > max_bytes:
        return _too_large(info.file_size, max_bytes)
    inflated = info.compress_type != zipfile.ZIP_STORED
    limit = max_bytes
    if inflated:
        if info.file_size > budget.left:
            return _spent(budget.limit)
        limit = min(max_bytes, budget.left)
    pieces, total = [], 0
    try:
        with archive.open(info) as member:
            while total <= limit:
                piece = member.read(min(_CHUNK, limit + 1 - total))
                if not piece:
                    break
                total += len(piece)
                if inflated:
                    budget.spend(len(piece))
                pieces.append(piece)
    except Exception as exc:  # noqa: BLE001 - any damage is this member's row
        return MemberFailure(_zip_member_reason(exc), f"zip member: {type(exc).__name__}: {exc}"[:_MESSAGE_CHARS])
    if total > max_bytes:  # the declared size lied
        return _too_large(total, max_bytes)
    if total > limit:
        return _spent(budget.limit)
    return b"".join(pieces)


def _zip_member_reason(exc: BaseException) -> FailureReason:
    if isinstance(exc, NotImplementedError):
        return FailureReason.UNSUPPORTED_FORMAT
    if isinstance(exc, EOFError):
        return FailureReason.TRUNCATED
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return FailureReason.ENCRYPTED
    return _archive_failure_reason(exc)


def _zip_time_us(date_time: tuple[int, ...]) -> int | None:
    try:  # zip times are local wall-clock without a zone; read them as UTC
        return int(datetime(*date_time, tzinfo=timezone.utc).timestamp() * 1_000_000)
    except ValueError:
        return None


# -- tar ---------------------------------------------------------------------------


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
    before the cut. The unbuffered reader under GzipFile/BZ2File/LZMAFile
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


def _tar_members(uri, handle, max_bytes, max_archive_bytes, size, mtime_us):
    """Tar members, skipping damaged headers to the next valid one as GNU tar does.

    A run of blocks that are not headers (and not the zero blocks of an end
    marker) is ONE row for the archive: ``corrupt``, "damaged header at
    offset N: skipped M bytes" (offsets in the uncompressed stream). Zero
    blocks are read past too, so archives concatenated after an end marker
    (``cat a.tar b.tar``) are read whole, as ``tar --ignore-zeros`` does.
    """
    source, inflated = _decompressed(handle)

    def archive_row(reason: FailureReason, message: str) -> Member:
        return _failure(uri, size, mtime_us, reason, message)

    with _TarStream.open(fileobj=source, mode="r|", bufsize=TAR_BUFSIZE) as archive:
        stream = archive.fileobj
        names = _Names(uri)
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
    info = archive.tarinfo.frombuf(
        stream.read(tarfile.BLOCKSIZE), archive.encoding, archive.errors
    )
    info.offset = stream.tell() - tarfile.BLOCKSIZE
    if info.size < 0:
        raise tarfile.InvalidHeaderError(f"negative size {info.size}")
    if info.type in _TAR_META_TYPES and info.size > _MAX_TAR_META_BYTES:
        raise tarfile.InvalidHeaderError(f"extended header of {info.size} bytes")
    return info._proc_member(archive)


def _tar_kind(info: tarfile.TarInfo) -> str | None:
    """The skip kind of a member that is not an object; None for data (unknown types too, as GNU tar)."""
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
        return _too_large(info.size, max_bytes), False  # skipped at the loop's next seek
    if inflated and info.offset_data + info.size > max_archive_bytes:
        return _spent(max_archive_bytes), False  # the loop's next turn ends the archive
    try:
        return archive.extractfile(info).read(), False
    except (EOFError, tarfile.ReadError) as exc:  # "unexpected end of data"
        return MemberFailure(FailureReason.TRUNCATED, f"tar member: {exc}"[:_MESSAGE_CHARS]), True
    except Exception as exc:  # noqa: BLE001 - a damaged compressed stream: nothing after is readable
        message = f"tar member: {type(exc).__name__}: {exc}"[:_MESSAGE_CHARS]
        return MemberFailure(_archive_failure_reason(exc), message), True


def _tar_time_us(mtime) -> int | None:
    try:
        return int(mtime * 1_000_000)
    except (OverflowError, ValueError, TypeError):
        return None
