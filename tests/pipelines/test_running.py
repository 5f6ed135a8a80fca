"""Running a job (pipelines.running): the completion mark, private outputs, credentials kept out of summary.json."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import sys

from photosieve.pipelines import cli, report_cli, running, scan
from photosieve.pipelines.closing import parse_block
from photosieve.summary import SUMMARY_FILE
from photosieve.transforms import hashing as hashing_transforms

AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0LWF6dXJlLWtleQ==;EndpointSuffix=core.windows.net"


def _fail_hashing(self, *args, **kwargs):
    raise RuntimeError("disk on fire")


def _modes(output) -> dict[str, int]:
    return {
        os.path.relpath(os.path.join(top, name), output): stat.S_IMODE(
            os.stat(os.path.join(top, name)).st_mode
        )
        for top, dirs, files in os.walk(output)
        for name in dirs + files
    } | {".": stat.S_IMODE(os.stat(output).st_mode)}


def test_a_failing_pipeline_leaves_no_summary_and_says_the_run_is_incomplete(
    images, tmp_path, caplog, capsys, monkeypatch
):
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _fail_hashing)
    output = tmp_path / "out"
    assert cli.main(["scan", "-i", str(images), "-o", str(output)]) == 1
    assert not (output / SUMMARY_FILE).exists()
    assert "disk on fire" in caplog.text and "is incomplete (no summary.json)" in caplog.text
    # On stdout too, where a user reads the end of a run: not "finished", and why.
    out = capsys.readouterr().out
    block = parse_block(out[out.index("photosieve scan") :])
    assert block[""].startswith("photosieve scan did NOT finish: run ")
    assert block[""].endswith(" is incomplete") and "disk on fire" in block["why"]
    assert block["output"].startswith(f"{output} holds no {SUMMARY_FILE}")
    assert "finished" not in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_when_stderr_is_a_terminal_and_log_lines_otherwise(
    images, tmp_path, caplog, monkeypatch
):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with caplog.at_level(logging.INFO):
        assert cli.main(["scan", "-i", str(images), "-o", str(tmp_path / "tty")]) == 0
    drawn = terminal.getvalue()
    assert drawn.startswith("\r") and drawn.endswith("\x1b[K\n")
    assert "2/2 objects 100%" in drawn.rsplit("\r", 1)[-1]  # the last state stays on screen
    assert not [r for r in caplog.records if r.getMessage().startswith("progress:")]
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a file, a pipe, a cluster's log
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert cli.main(["scan", "-i", str(images), "-o", str(tmp_path / "log")]) == 0
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress:")]
    assert line.startswith("progress: hashed 2 of 2 objects (100%), ")
    assert sys.stderr.getvalue() == ""  # nothing drawn


def test_outputs_are_private_by_default_and_shared_on_request(images, tmp_path):
    previous = os.umask(0o022)
    try:
        private, shared = tmp_path / "private", tmp_path / "shared"
        assert cli.main(["scan", "-i", str(images), "-o", str(private)]) == 0
        assert (
            cli.main(["scan", "-i", str(images), "-o", str(shared), "--output-mode", "shared"]) == 0
        )
        assert os.umask(0o022) == 0o022  # restored after the run
    finally:
        os.umask(previous)
    modes = _modes(private)
    assert {name for name in modes} >= {".", "hashes", "errors", SUMMARY_FILE}
    for name, mode in modes.items():
        expected = 0o700 if os.path.isdir(private / name) else 0o600
        assert mode == expected, name
    assert _modes(shared)["."] == 0o755 and _modes(shared)[SUMMARY_FILE] == 0o644


def test_the_report_of_a_run_is_private_too(images, tmp_path):
    output, lists = tmp_path / "out", tmp_path / "k.txt"
    lists.write_text("md5 " + "0" * 32 + "\n")
    previous = os.umask(0o022)
    try:
        assert cli.main(["audit", "-i", str(images), "-l", str(lists), "-o", str(output)]) == 0
        assert report_cli.main([str(output), "--quiet"]) == 0
    finally:
        os.umask(previous)
    assert _modes(output)["report.md"] == 0o600 and _modes(output)["report.html"] == 0o600


def test_an_azure_connection_string_is_not_written_to_the_summary(images, tmp_path):
    output = tmp_path / "out"
    argv = ["scan", "-i", str(images), "-o", str(output), f"--azure_connection_string={AZURE}"]
    assert cli.main([*argv, "--s3_endpoint_url", "https://user:hunter2@s3.example.com"]) == 0
    text = (output / SUMMARY_FILE).read_text()
    assert "c2VjcmV0LWF6dXJlLWtleQ" not in text and "hunter2" not in text
    options = json.loads(text)["pipeline_options"]
    assert "--azure_connection_string=<redacted>" in options
    assert "https://user:<redacted>@s3.example.com" in options


def test_passwords_in_the_summary_options_are_hidden(tmp_path):
    context = running.RunContext("scan", "r", 0, "https://u:pw@host/out")
    config = scan.run(["-i", "https://u:pw@host/in/*", "-o", "https://u:pw@host/out"])
    summary = running.build_summary(context, config, {}, [], 0.0).to_json()
    assert "pw" not in json.dumps({k: summary[k] for k in ("options", "output")}).replace(
        "<redacted>", ""
    )
    assert summary["options"]["input"] == ["https://u:<redacted>@host/in/*"]
