"""summary.json's one schema (photosieve.summary): written and read back, old summaries too."""

from __future__ import annotations

import io
import json
import pickle

import pytest

from photosieve.errors import ConfigError
from photosieve.summary import SUMMARY_FILE, Accounting, RunSettings, Summary, read_summary


def _summary(**changes) -> Summary:
    fields = dict(
        command="audit",
        run_id="r1",
        started_at="2026-12-02T00:00:00+00:00",
        wall_seconds=1.5,
        output="/out",
        accounting=Accounting(False, ("1 objects read but 0 hashed",)),
        tables={"hashes": 2},
        counts={"objects": {"read": 1}},
        settings=RunSettings(archives=True, quality_cutoff=40, match_mode="robust"),
        options={"input": ["x"]},
        pipeline_options=("--runner=FnApiRunner",),
        lists=({"name": "k", "version": "v"},),
        previous=("/prev",),
        hash_settings={"pdq": {"version": 1}},
        hash_limits={"max_bytes": 1},
    )
    fields.update(changes)
    return Summary(**fields)


def test_a_summary_round_trips_through_json():
    summary = _summary()
    content = json.loads(json.dumps(summary.to_json()))
    assert Summary.from_json(content) == summary
    pickle.loads(pickle.dumps(summary))


def test_sections_a_job_does_not_have_are_left_out():
    content = _summary(command="scan", lists=None, previous=None, hash_settings=None).to_json()
    assert "lists" not in content and "previous" not in content and "incremental" not in content
    assert list(content)[:3] == ["command", "run_id", "started_at"]


def test_an_old_summary_is_read_through_its_flag_names():
    old = {"command": "audit", "run_id": "r0", "options": {"archives": True, "quality_cutoff": 40,
           "match_mode": None, "algorithms": "pdq-dihedral,md5"}, "previous": "/older"}  # fmt: skip
    summary = Summary.from_json(old)
    assert summary.settings == RunSettings(archives=True, quality_cutoff=40, dihedral=True)
    assert summary.previous == ("/older",) and summary.lists is None


@pytest.mark.parametrize(
    "content,message",
    [
        ([], "expected a JSON object, got list"),
        ({"run_id": "r"}, "no 'command'"),
        ({"command": "audit", "counts": []}, "'counts' should be Mapping"),
        ({"command": "audit", "wall_seconds": "1"}, "'wall_seconds' should be a number"),
    ],
)
def test_a_malformed_summary_is_named(content, message):
    with pytest.raises(ConfigError, match=message):
        Summary.from_json(content, "x/summary.json")


def test_read_summary_opens_the_file_through_the_given_opener(tmp_path):
    opened = []

    def open_fn(path):
        opened.append(path)
        return io.BytesIO(json.dumps(_summary().to_json()).encode())

    assert read_summary("gs://b/run", open_fn).run_id == "r1"
    assert opened == [f"gs://b/run/{SUMMARY_FILE}"]
    with pytest.raises(ConfigError, match=f"no readable {SUMMARY_FILE} in"):
        read_summary(str(tmp_path), lambda path: open(path, "rb"))
    (tmp_path / SUMMARY_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match=f"no readable {SUMMARY_FILE}"):
        read_summary(str(tmp_path), lambda path: open(path, "rb"))


def test_list_entries_are_found_by_name():
    assert _summary().list_entries == {"k": {"name": "k", "version": "v"}}
    assert _summary(lists=None).list_entries == {}


def test_the_join_and_its_reason_round_trip_and_older_summaries_lack_the_reason():
    settings = RunSettings(strategy="shuffle", strategy_reason="auto: over the budget")
    summary = Summary("audit", "r1", settings=settings)
    assert Summary.from_json(json.loads(json.dumps(summary.to_json()))).settings == settings
    before = {"command": "audit", "run_id": "r0", "settings": {"strategy": "side-input"}}
    read = Summary.from_json(before).settings
    assert read.strategy == "side-input" and read.strategy_reason is None
    legacy = Summary.from_json({"command": "audit", "run_id": "r0", "options": {"strategy": "shuffle"}})
    assert legacy.settings.strategy == "shuffle" and legacy.settings.strategy_reason is None
