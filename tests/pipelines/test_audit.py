"""``photosieve audit`` and ``photosieve match``: lists from flags and profiles, strict and
lenient lists, planted copies found, re-matching stored hashes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.lists import ListRole
from photosieve.pipelines import audit, cli, configure, running
from photosieve.summary import SUMMARY_FILE
from tests.transforms import samples


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Listed originals, an archive with edited copies of them, bad files and decoys, two lists."""
    root = tmp_path_factory.mktemp("case")
    originals = {i: samples.picture(i, (320, 240)) for i in (1, 2, 3)}
    archive = root / "archive"
    (archive / "sub").mkdir(parents=True)
    copies = {
        "sub/one-copy.png": samples.encode(originals[1], "PNG"),
        "sub/one-small.jpg": samples.encode(
            originals[1].resize((240, 180), Image.Resampling.LANCZOS), "JPEG"
        ),
        "two-recompressed.jpg": samples.encode(originals[2], "JPEG", quality=35),
        "three.png": samples.encode(originals[3], "PNG"),
        "decoy.png": samples.encode(samples.picture(50, (320, 240)), "PNG"),
        "broken.jpg": b"\xff\xd8\xff\xe0 truncated",
    }
    for name, data in copies.items():
        (archive / name).write_bytes(data)
    hasher = ImageHasher(HashPlan.parse("pdq,md5"))
    lines = ["hash,algorithm,id,labels"]
    for i, image in originals.items():
        result = hasher.hash_bytes(str(i), samples.encode(image, "PNG"))
        lines.append(f"{result.frames[0].results[0].hash.to_hex()},pdq,id{i},case-{i}")
        lines.append(f"{result.digests[0].hash.to_hex()},md5,id{i}m,case-{i}")
    (root / "known.csv").write_text("\n".join(lines) + "\n")
    three = (
        hasher.hash_bytes("3", samples.encode(originals[3], "PNG"))
        .frames[0]
        .results[0]
        .hash.to_hex()
    )
    (root / "benign.txt").write_text(f"pdq {three}\n")
    return root


def _matches(output) -> list[dict]:
    return pq.read_table(output / schemas.MATCHES).to_pylist()


def _keys(rows) -> set[tuple]:
    return {
        (
            r[schemas.URI].rsplit("/", 1)[-1],
            r[schemas.ALGORITHM],
            r[schemas.LIST_NAME],
            r[schemas.STATUS],
        )
        for r in rows
    }


def _summary(output) -> dict:
    return json.loads((output / SUMMARY_FILE).read_text())


def _audit(case, output, *extra) -> int:
    argv = ["audit", "-i", str(case / "archive"), "-l", f"known={case / 'known.csv'}"]
    return cli.main(
        [*argv, "-s", str(case / "benign.txt"), "-o", str(output), "--num-shards", "1", *extra]
    )


def test_audit_finds_the_planted_copies(case, tmp_path):
    output = tmp_path / "out"
    assert _audit(case, output, "--run-id", "a1") == 0
    assert _keys(_matches(output)) == {
        ("one-copy.png", "md5", "known", "match"),
        ("one-copy.png", "pdq", "known", "match"),
        ("one-small.jpg", "pdq", "known", "match"),
        ("two-recompressed.jpg", "pdq", "known", "match"),
        ("three.png", "md5", "known", "match"),  # a digest hit: PDQ's suppression does not reach it
        ("three.png", "pdq", "known", "suppressed"),
        ("three.png", "pdq", "benign", "suppress"),
    }
    assert pq.read_table(output / schemas.MATCHES).schema.equals(schemas.MATCHES_SCHEMA)
    summary = _summary(output)
    assert summary["accounting"]["balanced"] and summary["tables"]["matches"] == 7
    assert summary["counts"]["matches"]["status"] == {"match": 5, "suppress": 1, "suppressed": 1}
    assert summary["counts"]["matches"]["label"]["known"] == {"case-1": 3, "case-2": 1, "case-3": 2}
    lists = {entry["name"]: entry for entry in summary["lists"]}
    assert lists["benign"]["role"] == "suppress" and lists["known"]["thresholds"] == {
        "md5": 0,
        "pdq": 31,
    }
    assert {
        r[schemas.LIST_VERSION] for r in _matches(output) if r[schemas.LIST_NAME] == "known"
    } == {lists["known"]["version"]}
    errors = pq.read_table(output / schemas.ERRORS).to_pylist()
    assert [(e[schemas.URI].rsplit("/", 1)[-1], e[schemas.ERROR]) for e in errors] == [
        ("broken.jpg", "truncated")
    ]
    # Without a temp location the lists' index files were the run's own: gone with it.
    assert [p.name for p in output.iterdir() if p.name.startswith(".")] == []


