"""A zip whose central directory is missing or damaged, read by its local headers.

A zip cut off in transfer loses its central directory first (it is at the
end), and zipfile then refuses the whole archive, although every member
before the cut is intact. Like ``bsdtar`` and ``zip -FF``, this walks the
local headers from the start of the file and rebuilds a central directory
for them, so that the normal reader (:mod:`photosieve.archives.zip_members`)
reads each member with its own outcome; members whose data runs past the end
of the file are ``truncated``, and the damage itself is one row for the
archive.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import BinaryIO, NamedTuple

from photosieve.errors import FailureReason

# A zip's local and central-directory headers (also used by zip_members).
LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)
CENTRAL_HEADER = struct.Struct(zipfile.structCentralDir)
_END = struct.Struct(zipfile.structEndArchive)
_DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
_FLAG_DESCRIPTOR = 0x8  # sizes and CRC follow the data (APPNOTE.TXT 4.4.4, bit 3)
_MAX_32 = 0xFFFFFFFF
_MAX_ENTRIES_FIELD = 0xFFFF  # zipfile walks the directory by its size, not this count
_INFLATE_PIECE = 64 * 1024
_INFLATE_OUT = 1024 * 1024  # output per zlib call while looking for a stream's end


class Rebuilt(NamedTuple):
    """The file as zipfile should see it, what was wrong, and the entries cut off."""

    view: BinaryIO
    reason: FailureReason
    message: str
    cut: frozenset[int]  # header offsets of entries whose data runs past the end


class _Appended:
    """The first ``length`` bytes of ``handle``, then ``tail``: a seekable read-only view."""

    def __init__(self, handle: BinaryIO, length: int, tail: bytes):
        self._handle, self._length, self._tail = handle, length, tail
        self._position = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._length + len(self._tail)}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def read(self, size: int = -1) -> bytes:
        total = self._length + len(self._tail)
        end = total if size is None or size < 0 else min(self._position + size, total)
        out = b""
        if self._position < self._length:
            self._handle.seek(self._position)
            out = self._handle.read(min(end, self._length) - self._position)
        if end > self._length:
            out += self._tail[max(self._position - self._length, 0) : end - self._length]
        self._position += len(out)
        return out


def rebuild(handle: BinaryIO, max_inflate: int) -> Rebuilt | None:
    """A central directory for the local headers from offset 0; None when there is none.

    Args:
        handle: the zip, seekable.
        max_inflate: bytes the walk may inflate to find the end of entries
            whose size is only given after their data (streamed zips).
    """
    length = handle.seek(0, 2)
    directory, cut = [], set()
    position, inflated = 0, 0
    stopped = ""
    while True:
        handle.seek(position)
        header = handle.read(LOCAL_HEADER.size)
        if len(header) < LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
            stopped = "" if position == length else f" (no local header at offset {position})"
            break
        fields = list(LOCAL_HEADER.unpack(header))
        name = handle.read(fields[10])
        data_at = position + LOCAL_HEADER.size + fields[10] + fields[11]
        if data_at > length:  # not even its name fits: no header, or cut inside it
            stopped = f" (a header cut off or damaged at offset {position})"
            break
        after = data_at + fields[8]
        if fields[3] & _FLAG_DESCRIPTOR:
            found = _streamed_entry(handle, data_at, fields[4], max_inflate - inflated)
            if found is None:
                stopped = f" (entry at offset {position}: its size is not known before its end)"
                break
            fields[7], fields[8], fields[9], after, used = found
            inflated += used
        if max(fields[8], fields[9], position) > _MAX_32:
            stopped = f" (entry at offset {position} needs zip64, not rebuilt)"
            break
        directory.append(_central_entry(fields, name, position))
        if after > length:
            cut.add(position)
            break
        position = after
    if not directory:
        return None
    table = b"".join(directory)
    count = min(len(directory), _MAX_ENTRIES_FIELD)
    end = _END.pack(zipfile.stringEndArchive, 0, 0, count, count, len(table), length, 0)
    if cut or not stopped:
        reason = FailureReason.TRUNCATED
        message = (
            f"no central directory: the archive ends at offset {length} "
            f"({len(directory)} members found by their local headers)"
        )
    else:
        reason = FailureReason.CORRUPT
        message = (
            f"central directory missing or damaged: {len(directory)} members found by their "
            f"local headers up to offset {position}{stopped}; anything after is not read"
        )
    return Rebuilt(_Appended(handle, length, table + end), reason, message, frozenset(cut))


def _central_entry(fields: list, name: bytes, offset: int) -> bytes:
    """The central-directory record of a local header (no extra field, no comment)."""
    _, version, system, flags, method, time, date, crc, csize, usize = fields[:10]
    return CENTRAL_HEADER.pack(
        zipfile.stringCentralDir, version, system, version, 0, flags, method, time, date,
        crc, csize, usize, len(name), 0, 0, 0, 0, 0, offset,
    ) + name  # fmt: skip


def _streamed_entry(handle, data_at: int, method: int, limit: int):
    """``(crc, compress_size, file_size, next header offset, bytes inflated)`` or None.

    A deflate stream says where it ends; stored data with a descriptor does
    not, so it ends the walk.
    """
    if method != zipfile.ZIP_DEFLATED:
        return None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    handle.seek(data_at)
    fed = inflated = 0
    while not inflater.eof:
        piece = handle.read(_INFLATE_PIECE)
        if not piece:
            return None  # cut inside it: the walk stops, the rows say so
        fed += len(piece)
        inflated += len(inflater.decompress(piece, _INFLATE_OUT))
        while inflater.unconsumed_tail and inflated <= limit:
            inflated += len(inflater.decompress(inflater.unconsumed_tail, _INFLATE_OUT))
        if inflated > limit:
            return None
    compress_size = fed - len(inflater.unused_data)
    handle.seek(data_at + compress_size)
    descriptor = handle.read(16)
    if descriptor[:4] == _DESCRIPTOR_SIGNATURE:
        descriptor, skip = descriptor[4:], 16
    else:
        skip = 12
    if len(descriptor) < 12:
        return None
    crc, _, file_size = struct.unpack("<3L", descriptor[:12])
    return crc, compress_size, file_size, data_at + compress_size + skip, inflated
