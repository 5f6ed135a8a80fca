"""tar_members: damaged headers are skipped as GNU tar does; each member and region named once."""

from __future__ import annotations

import os
import tarfile

import pytest

from tests.photosieve.archives.samples import outcomes_of, read_all, tar_bytes


def test_duplicate_tar_names_get_distinct_uris():
    data = tar_bytes([("a.jpg", b"1"), ("a.jpg", b"22")])
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar!/a.jpg%!2", "ok:2"),
    ]


def test_a_tar_inflate_limit_ends_the_archive_with_one_row_for_the_rest():
    data = tar_bytes([(f"m{i}.bin", bytes(1000)) for i in range(5)], mode="w:gz")
    assert outcomes_of(read_all("in/t.tar.gz", data, max_archive_bytes=2500)) == [
        ("in/t.tar.gz!/m0.bin", "ok:1000"),
        ("in/t.tar.gz!/m1.bin", "archive_limit"),  # its data would end past 2500 bytes
        ("in/t.tar.gz", "archive_limit"),
    ]


def test_a_garbage_block_after_the_first_tar_member_is_one_row_and_reading_goes_on():
    data = tar_bytes([("a.jpg", b"a" * 600), ("b.jpg", b"b" * 10), ("c.jpg", b"c" * 20)])
    cut = 512 + 1024  # after a's header and its two data blocks
    damaged = data[:cut] + os.urandom(512) + data[cut:]
    items = read_all("in/t.tar", damaged)
    assert outcomes_of(items) == [
        ("in/t.tar!/a.jpg", "ok:600"),
        ("in/t.tar!/b.jpg", "ok:10"),
        ("in/t.tar!/c.jpg", "ok:20"),
        ("in/t.tar", "corrupt"),  # the archive's own row comes after its members
    ]
    assert items[-1].data.message == "damaged header at offset 1536: skipped 512 bytes"
    assert items[-1].size == len(damaged)


def test_a_damaged_first_header_is_skipped_too():
    data = b"\x01" * 1024 + tar_bytes([("a.jpg", b"a")])
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


def test_archives_concatenated_after_an_end_marker_are_read_whole():
    data = tar_bytes([("a.jpg", b"a")]) + tar_bytes([("b.jpg", b"b")])
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar!/b.jpg", "ok:1"),
    ]


def test_an_oversized_long_name_header_is_damage_not_a_huge_read():
    data = tar_bytes([("a.jpg", b"a")])
    long_name = tarfile.TarInfo("././@LongLink")
    long_name.type, long_name.size = tarfile.GNUTYPE_LONGNAME, 10**12
    data = long_name.tobuf(format=tarfile.GNU_FORMAT) + data
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


