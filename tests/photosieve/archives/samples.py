"""Archives built in memory for the archive tests, and a reader that lists each outcome.

Shared by the tests of :mod:`photosieve.archives` and of the transforms and
pipelines that read archives: every archive here is generated, and the
``patch``/``set_zip_flag`` helpers damage one header field at a time.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile

from photosieve.archives import Member, MemberFailure, Skipped, read_members

CONTAINER = "in/a.zip"


def read_all(uri: str, data: bytes, **kwargs) -> list:
    kwargs.setdefault("max_bytes", 10_000_000)
    return list(read_members(uri, lambda: io.BytesIO(data), size=len(data), **kwargs))


def outcomes_of(items: list) -> list[tuple[str, str]]:
    """(uri, reason or 'ok:<size>' or 'skip:<kind>') per item: members in archive order, then
    the archive's own row (at most one: the reader combines every problem of the archive)."""
    archive_rows = [item for item in items if isinstance(item, Member) and "!/" not in item.uri]
    assert len(archive_rows) <= 1 and items[len(items) - len(archive_rows) :] == archive_rows
    out = []
    for item in items:
        if isinstance(item, Skipped):
            out.append((item.uri, f"skip:{item.kind}"))
        elif isinstance(item.data, MemberFailure):
            out.append((item.uri, item.data.reason.value))
        else:
            out.append((item.uri, f"ok:{len(item.data)}"))
    return out


def zip_bytes(members: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: list[tuple[str, bytes]], mode: str = "w", kind=tarfile.REGTYPE) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.GNU_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.type = len(data), 1_700_000_000, kind
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def local_headers(data: bytes) -> list[int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [info.header_offset for info in archive.infolist()]


def central_headers(data: bytes) -> list[int]:
    offsets, position = [], data.find(b"PK\x01\x02")
    while position >= 0:
        offsets.append(position)
        position = data.find(b"PK\x01\x02", position + 46)
    return offsets


def patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    return data[:offset] + struct.pack(fmt, value) + data[offset + struct.calcsize(fmt) :]


def set_zip_flag(data: bytes, index: int, flag: int) -> bytes:
    """Set a general-purpose flag bit on one entry, in its local and central headers."""
    local, central = local_headers(data)[index], central_headers(data)[index]
    old = struct.unpack_from("<H", data, local + 6)[0]
    data = patch(data, local + 6, "<H", old | flag)
    return patch(data, central + 8, "<H", old | flag)


GOOD = [("b.jpg", b"b" * 500), ("c.jpg", b"c" * 700)]


def spy_opens(monkeypatch) -> list:
    """Record every member zipfile opens (the only way a member gets inflated)."""
    opened = []
    real_open = zipfile.ZipFile.open

    def spying_open(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spying_open)
    return opened


def overlapping_zip(entries: int, kernel: bytes) -> bytes:
    """One deflated member, its central-directory entry repeated: every entry is the same stream."""
    data = zip_bytes([("k.bin", kernel)])
    signature, disk, disk_cd, _, _, size_cd, offset_cd, comment = struct.unpack(
        zipfile.structEndArchive, data[-22:]
    )
    central = data[offset_cd : offset_cd + size_cd]
    end = struct.pack(
        zipfile.structEndArchive, signature, disk, disk_cd, entries, entries,
        size_cd * entries, offset_cd, comment,
    )  # fmt: skip
    return data[:offset_cd] + central * entries + end