def test_without_a_temp_location_the_index_files_are_written_inside_the_output(
    case, tmp_path, monkeypatch
):
    monkeypatch.setattr(running, "_remove_index_dir", lambda context: None)
    output = tmp_path / "out"
    assert _audit(case, output, "--run-id", "kept") == 0
    assert len(list((output / running.OUTPUT_INDEX_FOLDER).iterdir())) == 2  # known, benign


def test_index_files_under_a_temp_location_are_kept_and_reused(case, tmp_path):
    temp = tmp_path / "temp"
    for run in ("a", "b"):
        assert _audit(case, tmp_path / run, "--run-id", run, f"--temp_location={temp}") == 0
    files = sorted((temp / "photosieve-index").iterdir())
    # One file per list (known, benign), named by the list's content: the second run reused them.
    assert len(files) == 2 and _keys(_matches(tmp_path / "a")) == _keys(_matches(tmp_path / "b"))
    assert not (tmp_path / "a" / running.OUTPUT_INDEX_FOLDER).exists()


def test_a_tighter_threshold_for_one_list_drops_the_edited_copies(case, tmp_path):
    output = tmp_path / "out"
    assert _audit(case, output, "-t", "known:pdq=0") == 0
    found = {
        (name, algorithm)
        for name, algorithm, list_name, _ in _keys(_matches(output))
        if list_name == "known"
    }
    assert found == {
        ("one-copy.png", "md5"),
        ("one-copy.png", "pdq"),
        ("three.png", "md5"),
        ("three.png", "pdq"),
    }


def test_strict_lists_with_bad_lines_fail_before_any_work(case, tmp_path, caplog):
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq " + "0" * 64 + "\npdq 12345\nnot a hash at all\n")
    output = tmp_path / "out"
    status = cli.main(["audit", "-i", str(case / "archive"), "-l", str(bad), "-o", str(output)])
    assert status == 2
    assert (
        f"{bad}:2" in caplog.text and f"{bad}:3" in caplog.text and "--lenient-lists" in caplog.text
    )
    assert not output.exists()


def test_lenient_lists_skip_and_count_bad_lines(case, tmp_path):
    bad = tmp_path / "mixed.txt"
    bad.write_text((case / "benign.txt").read_text() + "pdq 12345\n")
    output = tmp_path / "out"
    argv = [
        "audit",
        "-i",
        str(case / "archive"),
        "-l",
        str(bad),
        "-o",
        str(output),
        "--lenient-lists",
    ]
    assert cli.main(argv) == 0
    [entry] = _summary(output)["lists"]
    assert entry["problems"] == 1 and entry["distinct"] == 1
    assert _keys(_matches(output)) == {("three.png", "pdq", "mixed", "match")}


def test_lists_from_a_profile_with_roles_and_thresholds(case, tmp_path):
    profile = tmp_path / "weekly.yaml"
    profile.write_text(
        f"input: [{case / 'archive'}]\n"
        "list:\n"
        f"  - {{name: ncmec, path: {case / 'known.csv'}, thresholds: {{pdq: 20}}}}\n"
        f"suppress_list: [{case / 'benign.txt'}]\n"
    )
    known, _ = audit.parse_args(["-c", str(profile), "-o", str(tmp_path / "out")])
    specs = configure.list_specs(known)
    assert [(s.name, s.role, s.threshold("pdq")) for s in specs] == [
        ("ncmec", ListRole.MATCH, 20),
        ("benign", ListRole.SUPPRESS, 31),
    ]


