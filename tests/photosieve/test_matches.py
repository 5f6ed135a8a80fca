"""Which rows are queried, and how one object's hits resolve into matches rows."""

from __future__ import annotations

import doctest

from photosieve import matches, schemas
from photosieve.lists.known import ListInfo
from photosieve.matches import NO_FRAME, Hit, hit_key, query_outcome, resolve


def test_module_examples_run():
    assert doctest.testmod(matches).failed == 0


def test_query_outcome_checks_quality_before_lists():
    low = {schemas.ALGORITHM: "pdq", schemas.QUALITY: 49}
    assert query_outcome(low, 50, listed=False) == "low_quality"
    assert query_outcome({**low, schemas.QUALITY: 50}, 50, listed=False) == "no_list"
    assert query_outcome({schemas.ALGORITHM: "md5"}, 50, listed=True) == "probed"


def test_hit_key_marks_digests_without_a_frame():
    row = {schemas.URI: "a", schemas.ALGORITHM: "md5"}
    assert hit_key(row) == ("a", NO_FRAME, "md5")
    assert hit_key({**row, schemas.FRAME: 0}) == ("a", 0, "md5")


def _hit(list_name: str, item: int, distance: float, orientation: str | None = None) -> Hit:
    return Hit(
        "0f" * 32,
        orientation,
        None,
        90,
        list_name,
        item,
        distance,
        "f0" * 32,
        [f"{list_name}{item}"],
        ["x"],
    )


def test_the_closest_orientation_wins_and_a_suppress_hit_suppresses_the_match():
    infos = [
        ListInfo("known", "v1", "match", {"pdq": 31.0}, {"pdq": 3}),
        ListInfo("benign", "v2", "suppress", {"pdq": 20.0}, {"pdq": 1}),
    ]
    hits = [
        _hit("known", 0, 9.0, "rotate90"),
        _hit("known", 0, 4.0, "flipx"),
        _hit("benign", 0, 12.0),
    ]
    rows = list(resolve(("a.jpg", NO_FRAME, "pdq"), hits, infos, run_id="r", matched_at_us=7))
    summary = [
        (
            r[schemas.LIST_NAME],
            r[schemas.STATUS],
            r[schemas.SUPPRESSED_BY],
            r[schemas.ORIENTATION],
            r[schemas.DISTANCE],
        )
        for r in rows
    ]
    assert summary == [
        ("benign", schemas.STATUS_SUPPRESS, None, None, 12.0),
        ("known", schemas.STATUS_SUPPRESSED, ["benign"], "flipx", 4.0),
    ]
    assert {r[schemas.FRAME] for r in rows} == {None}
    assert {(r[schemas.RUN_ID], r[schemas.MATCHED_AT]) for r in rows} == {("r", 7)}
    assert rows[1][schemas.THRESHOLD] == 31.0 and rows[1][schemas.LIST_VERSION] == "v1"
