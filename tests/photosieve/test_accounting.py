"""The accounting check (photosieve.accounting): each way an object can go missing is a problem line."""

from __future__ import annotations

import pytest

from photosieve.accounting import check_accounting, check_queries


@pytest.mark.parametrize(
    "ledger,problems",
    [
        ({"objects": {"read": 2, "hashed": 2}, "units": {"pdq": {"hashed": 1, "failed": 1}}}, []),
        (
            {"objects": {"read": 2, "hashed": 2}, "units": {"pdq": {"hashed": 1}}},
            ["pdq: 1 outcomes for 2 objects"],
        ),
        (
            {"objects": {"read": 1, "hashed": 1}, "units": {"pdq": {"missing": 1}}},
            ["pdq: 1 objects missing"],
        ),
        (
            {"objects": {"read": 1, "hashed": 1}, "units": {"pdq": {"partial": 1}}},
            ["pdq: 1 objects partial"],
        ),
        (
            {
                "objects": {"read": 1, "hashed": 1},
                "units": {"pdq": {"hashed": 1}, "md5": {"hashed": 1}},
            },
            ["md5: not requested but reported for 1 objects"],
        ),
    ],
)
def test_check_accounting(ledger, problems):
    assert check_accounting(ledger, ["pdq"], all_frames=False) == problems


def test_partial_frames_are_allowed_only_when_all_frames_are_hashed():
    ledger = {"objects": {"read": 1, "hashed": 1}, "units": {"pdq": {"partial": 1}}}
    assert check_accounting(ledger, ["pdq"], all_frames=True) == []


def test_listing_entries_must_be_read_carried_or_skipped():
    ledger = {
        "listing": {"entries": 5},
        "files": {"listed": 2, "relisted": 1},
        "skipped": {"listing": {"fifo": 1}},
        "objects": {"read": 2, "hashed": 2},
        "units": {"md5": {"hashed": 2}},
    }
    assert check_accounting(ledger, ["md5"], all_frames=False) == [
        "5 entries listed but 3 files read or carried and 1 skipped"
    ]
    ledger["skipped"]["listing"]["socket"] = 1
    assert check_accounting(ledger, ["md5"], all_frames=False) == []


def test_carried_objects_count_with_their_carried_rows():
    ledger = {"objects": {"carried": 3}, "units": {"pdq": {"hashed": 2}}}
    assert check_accounting(ledger, ["pdq"], all_frames=False) == ["pdq: 2 outcomes for 3 objects"]
    ledger["units"]["pdq"]["failed"] = 1
    assert check_accounting(ledger, ["pdq"], all_frames=False) == []


def test_every_hash_row_is_queried_or_skipped_for_a_reason():
    ledger = {"queries": {"probed": {"pdq": 3}, "low_quality": {"pdq": 1}}}
    assert check_queries(ledger, 4) == []
    assert check_queries(ledger, 5) == ["5 hash rows but 4 queried or skipped"]
    assert check_queries({}, 0) == []
