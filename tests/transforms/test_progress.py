"""progress: DoFns keep running counts in files, the launcher sums them into a progress line."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from photosieve.transforms import progress
from photosieve.transforms.progress import ProgressFile, ProgressMonitor, read_progress


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=clock))  # this module's only
    return clock


def _files(directory) -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in directory.iterdir()}


def test_counts_are_written_at_most_once_an_interval(tmp_path, clock):
    counts = ProgressFile(str(tmp_path))
    counts.add(1, 0)  # the first add writes at once
    assert list(_files(tmp_path).values()) == [{"objects": 1, "errors": 0}]
    clock.now += progress.WRITE_INTERVAL_S / 2
    counts.add(2, 1)  # too soon: kept in memory
    assert list(_files(tmp_path).values()) == [{"objects": 1, "errors": 0}]
    clock.now += progress.WRITE_INTERVAL_S
    counts.add(1, 0)
    assert list(_files(tmp_path).values()) == [{"objects": 4, "errors": 1}]
    counts.add(5, 5)
    counts.write()  # the end of a bundle: written whatever the time
    (name,) = _files(tmp_path)
    assert name.endswith(".json") and _files(tmp_path)[name] == {"objects": 9, "errors": 6}


def test_a_progress_file_that_cannot_be_written_fails_nothing(tmp_path, caplog):
    counts = ProgressFile(str(tmp_path / "gone"))
    with caplog.at_level(logging.DEBUG, logger=progress.__name__):
        counts.add(1, 0)
        counts.write()
    assert "cannot write progress file" in caplog.text


def test_the_launcher_sums_every_instance_and_skips_what_is_not_a_count(tmp_path):
    for objects, errors in ((3, 1), (4, 0)):
        ProgressFile(str(tmp_path)).add(objects, errors)
    (tmp_path / "half-written.json").write_text('{"objects": ')
    (tmp_path / "x.json.tmp").write_text('{"objects": 100}')
    assert read_progress(str(tmp_path)) == {"objects": 7, "errors": 1}
    assert read_progress(str(tmp_path / "no-such-directory")) == {}


def test_the_progress_line_gives_done_of_total_rate_and_errors(tmp_path, clock):
    ProgressFile(str(tmp_path)).add(50, 2)
    with ProgressMonitor(str(tmp_path), total=200, interval=3600) as monitor:
        clock.now += 10
        assert monitor.line() == "hashed 50 of 200 (25%) objects, 5.0 objects/s, 2 errors"
    unknown_total = ProgressMonitor(str(tmp_path), total=None)
    assert unknown_total.line().startswith("hashed 50 objects, ")


def test_the_monitor_thread_ends_with_the_block(tmp_path):
    with ProgressMonitor(str(tmp_path), total=1, interval=5) as monitor:
        assert monitor._thread.is_alive() and monitor._thread.daemon
    assert not monitor._thread.is_alive()
