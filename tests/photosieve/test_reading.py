"""read_object: bytes, or a ReadError with a specific reason."""

from __future__ import annotations

import io
import os

import pytest

from photosieve.errors import FailureReason
from photosieve.reading import ReadError, open_local, read_object


def test_reads_local_bytes(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc" * 1000)
    assert read_object(str(path)) == b"abc" * 1000


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda tmp: str(tmp / "missing.jpg"), FailureReason.NOT_FOUND),
        (lambda tmp: str(tmp), FailureReason.UNREADABLE),  # a directory
    ],
)
def test_local_failures_are_classified(tmp_path, make, reason):
    with pytest.raises(ReadError) as info:
        read_object(make(tmp_path))
    assert info.value.reason is reason


def test_permission_denied_is_unreadable():
    # Tests may run as root, who can read anything: inject the error.
    def opener(path):
        raise PermissionError(13, "Permission denied", path)

    with pytest.raises(ReadError) as info:
        read_object("gs://bucket/secret.jpg", opener)
    assert info.value.reason is FailureReason.UNREADABLE
    assert "Permission denied" in info.value.message


def test_cloud_style_not_found_is_recognised():
    class NotFound(Exception):
        pass

    def opener(path):
        raise NotFound("404 No such object: bucket/x.jpg")

    with pytest.raises(ReadError) as info:
        read_object("gs://bucket/x.jpg", opener)
    assert info.value.reason is FailureReason.NOT_FOUND


def test_too_large_by_hint_is_not_opened():
    def opener(path):
        raise AssertionError("must not open")

    with pytest.raises(ReadError) as info:
        read_object("big", opener, max_bytes=10, size_hint=11)
    assert info.value.reason is FailureReason.TOO_LARGE


def test_too_large_while_reading_stops():
    with pytest.raises(ReadError) as info:
        read_object("x", lambda path: io.BytesIO(b"x" * 100), max_bytes=99)
    assert info.value.reason is FailureReason.TOO_LARGE


def test_a_fifo_is_a_typed_failure_not_a_hang(tmp_path):
    # A file swapped for a FIFO after listing: open() would block until a writer comes.
    fifo = tmp_path / "swapped.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ReadError) as info:
        read_object(str(fifo))
    assert info.value.reason is FailureReason.UNREADABLE
    assert "not a regular file: a fifo" in info.value.message


def test_a_device_is_not_read(tmp_path):
    # /dev/zero streams forever: refused on fstat, before the first read.
    with pytest.raises(ReadError) as info:
        open_local("/dev/zero")
    assert "a device" in info.value.message


def test_open_local_reads_a_regular_file(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"abc")
    with open_local(str(path)) as handle:
        assert handle.read() == b"abc"
