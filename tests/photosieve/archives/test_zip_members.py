"""zip_members: each zip entry ends in one row, encrypted, corrupt, overlapping or over budget."""

from __future__ import annotations

import io
import os
import struct
import zipfile

import pytest

from tests.photosieve.archives.samples import (
    CONTAINER,
    GOOD,
    central_headers,
    local_headers,
    outcomes_of,
    overlapping_zip,
    patch,
    read_all,
    set_zip_flag,
    spy_opens,
    zip_bytes,
)


def test_an_encrypted_first_member_hides_nothing_after_it():
    data = set_zip_flag(zip_bytes([("a.jpg", b"a" * 300), *GOOD]), 0, 0x1)
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "encrypted"),
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_a_corrupt_deflate_stream_is_that_members_row():
    data = bytearray(zip_bytes([("a.jpg", bytes(range(256)) * 40), *GOOD]))
    start = local_headers(bytes(data))[0] + 30 + len("a.jpg")
    data[start + 5 : start + 40] = b"\xff" * 35  # inside a's compressed data
    assert outcomes_of(read_all(CONTAINER, bytes(data))) == [
        ("in/a.zip!/a.jpg", "corrupt"),
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_a_crc_mismatch_is_corrupt():
    data = bytearray(zip_bytes([("a.jpg", b"a" * 300), *GOOD], method=zipfile.ZIP_STORED))
    start = local_headers(bytes(data))[0] + 30 + len("a.jpg")
    data[start] = ord("x")
    outcomes = outcomes_of(read_all(CONTAINER, bytes(data)))
    assert outcomes[0] == ("in/a.zip!/a.jpg", "corrupt") and outcomes[1:] == [
        ("in/a.zip!/b.jpg", "ok:500"),
        ("in/a.zip!/c.jpg", "ok:700"),
    ]


def test_an_unsupported_compression_method_is_unsupported_format():
    data = zip_bytes([("a.jpg", b"a" * 300), *GOOD])
    local, central = local_headers(data)[0], central_headers(data)[0]
    data = patch(patch(data, local + 8, "<H", 9), central + 10, "<H", 9)  # deflate64
    items = read_all(CONTAINER, data)
    assert outcomes_of(items)[0] == ("in/a.zip!/a.jpg", "unsupported_format")
    assert "9" in items[0].data.message and len(items) == 3


def test_directories_are_counted_skips():
    data = zip_bytes([("d/", b""), ("d/a.jpg", b"a")])
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/d/", "skip:directory"),
        ("in/a.zip!/d/a.jpg", "ok:1"),
    ]


def test_a_directory_entry_with_data_is_read_not_skipped():
    data = zip_bytes([("photo.jpg/", b"hidden"), ("d/", b"")])
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/photo.jpg/", "ok:6"),
        ("in/a.zip!/d/", "skip:directory"),
    ]


def test_duplicate_zip_names_get_distinct_uris_one_outcome_each():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_bytes([("a.jpg", b"1"), ("a.jpg", b"22"), ("b.jpg", b"3"), ("a.jpg", b"444")])
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "ok:1"),
        ("in/a.zip!/a.jpg%!2", "ok:2"),
        ("in/a.zip!/b.jpg", "ok:1"),
        ("in/a.zip!/a.jpg%!3", "ok:3"),
    ]


def test_entries_sharing_one_stream_are_named_errors_and_never_inflated(monkeypatch):
    kernel = bytes(20_000_000)  # 20 MB of zeros, about 20 KB deflated
    data = overlapping_zip(50, kernel)
    assert len(data) < 100_000
    opened = spy_opens(monkeypatch)
    items = read_all(CONTAINER, data, max_bytes=len(kernel))
    assert [reason for _, reason in outcomes_of(items)] == ["overlapping_entry"] * 50
    assert len({item.uri for item in items}) == 50  # one name, 50 distinct uris
    assert opened == []  # nothing inflated: before, each entry inflated the 20 MB again


def test_an_entry_whose_data_runs_into_the_next_header_overlaps_it(monkeypatch):
    data = zip_bytes([("a.jpg", b"a" * 300), ("b.jpg", b"b" * 300), ("c.jpg", b"c" * 300)])
    central = central_headers(data)[0]
    size = struct.unpack_from("<L", data, central + 20)[0]
    data = patch(data, central + 20, "<L", size + 40)  # a's data now covers b's header
    opened = spy_opens(monkeypatch)
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/a.jpg", "overlapping_entry"),
        ("in/a.zip!/b.jpg", "overlapping_entry"),
        ("in/a.zip!/c.jpg", "ok:300"),
    ]
    assert opened == ["c.jpg"]


def test_a_normal_zip_has_no_overlaps():
    data = zip_bytes([(f"m{i}.jpg", os.urandom(100 + i)) for i in range(20)])
    assert all(reason.startswith("ok:") for _, reason in outcomes_of(read_all(CONTAINER, data)))