@pytest.mark.parametrize(
    "argv,message",
    [
        ("-i x -o o", "--list is required"),
        ("-i x -o o -l a.txt -t pdq:31", "expected [LIST:]ALGORITHM=NUMBER"),
        ("-i x -o o -l a.txt -t other:pdq=3", "unknown list(s) other"),
        ("-i x -o o -l a.txt b/a.txt", "two lists are named 'a'"),
        ("-i x -o o -l a.txt -a md5 --dihedral", "--dihedral needs pdq"),
    ],
)
def test_list_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        audit.run(argv.split())
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_dihedral_flag_asks_for_eight_pdq_orientations():
    known, _ = audit.parse_args(["-i", "x", "-o", "o", "-l", "a.txt", "-a", "pdq,md5", "--dihedral"])
    assert configure.hash_plan(known).pdq_dihedral


def _table_rows(output) -> dict[str, list[str]]:
    rows = {}
    for name in schemas.TABLES:
        table = pq.read_table(output / name)
        if name == schemas.MATCHES:
            table = table.drop_columns([schemas.MATCHED_AT])
        rows[name] = sorted(map(str, table.to_pylist()))
    return rows


def test_replayed_bundles_leave_no_duplicate_rows_or_counts(case, tmp_path):
    """A bundle attempted, thrown away and run again (what a worker retry does) changes nothing.

    ``--direct_runner_bundle_repeat=1`` makes the runner process every bundle
    once more as a dry run whose outputs are discarded: side effects such as
    the Parquet sink's temporary files happen twice, committed outputs once.
    """
    once, replayed = tmp_path / "once", tmp_path / "replayed"
    assert _audit(case, once, "--run-id", "r") == 0
    assert _audit(case, replayed, "--run-id", "r", "--direct_runner_bundle_repeat=1") == 0
    assert _table_rows(replayed) == _table_rows(once)
    assert _summary(replayed)["counts"] == _summary(once)["counts"]
    for name in schemas.TABLES:
        # Only the committed shards: no attempt's temporary file survives (replays may leave
        # Beam's empty beam-temp-* directories behind, which readers ignore).
        files = [p for p in (replayed / name).rglob("*") if p.is_file()]
        assert [p.parent for p in files] == [replayed / name] and files[0].suffix == ".parquet"


