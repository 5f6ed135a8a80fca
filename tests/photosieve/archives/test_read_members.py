"""read_members: whatever the archive, every member ends in exactly one value and nothing raises."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosieve import archives
from photosieve.archives import Member, MemberFailure, Skipped, read_members
from photosieve.archives.members import failure
from photosieve.errors import FailureReason
from tests.photosieve.archives.samples import read_all, tar_bytes, zip_bytes


def test_a_file_that_is_no_archive_is_one_row():
    for uri, data in (("in/a.zip", b"not a zip"), ("in/t.tar", b"")):
        items = read_all(uri, data)
        assert len(items) == 1 and items[0].uri == uri and isinstance(items[0].data, MemberFailure)


def test_an_archive_that_cannot_be_opened_keeps_the_storage_reason():
    def gone():
        raise FileNotFoundError(2, "No such file or directory")

    (item,) = read_members("in/a.zip", gone, max_bytes=10)
    assert (
        item == Member("in/a.zip", None, None, item.data) and item.data.reason.value == "not_found"
    )


_MEMBERS = [("a.jpg", bytes(range(256)) * 8), ("b.jpg", b"b" * 700)]
_SAMPLES = {
    "in/a.zip": zip_bytes([_MEMBERS[0], ("d/", b""), _MEMBERS[1]]),
    "in/t.tar": tar_bytes(_MEMBERS),
    "in/t.tar.gz": tar_bytes(_MEMBERS, mode="w:gz"),
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
    items = read_all(uri, bytes(data), max_archive_bytes=1_000_000)
    uris = [item.uri for item in items if not (isinstance(item, Member) and item.uri == uri)]
    assert len(uris) == len(set(uris))  # members: one outcome each
    assert all(isinstance(item, (Member, Skipped)) for item in items)
    for item in items:
        if isinstance(item, Member) and isinstance(item.data, bytes):
            assert len(item.data) <= 1_000_000


def _reader_of(*steps):
    """A stand-in zip reader that yields ``steps`` in order and raises any exception among them."""

    def read_zip(uri, handle, max_bytes, max_archive_bytes, size, mtime_us):
        for step in steps:
            if isinstance(step, BaseException):
                raise step
            yield step

    return read_zip


def test_what_no_reader_foresaw_is_one_row_for_the_archive_after_its_members(monkeypatch):
    member = Member("in/a.zip!/a.jpg", 3, None, b"abc")
    monkeypatch.setattr(archives, "read_zip", _reader_of(member, RuntimeError("boom")))
    items = list(read_members("in/a.zip", io.BytesIO, max_bytes=10, size=99, mtime_us=7))
    assert items[0] == member
    (uri, size, mtime_us, data) = items[1]
    assert (uri, size, mtime_us, data.reason) == ("in/a.zip", 99, 7, FailureReason.CORRUPT)
    assert data.message == "archive after 1 member(s): RuntimeError: boom"
    assert len(items) == 2


def test_storage_trouble_inside_a_reader_keeps_its_reason(monkeypatch):
    monkeypatch.setattr(archives, "read_zip", _reader_of(PermissionError(13, "denied")))
    (item,) = read_members("in/a.zip", io.BytesIO, max_bytes=10)
    assert item.uri == "in/a.zip" and item.data.reason is FailureReason.UNREADABLE


def test_many_problems_of_the_archive_are_one_row_naming_the_first_three(monkeypatch):
    rows = [failure("in/a.zip", 5, None, FailureReason.TRUNCATED, f"problem {i}") for i in range(5)]
    skipped = Skipped("in/a.zip!/d/", "directory")
    monkeypatch.setattr(archives, "read_zip", _reader_of(rows[0], skipped, *rows[1:]))
    items = list(read_members("in/a.zip", io.BytesIO, max_bytes=10))
    assert items[0] == skipped  # members first, then the archive's one row
    (archive_row,) = items[1:]
    assert archive_row.data.reason is FailureReason.TRUNCATED  # the first problem's reason
    assert archive_row.data.message == "5 problems: problem 0; problem 1; problem 2; and 2 more"


def test_one_problem_of_the_archive_is_kept_as_it_is(monkeypatch):
    row = failure("in/a.zip", 5, None, FailureReason.TRUNCATED, "cut")
    monkeypatch.setattr(archives, "read_zip", _reader_of(row))
    assert list(read_members("in/a.zip", io.BytesIO, max_bytes=10)) == [row]


def test_the_suffix_chooses_the_reader_whatever_its_case():
    zipped = zip_bytes([("a.jpg", b"a")])
    assert [item.uri for item in read_all("in/A.ZIP", zipped)] == ["in/A.ZIP!/a.jpg"]
    tarred = tar_bytes([("a.jpg", b"a")])
    assert [item.uri for item in read_all("in/a.anything", tarred)] == ["in/a.anything!/a.jpg"]


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (2, "2 problems: problem 0; problem 1"),
        (3, "3 problems: problem 0; problem 1; problem 2"),
        (4, "4 problems: problem 0; problem 1; problem 2; and 1 more"),
    ],
)
def test_the_archive_row_names_up_to_three_problems_and_counts_every_other(
    monkeypatch, count, message
):
    rows = [failure("in/a.zip", 5, None, FailureReason.CORRUPT, f"problem {i}") for i in range(9)]
    monkeypatch.setattr(archives, "read_zip", _reader_of(*rows[:count]))
    (row,) = read_members("in/a.zip", io.BytesIO, max_bytes=10)
    assert row.data.message == message
