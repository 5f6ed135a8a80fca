"""``photosieve scan``: flags and profiles, preflight refusals, tables, summary and accounting."""

from __future__ import annotations

import json
import os
from collections import Counter

import apache_beam as beam
import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.pipelines import cli, running, scan
from photosieve.summary import SUMMARY_FILE
from tests.transforms import samples
from photosieve.transforms import hashing as hashing_transforms


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    objects = samples.write_archive(root, n_good=4)
    return root, objects


def _summary(output) -> dict:
    return json.loads((output / SUMMARY_FILE).read_text())


# -- flags and profiles (no runner) -------------------------------------------------


def test_flags_and_beam_options_are_split():
    known, pipeline_args = scan.parse_args(
        ["-i", "a/*", "b/*", "-o", "out", "--algorithms", "pdq", "--temp_location", "/tmp/t"]
    )
    assert known.input == ["a/*", "b/*"] and known.output == "out" and known.algorithms == "pdq"
    assert pipeline_args == ["--runner=FnApiRunner", "--temp_location", "/tmp/t"]


def test_a_profile_gives_defaults_and_the_command_line_overrides_it(tmp_path):
    profile = tmp_path / "weekly.yaml"
    profile.write_text(
        "input: [gs://bucket/photos/**]\noutput: gs://bucket/audits/w1\nalgorithms: pdq,phash\n"
        "pipeline_options:\n  runner: DataflowRunner\n  num_workers: 8\n  save_main_session: true\n"
        "  experiments: [a, b]\n"
    )
    known, pipeline_args = scan.parse_args(["-c", str(profile), "-i", "local/*", "--runner=FnApiRunner"])
    assert known.input == ["local/*"]  # replaced, not appended to the profile's list
    assert known.output == "gs://bucket/audits/w1" and known.algorithms == "pdq,phash"
    assert pipeline_args == [
        "--runner=DataflowRunner",
        "--num_workers=8",
        "--save_main_session",
        "--experiments=a",
        "--experiments=b",
        "--runner=FnApiRunner",  # the command line comes last, so it wins
    ]


def test_an_unknown_profile_setting_is_named(tmp_path, capsys):
    profile = tmp_path / "bad.yaml"
    profile.write_text("inputs: [x]\n")
    with pytest.raises(SystemExit) as exit_info:
        scan.run(["-c", str(profile), "-o", "out"])
    assert exit_info.value.code == 2
    assert "unknown setting(s) inputs" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,message", [("-o out", "--input is required"), ("-i x -o o -a crc32", "crc32")]
)
def test_usage_errors_exit_2_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        scan.run(argv.split())
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_secret_looking_beam_options_are_not_copied_into_the_summary():
    args = ["--s3_secret_access_key=abc", "--aws_session_token", "xyz", "--region=eu"]
    assert running._redacted(args) == [
        "--s3_secret_access_key=<redacted>",
        "--aws_session_token",
        "<redacted>",
        "--region=eu",
    ]


# -- running ---------------------------------------------------------------------


def test_scan_writes_tables_and_a_balanced_summary(archive, tmp_path):
    root, objects = archive
    output = tmp_path / "out"
    status = cli.main(
        ["scan", "-i", str(root), "-o", str(output), "--run-id", "scan-1", "--num-shards", "1"]
    )
    assert status == 0
    hashes = pq.read_table(output / schemas.HASHES)
    errors = pq.read_table(output / schemas.ERRORS)
    assert hashes.schema.equals(schemas.HASHES_SCHEMA) and errors.schema.equals(
        schemas.ERRORS_SCHEMA
    )
    n_bad = len(samples.BAD_OBJECTS)
    assert Counter(hashes.column(schemas.ALGORITHM).to_pylist()) == {
        "md5": len(objects),
        "pdq": len(objects) - n_bad,
    }
    by_uri = {os.path.relpath(r[schemas.URI], root): r[schemas.ERROR] for r in errors.to_pylist()}
    assert by_uri == samples.BAD_OBJECTS
    assert set(hashes.column(schemas.RUN_ID).to_pylist()) == {"scan-1"}
    summary = _summary(output)
    assert summary["accounting"] == {"balanced": True, "problems": []}
    assert summary["tables"] == {"hashes": hashes.num_rows, "errors": n_bad, "matches": 0}
    assert summary["counts"]["objects"] == {"hashed": len(objects), "read": len(objects)}
    assert summary["counts"]["errors"]["class"] == dict(Counter(samples.BAD_OBJECTS.values()))
    assert summary["run_id"] == "scan-1" and summary["versions"]["apache_beam"]
    assert not (output / "_ledger.json").exists()


def test_an_output_holding_a_run_is_refused_then_replaced_with_overwrite(archive, tmp_path):
    root, _ = archive
    output = tmp_path / "out"
    assert cli.main(["scan", "-i", str(root), "-o", str(output)]) == 0
    before = sorted(p.name for p in (output / schemas.HASHES).iterdir())
    single = str(root / "good" / "img00.jpg")
    assert cli.main(["scan", "-i", single, "-o", str(output)]) == 2
    assert sorted(p.name for p in (output / schemas.HASHES).iterdir()) == before  # untouched
    assert cli.main(["scan", "-i", single, "-o", str(output), "--overwrite"]) == 0
    assert pq.read_table(output / schemas.HASHES).num_rows == 2  # only the new run's rows
    assert _summary(output)["counts"]["objects"]["hashed"] == 1


def test_an_input_matching_nothing_fails_before_any_work(tmp_path):
    (tmp_path / "empty").mkdir()
    output = tmp_path / "out"
    assert cli.main(["scan", "-i", str(tmp_path / "empty"), "-o", str(output)]) == 2
    assert cli.main(["scan", "-i", str(tmp_path / "nothing-*.jpg"), "-o", str(output)]) == 2
    assert not output.exists()


def _lose_objects_named_lost(
    self, record, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam
):
    if os.path.basename(record.uri) == "lost.png":
        return  # a bug that drops an object: the accounting must notice
    yield from _ORIGINAL_PROCESS(self, record, window, timestamp)


_ORIGINAL_PROCESS = hashing_transforms._HashObjectsFn.process


def test_a_lost_object_unbalances_the_accounting_and_fails_the_run(tmp_path, monkeypatch):
    # In-process runner: the patched DoFn class is the one that runs.
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _lose_objects_named_lost)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "kept.png").write_bytes(samples.encode(samples.picture(1), "PNG"))
    (tmp_path / "in" / "lost.png").write_bytes(samples.encode(samples.picture(2), "PNG"))
    output = tmp_path / "out"
    assert cli.main(["scan", "-i", str(tmp_path / "in"), "-o", str(output)]) == 1
    accounting = _summary(output)["accounting"]
    assert not accounting["balanced"]
    assert "2 objects read but 1 hashed" in accounting["problems"]
