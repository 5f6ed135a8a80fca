"""``photosieve match`` (pipelines.match): stored hashes re-matched without decoding."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.pipelines import cli, match, preflight
from tests.pipelines.test_audit import _audit, _summary, case  # noqa: F401 (a fixture)


def test_match_re_matches_stored_hashes_without_decoding(case, tmp_path):
    first = tmp_path / "audit"
    assert _audit(case, first, "--run-id", "a1") == 0
    again = tmp_path / "again"
    argv = [
        "match",
        "--hashes",
        str(first),
        "-l",
        f"known={case / 'known.csv'}",
        "-s",
        str(case / "benign.txt"),
    ]
    assert cli.main([*argv, "-o", str(again), "--run-id", "a1", "--strategy", "shuffle"]) == 0
    drop = [schemas.MATCHED_AT]  # the run's start time
    assert sorted(
        map(str, pq.read_table(again / schemas.MATCHES).drop_columns(drop).to_pylist())
    ) == sorted(map(str, pq.read_table(first / schemas.MATCHES).drop_columns(drop).to_pylist()))
    summary = _summary(again)
    assert summary["accounting"]["balanced"]
    assert summary["counts"]["hashes"]["read"] == _summary(first)["tables"]["hashes"]
    assert not (again / schemas.HASHES).exists()


def test_match_refuses_to_write_over_its_input(case, tmp_path):
    first = tmp_path / "audit"
    assert _audit(case, first) == 0
    argv = [
        "match",
        "--hashes",
        str(first),
        "-l",
        str(case / "known.csv"),
        "-o",
        str(first),
        "--overwrite",
    ]
    assert cli.main(argv) == 2
    assert (first / schemas.HASHES).exists()


def test_match_needs_parquet_hashes(tmp_path):
    with pytest.raises(Exception, match="no Parquet files"):
        preflight.hashes_pattern(str(tmp_path))


def test_the_query_columns_are_columns_of_the_hashes_table():
    assert set(match.QUERY_COLUMNS) <= set(schemas.TABLES[schemas.HASHES].names)


def test_a_glob_a_table_folder_and_a_run_folder_all_find_the_hashes(case, tmp_path):
    first = tmp_path / "audit"
    assert _audit(case, first) == 0
    table = first / schemas.HASHES
    found = {preflight.hashes_pattern(str(p)) for p in (first, table)}
    assert found == {str(table / "*.parquet")}
    assert preflight.hashes_pattern(str(table / "*.parquet")) == str(table / "*.parquet")


def test_match_resolves_auto_at_preflight_and_records_the_join(case, tmp_path, caplog):
    first = tmp_path / "audit"
    assert _audit(case, first, "--run-id", "a1") == 0
    argv = ["match", "--hashes", str(first), "-l", f"known={case / 'known.csv'}"]
    with caplog.at_level("INFO"):
        assert cli.main([*argv, "-o", str(tmp_path / "m"), "--side-input-budget", "1"]) == 0
    settings = _summary(tmp_path / "m")["settings"]
    assert settings["strategy"] == "shuffle" and settings["strategy_reason"].startswith("auto: ")
    assert "join strategy shuffle: auto: the lists need ~" in caplog.text
