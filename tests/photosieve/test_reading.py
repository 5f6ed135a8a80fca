"""read_object: bytes, or a ReadError with a specific reason."""

from __future__ import annotations

import io

import pytest

from photosieve.errors import FailureReason
from photosieve.reading import ReadError, read_object, walk_local


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


def test_walk_local_sorts_and_keeps_missing(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.jpg", "b/1.jpg", "a.jpg"):
        (tmp_path / name).write_bytes(b"")
    missing = str(tmp_path / "nope.jpg")
    assert list(walk_local([str(tmp_path), missing])) == [
        str(tmp_path / "a.jpg"), str(tmp_path / "b" / "1.jpg"), str(tmp_path / "b" / "2.jpg"), missing,
    ]