def _zeros_gz(path, mebibytes: int) -> None:
    """A gzip of zeros: a few KB per MiB it inflates to."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(mebibytes):
            handle.write(bytes(1 << 20))


@pytest.mark.parametrize("hostile", ["gzip-bomb", "long-line", "struct-hash-column"])
def test_a_hostile_list_stops_the_audit_before_any_work_without_a_traceback(
    case, tmp_path, caplog, hostile
):
    limit = []
    if hostile == "gzip-bomb":
        path = tmp_path / "bomb.txt.gz"
        _zeros_gz(path, 16)
        limit = ["--max-list-bytes", "1M"]
        message = "inflates to more than 1048576 bytes"
    elif hostile == "long-line":
        path = tmp_path / "long.txt"
        path.write_text("a" * (5 << 20) + "\n")
        message = f"{path}:1: line of {5 << 20} bytes, over the limit"
    else:
        path = tmp_path / "nested.parquet"
        pq.write_table(pa.table({"hash": pa.array([{"hex": "00"}])}), path)
        message = "hash column 'hash' is struct"
    output = tmp_path / "out"
    argv = ["audit", "-i", str(case / "archive"), "-l", str(path), "-o", str(output)]
    assert cli.main([*argv, *limit]) == 2
    assert message in caplog.text and "Traceback" not in caplog.text
    assert not output.exists()


def test_a_fifo_list_stops_the_audit_without_hanging(case, tmp_path):
    fifo = tmp_path / "list.txt"
    os.mkfifo(fifo)
    output = tmp_path / "out"
    argv = ["audit", "-i", str(case / "archive"), "-l", str(fifo), "-o", str(output)]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "photosieve.pipelines.cli", *argv],
            capture_output=True,
            text=True,
            timeout=300,  # a hang guard: the refusal comes before any work
        )
    except subprocess.TimeoutExpired:
        pytest.fail("an audit with a FIFO list hung")
    assert result.returncode == 2
    assert (
        f"ERROR photosieve.pipelines.audit: --list: {fifo}: is a FIFO (named pipe), not a regular file:"
        " a list must be a file\n" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not output.exists()


def test_max_list_bytes_reaches_every_list_spec():
    argv = ["-i", "x", "-o", "o", "-l", "a.txt", "-s", "b.txt", "--max-list-bytes", "2G"]
    known, _ = audit.parse_args(argv)
    assert [spec.max_bytes for spec in configure.list_specs(known)] == [2 << 30, 2 << 30]
    known, _ = audit.parse_args(["-i", "x", "-o", "o", "-l", "a.txt"])
    assert [spec.max_bytes for spec in configure.list_specs(known)] == [4 << 30]


def _joins_run(monkeypatch) -> list[str]:
    """The joins MatchHashes builds into the pipelines run from here on (appended as built)."""
    from photosieve.transforms import matching

    built: list[str] = []
    join = matching.MatchHashes._join

    def spy(self, known):
        built.append(self._strategy)
        return join(self, known)

    monkeypatch.setattr(matching.MatchHashes, "_join", spy)
    return built


def test_strategy_auto_with_a_tiny_budget_runs_the_shuffle_join(case, tmp_path, monkeypatch):
    built = _joins_run(monkeypatch)
    roomy, tiny = tmp_path / "roomy", tmp_path / "tiny"
    assert _audit(case, roomy, "--run-id", "a1") == 0  # auto is the default
    assert _audit(case, tiny, "--run-id", "a1", "--side-input-budget", "1") == 0
    assert built == ["side-input", "shuffle"]
    drop = [schemas.MATCHED_AT]  # the run's start time
    rows = {
        output: sorted(map(str, pq.read_table(output / schemas.MATCHES).drop_columns(drop).to_pylist()))
        for output in (roomy, tiny)
    }
    assert rows[roomy] == rows[tiny] and len(rows[tiny]) == 7
    settings = {output: _summary(output)["settings"] for output in (roomy, tiny)}
    assert settings[roomy]["strategy"] == "side-input"
    assert settings[roomy]["strategy_reason"].startswith("auto: the lists need ~")
    assert "within --side-input-budget 2.0 GiB" in settings[roomy]["strategy_reason"]
    assert settings[tiny]["strategy"] == "shuffle"
    assert "over --side-input-budget 1 B" in settings[tiny]["strategy_reason"]
    assert _summary(tiny)["options"]["strategy"] == "auto"  # as given, for people


def test_an_explicit_strategy_is_recorded_as_given(case, tmp_path, monkeypatch):
    built = _joins_run(monkeypatch)
    output = tmp_path / "out"
    assert _audit(case, output, "--strategy", "side-input", "--side-input-budget", "1") == 0
    assert built == ["side-input"]
    settings = _summary(output)["settings"]
    assert settings["strategy"] == "side-input"
    assert settings["strategy_reason"].startswith("--strategy side-input given")


def test_the_closing_block_says_which_join_ran_and_why(case, tmp_path, capsys):
    assert _audit(case, tmp_path / "out", "--side-input-budget", "1") == 0
    block = capsys.readouterr().out
    line = next(line for line in block.splitlines() if line.strip().startswith("strategy"))
    assert "shuffle (auto: the lists need ~" in line and "over --side-input-budget 1 B" in line
