"""MatchInMode: the pipeline's match table equals modes.match's, mode by mode.

Generated originals and planted edits (crops, letterbox, padding, a
screenshot, rotations, a mirrored crop, decoys) are read and hashed by the
pipeline, then matched against a hash-only PDQ list and a list built with
``photosieve lists build --from-images``. The expected rows are computed
with the reference rule from the list files read with :mod:`csv`.
"""

from __future__ import annotations

import doctest
import hashlib
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.lists import ListSpec
from photosieve.pipelines import lists_cli
from photosieve.robust.modes import CONFIGS, mode_algorithms
from tests import edited_copies
from photosieve.transforms.hashing import HashImages
from photosieve.transforms import mode_matching
from photosieve.transforms.matching import SHUFFLE
from photosieve.transforms.mode_matching import MatchInMode
from photosieve.transforms.reading import ReadImages

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp("modes")
    files = edited_copies.write_archive(root / "archive")
    edited_copies.write_hash_list(root / "hashes.csv")
    # One more line: an md5 list entry, matched by MatchHashes beside the mode.
    md5 = hashlib.md5(files["copy-0.png"]).hexdigest()
    with (root / "hashes.csv").open("a") as handle:
        handle.write(f"{md5},md5,img0-file,case-0\n")
    edited_copies.write_originals(root / "originals")
    for name, opinions in (("windows.csv.gz", ""), ("windows-2nd.csv.gz", "gradient,phash")):
        argv = ["build", "--from-images", str(root / "originals"), "-o", str(root / name)]
        assert lists_cli.main(argv + (["-s", opinions] if opinions else [])) == 0
    return root, files


def _row_key(row: dict) -> tuple:
    return (
        row[schemas.URI].rsplit("/", 1)[-1],
        row[schemas.LIST_NAME],
        tuple(row[schemas.ENTRY_IDS]),
        row[schemas.VARIANT] or "",
        row[schemas.ORIENTATION] or "",
        row[schemas.LIST_VARIANT] or "",
        row[schemas.DISTANCE],
        row[schemas.SCORE],
        row[schemas.SECOND_DISTANCE],
        row[schemas.QUERY_HASH],
        row[schemas.MATCHED_HASH],
        row[schemas.MATCH_MODE],
        row[schemas.THRESHOLD],
    )


def _expected(root, files, list_name: str, file_name: str, config_name: str, plan) -> list:
    entries = edited_copies.read_entries(root / file_name)
    found = edited_copies.reference(files, entries, config_name, plan=plan)
    return [
        (
            name,
            list_name,
            (m.id,),
            m.query_variant,
            m.query_orientation,
            m.list_variant,
            float(m.distance),
            m.score,
            m.second_distance,
            m.query_hash,
            m.list_hash,
            config_name,
            float(CONFIGS[config_name].threshold),
        )
        for name, matches in found.items()
        for m in matches
    ]


def _run(root, mode: str, lists: list[ListSpec], plan, check) -> None:
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = (p | ReadImages([str(root / "archive" / "*")])).objects | HashImages(
            plan, run_id="r"
        )
        matched = hashed.hashes | MatchInMode(lists, mode, run_id="r", matched_at_us=5)
        check(hashed.hashes, matched)


def test_robust_mode_matches_each_list_as_the_reference_does(scene):
    """One run, two lists: 'robust' for the hash list, 'robust-windows' for the image list."""
    root, files = scene
    plan = edited_copies.plan_for("robust", others=["md5"])
    lists = [
        ListSpec(str(root / "hashes.csv"), name="hashes"),
        ListSpec(str(root / "windows.csv.gz"), name="images"),
    ]
    expected = _expected(root, files, "hashes", "hashes.csv", "robust", plan)
    expected += _expected(root, files, "images", "windows.csv.gz", "robust-windows", plan)
    # What the edits must have found, so the comparison is not between two empty tables.
    found = {(name, ids[0], lvariant[:6]) for name, _, ids, _, _, lvariant, *_ in expected}
    assert {
        ("crop-corner-1.png", "img1.png", "window"),
        ("letterbox-1.png", "img1", ""),
        ("letterbox-1.png", "img1-again", ""),
        ("pad-2.png", "img2.png", ""),
        ("screenshot-2.png", "img2", ""),
        ("rotate90-3.png", "img3.png", ""),
        ("rotate5-0.png", "img0", ""),
    } <= found

    def check(hashes, matched):
        rows = matched[schemas.MATCHES]
        pdq = rows | beam.Filter(lambda r: r[schemas.ALGORITHM] == "pdq") | beam.Map(_row_key)
        assert_that(pdq, equal_to(expected), label="Pdq")
        md5 = (
            rows
            | beam.Filter(lambda r: r[schemas.ALGORITHM] == "md5")
            | beam.Map(
                lambda r: (
                    r[schemas.URI].rsplit("/", 1)[-1],
                    r[schemas.ENTRY_IDS],
                    r.get(schemas.MATCH_MODE),
                )
            )
        )
        assert_that(md5, equal_to([("copy-0.png", ["img0-file"], None)]), label="Md5")
        _assert_every_hash_row_is_counted(hashes, matched)

    _run(root, "robust", lists, plan, check)


