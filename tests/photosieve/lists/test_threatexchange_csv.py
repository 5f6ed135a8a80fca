"""threatexchange_csv: python-threatexchange's dataset CSV, in any column order."""

from __future__ import annotations

import pytest

from photosieve.lists import ProblemKind, read_list
from photosieve.lists.threatexchange_csv import HEADER, matches

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_threatexchange_dataset_csv(write, pdq_hashes):
    path = write(
        "te.csv",
        "signal_type,signal_str,collab,category,tags\n"
        f"pdq,{pdq_hashes[0]},Sample Signals,INVESTIGATION_SEED,tag1 tag2\n"
        f"video_md5,{MD5},Sample Signals,INVESTIGATION_SEED,\n"
        "url,https://developers.facebook.com/docs/threat-exchange/,"
        "Sample Signals,INVESTIGATION_SEED,\n"
        f"pdq,{pdq_hashes[0]},Other Collab,NON_MATCH,tag3\n",
    )
    hash_list = read_list(path, strict=False)
    assert hash_list.format == "threatexchange"
    assert [(p.line, p.kind) for p in hash_list.problems] == [(4, ProblemKind.UNKNOWN_ALGORITHM)]
    pdq = hash_list.group("pdq")
    assert (len(pdq), pdq.entries, pdq.duplicates) == (1, 2, 1)
    assert pdq.metadata.to_pylist()[0] == {
        "ids": [],
        "labels": ["tag1", "tag2", "tag3"],
        "banks": ["Sample Signals", "Other Collab"],
        "lines": [2, 5],
        "quality": None,
        "category": ["INVESTIGATION_SEED", "NON_MATCH"],
    }
    assert hash_list.group("md5").hex_of(0) == MD5


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (list(HEADER), True),
        (["Tags", "Signal-Type", " signal_str ", "collab", "CATEGORY"], True),  # any order
        (list(HEADER[:-1]), False),  # no tags
        ([*HEADER, "extra"], False),
        (["signal_type", "signal_str", "collab", "category", "category"], False),
    ],
)
def test_only_exactly_threatexchanges_columns_are_its_header(header, expected):
    assert matches(header) is expected


def test_columns_in_another_order_keep_their_roles(write, pdq_hashes):
    path = write(
        "te.csv",
        "tags,category,collab,signal_str,signal_type\n"
        f"t1 t2,SEED,Collab A,{pdq_hashes[0]},pdq\n",
    )
    hash_list = read_list(path)
    assert hash_list.format == "threatexchange"
    (row,) = hash_list.group("pdq").metadata.to_pylist()
    assert (row["labels"], row["banks"], row["category"]) == (["t1", "t2"], ["Collab A"], ["SEED"])
