"""Which rows are queried, and how one object's hits resolve into matches rows."""

from __future__ import annotations

import doctest

import numpy as np
import pyarrow as pa

from photosieve import matches, schemas
from photosieve.index import mapped
from photosieve.lists.known import KnownList, ListInfo
from photosieve.matches import NO_FRAME, Hit, KnownIndexes, hit_key, query_outcome, resolve


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


def test_mapped_index_files_give_the_same_hits_as_built_indexes(tmp_path):

    rng = np.random.default_rng(7)
    pdq = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    md5 = rng.integers(0, 256, size=(50, 16), dtype=np.uint8)

    def entries(n, prefix):
        return pa.table(
            {
                "ids": [[f"{prefix}{i}"] for i in range(n)],
                "labels": [[f"l{i % 3}"] if i % 2 else [] for i in range(n)],
            }
        )

    lists = [
        KnownList("b", "v2", "suppress", {"pdq": 20.0}, {"pdq": (pdq[:1500], entries(1500, "b"))}),
        KnownList(
            "a",
            "v1",
            "match",
            {"pdq": 31.0, "md5": 0.0},
            {"pdq": (pdq, entries(3000, "a")), "md5": (md5, entries(50, "m"))},
        ),
    ]
    opened = []
    for known in lists:
        path = str(tmp_path / f"{known.name}.psidx")
        mapped.write_index_file(known, path)
        opened.append(mapped.open_index_file(path))
    queries = pdq[rng.integers(0, 3000, size=200)].copy()
    queries[:, 0] ^= rng.integers(0, 256, size=200, dtype=np.uint8)  # 0..8 bits away
    queries[:, 5] ^= 0xFF  # 8 more: some within 20, all within 31
    rows = [
        {
            schemas.URI: f"u{i}",
            schemas.FRAME: 0,
            schemas.ALGORITHM: "pdq",
            schemas.HASH: q.tobytes().hex(),
            schemas.QUALITY: 90,
        }
        for i, q in enumerate(queries)
    ]
    digest_rows = [
        {schemas.URI: "d", schemas.ALGORITHM: "md5", schemas.HASH: md5[7].tobytes().hex()}
    ]
    built, from_files = KnownIndexes(lists), KnownIndexes.from_mapped(opened)
    for algorithm, probe in (("pdq", rows), ("md5", digest_rows)):
        expected = list(built.probe(algorithm, probe))
        assert list(from_files.probe(algorithm, probe)) == expected
        assert {hit.list_name for _, hit in expected} == (
            {"a", "b"} if algorithm == "pdq" else {"a"}
        )
    assert [listed.name for listed in from_files.by_algorithm["pdq"]] == ["a", "b"]
