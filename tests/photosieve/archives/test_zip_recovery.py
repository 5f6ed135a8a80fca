"""zip_recovery: a zip cut short or without its central directory keeps the members before it."""

from __future__ import annotations

import io
import struct
import zipfile

from photosieve.archives import zip_recovery
from photosieve.errors import FailureReason
from tests.photosieve.archives.samples import (
    CONTAINER,
    central_headers,
    local_headers,
    outcomes_of,
    read_all,
    zip_bytes,
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
    data = zip_bytes(FOUR)
    third = local_headers(data)[2]
    items = read_all(CONTAINER, data[: third + 60])  # inside the third member's data
    assert outcomes_of(items) == [
        ("in/a.zip!/m0.jpg", "ok:1024"),
        ("in/a.zip!/m1.jpg", "ok:1280"),
        ("in/a.zip!/m2.jpg", "truncated"),
        ("in/a.zip", "truncated"),
    ]
    assert "found by their local headers" in items[-1].data.message


def test_a_zip_cut_inside_its_central_directory_keeps_every_member():
    data = zip_bytes(FOUR)
    items = read_all(CONTAINER, data[: central_headers(data)[1]])
    assert outcomes_of(items) == [
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
    data = data[: central_headers(data)[0]]  # no directory at all
    assert outcomes_of(read_all(CONTAINER, data)) == [
        (f"in/a.zip!/m{i}.jpg", f"ok:{256 * (4 + i)}") for i in range(4)
    ] + [("in/a.zip", "truncated")]


def _set_flag_is_descriptor(data: bytes) -> bool:
    return bool(struct.unpack_from("<H", data, 6)[0] & 0x8)


def test_a_zip_member_with_an_empty_name_is_read_not_a_crash():
    items = read_all(CONTAINER, b"PK\x03\x04" + bytes(100))
    assert [uri for uri, _ in outcomes_of(items)].count(CONTAINER) == 1
    assert all("IndexError" not in item.data.message for item in items if item.uri == CONTAINER)


def _streamed(members: list[tuple[str, bytes]]) -> bytes:
    """A zip written to a stream that cannot seek: sizes follow each member's data."""
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, member in members:
            with archive.open(name, "w") as handle:
                handle.write(member)
    return out.buffer.getvalue()


def test_a_file_without_a_local_header_at_its_start_is_not_rebuilt():
    assert zip_recovery.rebuild(io.BytesIO(b"not a zip at all" * 10), 10**6) is None
    assert zip_recovery.rebuild(io.BytesIO(b""), 10**6) is None


def test_members_up_to_the_end_of_the_file_give_a_directory_zipfile_reads():
    data = zip_bytes(FOUR)
    members_end = central_headers(data)[0]
    rebuilt = zip_recovery.rebuild(io.BytesIO(data[:members_end]), 10**6)
    assert rebuilt.reason is FailureReason.TRUNCATED and rebuilt.cut == frozenset()
    assert rebuilt.message == (
        f"no central directory: the archive ends at offset {members_end}"
        " (4 members found by their local headers)"
    )
    with zipfile.ZipFile(rebuilt.view) as archive:
        assert [(info.filename, archive.read(info)) for info in archive.infolist()] == FOUR


def test_garbage_after_the_members_is_damage_named_by_its_offset():
    data = zip_bytes(FOUR)
    members_end = central_headers(data)[0]
    rebuilt = zip_recovery.rebuild(io.BytesIO(data[:members_end] + b"\x00" * 100), 10**6)
    assert rebuilt.reason is FailureReason.CORRUPT and rebuilt.cut == frozenset()
    assert f"4 members found by their local headers up to offset {members_end}" in rebuilt.message
    assert f"(no local header at offset {members_end})" in rebuilt.message


def test_an_entry_whose_data_runs_past_the_end_is_marked_cut():
    data = zip_bytes(FOUR)
    third = local_headers(data)[2]
    rebuilt = zip_recovery.rebuild(io.BytesIO(data[: third + 60]), 10**6)
    assert rebuilt.cut == frozenset({third}) and rebuilt.reason is FailureReason.TRUNCATED


def test_a_streamed_entry_is_walked_only_within_the_inflate_allowance():
    data = _streamed(FOUR)
    data = data[: central_headers(data)[0]]
    assert zip_recovery.rebuild(io.BytesIO(data), max_inflate=100) is None  # the first is larger
    rebuilt = zip_recovery.rebuild(io.BytesIO(data), max_inflate=10**6)
    with zipfile.ZipFile(rebuilt.view) as archive:
        assert [info.filename for info in archive.infolist()] == [name for name, _ in FOUR]


def test_the_view_reads_the_file_then_the_rebuilt_directory_as_one_stream():
    view = zip_recovery._Appended(io.BytesIO(b"0123456789"), 6, b"abc")
    assert view.seekable() and view.read() == b"012345abc"
    assert view.seek(-4, 2) == 5 and view.read(2) == b"5a" and view.tell() == 7
    assert view.seek(2, 1) == 9 and view.read(5) == b""
    assert view.seek(-100) == 0 and view.read(3) == b"012"
