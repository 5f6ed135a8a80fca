"""Quiet tools: ``--help`` and runs print no import warnings or per-worker Beam noise; ``-v``
brings Beam's logs back. Each command runs in a fresh process, as a user runs it."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest

from photosieve.pipelines import quiet
from tests.transforms import samples

# What each noise source printed before (one distinctive piece of each).
NOISE = (
    "apitools not found",
    "bigquery_storage_v1",
    "semi_persistent_directory",
    "Discarding unparseable args",
    "Logging handler created",
    "Worker: ",
)


def _photosieve(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photosieve.pipelines.cli", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("quiet")
    (root / "in").mkdir()
    for seed in range(3):
        (root / "in" / f"img{seed}.png").write_bytes(samples.encode(samples.picture(seed), "PNG"))
    (root / "list.txt").write_text("md5 " + "0" * 32 + "\n")
    return root


def _noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(n in line for n in NOISE)]


@pytest.mark.parametrize(
    "argv", [["--help"], ["audit", "--help"], ["scan", "--help"], ["match", "--help"]]
)
def test_help_prints_nothing_on_stderr(argv):
    result = _photosieve(*argv)
    assert result.returncode == 0 and result.stdout
    assert result.stderr == ""


def test_a_local_run_prints_no_beam_noise(inputs, tmp_path):
    argv = ["audit", "-i", str(inputs / "in"), "-l", str(inputs / "list.txt")]
    result = _photosieve(*argv, "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert _noise(result.stderr) == []
    assert "accounting balanced" in result.stderr  # photosieve's own lines stay


def test_a_multi_process_run_prints_no_worker_noise_and_its_workers_write_privately(
    inputs, tmp_path
):
    output = tmp_path / "out"
    argv = ["scan", "-i", str(inputs / "in"), "-o", str(output), "--num-shards", "2"]
    beam = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    result = _photosieve(*argv, *beam)
    assert result.returncode == 0, result.stderr
    assert _noise(result.stderr) == []
    # The shards are written by the SDK worker processes: they inherit the umask 077.
    shards = sorted((output / "hashes").iterdir())
    assert len(shards) == 2
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in shards} == {0o600}
    assert stat.S_IMODE(os.stat(output / "hashes").st_mode) == 0o700


def test_verbose_brings_beams_logs_back(inputs, tmp_path):
    argv = ["scan", "-i", str(inputs / "in"), "-o", str(tmp_path / "out"), "-v"]
    result = _photosieve(*argv)
    assert result.returncode == 0, result.stderr
    assert "apitools not found" in result.stderr
    assert "INFO apache_beam." in result.stderr


def test_install_drops_only_the_known_noise(caplog):
    quiet.install(verbose=False)
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger().warning("apitools not found, and bigquery client libraries ...")
            logging.getLogger().warning("a real warning")
        assert [r.getMessage() for r in caplog.records] == ["a real warning"]
        assert logging.getLogger("apache_beam").level == logging.WARNING
    finally:
        quiet.install(verbose=True)
    assert logging.getLogger("apache_beam").level == logging.NOTSET


def test_the_local_commands_stay_free_of_beam():
    # photosieve hash / lists / report start fast because they never import Beam; the
    # modules the command line now loads first (quiet, redaction, values) keep it so.
    code = (
        "import sys, pipelines.cli, pipelines.hash_cli, pipelines.lists_cli, pipelines.report_cli;"
        "sys.exit('apache_beam' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=120).returncode == 0
