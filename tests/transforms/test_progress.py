"""progress: DoFns keep running counts in files; the launcher sums them into a bar or a log line."""

from __future__ import annotations

import io
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
    assert list(_files(tmp_path).values()) == [{"objects": 1}]
    clock.now += progress.WRITE_INTERVAL_S / 2
    counts.add(2, 1)  # too soon: kept in memory
    assert list(_files(tmp_path).values()) == [{"objects": 1}]
    clock.now += progress.WRITE_INTERVAL_S
    counts.add(1, 0, size=300)
    assert list(_files(tmp_path).values()) == [{"objects": 4, "errors": 1, "bytes": 300}]
    counts.add(5, 5)
    counts.write()  # the end of a bundle: written whatever the time
    (name,) = _files(tmp_path)
    assert name.endswith(".json")
    assert _files(tmp_path)[name] == {"objects": 9, "errors": 6, "bytes": 300}


def test_an_archive_is_counted_once_when_its_first_member_arrives(tmp_path):
    counts = ProgressFile(str(tmp_path))
    for uri in ("a.zip", "b.tar", "b.tar", "b.tar", "plain.jpg"):
        counts.add(1, container=None if uri == "plain.jpg" else uri)
    counts.add(errors=1, carried=3)  # carried: not hashed, no archive opened
    counts.write()
    assert read_progress(str(tmp_path)) == {"objects": 5, "archives": 2, "carried": 3, "errors": 1}


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


def test_the_progress_line_gives_done_of_total_rate_bytes_errors_and_time_left(tmp_path, clock):
    ProgressFile(str(tmp_path)).add(50, 2, size=20_000_000)
    with ProgressMonitor(str(tmp_path), total=200, interval=3600, stream=io.StringIO()) as monitor:
        clock.now += 10
        line = monitor.line(whole_run=True)
    assert line.startswith("hashed 50 of 200 objects (25%), ")
    assert "5.0 objects/s" in line and "2.0 MB/s" in line and "2 errors" in line
    assert line.endswith("about 30 s left")  # 150 objects left at 5 a second
    unknown_total = ProgressMonitor(str(tmp_path), total=None)
    assert unknown_total.line().startswith("hashed 50 objects, ")
    assert "left" not in unknown_total.line()


def test_live_rates_count_from_the_first_object_hashed_not_the_workers_start(tmp_path, clock):
    counts = ProgressFile(str(tmp_path))
    with ProgressMonitor(str(tmp_path), total=200, interval=3600, stream=io.StringIO()) as monitor:
        clock.now += 60  # the workers start: nothing hashed for a minute
        assert monitor.line().startswith("hashed 0 of 200 objects (0%), 0.0 objects/s")
        counts.add(50, 0, size=1000)
        assert "0.0 objects/s" in monitor.line()  # the first reading: no rate yet
        clock.now += 10
        counts.add(30, 0, size=3000)
        counts.write()
        line = monitor.line()
    # 30 objects in the 10 s since the first reading; 120 left at 3 a second.
    assert "3.0 objects/s" in line and "300 B/s" in line and line.endswith("about 40 s left")
    assert "1.1 objects/s" in monitor.line(whole_run=True)  # 80 in 70 s: the whole run's


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_terminal_the_bar_is_drawn_in_place_and_no_line_is_logged(tmp_path, caplog):
    ProgressFile(str(tmp_path)).add(3, 1)
    stream = _Terminal()
    with caplog.at_level(logging.INFO, logger=progress.__name__):
        with ProgressMonitor(str(tmp_path), total=4, stream=stream, interval=3600) as monitor:
            assert monitor.terminal
    drawn = stream.getvalue()
    assert drawn.startswith("\r[") and drawn.endswith("\x1b[K\n")  # redrawn over, then kept
    assert "3/4 objects 75%" in drawn and "1 error" in drawn
    assert "progress:" not in caplog.text
    assert ProgressMonitor(str(tmp_path), total=4, stream=_Terminal())._interval <= 0.5


def test_a_log_line_during_the_bar_clears_it_first_and_starts_a_line_of_its_own(tmp_path):
    ProgressFile(str(tmp_path)).add(3, 0)
    stream = _Terminal()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with ProgressMonitor(str(tmp_path), total=4, stream=stream, interval=3600) as monitor:
            monitor._draw()
            logging.getLogger("photosieve.test").warning("a warning while hashing")
        logging.getLogger("photosieve.test").warning("after the run")
    finally:
        root.removeHandler(handler)
    drawn = stream.getvalue()
    bar, rest = drawn.split("\r\x1b[K", 1)  # the bar, cleared before the warning
    assert "3/4 objects" in bar and rest.startswith("a warning while hashing\n\r")
    assert rest.endswith("\x1b[K\nafter the run\n")  # the filter is gone after the run
    assert not handler.filters


def test_without_a_terminal_progress_is_logged_and_nothing_drawn(tmp_path, caplog):
    ProgressFile(str(tmp_path)).add(3, 1)
    stream = io.StringIO()  # a file or pipe: isatty() is False
    with caplog.at_level(logging.INFO, logger=progress.__name__):
        with ProgressMonitor(str(tmp_path), total=4, stream=stream, interval=3600) as monitor:
            assert not monitor.terminal
    assert stream.getvalue() == ""
    assert "progress: hashed 3 of 4 objects (75%)" in caplog.text
    assert ProgressMonitor(str(tmp_path), total=4, stream=stream)._interval == 10.0


def test_the_monitor_thread_ends_with_the_block(tmp_path):
    with ProgressMonitor(str(tmp_path), total=1, interval=5, stream=io.StringIO()) as monitor:
        assert monitor._thread.is_alive() and monitor._thread.daemon
    assert not monitor._thread.is_alive()
