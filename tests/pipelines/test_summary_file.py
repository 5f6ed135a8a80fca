"""summary.json's writer and reader on Beam filesystems (pipelines.summary_file)."""

from __future__ import annotations

import json
import os

import pytest

from photosieve.errors import ConfigError
from photosieve.pipelines import summary_file
from photosieve.summary import SUMMARY_FILE, Accounting, RunSettings, Summary


def test_the_summary_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    path = str(tmp_path / SUMMARY_FILE)
    summary_file.write_json(path, {"run": 1})

    def fail(sources, destinations):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(summary_file.FileSystems, "rename", fail)
    with pytest.raises(OSError, match="No space"):
        summary_file.write_json(path, {"run": 2})
    assert json.loads((tmp_path / SUMMARY_FILE).read_text()) == {"run": 1}
    assert os.listdir(tmp_path) == [SUMMARY_FILE]  # the partial file is gone


def test_a_summary_written_is_read_back_as_the_same_value(tmp_path):
    summary = Summary(
        command="audit",
        run_id="r1",
        accounting=Accounting(True, ()),
        settings=RunSettings(archives=True, quality_cutoff=40),
        lists=({"name": "k", "version": "v"},),
        previous=(),
        hash_settings={"pdq": {"version": 1}},
    )
    summary_file.write_summary(str(tmp_path), summary)
    assert summary_file.read_run_summary(str(tmp_path)) == summary
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())["settings"]["archives"] is True


def test_a_missing_or_broken_summary_is_named(tmp_path):
    with pytest.raises(ConfigError, match=f"no readable {SUMMARY_FILE}"):
        summary_file.read_run_summary(str(tmp_path))
    (tmp_path / SUMMARY_FILE).write_text('{"run_id": "r"}')
    with pytest.raises(ConfigError, match="not a photosieve summary"):
        summary_file.read_run_summary(str(tmp_path))
    assert os.listdir(tmp_path) == [SUMMARY_FILE]
