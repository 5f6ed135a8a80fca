"""The ``photosieve`` command (pipelines.cli): one subcommand per module, usage errors exit 2."""

from __future__ import annotations

import importlib
import re
import importlib.metadata
import platform
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


@pytest.mark.parametrize(
    "command", ["audit", "scan", "match", "hash", "lists", "report", "configs"]
)
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


def _versions(out: str) -> dict[str, str]:
    """``NAME VERSION [...]`` lines -> {NAME: VERSION}."""
    lines = [line.rsplit(" (", 1)[0] for line in out.splitlines() if line.strip()]
    return dict(line.rsplit(" ", 1) for line in lines)


@pytest.mark.parametrize("argv", [["--version"], ["audit", "--version"], ["hash", "--version"]])
def test_version_prints_photosieve_beam_and_python(argv, capsys):
    assert cli.main(argv) == 0
    versions = _versions(capsys.readouterr().out)
    assert versions["photosieve"] == importlib.metadata.version("photosieve")
    assert versions["Apache Beam"] == importlib.metadata.version("apache-beam")
    assert versions["Python"] == platform.python_version()


def test_version_after_a_double_dash_is_a_file_name_not_the_flag():
    assert not cli._asks_version(["hash", "--", "--version"])
    assert cli._asks_version(["scan", "--version", "--"])


def test_version_and_configs_do_not_import_beam():
    """The fast commands stay fast: --version reads metadata, configs lists files, no Beam."""
    code = (
        "import sys; from photosieve.pipelines import cli; "
        "cli.main(['--version']); cli.main(['configs']); "
        "assert 'apache_beam' not in sys.modules, 'imported Beam'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Apache Beam " in done.stdout


def test_the_top_level_help_describes_lists_as_check_and_build(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  lists +check and build known-hash lists", out, flags=re.M)
    assert "photosieve --version" in out and "configs" in out


def _entry(argv: list[str], *, setup: str = "") -> subprocess.CompletedProcess:
    """Run :func:`cli.entry` in a fresh interpreter, output piped (block-buffered)."""
    code = f"{setup}\nfrom photosieve.pipelines.cli import entry\nentry({argv!r})"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_finished_command_exits_with_its_status_even_if_teardown_would_abort():
    """A run that finished reports success, whatever the interpreter's teardown does.

    Beam leaves gRPC threads that can abort the teardown (status -6). Here the
    abort is planted as an exit handler: the status and the piped output must
    still be the command's own.
    """
    done = _entry(["--version"], setup="import atexit, os\natexit.register(os.abort)")
    assert done.returncode == 0, done.stderr
    assert _versions(done.stdout)["photosieve"] == importlib.metadata.version("photosieve")


@pytest.mark.parametrize(
    ("argv", "status", "stream", "text"),
    [
        (["audit", "--help"], 0, "stdout", "usage: photosieve audit"),  # argparse exits 0
        (["audit", "--no-such-flag-at-all", "-o", "x"], 2, "stderr", "usage:"),
        (["no-such-command"], 2, "stderr", "unknown command"),
    ],
)
def test_the_console_script_keeps_every_status_and_message(argv, status, stream, text):
    done = _entry(argv)
    assert done.returncode == status, done.stderr
    assert text in getattr(done, stream)
