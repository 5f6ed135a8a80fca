"""``photosieve lists check`` through main(argv)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photosieve.index import mapped
from photosieve.lists import ListSpec, read_list
from photosieve.matches import KnownIndexes
from photosieve.pipelines import cli, lists_cli

HASH_LISTS = Path(__file__).resolve().parents[1] / "data" / "hash-lists"


def test_reference_lists_are_clean(capsys):
    files = [str(HASH_LISTS / name) for name in ("haystack.txt", "needles.txt", "short256.dat")]
    assert lists_cli.main(["check", *files]) == 0
    out = capsys.readouterr().out
    version = hashlib.sha256((HASH_LISTS / "haystack.txt").read_bytes()).hexdigest()
    assert f"version sha256:{version}" in out
    assert "pdq: 1350 distinct (1350 entries, 0 duplicates)" in out
    assert "pdq: 100 distinct" in out and "0 bad lines" in out


def test_64_bit_list_fails_strict_until_the_algorithm_is_named(capsys):
    path = str(HASH_LISTS / "short64.dat")
    assert lists_cli.main(["check", path]) == 1
    out = capsys.readouterr().out
    assert f"{path}:1: 16 characters fits ahash, dhash, phash: name the algorithm" in out
    assert lists_cli.main(["check", path, "--algorithm", "phash"]) == 0
    assert "phash: 6 distinct" in capsys.readouterr().out


def test_broken_file_lists_bad_lines_and_duplicates(tmp_path, capsys):
    good = (HASH_LISTS / "needles.txt").read_text().split()
    path = tmp_path / "broken.csv"
    path.write_text(
        "hash,id,tags\n"
        f"{good[0]},a,x\n"
        f"{good[0][:-2]},b,y\n"  # too short
        f"{good[1]},c\n"  # missing field
        f"{good[0]},d,z\n"  # duplicate of line 2
        f"{'q' * 64},e,\n"  # not hex
    )
    assert lists_cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "5 rows, 2 valid entries, 1 distinct hashes, 1 duplicates merged, 3 bad lines" in out
    assert f"{path}:3: no algorithm has hashes of 62 characters (known: " in out
    assert f"{path}:4: expected 3 fields (hash, id, tags), got 2" in out
    assert f"{path}:6: pdq hash is not hexadecimal" in out
    assert lists_cli.main(["check", str(path), "--lenient"]) == 0


def test_json_output_has_counts_versions_and_every_bad_line(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text("\n".join(["zz"] * 150))
    assert lists_cli.main(["check", str(path), "--format", "json", "--lenient"]) == 0
    report = json.loads(capsys.readouterr().out)
    (entry,) = report["lists"]
    assert report["strict"] is False and report["exit_status"] == 0
    assert entry["version"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["problems"] == 150 and len(entry["bad_lines"]) == 150
    assert entry["bad_lines"][0] == {
        "path": str(path),
        "line": 1,
        "kind": "wrong_length",
        "reason": "no algorithm has hashes of 2 characters (known: "
        + entry["bad_lines"][0]["reason"].split("(known: ")[1],
        "text": "zz",
    }


def test_text_output_caps_bad_lines(tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text("\n".join(["zz"] * 150))
    assert lists_cli.main(["check", str(path), "-m", "5"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:5:" in out and f"{path}:6:" not in out and "... and 145 more bad lines" in out


def test_unreadable_files_exit_1_and_usage_errors_exit_2(tmp_path, capsys):
    nohash = tmp_path / "nohash.csv"
    nohash.write_text("name,id\nfoo,1\n")
    assert lists_cli.main(["check", str(tmp_path / "missing.txt"), str(nohash)]) == 1
    out = capsys.readouterr().out
    assert "missing.txt: cannot be used" in out and "nohash.csv: cannot be used" in out
    assert lists_cli.main([]) == 2
    assert lists_cli.main(["check"]) == 2
    assert lists_cli.main(["check", "x.txt", "--algorithm", "nope"]) == 2
    assert lists_cli.main(["check", "x.txt", "--format", "xml"]) == 2
    assert "unknown hash algorithm 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["lists", "check", "--help"], ["lists", "--help"]])
def test_help_through_the_photosieve_command(argv, capsys):
    assert cli.main(argv) == 0
    assert "photosieve lists" in capsys.readouterr().out


def _zeros_gz(path: Path, mebibytes: int) -> None:
    """A gzip of zeros: a few KB per MiB it inflates to."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(mebibytes):
            handle.write(bytes(1 << 20))


