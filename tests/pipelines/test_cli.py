"""The ``photosieve`` command (pipelines.cli): one subcommand per module, usage errors exit 2."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from photosieve.pipelines import cli


def test_every_subcommand_names_a_module_with_a_main():
    for name, (module, help_) in cli.SUBCOMMANDS.items():
        assert callable(importlib.import_module(module).main), name
        assert help_ and help_ == help_.strip()


def test_no_command_prints_the_usage_and_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: photosieve COMMAND") and all(n in out for n in cli.SUBCOMMANDS)
    assert cli.main(["--help"]) == 0


def test_an_unknown_command_is_named(capsys):
    assert cli.main(["aduit"]) == 2
    assert "unknown command 'aduit'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["audit", "scan", "match", "hash", "lists", "report"])
def test_each_command_has_help(command, capsys):
    try:
        status = cli.main([command, "--help"])
    except SystemExit as exit_info:  # argparse's --help
        status = exit_info.code
    assert status == 0 and "usage: photosieve" in capsys.readouterr().out


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    """``photosieve hash ... | head -1``: no BrokenPipeError traceback."""
    for seed in range(40):
        (tmp_path / f"{seed}.txt").write_bytes(bytes([seed]) * 10)
    command = [sys.executable, "-m", "photosieve.pipelines.cli", "hash", "-a", "md5", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.readline()
        process.stdout.close()
        _, err = process.communicate(timeout=120)
    assert b"Traceback" not in err and process.returncode == 0
