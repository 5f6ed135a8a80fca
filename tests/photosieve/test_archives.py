"""archives: every member of a damaged or hostile zip/tar ends in exactly one value of its own."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tarfile
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosieve.archives import Member, MemberFailure, Skipped, read_members

CONTAINER = "in/a.zip"


def _read(uri: str, data: bytes, **kwargs) -> list:
    kwargs.setdefault("max_bytes", 10_000_000)
    return list(read_members(uri, lambda: io.BytesIO(data), size=len(data), **kwargs))


def _outcomes(items: list) -> list[tuple[str, str]]:
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


def _zip(members: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: list[tuple[str, bytes]], mode: str = "w", kind=tarfile.REGTYPE) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.GNU_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.type = len(data), 1_700_000_000, kind
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _local_headers(data: bytes) -> list[int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [info.header_offset for info in archive.infolist()]


def _central_headers(data: bytes) -> list[int]:
    offsets, position = [], data.find(b"PK\x01\x02")
    while position >= 0:
        offsets.append(position)
        position = data.find(b"PK\x01\x02", position + 46)
    return offsets


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    return data[:offset] + struct.pack(fmt, value) + data[offset + struct.calcsize(fmt) :]


def _set_zip_flag(data: bytes, index: int, flag: int) -> bytes:
    """Set a general-purpose flag bit on one entry, in its local and central headers."""
    local, central = _local_headers(data)[index], _central_headers(data)[index]
    old = struct.unpack_from("<H", data, local + 6)[0]
    data = _patch(data, local + 6, "<H", old | flag)
    return _patch(data, central + 8, "<H", old | flag)


GOOD = [("b.jpg", b"b" * 500), ("c.jpg", b"c" * 700)]


def test_an_encrypted_first_member_hides_nothing_after_it():
    data = _set_zip_flag(_zip([("a.jpg", b"a" * 300), *GOOD]), 0, 0x1)
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "encrypted"),
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_a_corrupt_deflate_stream_is_that_members_row():
    data = bytearray(_zip([("a.jpg", bytes(range(256)) * 40), *GOOD]))
    start = _local_headers(bytes(data))[0] + 30 + len("a.jpg")
    data[start + 5 : start + 40] = b"\xff" * 35  # inside a's compressed data
    assert _outcomes(_read(CONTAINER, bytes(data))) == [
        ("in/a.zip!/a.jpg", "corrupt"),
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_a_crc_mismatch_is_corrupt():
    data = bytearray(_zip([("a.jpg", b"a" * 300), *GOOD], method=zipfile.ZIP_STORED))
    start = _local_headers(bytes(data))[0] + 30 + len("a.jpg")
    data[start] = ord("x")
    outcomes = _outcomes(_read(CONTAINER, bytes(data)))
    assert outcomes[0] == ("in/a.zip!/a.jpg", "corrupt") and outcomes[1:] == [
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_an_unsupported_compression_method_is_unsupported_format():
    data = _zip([("a.jpg", b"a" * 300), *GOOD])
    local, central = _local_headers(data)[0], _central_headers(data)[0]
    data = _patch(_patch(data, local + 8, "<H", 9), central + 10, "<H", 9)  # deflate64
    items = _read(CONTAINER, data)
    assert _outcomes(items)[0] == ("in/a.zip!/a.jpg", "unsupported_format")
    assert "9" in items[0].data.message and len(items) == 3


def test_directories_are_counted_skips():
    data = _zip([("d/", b""), ("d/a.jpg", b"a")])
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/d/", "skip:directory"),
        ("in/a.zip!/d/a.jpg", "ok:1"),
    ]


def test_a_directory_entry_with_data_is_read_not_skipped():
    data = _zip([("photo.jpg/", b"hidden"), ("d/", b"")])
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/photo.jpg/", "ok:6"),
        ("in/a.zip!/d/", "skip:directory"),
    ]


def test_duplicate_zip_names_get_distinct_uris_one_outcome_each():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip([("a.jpg", b"1"), ("a.jpg", b"22"), ("b.jpg", b"3"), ("a.jpg", b"444")])
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "ok:1"),
        ("in/a.zip!/a.jpg%!2", "ok:2"),
        ("in/a.zip!/b.jpg", "ok:1"),
        ("in/a.zip!/a.jpg%!3", "ok:3"),
    ]


def test_duplicate_tar_names_get_distinct_uris():
    data = _tar([("a.jpg", b"1"), ("a.jpg", b"22")])
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar!/a.jpg%!2", "ok:2"),
    ]


def _spy_opens(monkeypatch) -> list:
    """Record every member zipfile opens (the only way a member gets inflated)."""
    opened = []
    real_open = zipfile.ZipFile.open

    def spying_open(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spying_open)
    return opened


def _overlapping_zip(entries: int, kernel: bytes) -> bytes:
    """One deflated member, its central-directory entry repeated: every entry is the same stream."""
    data = _zip([("k.bin", kernel)])
    signature, disk, disk_cd, _, _, size_cd, offset_cd, comment = struct.unpack(
        zipfile.structEndArchive, data[-22:]
    )
    central = data[offset_cd : offset_cd + size_cd]
    end = struct.pack(
        zipfile.structEndArchive, signature, disk, disk_cd, entries, entries,
        size_cd * entries, offset_cd, comment,
    )  # fmt: skip
    return data[:offset_cd] + central * entries + end


def test_entries_sharing_one_stream_are_named_errors_and_never_inflated(monkeypatch):
    kernel = bytes(20_000_000)  # 20 MB of zeros, about 20 KB deflated
    data = _overlapping_zip(50, kernel)
    assert len(data) < 100_000
    opened = _spy_opens(monkeypatch)
    items = _read(CONTAINER, data, max_bytes=len(kernel))
    assert [reason for _, reason in _outcomes(items)] == ["overlapping_entry"] * 50
    assert len({item.uri for item in items}) == 50  # one name, 50 distinct uris
    assert opened == []  # nothing inflated: before, each entry inflated the 20 MB again


def test_an_entry_whose_data_runs_into_the_next_header_overlaps_it(monkeypatch):
    data = _zip([("a.jpg", b"a" * 300), ("b.jpg", b"b" * 300), ("c.jpg", b"c" * 300)])
    central = _central_headers(data)[0]
    size = struct.unpack_from("<L", data, central + 20)[0]
    data = _patch(data, central + 20, "<L", size + 40)  # a's data now covers b's header
    opened = _spy_opens(monkeypatch)
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "overlapping_entry"),
        ("in/a.zip!/b.jpg", "overlapping_entry"),
        ("in/a.zip!/c.jpg", "ok:300"),
    ]
    assert opened == ["c.jpg"]


def test_a_normal_zip_has_no_overlaps():
    data = _zip([(f"m{i}.jpg", os.urandom(100 + i)) for i in range(20)])
    assert all(reason.startswith("ok:") for _, reason in _outcomes(_read(CONTAINER, data)))


def test_members_after_the_archive_inflate_limit_each_get_a_row(monkeypatch):
    data = _zip([(f"m{i}.bin", bytes(1000)) for i in range(5)])
    opened = _spy_opens(monkeypatch)
    assert _outcomes(_read(CONTAINER, data, max_archive_bytes=2500)) == [
        ("in/a.zip!/m0.bin", "ok:1000"),
        ("in/a.zip!/m1.bin", "ok:1000"),
        ("in/a.zip!/m2.bin", "archive_limit"),
        ("in/a.zip!/m3.bin", "archive_limit"),
        ("in/a.zip!/m4.bin", "archive_limit"),
    ]
    assert opened == ["m0.bin", "m1.bin"]  # 2000 bytes inflated, no more


def test_a_member_cannot_inflate_past_its_declared_size():
    data = _zip([("m0.bin", bytes(1000)), ("m1.bin", bytes(1000))])
    central = _central_headers(data)[1]
    data = _patch(data, central + 24, "<L", 10)  # m1 declares 10 bytes, holds 1000
    # zipfile stops at the declared size, so the CRC cannot match.
    assert _outcomes(_read(CONTAINER, data, max_archive_bytes=1500)) == [
        ("in/a.zip!/m0.bin", "ok:1000"),
        ("in/a.zip!/m1.bin", "corrupt"),
    ]


def test_stored_members_do_not_spend_the_inflate_limit():
    data = _zip([(f"m{i}.bin", bytes(1000)) for i in range(3)], method=zipfile.ZIP_STORED)
    assert _outcomes(_read(CONTAINER, data, max_archive_bytes=1500))[2] == (
        "in/a.zip!/m2.bin",
        "ok:1000",
    )


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then streams, sizes in data descriptors."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def writable(self):
        return True

    def write(self, data):
        return self.buffer.write(data)


FOUR = [(f"m{i}.jpg", bytes(range(256)) * (4 + i)) for i in range(4)]


def test_a_zip_cut_before_its_central_directory_keeps_the_members_before_the_cut():
    data = _zip(FOUR)
    third = _local_headers(data)[2]
    items = _read(CONTAINER, data[: third + 60])  # inside the third member's data
    assert _outcomes(items) == [
        ("in/a.zip!/m0.jpg", "ok:1024"),
        ("in/a.zip!/m1.jpg", "ok:1280"),
        ("in/a.zip!/m2.jpg", "truncated"),
        ("in/a.zip", "truncated"),
    ]
    assert "found by their local headers" in items[-1].data.message


def test_a_zip_cut_inside_its_central_directory_keeps_every_member():
    data = _zip(FOUR)
    items = _read(CONTAINER, data[: _central_headers(data)[1]])
    assert _outcomes(items) == [
        (f"in/a.zip!/m{i}.jpg", f"ok:{256 * (4 + i)}") for i in range(4)
    ] + [("in/a.zip", "corrupt")]


def test_a_streamed_zip_without_its_directory_is_walked_through_its_descriptors():
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, member in FOUR:
            with archive.open(name, "w") as handle:
                handle.write(member)
    data = out.buffer.getvalue()
    assert _set_flag_is_descriptor(data)
    data = data[: _central_headers(data)[0]]  # no directory at all
    assert _outcomes(_read(CONTAINER, data)) == [
        (f"in/a.zip!/m{i}.jpg", f"ok:{256 * (4 + i)}") for i in range(4)
    ] + [("in/a.zip", "truncated")]


def _set_flag_is_descriptor(data: bytes) -> bool:
    return bool(struct.unpack_from("<H", data, 6)[0] & 0x8)


def test_a_tar_inflate_limit_ends_the_archive_with_one_row_for_the_rest():
    data = _tar([(f"m{i}.bin", bytes(1000)) for i in range(5)], mode="w:gz")
    assert _outcomes(_read("in/t.tar.gz", data, max_archive_bytes=2500)) == [
        ("in/t.tar.gz!/m0.bin", "ok:1000"),
        ("in/t.tar.gz!/m1.bin", "archive_limit"),  # its data would end past 2500 bytes
        ("in/t.tar.gz", "archive_limit"),
    ]


def test_a_garbage_block_after_the_first_tar_member_is_one_row_and_reading_goes_on():
    data = _tar([("a.jpg", b"a" * 600), ("b.jpg", b"b" * 10), ("c.jpg", b"c" * 20)])
    cut = 512 + 1024  # after a's header and its two data blocks
    damaged = data[:cut] + os.urandom(512) + data[cut:]
    items = _read("in/t.tar", damaged)
    assert _outcomes(items) == [
        ("in/t.tar!/a.jpg", "ok:600"),
        ("in/t.tar!/b.jpg", "ok:10"),
        ("in/t.tar!/c.jpg", "ok:20"),
        ("in/t.tar", "corrupt"),  # the archive's own row comes after its members
    ]
    assert items[-1].data.message == "damaged header at offset 1536: skipped 512 bytes"
    assert items[-1].size == len(damaged)


def test_a_damaged_first_header_is_skipped_too():
    data = b"\x01" * 1024 + _tar([("a.jpg", b"a")])
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


def test_archives_concatenated_after_an_end_marker_are_read_whole():
    data = _tar([("a.jpg", b"a")]) + _tar([("b.jpg", b"b")])
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar!/b.jpg", "ok:1"),
    ]


def test_an_oversized_long_name_header_is_damage_not_a_huge_read():
    data = _tar([("a.jpg", b"a")])
    long_name = tarfile.TarInfo("././@LongLink")
    long_name.type, long_name.size = tarfile.GNUTYPE_LONGNAME, 10**12
    data = long_name.tobuf(format=tarfile.GNU_FORMAT) + data
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


def test_a_negative_member_size_is_damage():
    header = tarfile.TarInfo("x.jpg")
    header.size = -1024  # base-256 in a GNU header: would send the reader backwards
    data = header.tobuf(format=tarfile.GNU_FORMAT) + _tar([("a.jpg", b"a")])
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_tar_cut_inside_a_member_keeps_the_members_before_it(mode):
    data = _tar([("a.jpg", b"a" * 3000), ("b.jpg", os.urandom(30_000))], mode=mode)
    items = _read("in/t.tar", data[: len(data) // 2])
    assert _outcomes(items) == [("in/t.tar!/a.jpg", "ok:3000"), ("in/t.tar!/b.jpg", "truncated")]
    # The cut member's row is the archive's damage mark: it says later members are lost.
    assert "the archive ends inside this member" in items[-1].data.message


def test_a_tar_cut_inside_a_header_is_one_truncated_row():
    data = _tar([("a.jpg", b"a" * 10), ("b.jpg", b"b" * 10)])
    assert _outcomes(_read("in/t.tar", data[: 1024 + 100])) == [
        ("in/t.tar!/a.jpg", "ok:10"),
        ("in/t.tar", "truncated"),
    ]


def test_a_tar_cut_inside_a_skipped_member_says_so():
    data = _tar([("a.jpg", b"a" * 10), ("big.bin", b"z" * 5000)])
    assert _outcomes(_read("in/t.tar", data[:2048], max_bytes=1000)) == [
        ("in/t.tar!/a.jpg", "ok:10"),
        ("in/t.tar!/big.bin", "too_large"),
        ("in/t.tar", "truncated"),
    ]


@pytest.mark.parametrize(
    "kind,skip",
    [
        (tarfile.SYMTYPE, "symlink"),
        (tarfile.LNKTYPE, "hardlink"),
        (tarfile.DIRTYPE, "directory"),
        (tarfile.FIFOTYPE, "fifo"),
        (tarfile.CHRTYPE, "device"),
        (tarfile.BLKTYPE, "device"),
    ],
)
def test_tar_links_devices_fifos_and_directories_are_counted_skips(kind, skip):
    data = _tar([("x", b"")], kind=kind) + _tar([("a.jpg", b"a")])
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/x", f"skip:{skip}"),
        ("in/t.tar!/a.jpg", "ok:1"),
    ]


def test_odd_member_names_are_escaped_never_a_crash():
    raw_names = [  # as stored, without the UTF-8 flag unless said
        b"caf\xe9.jpg",  # Latin-1: not UTF-8, kept as the byte
        b"\xc3\xa9t\xc3\xa9.jpg",  # UTF-8 without the flag, as many Unix tools write it
        b"evil\x1b[2J.jpg",
        b"x!/y.jpg",
        b"nul\x00.jpg",  # zipfile would cut the name here
    ]
    placeholders = [b"%03d" % i + b"_" * (len(raw) - 3) for i, raw in enumerate(raw_names)]
    data = _zip([(p.decode(), b"1") for p in placeholders] + [("ünï.jpg", b"2")])  # flagged
    for placeholder, raw in zip(placeholders, raw_names):
        data = data.replace(placeholder, raw)  # in the local and the central header
    uris = [item.uri for item in _read(CONTAINER, data)]
    assert uris == [
        "in/a.zip!/caf%E9.jpg",
        "in/a.zip!/été.jpg",
        "in/a.zip!/evil%1B[2J.jpg",
        "in/a.zip!/x%21/y.jpg",
        "in/a.zip!/nul%00.jpg",
        "in/a.zip!/ünï.jpg",
    ]


def test_a_name_flagged_utf8_that_is_not_hides_no_member():
    data = _zip([("ü1.jpg", b"1"), ("b.jpg", b"22"), ("ü3.jpg", b"333")])  # flagged UTF-8
    data = data.replace("ü1".encode(), b"\xff\xfe1").replace("ü3".encode(), b"\xc3(3")
    with pytest.raises(UnicodeDecodeError):  # zipfile alone refuses the whole archive
        zipfile.ZipFile(io.BytesIO(data))
    assert _outcomes(_read(CONTAINER, data)) == [
        ("in/a.zip!/%FF%FE1.jpg", "ok:1"),
        ("in/a.zip!/b.jpg", "ok:2"),
        ("in/a.zip!/%C3(3.jpg", "ok:3"),
    ]


def test_odd_tar_member_names_are_escaped():
    data = _tar([(os.fsdecode(b"caf\xe9.jpg"), b"1"), ("a\nb!/c.jpg", b"2")])
    assert [item.uri for item in _read("in/t.tar", data)] == [
        "in/t.tar!/caf%E9.jpg",
        "in/t.tar!/a%0Ab%21/c.jpg",
    ]


def test_a_file_that_is_no_archive_is_one_row():
    for uri, data in (("in/a.zip", b"not a zip"), ("in/t.tar", b"")):
        items = _read(uri, data)
        assert len(items) == 1 and items[0].uri == uri and isinstance(items[0].data, MemberFailure)


def test_an_archive_that_cannot_be_opened_keeps_the_storage_reason():
    def gone():
        raise FileNotFoundError(2, "No such file or directory")

    (item,) = read_members("in/a.zip", gone, max_bytes=10)
    assert (
        item == Member("in/a.zip", None, None, item.data) and item.data.reason.value == "not_found"
    )


def test_the_core_does_not_import_apache_beam():
    code = "import sys, photosieve.archives; sys.exit('apache_beam' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_concatenated_tar_gz_files_and_zero_padding_are_read_whole():
    data = _tar([("a.jpg", b"a")], mode="w:gz") + _tar([("b.jpg", b"b")], mode="w:gz") + bytes(600)
    assert _outcomes(_read("in/t.tar.gz", data)) == [
        ("in/t.tar.gz!/a.jpg", "ok:1"),
        ("in/t.tar.gz!/b.jpg", "ok:1"),
    ]


def test_a_gzip_checksum_mismatch_is_one_row_for_the_archive():
    data = bytearray(_tar([("a.jpg", os.urandom(5000)), ("b.jpg", b"b")], mode="w:gz"))
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    assert _outcomes(_read("in/t.tar.gz", bytes(data))) == [
        ("in/t.tar.gz!/a.jpg", "ok:5000"),
        ("in/t.tar.gz!/b.jpg", "ok:1"),
        ("in/t.tar.gz", "corrupt"),
    ]


def test_damage_inside_the_deflate_stream_fails_that_member_and_names_the_rest():
    member = bytes(range(256)) * 400  # compressible: real deflate blocks, not stored ones
    data = bytearray(_tar([("a.jpg", b"a"), ("b.jpg", member), ("c.jpg", b"c")], mode="w:gz"))
    data[200:230] = b"\xff" * 30  # inside b's compressed data
    assert _outcomes(_read("in/t.tar.gz", bytes(data))) == [
        ("in/t.tar.gz!/a.jpg", "ok:1"),
        ("in/t.tar.gz!/b.jpg", "corrupt"),
        ("in/t.tar.gz", "corrupt"),  # c.jpg and anything else after b: not readable
    ]


_SAMPLES = {
    "in/a.zip": _zip([("a.jpg", bytes(range(256)) * 8), ("d/", b""), ("b.jpg", b"b" * 700)]),
    "in/t.tar": _tar([("a.jpg", bytes(range(256)) * 8), ("b.jpg", b"b" * 700)]),
    "in/t.tar.gz": _tar([("a.jpg", bytes(range(256)) * 8), ("b.jpg", b"b" * 700)], mode="w:gz"),
}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(_SAMPLES)),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    st.one_of(st.none(), st.integers(min_value=0)),
)
def test_mutated_archives_never_raise_and_name_each_outcome_once(uri, flips, cut):
    data = bytearray(_SAMPLES[uri])
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    items = _read(uri, bytes(data), max_archive_bytes=1_000_000)
    uris = [item.uri for item in items if not (isinstance(item, Member) and item.uri == uri)]
    assert len(uris) == len(set(uris))  # members: one outcome each
    assert all(isinstance(item, (Member, Skipped)) for item in items)
    for item in items:
        if isinstance(item, Member) and isinstance(item.data, bytes):
            assert len(item.data) <= 1_000_000


@pytest.mark.parametrize("mode", ["w:bz2", "w:xz"])
def test_bzip2_and_xz_tars_are_read_and_a_cut_one_says_so(mode):
    data = _tar([("a.jpg", b"a" * 3000), ("b.jpg", os.urandom(60_000))], mode=mode)
    assert _outcomes(_read("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:3000"),
        ("in/t.tar!/b.jpg", "ok:60000"),
    ]
    # xz gives what precedes the cut; bzip2 inflates whole 900 KB blocks, so
    # a cut inside its only block leaves nothing to read.
    expected = {
        "w:xz": [("in/t.tar!/a.jpg", "ok:3000"), ("in/t.tar!/b.jpg", "truncated")],
        "w:bz2": [("in/t.tar", "truncated")],
    }[mode]
    assert _outcomes(_read("in/t.tar", data[: len(data) // 2])) == expected


def test_two_damaged_tar_regions_are_one_row_for_the_archive():
    data = _tar([("a.jpg", b"a" * 600), ("b.jpg", b"b" * 10), ("c.jpg", b"c" * 20)])
    first, second = 512 + 1024, 512 + 1024 + 1024  # after a's data, after b's data
    damaged = data[:first] + os.urandom(512) + data[first:second] + os.urandom(512) + data[second:]
    items = _read("in/t.tar", damaged)
    assert _outcomes(items) == [
        ("in/t.tar!/a.jpg", "ok:600"),
        ("in/t.tar!/b.jpg", "ok:10"),
        ("in/t.tar!/c.jpg", "ok:20"),
        ("in/t.tar", "corrupt"),  # one uri, one row: both regions named in it
    ]
    assert items[-1].data.message.startswith("2 problems: damaged header at offset 1536")


def test_a_zip_member_with_an_empty_name_is_read_not_a_crash():
    items = _read(CONTAINER, b"PK\x03\x04" + bytes(100))
    assert [uri for uri, _ in _outcomes(items)].count(CONTAINER) == 1
    assert all("IndexError" not in item.data.message for item in items if item.uri == CONTAINER)