def test_a_negative_member_size_is_damage():
    header = tarfile.TarInfo("x.jpg")
    header.size = -1024  # base-256 in a GNU header: would send the reader backwards
    data = header.tobuf(format=tarfile.GNU_FORMAT) + tar_bytes([("a.jpg", b"a")])
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:1"),
        ("in/t.tar", "corrupt"),
    ]


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_tar_cut_inside_a_member_keeps_the_members_before_it(mode):
    data = tar_bytes([("a.jpg", b"a" * 3000), ("b.jpg", os.urandom(30_000))], mode=mode)
    items = read_all("in/t.tar", data[: len(data) // 2])
    assert outcomes_of(items) == [("in/t.tar!/a.jpg", "ok:3000"), ("in/t.tar!/b.jpg", "truncated")]
    # The cut member's row is the archive's damage mark: it says later members are lost.
    assert "the archive ends inside this member" in items[-1].data.message


def test_a_tar_cut_inside_a_header_is_one_truncated_row():
    data = tar_bytes([("a.jpg", b"a" * 10), ("b.jpg", b"b" * 10)])
    assert outcomes_of(read_all("in/t.tar", data[: 1024 + 100])) == [
        ("in/t.tar!/a.jpg", "ok:10"),
        ("in/t.tar", "truncated"),
    ]


def test_a_tar_cut_inside_a_skipped_member_says_so():
    data = tar_bytes([("a.jpg", b"a" * 10), ("big.bin", b"z" * 5000)])
    assert outcomes_of(read_all("in/t.tar", data[:2048], max_bytes=1000)) == [
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
    data = tar_bytes([("x", b"")], kind=kind) + tar_bytes([("a.jpg", b"a")])
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/x", f"skip:{skip}"),
        ("in/t.tar!/a.jpg", "ok:1"),
    ]


def test_odd_tar_member_names_are_escaped():
    data = tar_bytes([(os.fsdecode(b"caf\xe9.jpg"), b"1"), ("a\nb!/c.jpg", b"2")])
    assert [item.uri for item in read_all("in/t.tar", data)] == [
        "in/t.tar!/caf%E9.jpg",
        "in/t.tar!/a%0Ab%21/c.jpg",
    ]


def test_concatenated_tar_gz_files_and_zero_padding_are_read_whole():
    first = tar_bytes([("a.jpg", b"a")], mode="w:gz")
    data = first + tar_bytes([("b.jpg", b"b")], mode="w:gz") + bytes(600)
    assert outcomes_of(read_all("in/t.tar.gz", data)) == [
        ("in/t.tar.gz!/a.jpg", "ok:1"),
        ("in/t.tar.gz!/b.jpg", "ok:1"),
    ]


def test_a_gzip_checksum_mismatch_is_one_row_for_the_archive():
    data = bytearray(tar_bytes([("a.jpg", os.urandom(5000)), ("b.jpg", b"b")], mode="w:gz"))
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    assert outcomes_of(read_all("in/t.tar.gz", bytes(data))) == [
        ("in/t.tar.gz!/a.jpg", "ok:5000"),
        ("in/t.tar.gz!/b.jpg", "ok:1"),
        ("in/t.tar.gz", "corrupt"),
    ]


def test_damage_inside_the_deflate_stream_fails_that_member_and_names_the_rest():
    member = bytes(range(256)) * 400  # compressible: real deflate blocks, not stored ones
    data = bytearray(tar_bytes([("a.jpg", b"a"), ("b.jpg", member), ("c.jpg", b"c")], mode="w:gz"))
    data[200:230] = b"\xff" * 30  # inside b's compressed data
    assert outcomes_of(read_all("in/t.tar.gz", bytes(data))) == [
        ("in/t.tar.gz!/a.jpg", "ok:1"),
        ("in/t.tar.gz!/b.jpg", "corrupt"),
        ("in/t.tar.gz", "corrupt"),  # c.jpg and anything else after b: not readable
    ]


@pytest.mark.parametrize("mode", ["w:bz2", "w:xz"])
def test_bzip2_and_xz_tars_are_read_and_a_cut_one_says_so(mode):
    data = tar_bytes([("a.jpg", b"a" * 3000), ("b.jpg", os.urandom(60_000))], mode=mode)
    assert outcomes_of(read_all("in/t.tar", data)) == [
        ("in/t.tar!/a.jpg", "ok:3000"),
        ("in/t.tar!/b.jpg", "ok:60000"),
    ]
    # xz gives what precedes the cut; bzip2 inflates whole 900 KB blocks, so
    # a cut inside its only block leaves nothing to read.
    expected = {
        "w:xz": [("in/t.tar!/a.jpg", "ok:3000"), ("in/t.tar!/b.jpg", "truncated")],
        "w:bz2": [("in/t.tar", "truncated")],
    }[mode]
    assert outcomes_of(read_all("in/t.tar", data[: len(data) // 2])) == expected


def test_two_damaged_tar_regions_are_one_row_for_the_archive():
    data = tar_bytes([("a.jpg", b"a" * 600), ("b.jpg", b"b" * 10), ("c.jpg", b"c" * 20)])
    first, second = 512 + 1024, 512 + 1024 + 1024  # after a's data, after b's data
    damaged = data[:first] + os.urandom(512) + data[first:second] + os.urandom(512) + data[second:]
    items = read_all("in/t.tar", damaged)
    assert outcomes_of(items) == [
        ("in/t.tar!/a.jpg", "ok:600"),
        ("in/t.tar!/b.jpg", "ok:10"),
        ("in/t.tar!/c.jpg", "ok:20"),
        ("in/t.tar", "corrupt"),  # one uri, one row: both regions named in it
    ]
    assert items[-1].data.message.startswith("2 problems: damaged header at offset 1536")


def test_a_members_row_has_its_size_and_time_in_microseconds():
    (member,) = read_all("in/t.tar", tar_bytes([("a.jpg", b"a" * 42)]))
    assert (member.size, member.mtime_us, member.data) == (42, 1_700_000_000_000_000, b"a" * 42)


def test_an_unknown_member_type_is_data_not_a_skip():
    data = tar_bytes([("odd.jpg", b"hidden")], kind=b"Z")  # a made-up type letter
    assert outcomes_of(read_all("in/t.tar", data)) == [("in/t.tar!/odd.jpg", "ok:6")]
