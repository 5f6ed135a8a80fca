"""Zip members one by one: encrypted, damaged, overlapping, over-budget ones are their own rows."""

from __future__ import annotations

import bisect
import struct
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import BinaryIO

from photosieve.archives import zip_recovery
from photosieve.archives.members import (
    Budget,
    Member,
    MemberFailure,
    MemberNames,
    Skipped,
    failure,
    failure_reason,
    member_failure,
    spent,
    too_large,
)
from photosieve.errors import FailureReason

_CHUNK = 1024 * 1024  # zip members are inflated in pieces, each counted
_ZIP_FLAG_ENCRYPTED = 0x41  # general purpose bits 0 and 6, strong encryption (APPNOTE.TXT 4.4.4)
_ZIP_FLAG_UTF8 = 0x800  # bit 11: the name is UTF-8, else CP437
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_CD_FLAGS_AT, _FH_FLAGS_AT = 8, 6  # byte offsets of the flag field in the two headers
_ZIP_NAME_LENGTH, _ZIP_EXTRA_LENGTH = zipfile._FH_FILENAME_LENGTH, zipfile._FH_EXTRA_FIELD_LENGTH


def read_zip(
    uri, handle, max_bytes, max_archive_bytes, size, mtime_us
) -> Iterator[Member | Skipped]:
    """Every entry of the zip on ``handle`` (seekable), in central-directory order.

    Without a readable central directory (a zip cut off, or damaged there),
    the entries are found by their local headers instead, after one row for
    the archive that says so (:mod:`photosieve.archives.zip_recovery`).
    """
    cut = frozenset()
    try:
        archive, handle = _open_zip(handle)
    except zipfile.BadZipFile:
        rebuilt = zip_recovery.rebuild(handle, max_archive_bytes)
        if rebuilt is None:
            raise
        yield failure(uri, size, mtime_us, rebuilt.reason, rebuilt.message)
        archive, handle = _open_zip(rebuilt.view)
        cut = rebuilt.cut
    with archive:
        infos = archive.infolist()
        overlapping = _overlapping_entries(handle, infos, archive.start_dir)
        names = MemberNames(uri)
        budget = Budget(max_archive_bytes)
        for index, info in enumerate(infos):
            member = names.uri(_zip_name(info))
            # A "directory" holding data is read; is_dir() raises on an empty name.
            if info.filename.endswith("/") and info.file_size == 0:
                yield Skipped(member, "directory")
                continue
            if info.header_offset in cut:  # its data would run into the rebuilt directory
                data = MemberFailure(FailureReason.TRUNCATED, "the archive ends inside this member")
            elif index in overlapping:
                data = MemberFailure(
                    FailureReason.OVERLAPPING_ENTRY,
                    f"entry at offset {info.header_offset} overlaps another entry's data "
                    "(no archiver writes that; a zip bomb's trick): not inflated",
                )
            else:
                data = _zip_data(archive, info, max_bytes, budget)
            yield Member(member, info.file_size, _zip_time_us(info.date_time), data)


def _open_zip(handle: BinaryIO) -> tuple[zipfile.ZipFile, BinaryIO]:
    """``(ZipFile, the stream it reads)``; names falsely flagged UTF-8 do not fail it."""
    try:
        return zipfile.ZipFile(handle), handle
    except UnicodeDecodeError:  # a name flagged UTF-8 that is not: zipfile refuses them all
        handle = _Patched(handle, _false_utf8_flags(handle))
        return zipfile.ZipFile(handle), handle


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
        fields = zip_recovery.CENTRAL_HEADER.unpack_from(directory, position)
        if fields[zipfile._CD_SIGNATURE] != zipfile.stringCentralDir:
            break
        name_at = position + zipfile.sizeCentralDir
        name = directory[name_at : name_at + fields[zipfile._CD_FILENAME_LENGTH]]
        flags = fields[zipfile._CD_FLAG_BITS]
        if flags & _ZIP_FLAG_UTF8 and not _is_utf8(name):
            patches[start_dir + position + _CD_FLAGS_AT] = struct.pack(
                "<H", flags & ~_ZIP_FLAG_UTF8
            )
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
    guess = zip_recovery.LOCAL_HEADER.size + len(info.orig_filename.encode("utf-8", "replace"))
    guess += len(info.extra)
    try:
        handle.seek(info.header_offset)
        header = handle.read(zip_recovery.LOCAL_HEADER.size)
    except (OSError, ValueError):
        return guess
    if len(header) != zip_recovery.LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
        return guess  # opening it will say what is wrong
    fields = zip_recovery.LOCAL_HEADER.unpack(header)
    return zip_recovery.LOCAL_HEADER.size + fields[_ZIP_NAME_LENGTH] + fields[_ZIP_EXTRA_LENGTH]


def _zip_data(archive, info, max_bytes: int, budget: Budget) -> bytes | MemberFailure:
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
        return too_large(info.file_size, max_bytes)
    inflated = info.compress_type != zipfile.ZIP_STORED
    limit = max_bytes
    if inflated:
        if info.file_size > budget.left:
            return spent(budget.limit)
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
        return member_failure(_zip_member_reason(exc), f"zip member: {type(exc).__name__}: {exc}")
    if total > max_bytes:  # the declared size lied
        return too_large(total, max_bytes)
    if total > limit:
        return spent(budget.limit)
    return b"".join(pieces)


def _zip_member_reason(exc: BaseException) -> FailureReason:
    if isinstance(exc, NotImplementedError):
        return FailureReason.UNSUPPORTED_FORMAT
    if isinstance(exc, EOFError):
        return FailureReason.TRUNCATED
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return FailureReason.ENCRYPTED
    return failure_reason(exc)


def _zip_time_us(date_time: tuple[int, ...]) -> int | None:
    try:  # zip times are local wall-clock without a zone; read them as UTC
        return int(datetime(*date_time, tzinfo=timezone.utc).timestamp() * 1_000_000)
    except ValueError:
        return None