def test_members_after_the_archive_inflate_limit_each_get_a_row(monkeypatch):
    data = zip_bytes([(f"m{i}.bin", bytes(1000)) for i in range(5)])
    opened = spy_opens(monkeypatch)
    assert outcomes_of(read_all(CONTAINER, data, max_archive_bytes=2500)) == [
        ("in/a.zip!/m0.bin", "ok:1000"),
        ("in/a.zip!/m1.bin", "ok:1000"),
        ("in/a.zip!/m2.bin", "archive_limit"),
        ("in/a.zip!/m3.bin", "archive_limit"),
        ("in/a.zip!/m4.bin", "archive_limit"),
    ]
    assert opened == ["m0.bin", "m1.bin"]  # 2000 bytes inflated, no more


def test_a_member_cannot_inflate_past_its_declared_size():
    data = zip_bytes([("m0.bin", bytes(1000)), ("m1.bin", bytes(1000))])
    central = central_headers(data)[1]
    data = patch(data, central + 24, "<L", 10)  # m1 declares 10 bytes, holds 1000
    # zipfile stops at the declared size, so the CRC cannot match.
    assert outcomes_of(read_all(CONTAINER, data, max_archive_bytes=1500)) == [
        ("in/a.zip!/m0.bin", "ok:1000"),
        ("in/a.zip!/m1.bin", "corrupt"),
    ]


def test_stored_members_do_not_spend_the_inflate_limit():
    data = zip_bytes([(f"m{i}.bin", bytes(1000)) for i in range(3)], method=zipfile.ZIP_STORED)
    assert outcomes_of(read_all(CONTAINER, data, max_archive_bytes=1500))[2] == (
        "in/a.zip!/m2.bin",
        "ok:1000",
    )


def test_odd_member_names_are_escaped_never_a_crash():
    raw_names = [  # as stored, without the UTF-8 flag unless said
        b"caf\xe9.jpg",  # Latin-1: not UTF-8, kept as the byte
        b"\xc3\xa9t\xc3\xa9.jpg",  # UTF-8 without the flag, as many Unix tools write it
        b"evil\x1b[2J.jpg",
        b"x!/y.jpg",
        b"nul\x00.jpg",  # zipfile would cut the name here
    ]
    placeholders = [b"%03d" % i + b"_" * (len(raw) - 3) for i, raw in enumerate(raw_names)]
    data = zip_bytes([(p.decode(), b"1") for p in placeholders] + [("ünï.jpg", b"2")])  # flagged
    for placeholder, raw in zip(placeholders, raw_names):
        data = data.replace(placeholder, raw)  # in the local and the central header
    uris = [item.uri for item in read_all(CONTAINER, data)]
    assert uris == [
        "in/a.zip!/caf%E9.jpg",
        "in/a.zip!/été.jpg",
        "in/a.zip!/evil%1B[2J.jpg",
        "in/a.zip!/x%21/y.jpg",
        "in/a.zip!/nul%00.jpg",
        "in/a.zip!/ünï.jpg",
    ]


def test_a_name_flagged_utf8_that_is_not_hides_no_member():
    data = zip_bytes([("ü1.jpg", b"1"), ("b.jpg", b"22"), ("ü3.jpg", b"333")])  # flagged UTF-8
    data = data.replace("ü1".encode(), b"\xff\xfe1").replace("ü3".encode(), b"\xc3(3")
    with pytest.raises(UnicodeDecodeError):  # zipfile alone refuses the whole archive
        zipfile.ZipFile(io.BytesIO(data))
    assert outcomes_of(read_all(CONTAINER, data)) == [
        ("in/a.zip!/%FF%FE1.jpg", "ok:1"),
        ("in/a.zip!/b.jpg", "ok:2"),
        ("in/a.zip!/%C3(3.jpg", "ok:3"),
    ]


def test_a_members_row_has_its_declared_size_and_its_time_read_as_utc():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("a.jpg", date_time=(2024, 2, 29, 12, 30, 58)), b"a" * 42)
    (member,) = read_all(CONTAINER, buffer.getvalue())
    assert (member.size, member.mtime_us) == (42, 1_709_209_858_000_000)


def test_a_time_no_calendar_has_is_no_time_not_a_failure():
    data = zip_bytes([("a.jpg", b"a" * 10)])
    local, central = local_headers(data)[0], central_headers(data)[0]
    bad_date = (2024 - 1980) << 9 | 13 << 5 | 1  # month 13
    data = patch(patch(data, local + 12, "<H", bad_date), central + 14, "<H", bad_date)
    (member,) = read_all(CONTAINER, data)
    assert (member.mtime_us, member.data) == (None, b"a" * 10)
