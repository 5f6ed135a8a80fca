"""``photosieve audit --match-mode`` (and ``match``): edited copies found as the reference finds them.

End to end through the CLI, on generated originals and planted edits
(tests/edited_copies.py), against a hash-only PDQ list and a list built with
``photosieve lists build --from-images``: the matches table equals
modes.match's result, summary.json records the mode's effective
thresholds and settings per list, and what a mode cannot do is refused
before any work.
"""

from __future__ import annotations

import dataclasses
import json

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.pipelines import audit, cli, configure, lists_cli
from photosieve.robust.modes import CONFIGS, TARGET_FPR
from photosieve.summary import SUMMARY_FILE
from tests import edited_copies


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("modes")
    files = edited_copies.write_archive(root / "archive")
    edited_copies.write_hash_list(root / "hashes.csv")
    edited_copies.write_originals(root / "originals")
    argv = ["build", "--from-images", str(root / "originals"), "-o", str(root / "images.csv")]
    assert lists_cli.main(argv + ["--second-opinions", "phash"]) == 0
    return root, files


def _audit(root, output, *extra) -> int:
    argv = ["audit", "-i", str(root / "archive"), "-o", str(output), "--num-shards", "1"]
    return cli.main([*argv, *extra])


def _summary(output) -> dict:
    return json.loads((output / SUMMARY_FILE).read_text())


def _pdq_rows(output) -> set[tuple]:
    rows = pq.read_table(output / schemas.MATCHES).to_pylist()
    return {
        (
            r[schemas.URI].rsplit("/", 1)[-1],
            r[schemas.LIST_NAME],
            tuple(r[schemas.ENTRY_IDS]),
            r[schemas.VARIANT] or "",
            r[schemas.ORIENTATION] or "",
            r[schemas.LIST_VARIANT] or "",
            r[schemas.DISTANCE],
            r[schemas.SCORE],
            r[schemas.SECOND_DISTANCE],
            r[schemas.MATCHED_HASH],
            r[schemas.MATCH_MODE],
            r[schemas.STATUS],
        )
        for r in rows
        if r[schemas.ALGORITHM] == "pdq"
    }


def _reference(
    root, files, list_name, file_name, config_name, mode, threshold=None, max_pdq=None
) -> set:
    plan = edited_copies.plan_for(mode, others=["md5"])
    config = CONFIGS[config_name]
    if threshold is not None:
        config = dataclasses.replace(config, threshold=threshold)
    if max_pdq is not None:
        config = dataclasses.replace(config, max_pdq=max_pdq)
    found = edited_copies.reference(
        files, edited_copies.read_entries(root / file_name), config, plan=plan
    )
    return {
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
            m.list_hash,
            config_name,
            "match",
        )
        for name, matches in found.items()
        for m in matches
    }