def _assert_every_hash_row_is_counted(hashes, matched) -> None:
    rows = hashes | "CountRows" >> beam.combiners.Count.Globally()
    queried = (
        matched["ledger"]
        | "Queries" >> beam.FlatMap(lambda c: [n for k, n in c.items() if k[0] == "queries"])
        | "SumQueries" >> beam.CombineGlobally(sum)
    )
    both = (rows, queried) | "Both" >> beam.Flatten() | "Distinct" >> beam.Distinct()
    assert_that(both | "HowMany" >> beam.combiners.Count.Globally(), equal_to([1]), label="Once")


@pytest.mark.parametrize("mode", ["robust-windows-gradient", "robust-windows-phash"])
def test_second_opinion_modes_match_as_the_reference_does(scene, mode):
    root, files = scene
    plan = edited_copies.plan_for(mode)
    lists = [ListSpec(str(root / "windows-2nd.csv.gz"), name="images")]
    expected = _expected(root, files, "images", "windows-2nd.csv.gz", mode, plan)
    assert {"crop-corner-1.png", "screenshot-2.png", "rotate90-3.png"} <= {e[0] for e in expected}
    assert all(e[8] is not None for e in expected)  # every pair has its second distance

    def check(hashes, matched):
        keys = matched[schemas.MATCHES] | beam.Map(_row_key)
        assert_that(keys, equal_to(expected))

    _run(root, mode, lists, plan, check)


def test_a_suppress_list_suppresses_mode_matches(scene, tmp_path):
    root, files = scene
    plan = edited_copies.plan_for("pdq-dihedral")
    benign = tmp_path / "benign.csv"
    text = (root / "hashes.csv").read_text().splitlines()
    benign.write_text("\n".join([text[0]] + [line for line in text if ",img3," in line]) + "\n")
    lists = [
        ListSpec(str(root / "hashes.csv"), name="hashes"),
        ListSpec(str(benign), name="benign", role="suppress"),
    ]

    def check(hashes, matched):
        statuses = matched[schemas.MATCHES] | beam.Map(
            lambda r: (
                r[schemas.URI].rsplit("/", 1)[-1],
                r[schemas.LIST_NAME],
                r[schemas.STATUS],
                r[schemas.SUPPRESSED_BY],
                r[schemas.ORIENTATION],
            )
        )
        expected = [
            ("copy-0.png", "hashes", "match", None, "original"),
            ("crop-centre-0.png", "hashes", "match", None, "original"),
            ("rotate5-0.png", "hashes", "match", None, "original"),
            ("rotate90-3.png", "hashes", "suppressed", ["benign"], "rotate270"),
            ("rotate90-3.png", "benign", "suppress", None, "rotate270"),
        ]
        assert_that(statuses, equal_to(expected))

    # The reference agrees on the pairs (pdq-dihedral: 89 bits, rotations found).
    pairs = edited_copies.reference(
        files, edited_copies.read_entries(root / "hashes.csv"), "pdq-dihedral", plan=plan
    )
    assert {n for n, found in pairs.items() if found} == {
        "copy-0.png",
        "crop-centre-0.png",
        "rotate5-0.png",
        "rotate90-3.png",
    }
    _run(root, "pdq-dihedral", lists, plan, check)


def test_the_shuffle_strategy_is_refused_with_the_reason(tmp_path):
    spec = ListSpec(str(tmp_path / "a.csv"))
    with pytest.raises(ConfigError, match="--match-mode robust needs --strategy side-input"):
        MatchInMode([spec], "robust", run_id="r", matched_at_us=0, strategy=SHUFFLE)
    with pytest.raises(ConfigError, match="unknown matching mode"):
        MatchInMode([spec], "fuzzy", run_id="r", matched_at_us=0)


def test_a_windows_list_refuses_a_mode_calibrated_without_windows(scene):
    root, _ = scene
    lists = [ListSpec(str(root / "windows.csv.gz"), name="images")]
    with (
        pytest.raises(Exception, match="calibrated for lists without windows"),
        BeamTestPipeline(runner=RUNNER) as p,
    ):
        rows = p | beam.Create(
            [{schemas.URI: "x", schemas.ALGORITHM: "md5", schemas.HASH: "0" * 32}]
        )
        _ = rows | MatchInMode(lists, "pdq-dihedral", run_id="r", matched_at_us=0)


def test_mode_algorithms_and_display_data(tmp_path):
    assert mode_algorithms("robust") == {"pdq"}
    assert mode_algorithms("robust-windows-gradient") == {"pdq", "gradient"}
    data = MatchInMode(
        [ListSpec(str(tmp_path / "a.csv"), name="a")], "robust", run_id="r", matched_at_us=0
    ).display_data()
    assert json.dumps(data, sort_keys=True) == json.dumps(
        {"lists": "a (match)", "match_mode": "robust", "threshold": 85}, sort_keys=True
    )


def test_the_docstring_example_runs():
    """MatchInMode's example (a list file, one hashes row, a pipeline) prints the row it shows."""
    result = doctest.testmod(mode_matching)
    assert result.attempted > 0
    assert result.failed == 0