def test_a_gzip_bomb_is_a_list_that_cannot_be_used(tmp_path, capsys):
    path = tmp_path / "bomb.txt.gz"
    _zeros_gz(path, 16)
    assert lists_cli.main(["check", str(path), "--max-list-bytes", "1M"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}: cannot be used: inflates to more than 1048576 bytes")


def test_a_fifo_list_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "list.txt"
    os.mkfifo(fifo)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "photosieve.pipelines.cli", "lists", "check", str(fifo)],
            capture_output=True,
            text=True,
            timeout=120,  # a hang guard: the check itself needs well under a second
        )
    except subprocess.TimeoutExpired:
        pytest.fail("lists check on a FIFO hung")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{fifo}: cannot be used: is a FIFO (named pipe), not a regular file: a list must be a file"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_bad_max_list_bytes_is_a_usage_error(tmp_path, capsys, value):
    assert lists_cli.main(["check", "x.txt", "--max-list-bytes", value]) == 2
    err = capsys.readouterr().err
    assert "argument --max-list-bytes:" in err and ("byte count" in err or "positive" in err)


def test_lists_index_writes_the_file_a_run_maps(tmp_path, capsys):
    path = tmp_path / "known.csv"
    path.write_text(
        "hash,algorithm,id,labels\n"
        + "0f" * 32
        + ",pdq,k1,case-1\n"
        + "ab" * 16
        + ",md5,k2,case-2\n"
    )
    out = tmp_path / "known.psidx"
    assert (
        lists_cli.main(["index", str(path), "-o", str(out), "-t", "pdq=24", "-r", "suppress"]) == 0
    )
    text = capsys.readouterr().out
    version = read_list(str(path)).version
    assert text.startswith(
        f"{out}: index of list known (version sha256:{version}): md5 1, pdq 1 hashes"
    )
    listed = mapped.open_index_file(str(out), expected_version=version, verify=True)
    assert (listed.role, listed.thresholds) == ("suppress", {"md5": 0.0, "pdq": 24.0})
    assert f"{out.stat().st_size} bytes, digest sha256:{listed.digest}" in text
    row = {"uri": "a", "frame": 0, "algorithm": "pdq", "hash": "0f" * 31 + "0e", "quality": 90}
    ((_, hit),) = KnownIndexes.from_mapped([listed]).probe("pdq", [row])
    assert (hit.entry_ids, hit.labels, hit.distance) == (["k1"], ["case-1"], 1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["known.csv", "known.psidx"]
    assert ListSpec(str(path)).name == listed.name  # named as a run names it


def test_lists_index_refuses_bad_lists_and_usage_errors(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq " + "0f" * 32 + "\nnot a hash\n")
    out = tmp_path / "bad.psidx"
    assert lists_cli.main(["index", str(bad), "-o", str(out)]) == 1
    assert "cannot be indexed" in capsys.readouterr().err and not out.exists()
    assert lists_cli.main(["index", str(bad), "-o", str(out), "--lenient"]) == 0
    assert out.exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert lists_cli.main(["index", str(empty), "-o", str(tmp_path / "e.psidx")]) == 1
    assert "no valid hashes" in capsys.readouterr().err
    assert lists_cli.main(["index", str(bad)]) == 2  # no -o
    assert lists_cli.main(["index", str(bad), "-o", str(out), "-t", "known:pdq=24"]) == 2
    assert lists_cli.main(["index", str(bad), "-o", str(out), "-t", "pdq=300"]) == 2
    assert "one list is indexed" in capsys.readouterr().err
    assert lists_cli.main(["index", str(bad), "-o", str(tmp_path / "no" / "d.psidx"), "-l"]) == 1
    assert "cannot write" in capsys.readouterr().err
