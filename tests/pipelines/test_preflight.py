"""Preflight (pipelines.preflight): the output and the previous runs are checked before any work."""

from __future__ import annotations

import os

import pytest

from photosieve.errors import ConfigError
from photosieve.pipelines import cli, preflight, running
from photosieve.summary import SUMMARY_FILE
from photosieve.transforms import hashing as hashing_transforms


def _never_called(self, *args, **kwargs):
    raise AssertionError("hashing started although the output cannot be written")


@pytest.mark.parametrize("output", ["prev/new", "./prev/new/", "prev/./a/../new"])
def test_an_output_inside_a_previous_run_is_refused(tmp_path, monkeypatch, output):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"--output .* is inside --previous"):
        preflight.load_previous([str(tmp_path / "prev")], output)


def test_an_output_that_is_a_file_fails_before_any_hashing(images, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _never_called)
    target = tmp_path / "file"
    target.write_text("not a directory")
    assert cli.main(["scan", "-i", str(images), "-o", str(target)]) == 2
    assert "is not a directory" in caplog.text
    # A directory that cannot be made: its parent is a regular file.
    assert cli.main(["scan", "-i", str(images), "-o", str(target / "sub")]) == 2
    assert "cannot be written" in caplog.text
    assert target.read_text() == "not a directory"


def test_a_read_only_output_fails_before_any_hashing(images, tmp_path, caplog, monkeypatch):
    # Tests run as root, whom a read-only mode does not stop: the filesystem refuses instead.
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _never_called)
    output = tmp_path / "read-only"

    def refuse(path, *args, **kwargs):
        if path.startswith(str(output)):
            raise PermissionError(13, "Permission denied", path)
        return original(path, *args, **kwargs)

    original = running.FileSystems.create
    monkeypatch.setattr(running.FileSystems, "create", refuse)
    assert cli.main(["scan", "-i", str(images), "-o", str(output)]) == 2
    assert "cannot be written" in caplog.text and "Permission denied" in caplog.text
    assert os.listdir(output) == []  # no probe left behind


def test_a_directory_without_summary_is_an_incomplete_run(tmp_path):
    (tmp_path / "hashes").mkdir()
    (tmp_path / "hashes" / "part-00000-of-00001.parquet").write_bytes(b"PAR1")
    with pytest.raises(ConfigError, match=r"holds an incomplete run \(no summary.json\)"):
        preflight.prepare_output(str(tmp_path), overwrite=False)
    (tmp_path / SUMMARY_FILE).write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run "):
        preflight.prepare_output(str(tmp_path), overwrite=False)
