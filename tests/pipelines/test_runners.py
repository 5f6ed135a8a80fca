"""The same audit on three runners writes identical tables.

* The DirectRunner's engine in-process (``FnApiRunner``, see pipelines/job.py).
* The same with ``--direct_running_mode=multi_processing --direct_num_workers=2``:
  SDK workers in subprocesses, elements crossing process boundaries.
* The ``PortableRunner`` against a Beam job service and an external SDK
  worker pool started here: the Fn API path Flink, Spark and Dataflow use.

Each run is a ``photosieve audit`` subprocess with a timeout, so a stuck
runner fails the test instead of hanging it; the services are always
stopped. Rows are compared whole, except ``matched_at`` (the run's start).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from tests.pipelines.portable_services import free_port, stop, wait_for_port
from tests.transforms import samples

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 300
# The worker pool starts the first `python` on PATH: it must be this venv's.
ENV = {
    **os.environ,
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("runners")
    archive = root / "archive"
    archive.mkdir()
    hasher = ImageHasher(HashPlan.parse("pdq,md5"))
    lines = ["hash,algorithm,id,labels"]
    for i in range(6):
        original = samples.picture(i, (320, 240))
        (archive / f"copy{i}.png").write_bytes(samples.encode(original, "PNG"))
        smaller = original.resize((240, 180), Image.Resampling.LANCZOS)
        (archive / f"small{i}.jpg").write_bytes(samples.encode(smaller, "JPEG"))
        (archive / f"other{i}.png").write_bytes(
            samples.encode(samples.picture(100 + i, (320, 240)), "PNG")
        )
        if i % 2 == 0:
            result = hasher.hash_bytes("", samples.encode(original, "PNG"))
            lines.append(f"{result.frames[0].results[0].hash.to_hex()},pdq,id{i},case-{i}")
            lines.append(f"{result.digests[0].hash.to_hex()},md5,id{i}m,case-{i}")
    for name, data in samples.bad_object_bytes().items():
        (archive / name.replace("/", "-")).write_bytes(data)
    (root / "known.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def portable_services(tmp_path_factory):
    """A Beam job service and an external SDK worker pool; yields their endpoints."""
    logs = tmp_path_factory.mktemp("services")
    job_port, pool_port = free_port(), free_port()
    commands = {
        "job-service": [
            "-m",
            "apache_beam.runners.portability.local_job_service_main",
            "--port",
            str(job_port),
        ],
        "worker-pool": [
            "-m",
            "apache_beam.runners.worker.worker_pool_main",
            "--service_port",
            str(pool_port),
        ],
    }
    processes = []
    try:
        for (name, command), port in zip(commands.items(), (job_port, pool_port)):
            log = logs / f"{name}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [sys.executable, *command], env=ENV, stdout=out, stderr=subprocess.STDOUT
                )
            processes.append(process)
            wait_for_port(port, process, log)
        yield f"localhost:{job_port}", f"localhost:{pool_port}"
    finally:
        for process in processes:
            stop(process)


def _audit(case: Path, output: Path, *beam_args: str) -> None:
    argv = [
        sys.executable, "-m", "photosieve.pipelines.cli", "audit",
        "-i", str(case / "archive"), "-l", f"known={case / 'known.csv'}", "-o", str(output),
        "--run-id", "same-run", "--no-progress", *beam_args,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            argv,
            check=False,
            cwd=REPO,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"audit did not finish within {RUN_TIMEOUT_S} s: {' '.join(beam_args)}\n{exc.stderr}"
        )
    assert done.returncode == 0, done.stderr[-3000:]


def _tables(output: Path) -> dict[str, list[str]]:
    tables = {}
    for name in schemas.TABLES:
        table = pq.read_table(output / name)
        if name == schemas.MATCHES:
            table = table.drop_columns([schemas.MATCHED_AT])
        # JSON with sorted keys, sorted rows: a stable form to compare whole tables.
        tables[name] = sorted(
            json.dumps(row, sort_keys=True, default=str) for row in table.to_pylist()
        )
    return tables


def _counts(output: Path) -> tuple:
    summary = json.loads((output / "summary.json").read_text())
    assert summary["accounting"]["balanced"]
    return summary["tables"], summary["counts"]


def _portable(services: tuple[str, str]) -> list[str]:
    """Beam options for the PortableRunner against the fixture's job service and worker pool."""
    job_endpoint, pool_endpoint = services
    return [
        "--runner=PortableRunner",
        f"--job_endpoint={job_endpoint}",
        "--environment_type=EXTERNAL",
        f"--environment_config={pool_endpoint}",
    ]


def _run_all(case: Path, tmp_path: Path, runs: dict[str, list[str]]) -> dict[str, tuple]:
    """Audit ``case`` once per runner; (tables, counts) by run name."""
    results = {}
    for name, beam_args in runs.items():
        output = tmp_path / name
        _audit(case, output, *beam_args)
        results[name] = (_tables(output), _counts(output))
    return results


def test_runners_write_identical_tables(case, tmp_path, portable_services):
    portable = _portable(portable_services)
    runs = {
        "in-process": [],
        "multi-processing": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        "portable": portable,
        "portable-shuffle": [*portable, "--strategy", "shuffle"],
    }
    results = _run_all(case, tmp_path, runs)
    reference_tables, reference_counts = results["in-process"]
    assert len(reference_tables[schemas.MATCHES]) >= 9  # copies and small copies of 3 listed images
    assert len(reference_tables[schemas.ERRORS]) == len(samples.BAD_OBJECTS)
    for name, (tables, counts) in results.items():
        for table in schemas.TABLES:
            assert tables[table] == reference_tables[table], (name, table)
        assert counts == reference_counts, name


def test_runners_carry_the_same_rows_in_a_repeat_audit(case, tmp_path, portable_services):
    """``--previous``: the join with the previous run's tables behaves the same on every runner."""
    work = tmp_path / "case"
    shutil.copytree(case, work)
    _audit(work, tmp_path / "first")
    (work / "archive" / "other0.png").unlink()  # gone
    (work / "archive" / "copy2-again.png").write_bytes((work / "archive" / "copy2.png").read_bytes())
    (work / "archive" / "other1.png").write_bytes((work / "archive" / "other3.png").read_bytes())
    repeat = ["--previous", str(tmp_path / "first")]
    runs = {
        "in-process": repeat,
        "multi-processing": [*repeat, "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        "portable": [*repeat, *_portable(portable_services)],
    }
    results = _run_all(work, tmp_path, runs)
    reference_tables, reference_counts = results["in-process"]
    assert reference_counts[1]["objects"]["read"] == 2  # the new file and the changed one
    assert reference_counts[1]["files"]["state"]["gone"] == 1
    new = [json.loads(row)[schemas.NEW_REASON] for row in reference_tables[schemas.MATCHES]]
    assert new.count("new object") == 2 and new.count(None) >= 9  # pdq and md5 of the copy
    for name, (tables, counts) in results.items():
        for table in schemas.TABLES:
            assert tables[table] == reference_tables[table], (name, table)
        assert counts == reference_counts, name
