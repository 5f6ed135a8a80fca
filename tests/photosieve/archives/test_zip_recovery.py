"""zip_recovery: a zip cut short or without its central directory keeps the members before it."""

from __future__ import annotations

import io
import struct
import zipfile

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
