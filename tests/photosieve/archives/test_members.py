"""members: reasons for archive trouble, cut messages, the inflate budget, distinct member uris."""

from __future__ import annotations

import gzip
import lzma
import tarfile
import zipfile
import zlib

import pytest

from photosieve.archives.members import (
    MESSAGE_CHARS,
    Budget,
    MemberFailure,
    MemberNames,
    failure,
    failure_reason,
    member_failure,
    spent,
    too_large,
)
from photosieve.errors import FailureReason
from photosieve.reading import ReadError


@pytest.mark.parametrize(
    "exc",
    [
        tarfile.ReadError("bad header"),
        zipfile.BadZipFile("bad zip"),
        gzip.BadGzipFile("bad gzip"),  # an OSError, and yet damage
        EOFError("cut"),
        zlib.error("bad stream"),
        lzma.LZMAError("bad xz"),  # an Exception, not an OSError
        ValueError("bad value"),
        RuntimeError("anything else"),
    ],
)
def test_damaged_archive_data_is_corrupt(exc):
    assert failure_reason(exc) is FailureReason.CORRUPT


@pytest.mark.parametrize(
    "exc, reason",
    [
        (FileNotFoundError(2, "No such file or directory"), FailureReason.NOT_FOUND),
        (PermissionError(13, "Permission denied"), FailureReason.UNREADABLE),
        (OSError("404 object gone"), FailureReason.NOT_FOUND),
        (ReadError(FailureReason.TOO_LARGE, "big"), FailureReason.TOO_LARGE),
    ],
)
def test_storage_trouble_keeps_its_own_reason(exc, reason):
    assert failure_reason(exc) is reason


def test_messages_are_cut_to_what_a_row_holds():
    cut = member_failure(FailureReason.CORRUPT, "x" * (MESSAGE_CHARS + 50))
    assert cut == MemberFailure(FailureReason.CORRUPT, "x" * MESSAGE_CHARS)
    assert member_failure(FailureReason.CORRUPT, "short").message == "short"
    row = failure("a.zip!/m", 4, 5, FailureReason.TRUNCATED, "y" * 1000)
    assert (row.uri, row.size, row.mtime_us) == ("a.zip!/m", 4, 5)
    assert row.data.reason is FailureReason.TRUNCATED and len(row.data.message) == MESSAGE_CHARS


def test_limit_failures_name_the_numbers():
    assert too_large(2048, 1000) == MemberFailure(
        FailureReason.TOO_LARGE, "object is 2048 bytes, over the 1000-byte limit"
    )
    assert spent(500).reason is FailureReason.ARCHIVE_LIMIT
    assert "500-byte inflate limit is spent" in spent(500).message


def test_the_budget_runs_down_to_zero_and_no_further():
    budget = Budget(100)
    budget.spend(30)
    assert (budget.limit, budget.left) == (100, 70)
    budget.spend(1000)
    assert budget.left == 0
    budget.spend(1)
    assert budget.left == 0


def test_member_names_are_escaped_and_each_repeat_gets_its_own_uri():
    names = MemberNames("in/a.zip")
    uris = [names.uri(name) for name in ("a.jpg", "b!/c.jpg", "a.jpg", "a.jpg", "b!/c.jpg")]
    assert uris == [
        "in/a.zip!/a.jpg",
        "in/a.zip!/b%21/c.jpg",
        "in/a.zip!/a.jpg%!2",
        "in/a.zip!/a.jpg%!3",
        "in/a.zip!/b%21/c.jpg%!2",
    ]
    assert MemberNames("in/b.zip").uri("a.jpg") == "in/b.zip!/a.jpg"  # one counter per archive