def test_audit_in_robust_mode_matches_as_the_reference_does(case, tmp_path):
    root, files = case
    output = tmp_path / "out"
    lists = ["-l", f"hashes={root / 'hashes.csv'}", f"images={root / 'images.csv'}"]
    assert _audit(root, output, *lists, "--match-mode", "robust", "--run-id", "m1") == 0
    expected = _reference(root, files, "hashes", "hashes.csv", "robust", "robust")
    expected |= _reference(root, files, "images", "images.csv", "robust-windows", "robust")
    assert len(expected) >= 15
    assert _pdq_rows(output) == expected

    summary = _summary(output)
    assert summary["accounting"]["balanced"]
    assert summary["options"]["match_mode"] == "robust"
    lists_ = {entry["name"]: entry for entry in summary["lists"]}
    # Each list's PDQ threshold is the mode's (85, 83) at most, lowered by the false-match budget.
    for name, top in (("hashes", 85), ("images", 83)):
        chosen = lists_[name]["false_match_budget"]
        assert chosen["applied"] and lists_[name]["thresholds"]["pdq"] == chosen["threshold"] <= top
        assert lists_[name]["match_mode"]["threshold"] == chosen["threshold"]
    # phash stays an ordinary list algorithm here (it confirms pairs only in -phash modes).
    assert lists_["images"]["thresholds"]["phash"] == 15
    assert lists_["hashes"]["match_mode"]["config"] == "robust"
    images = lists_["images"]["match_mode"]
    assert images["config"] == "robust-windows" and images["windows"] == 75
    assert images["target_fpr_per_pair"] == TARGET_FPR
    assert images["query_expansion"]["dihedral"] and len(images["query_expansion"]["uncrop"]) == 45
    queries = summary["counts"]["queries"]
    # 'robust' uses every PDQ hash it makes; md5 goes through plain matching (no list).
    assert queries["probed"]["pdq"] > 0 and queries["no_list"]["md5"] == len(files)
    assert "not_in_mode" not in queries
    assert summary["counts"]["matches"]["mode"] == {
        "robust": sum(1 for e in expected if e[-2] == "robust"),
        "robust-windows": sum(1 for e in expected if e[-2] == "robust-windows"),
    }
    # The hashes table holds the mode's query hashes, labelled.
    hashes = pq.read_table(output / schemas.HASHES).to_pylist()
    variants = {(r[schemas.VARIANT] or "").split(" ")[0] for r in hashes}
    assert {"", "borders", "region", "rotation", "uncrop"} <= variants

    # Re-matching the stored hashes in the same mode gives the same table, without decoding.
    again = tmp_path / "again"
    argv = ["match", "--hashes", str(output), *lists, "-o", str(again), "--run-id", "m1"]
    assert cli.main([*argv, "--match-mode", "robust", "--num-shards", "1"]) == 0
    assert _pdq_rows(again) == expected


def test_a_profile_sets_a_second_opinion_mode(case, tmp_path):
    root, files = case
    profile = tmp_path / "weekly.yaml"
    profile.write_text(
        f"input: [{root / 'archive'}]\n"
        f"list: [{{name: images, path: {root / 'images.csv'}}}]\n"
        "match_mode: robust-windows-phash\n"
    )
    output = tmp_path / "out"
    assert cli.main(["audit", "-c", str(profile), "-o", str(output), "--num-shards", "1"]) == 0
    expected = _reference(
        root, files, "images", "images.csv", "robust-windows-phash", "robust-windows-phash"
    )
    assert expected and all(e[8] is not None for e in expected)
    assert _pdq_rows(output) == expected
    [entry] = _summary(output)["lists"]
    assert entry["match_mode"]["second_opinion"] == {
        "algorithm": "phash",
        "rule": "require",
        "parameter": 16,
    }
    # PDQ bits (the second hash must agree): the budget lowers the mode's threshold, never raises it.
    chosen = entry["false_match_budget"]
    assert chosen["applied"] and entry["thresholds"] == {"pdq": chosen["threshold"]}
    assert chosen["threshold"] <= CONFIGS["robust-windows-phash"].threshold


def test_a_combined_score_mode_keeps_its_score_threshold_and_the_budget_caps_pdq(case, tmp_path):
    root, files = case
    listed = tmp_path / "gradient.csv"
    argv = ["build", "--from-images", str(root / "originals"), "-o", str(listed)]
    assert lists_cli.main([*argv, "--second-opinions", "gradient"]) == 0
    output = tmp_path / "out"
    mode = "robust-windows-gradient"
    # A budget that the curve resolves only at its strictest point: far below the score's 100.
    extra = ["--match-mode", mode, "--false-match-budget", "1e-12"]
    assert _audit(root, output, "-l", f"images={listed}", *extra) == 0
    [entry] = _summary(output)["lists"]
    chosen = entry["false_match_budget"]
    assert chosen["applied"] and chosen["threshold"] < CONFIGS[mode].threshold
    assert entry["match_mode"]["threshold"] == CONFIGS[mode].threshold  # the score's, as calibrated
    assert entry["match_mode"]["max_pdq"] == chosen["threshold"] == entry["thresholds"]["pdq"]
    expected = _reference(
        tmp_path, files, "images", "gradient.csv", mode, mode, max_pdq=chosen["threshold"]
    )
    assert expected and _pdq_rows(output) == expected
    assert all(row[6] <= chosen["threshold"] for row in expected)  # the PDQ distance column


