"""``photosieve audit --previous``: what is read, what is carried, why matches are new.

Every repeat audit here is checked against a from-scratch audit of the same
archive state: the tables must be equal except for the columns that name
the run (``run_id``, ``matched_at``) or describe the repeat itself
(``carried_from``, ``new_reason``).
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageFilter, ImageOps

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.pipelines import audit, cli, preflight
from photosieve.summary import SUMMARY_FILE
from tests.pipelines import checked_fs
from tests.transforms import samples

# Columns that differ between a repeat audit and a from-scratch audit by design.
RUN_COLUMNS = {schemas.RUN_ID, schemas.MATCHED_AT, schemas.CARRIED_FROM, schemas.NEW_REASON}
SIZE = (320, 240)


def _png(seed: int) -> bytes:
    return samples.encode(samples.picture(seed, SIZE), "PNG")


def _pdq_hex(data: bytes) -> str:
    return (
        ImageHasher(HashPlan.parse("pdq")).hash_bytes("", data).frames[0].results[0].hash.to_hex()
    )


def _write_list(path: Path, seeds, *, image=None) -> Path:
    lines = ["hash,algorithm,id,labels"]
    for seed in seeds:
        data = _png(seed) if image is None else image(seed)
        lines.append(f"{_pdq_hex(data)},pdq,id{seed},case-{seed}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def case(tmp_path):
    """An archive: copies of listed images 1-3 (one resized), decoys, bad objects; a list of 1 and 2."""
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    for seed in (1, 2, 3):
        (archive / f"copy{seed}.png").write_bytes(_png(seed))
    small = samples.picture(1, SIZE).resize((240, 180), Image.Resampling.LANCZOS)
    (archive / "sub" / "small1.jpg").write_bytes(samples.encode(small, "JPEG"))
    for seed in (50, 51, 52):
        (archive / "sub" / f"decoy{seed}.png").write_bytes(_png(seed))
    for name, data in samples.bad_object_bytes().items():
        (archive / name.replace("/", "-")).write_bytes(data)
    _write_list(tmp_path / "known.csv", (1, 2))
    return tmp_path


def _audit(case: Path, output: str, *extra: str, inputs=None, lists=None) -> int:
    argv = ["audit", "-i", *(inputs or [str(case / "archive")])]
    argv += ["-l", *(lists or [f"known={case / 'known.csv'}"])]
    return cli.main([*argv, "-o", str(output), "--no-progress", "--num-shards", "1", *extra])


def _summary(output) -> dict:
    return json.loads((Path(output) / SUMMARY_FILE).read_text())


def _rows(output, table: str) -> list[dict]:
    return pq.read_table(Path(output) / table).to_pylist()


def _comparable(output, table: str) -> list[str]:
    """A table's rows without the run's own columns, as sorted JSON (a stable form to compare)."""
    return sorted(
        json.dumps(
            {k: v for k, v in row.items() if k not in RUN_COLUMNS}, sort_keys=True, default=str
        )
        for row in _rows(output, table)
    )


def _assert_same_as_from_scratch(repeat, scratch) -> None:
    for table in (schemas.HASHES, schemas.ERRORS, schemas.MATCHES):
        assert _comparable(repeat, table) == _comparable(scratch, table), table


def _new_reasons(output) -> dict[str, str | None]:
    return {
        f"{Path(r[schemas.URI]).name}:{r[schemas.LIST_NAME]}:{r[schemas.ALGORITHM]}": r[
            schemas.NEW_REASON
        ]
        for r in _rows(output, schemas.MATCHES)
    }


def _states(output) -> dict[str, tuple]:
    return {
        Path(r[schemas.URI]).name: (r[schemas.STATE], r[schemas.REREAD], r[schemas.CARRIED_FROM])
        for r in _rows(output, schemas.FILES)
    }


def _balanced(output) -> dict:
    summary = _summary(output)
    assert summary["accounting"] == {"balanced": True, "problems": []}
    return summary


def test_a_repeat_audit_reads_only_new_and_changed_files(case, tmp_path):
    first, repeat, scratch = tmp_path / "first", tmp_path / "repeat", tmp_path / "scratch"
    assert _audit(case, first, "--run-id", "week1") == 0
    archive = case / "archive"
    (archive / "copy3.png").unlink()  # gone
    (archive / "new2.png").write_bytes(_png(2))  # new, and a copy of a listed image
    (archive / "sub" / "decoy50.png").write_bytes(_png(60))  # changed
    _write_list(case / "known.csv", (1, 2, 3, 52))  # 52 is a decoy, unchanged: a new list entry
    assert _audit(case, repeat, "--previous", str(first), "--run-id", "week2") == 0
    assert _audit(case, scratch) == 0
    _assert_same_as_from_scratch(repeat, scratch)

    summary = _balanced(repeat)
    first_summary = _balanced(first)
    listed = first_summary["counts"]["files"]["listed"]
    assert summary["counts"]["objects"]["read"] == 2  # only the new and the changed file
    assert summary["counts"]["objects"]["carried"] == listed - 2
    assert summary["previous"] == [str(first)]
    section = summary["incremental"]
    assert section["files"] == {"new": 1, "changed": 1, "unchanged": listed - 2, "gone": 1}
    assert section["gone"] == {"count": 1, "examples": [str(archive / "copy3.png")]}
    assert section["hashes"]["computed"] == 4  # pdq and md5 of two files
    assert section["matches"]["new"] == {"match": {"new object": 1, "new list entry": 1}}
    assert section["matches"]["matched_before"] == {"match": 3}
    assert section["previous"][0]["carried"]["files"] == listed - 2
    assert summary["tables"][schemas.FILES] == listed + 1  # every listed file, and the gone one

    assert _new_reasons(repeat) == {
        "copy1.png:known:pdq": None,
        "small1.jpg:known:pdq": None,
        "copy2.png:known:pdq": None,
        "new2.png:known:pdq": "new object",
        "decoy52.png:known:pdq": "new list entry",
    }
    states = _states(repeat)
    assert states["copy3.png"] == ("gone", None, None)
    assert states["new2.png"] == ("new", None, None)
    assert states["decoy50.png"] == ("changed", None, None)
    assert states["copy1.png"] == ("unchanged", None, "week1")
    carried = {r[schemas.CARRIED_FROM] for r in _rows(repeat, schemas.HASHES)}
    assert carried == {"week1", None}
    # The failures of unchanged bad objects were carried, not met again.
    errors = _rows(repeat, schemas.ERRORS)
    assert errors and all(e[schemas.CARRIED_FROM] == "week1" for e in errors)


def test_unchanged_size_and_time_are_trusted_unless_checksums_say_otherwise(case, tmp_path):
    """Same size, same time, other bytes: carried on metadata alone; read again with --checksums."""
    archive = case / "archive"
    target = archive / "sub" / "decoy51.png"
    inputs = [f"{checked_fs.CheckedFileSystem.PREFIX}{archive}/**"]
    first, metadata_only, with_sums = (tmp_path / n for n in ("first", "metadata", "sums"))
    assert _audit(case, first, "--checksums", inputs=inputs) == 0
    stat = target.stat()
    original = target.read_bytes()
    edited = bytearray(original)
    edited[-20] ^= 0xFF  # inside the last chunk: same size, other bytes
    target.write_bytes(bytes(edited))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    def md5_of(output):
        uri = f"{checked_fs.CheckedFileSystem.PREFIX}{target}"
        return {
            r[schemas.HASH]
            for r in _rows(output, schemas.HASHES)
            if r[schemas.URI] == uri and r[schemas.ALGORITHM] == "md5"
        }

    assert _audit(case, metadata_only, "--previous", str(first), inputs=inputs) == 0
    assert md5_of(metadata_only) == md5_of(first)  # not read: the stored hash came forward
    assert _audit(case, with_sums, "--previous", str(first), "--checksums", inputs=inputs) == 0
    assert md5_of(with_sums) != md5_of(first)
    assert _states(with_sums)["decoy51.png"] == ("changed", None, None)
    assert _balanced(with_sums)["incremental"]["files"]["changed"] == 1


def test_incompatible_settings_force_hashing_again(case, tmp_path, caplog):
    first, exact, exact_scratch = tmp_path / "first", tmp_path / "exact", tmp_path / "exact-scratch"
    assert _audit(case, first, "--run-id", "week1") == 0
    with caplog.at_level(logging.WARNING, logger="photosieve.pipelines.audit"):
        assert _audit(case, exact, "--previous", str(first), "--decode", "exact") == 0
    assert "hashed with other settings" in caplog.text and "mode fast -> exact" in caplog.text
    summary = _balanced(exact)
    listed = summary["counts"]["files"]["listed"]
    assert summary["counts"]["objects"].get("carried", 0) == 0
    assert summary["incremental"]["reread"] == {"settings": listed}
    assert summary["incremental"]["previous"][0]["settings_differences"]["pdq"].endswith(
        "mode fast -> exact"
    )
    assert {r[schemas.CARRIED_FROM] for r in _rows(exact, schemas.HASHES)} == {None}
    assert _audit(case, exact_scratch, "--decode", "exact") == 0
    _assert_same_as_from_scratch(exact, exact_scratch)


def test_dropping_an_algorithm_keeps_the_compatible_hashes(case, tmp_path):
    first, pdq_only, scratch = tmp_path / "first", tmp_path / "pdq", tmp_path / "scratch"
    assert _audit(case, first, "-a", "pdq,md5") == 0
    assert _audit(case, pdq_only, "--previous", str(first), "-a", "pdq") == 0
    summary = _balanced(pdq_only)
    assert summary["counts"]["objects"].get("read", 0) == 0
    assert set(summary["counts"]["hashes"]["algorithm"]) == {"pdq"}
    assert _audit(case, scratch, "-a", "pdq") == 0
    _assert_same_as_from_scratch(pdq_only, scratch)


def test_chained_previous_runs_latest_wins(case, tmp_path):
    archive = case / "archive"
    runs = {name: tmp_path / name for name in ("a", "b", "c", "scratch")}
    assert _audit(case, runs["a"], "--run-id", "ra", inputs=[str(archive)]) == 0
    assert _audit(case, runs["b"], "--run-id", "rb", inputs=[str(archive / "sub")]) == 0
    (archive / "sub" / "decoy52.png").write_bytes(_png(61))  # changed after run b
    chain = ["--previous", str(runs["a"]), str(runs["b"])]
    assert _audit(case, runs["c"], *chain, "--run-id", "rc", inputs=[str(archive)]) == 0
    assert _audit(case, runs["scratch"], inputs=[str(archive)]) == 0
    _assert_same_as_from_scratch(runs["c"], runs["scratch"])
    states = _states(runs["c"])
    assert states["copy1.png"] == ("unchanged", None, "ra")  # only run a saw it
    assert states["decoy51.png"] == ("unchanged", None, "rb")  # run b saw it last
    assert states["decoy52.png"] == ("changed", None, None)  # against run b's listing
    summary = _balanced(runs["c"])
    assert summary["previous"] == [str(runs["a"]), str(runs["b"])]
    carried = {p["run_id"]: p["carried"]["files"] for p in summary["incremental"]["previous"]}
    assert carried["rb"] == 3 and carried["ra"] == summary["incremental"]["carried"] - 3


def _mirrored(seed: int) -> bytes:
    return samples.encode(ImageOps.mirror(samples.picture(seed, SIZE)), "PNG")


@pytest.mark.parametrize(
    "first_flags,repeat_flags,prepare,row,reason",
    [
        # A list that was not there.
        ([], ["-l", "{known}", "again={known}"], None, "copy1.png:again:pdq", "new list"),
        # Looser threshold now: the resized copy (about 10 bits away) did not match at 2.
        (["-t", "pdq=2"], [], None, "small1.jpg:known:pdq", "threshold changed"),
        # The suppress list is gone: a suppressed row is now a match.
        (["-s", "benign={known}"], [], None, "copy1.png:known:pdq", "suppression changed"),
        # The 320x240 copies were decompression bombs under the first run's pixel limit.
        (["--max-pixels", "50000"], [], None, "copy1.png:known:pdq", "previously failed"),
        # Dihedral hashes find the mirrored copy (and hash every object again).
        ([], ["--dihedral"], "mirror", "mirror2.png:known:pdq", "new hash settings"),
        # A blurred copy's PDQ quality (66) was below the first run's cutoff.
        (
            ["--quality-cutoff", "80"],
            [],
            "blur",
            "blurred2.png:known:pdq",
            "quality cutoff changed",
        ),
    ],
    ids=["new-list", "threshold", "suppression", "previously-failed", "settings", "cutoff"],
)
def test_why_a_match_is_new(case, tmp_path, first_flags, repeat_flags, prepare, row, reason):
    known = str(case / "known.csv")
    if prepare == "mirror":
        (case / "archive" / "mirror2.png").write_bytes(_mirrored(2))
    if prepare == "blur":
        blurred = samples.encode(
            samples.picture(2, SIZE).filter(ImageFilter.GaussianBlur(12)), "PNG"
        )
        (case / "archive" / "blurred2.png").write_bytes(blurred)
        with open(known, "a") as handle:
            handle.write(f"{_pdq_hex(blurred)},pdq,blurred,case-2\n")

    def flags(given):
        lists = [f"known={known}"]
        rest = []
        it = iter(given)
        for flag in it:
            if flag == "-l":
                lists = [next(it).format(known=known), next(it).format(known=known)]
            else:
                rest.append(flag.format(known=known))
        return lists, rest

    lists, rest = flags(first_flags)
    first, repeat, scratch = tmp_path / "first", tmp_path / "repeat", tmp_path / "scratch"
    assert _audit(case, first, *rest, lists=lists) == 0
    lists, rest = flags(repeat_flags)
    assert _audit(case, repeat, "--previous", str(first), *rest, lists=lists) == 0
    assert _audit(case, scratch, *rest, lists=lists) == 0
    _assert_same_as_from_scratch(repeat, scratch)
    reasons = _new_reasons(repeat)
    assert reasons[row] == reason
    assert _balanced(repeat)["incremental"]["matches"]["new"]["match"][reason] >= 1


def test_read_failures_are_retried(case, tmp_path):
    archive = case / "archive"
    target = archive / "copy2.png"
    inputs = [f"{checked_fs.CheckedFileSystem.PREFIX}{archive}/**"]
    first, repeat = tmp_path / "first", tmp_path / "repeat"
    checked_fs.DENIED.add(str(target))
    try:
        assert _audit(case, first, inputs=inputs) == 0
    finally:
        checked_fs.DENIED.discard(str(target))
    assert [
        e[schemas.ERROR]
        for e in _rows(first, schemas.ERRORS)
        if e[schemas.URI].endswith("copy2.png")
    ] == ["unreadable"]
    assert _audit(case, repeat, "--previous", str(first), inputs=inputs) == 0
    assert _states(repeat)["copy2.png"] == ("unchanged", "retry", None)
    assert _new_reasons(repeat)["copy2.png:known:pdq"] == "previously failed"
    assert _balanced(repeat)["counts"]["objects"]["read"] == 1


def test_archive_members_are_carried_with_their_archive(case, tmp_path):
    archive = case / "archive"
    with zipfile.ZipFile(archive / "bundle.zip", "w") as bundle:
        bundle.writestr("in/one.png", _png(1))
        bundle.writestr("in/decoy.png", _png(70))
    first, repeat, scratch = tmp_path / "first", tmp_path / "repeat", tmp_path / "scratch"
    assert _audit(case, first, "--archives") == 0
    assert _audit(case, repeat, "--archives", "--previous", str(first)) == 0
    summary = _balanced(repeat)
    assert summary["counts"]["objects"].get("read", 0) == 0
    assert summary["counts"]["files"]["archive_objects"] == 2
    assert _new_reasons(repeat)["one.png:known:pdq"] is None
    assert _audit(case, scratch, "--archives") == 0
    _assert_same_as_from_scratch(repeat, scratch)


def test_report_reads_the_repeat_audit(case, tmp_path):
    first, repeat = tmp_path / "first", tmp_path / "repeat"
    assert _audit(case, first, "--run-id", "w1") == 0
    (case / "archive" / "new1.png").write_bytes(_png(1))
    assert _audit(case, repeat, "--previous", str(first), "--run-id", "w2") == 0
    assert cli.main(["report", str(repeat), "-q"]) == 0
    markdown = (repeat / "report.md").read_text()
    assert "New since the previous run: 1" in markdown and "- 1 new object" in markdown
    listed = _summary(first)["counts"]["files"]["listed"]
    assert f"| files new / changed / unchanged / gone | 1 / 0 / {listed} / 0 |" in markdown
    assert f"| files read / carried | 1 / {listed} |" in markdown


@pytest.mark.parametrize(
    "argv,message",
    [
        ("-i x -o o -l a.txt --rehash", "--rehash needs --previous"),
    ],
)
def test_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        audit.run(argv.split())
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_previous_runs_are_checked_before_any_work(case, tmp_path, caplog):
    first = tmp_path / "first"
    assert _audit(case, first) == 0
    scan_out = tmp_path / "scan"
    assert (
        cli.main(["scan", "-i", str(case / "archive"), "-o", str(scan_out), "--no-progress"]) == 0
    )
    assert _audit(case, tmp_path / "x", "--previous", str(scan_out)) == 2
    assert "photosieve scan run" in caplog.text
    assert _audit(case, tmp_path / "y", "--previous", str(tmp_path / "nothing")) == 2
    assert "no readable summary.json" in caplog.text
    assert _audit(case, first, "--previous", str(first), "--overwrite") == 2
    assert "is (inside) the --output" in caplog.text
    assert (first / schemas.HASHES).exists()


def test_the_output_is_refused_as_previous_however_spelt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for given in ("out", "./out", "out/", str(tmp_path / "out"), "out/sub"):
        with pytest.raises(ConfigError, match=r"is \(inside\) the --output"):
            preflight.load_previous([given], "out")


def test_a_match_mode_audit_carries_its_query_hashes(case, tmp_path):
    """--match-mode adds query hashes (variants, orientations): they are carried like the others."""
    first, repeat, scratch = tmp_path / "first", tmp_path / "repeat", tmp_path / "scratch"
    assert _audit(case, first, "--match-mode", "robust") == 0
    (case / "archive" / "mirror2.png").write_bytes(_mirrored(2))
    assert _audit(case, repeat, "--match-mode", "robust", "--previous", str(first)) == 0
    assert _audit(case, scratch, "--match-mode", "robust") == 0
    _assert_same_as_from_scratch(repeat, scratch)
    summary = _balanced(repeat)
    assert summary["counts"]["objects"]["read"] == 1
    variants = {r[schemas.VARIANT] for r in _rows(repeat, schemas.HASHES) if r[schemas.CARRIED_FROM]}
    assert len(variants) > 1  # borders, regions, uncrop guesses... came forward
    assert _new_reasons(repeat)["mirror2.png:known:pdq"] == "new object"
