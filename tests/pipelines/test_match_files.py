"""``photosieve match-files``: the matches an audit of the same files finds, without a pipeline.

On generated originals and planted edits (tests/edited_copies.py), against a
hash-only list, a list built from the originals and a suppress list: the
rows match-files prints (``--format json``) equal the audit's matches table,
plain and in a matching mode; the exit status says whether anything matched.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.pipelines import cli, lists_cli
from tests import edited_copies

# What both must agree on (not run ids, times or list versions' spelling).
KEY = (
    schemas.ALGORITHM, schemas.FRAME, schemas.QUERY_HASH, schemas.ORIENTATION, schemas.VARIANT,
    schemas.QUALITY, schemas.LIST_NAME, schemas.LIST_ROLE, schemas.ENTRY_IDS, schemas.LABELS,
    schemas.MATCHED_HASH, schemas.DISTANCE, schemas.THRESHOLD, schemas.STATUS, schemas.SUPPRESSED_BY,
    schemas.MATCH_MODE, schemas.LIST_VARIANT, schemas.SCORE, schemas.SECOND_DISTANCE,
)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("match_files")
    files = edited_copies.write_archive(root / "archive")
    edited_copies.write_hash_list(root / "hashes.csv")
    edited_copies.write_originals(root / "originals")
    argv = ["build", "--from-images", str(root / "originals"), "-o", str(root / "images.csv")]
    assert lists_cli.main(argv) == 0
    # One original as a known-benign image: its copies' matches become "suppressed".
    (root / "benign.csv").write_text((root / "hashes.csv").read_text().splitlines()[0] + "\n"
                                     + (root / "hashes.csv").read_text().splitlines()[1] + "\n")
    return root, files


def _key(row: dict) -> tuple:
    name = row[schemas.URI].rsplit("/", 1)[-1]
    return (name, *(tuple(v) if isinstance(v := row[k], list) else v for k in KEY))


def _audit_rows(root, output, lists) -> set[tuple]:
    argv = ["audit", "-i", str(root / "archive"), "-o", str(output), "--num-shards", "1", *lists]
    assert cli.main(argv) == 0
    return {_key(r) for r in pq.read_table(output / schemas.MATCHES).to_pylist()}


def _match_files(capsys, argv) -> tuple[int, str, str]:
    capsys.readouterr()  # what an audit before printed (its closing block) is not ours
    code = cli.main(["match-files", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("mode", [None, "robust"])
def test_the_same_matches_as_an_audit_of_the_same_files(case, tmp_path, capsys, mode):
    root, files = case
    lists = ["-l", f"hashes={root / 'hashes.csv'}", f"images={root / 'images.csv'}",
             "-s", f"benign={root / 'benign.csv'}", "-a", "pdq,md5"]
    if mode:
        lists += ["--match-mode", mode]
    expected = _audit_rows(root, tmp_path / "out", lists)
    code, out, err = _match_files(capsys, [str(root / "archive"), *lists, "-f", "json"])
    got = {_key(json.loads(line)) for line in out.splitlines()}
    assert got == expected
    statuses = {row[KEY.index(schemas.STATUS) + 1] for row in got}
    assert {"match", "suppress", "suppressed"} <= statuses  # every kind of row is compared
    assert len(got) >= (15 if mode else 4)
    assert code == 1
    assert f"{len(files)} file(s)" in err


def test_text_lines_name_file_list_ids_distance_and_threshold_and_csv_has_the_table_columns(case, capsys):
    root, _ = case
    argv = [str(root / "archive"), "-l", f"hashes={root / 'hashes.csv'}", "-a", "pdq"]
    code, out, _ = _match_files(capsys, argv)
    assert code == 1
    fields = [line.split("\t") for line in out.splitlines()]
    assert fields and all(f[1] == "match" and f[2] == "list=hashes" for f in fields)
    assert all(f[3].startswith("ids=") and f[3] != "ids=-" for f in fields)
    assert all(f[4].startswith("pdq distance ") and f[4].endswith("(threshold 31)") for f in fields)
    code, out, _ = _match_files(capsys, [*argv, "-f", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(fields) and {r["threshold"] for r in rows} == {"31.0"}
    assert schemas.RUN_ID not in rows[0] and rows[0]["entry_ids"]


def test_exit_0_without_a_match_and_2_for_usage_errors(case, tmp_path, capsys):
    root, _ = case
    lonely = tmp_path / "lonely.png"
    edited_copies.original(999).save(lonely)
    assert _match_files(capsys, [str(lonely), "-l", str(root / "hashes.csv")])[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("hash,id\nnothex,x\n")
    for argv in ([str(lonely)], [str(lonely), "-l", str(tmp_path / "missing.csv")],
                 [str(lonely), "-l", str(bad)], ["-", "-", "-l", str(root / "hashes.csv")]):
        with pytest.raises(SystemExit) as info:
            cli.main(["match-files", *argv])
        assert info.value.code == 2
    assert "--lenient-lists" in capsys.readouterr().err


def test_help_says_what_the_exit_status_means(capsys):
    with pytest.raises(SystemExit):
        cli.main(["match-files", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse reflows the description
    assert "1 at least one match" in out and "2 usage error" in out
    assert "[--strategy" not in out  # one process: no join strategy to choose
    assert "--side-input-budget" not in out  # nor a budget for one


def test_hash_output_as_a_list_gives_matches_with_the_paths_as_ids(case, tmp_path, capsys, monkeypatch):
    root, _ = case
    shutil.copytree(root / "originals", tmp_path / "originals")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "originals" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")  # an error row
    assert cli.main(["hash", "originals", "-a", "pdq", "-o", str(tmp_path / "mine.csv")]) == 0
    capsys.readouterr()
    lists = ["-l", f"mine={tmp_path / 'mine.csv'}", "-a", "pdq"]
    code, out, _ = _match_files(capsys, [str(root / "archive"), *lists, "-f", "json"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and rows
    assert all(len(r["entry_ids"]) == 1 and r["entry_ids"][0].startswith("originals/") for r in rows)
    # The audit reads it the same way: strict lists, so an error row counted as a bad line would fail it.
    assert _audit_rows(root, tmp_path / "out", lists) == {_key(r) for r in rows}