def test_without_a_mode_nothing_changes(case, tmp_path):
    root, _ = case
    output = tmp_path / "plain"
    assert _audit(root, output, "-l", str(root / "hashes.csv")) == 0
    rows = pq.read_table(output / schemas.MATCHES).to_pylist()
    assert rows and all(r[schemas.THRESHOLD] == 31 for r in rows if r[schemas.ALGORITHM] == "pdq")
    for column in (schemas.MATCH_MODE, schemas.LIST_VARIANT, schemas.SCORE):
        assert {r[column] for r in rows} == {None}
    hashes = pq.read_table(output / schemas.HASHES).to_pylist()
    assert {r[schemas.VARIANT] for r in hashes} == {None}
    known, _ = audit.parse_args(["-i", "x", "-o", "o", "-l", "a.csv"])
    assert known.match_mode is None and configure.hash_plan(known).query_expansion is None


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--match-mode", "robust", "--strategy", "shuffle"], "needs --strategy side-input"),
        (["--match-mode", "robust", "-t", "pdq=90"], "threshold 90 is above its calibrated 83"),
        (["--match-mode", "pdq-dihedral"], "list images: mode 'pdq-dihedral' is calibrated"),
        (["--match-mode", "robust-windows-gradient"], "--second-opinions gradient"),
    ],
)
def test_what_a_mode_cannot_do_is_refused_before_any_work(case, tmp_path, caplog, extra, message):
    root, _ = case
    output = tmp_path / "out"
    assert _audit(root, output, "-l", f"images={root / 'images.csv'}", *extra) == 2
    assert message in caplog.text
    assert not output.exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        ("--match-mode pdq --dihedral", "drop --dihedral"),
        ("--match-mode robust -a md5", "needs pdq among --algorithms"),
        ("--match-mode fuzzy", "invalid choice"),
    ],
)
def test_mode_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        audit.run(["-i", "x", "-o", "o", "-l", "a.csv", *argv.split()])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_mode_plans_add_what_the_mode_hashes():
    known, _ = audit.parse_args(["-i", "x", "-o", "o", "-l", "a.csv", "--match-mode", "robust"])
    plan = configure.hash_plan(known)
    assert plan.algorithms == ("pdq", "md5") and plan.pdq_dihedral
    assert plan.query_expansion == CONFIGS["robust"].expansion
    known, _ = audit.parse_args(
        ["-i", "x", "-o", "o", "-l", "a.csv", "--match-mode", "robust-windows-gradient"]
    )
    assert configure.hash_plan(known).algorithms == ("pdq", "gradient", "md5")


def test_match_refuses_hashes_made_without_the_mode(case, tmp_path, caplog):
    root, _ = case
    plain = tmp_path / "plain"
    assert _audit(root, plain, "-l", str(root / "hashes.csv")) == 0
    argv = ["match", "--hashes", str(plain), "-l", str(root / "hashes.csv")]
    assert cli.main([*argv, "-o", str(tmp_path / "again"), "--match-mode", "robust"]) == 2
    assert "hashed without --match-mode" in caplog.text


def test_a_list_threshold_may_make_a_mode_stricter(case, tmp_path):
    root, files = case
    output = tmp_path / "strict"
    lists = ["-l", f"hashes={root / 'hashes.csv'}", "-t", "hashes:pdq=40"]
    assert _audit(root, output, *lists, "--match-mode", "robust", "--no-progress") == 0
    expected = _reference(root, files, "hashes", "hashes.csv", "robust", "robust", threshold=40)
    looser = _reference(root, files, "hashes", "hashes.csv", "robust", "robust")
    assert expected and len(expected) < len(looser)  # the corner crop (54 bits) is lost at 40
    assert _pdq_rows(output) == expected
    rows = pq.read_table(output / schemas.MATCHES).to_pylist()
    assert {r[schemas.THRESHOLD] for r in rows} == {40.0}
    [entry] = _summary(output)["lists"]
    assert entry["thresholds"]["pdq"] == 40
    assert (
        entry["match_mode"]["threshold"] == 40 and entry["match_mode"]["calibrated_threshold"] == 85
    )
