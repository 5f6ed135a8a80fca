"""progress_text: the progress line and bar from running counts (archives, repeat audits, rates)."""

from __future__ import annotations

import doctest

import pytest

from photosieve import progress_text as progress


def test_the_docstring_examples_hold():
    assert doctest.testmod(progress).failed == 0


def test_with_archives_the_line_counts_objects_and_archives_opened_not_a_share_of_files():
    # 13 files listed (the archives), 65 objects inside them: not "65 of 13 (500%)".
    counts = {"objects": 65, "archives": 13, "errors": 1}
    line = progress.log_text(counts, total=13, elapsed=13.0, archives=True)
    assert line.startswith("hashed 65 objects (13 archives opened), 5.0 objects/s")
    assert "%" not in line and " of " not in line and "left" not in line
    bar = progress.bar_text(counts, total=13, elapsed=13.0, archives=True)
    assert bar.startswith("65 objects (13 archives opened) | 5.0 obj/s") and "%" not in bar
    one = progress.log_text({"objects": 1, "archives": 1}, total=1, elapsed=1, archives=True)
    assert one.startswith("hashed 1 object (1 archive opened)")


def test_a_repeat_audit_shows_carried_and_hashed_apart_and_times_what_is_left_by_hashing():
    counts = {"objects": 30, "carried": 120, "errors": 0}
    line = progress.log_text(counts, total=200, elapsed=10.0)
    assert line.startswith("done 150 of 200 objects (75%): 30 hashed, 120 carried; ")
    assert "3.0 objects/s" in line  # the rate of hashing: carrying reads no image
    assert line.endswith("about 17 s left")  # 50 left at 3 a second
    bar = progress.bar_text(counts, total=200, elapsed=10.0, width=120)
    assert "150/200 objects 75% (30 hashed, 120 carried)" in bar and "17 s left" in bar
    assert bar.startswith("[#######...] 150/200")
    narrow = progress.bar_text(counts, total=200, elapsed=10.0, width=80)
    # Too narrow for both: the numbers stay, the bar goes.
    assert narrow.startswith("150/200 objects") and narrow.endswith("17 s left")


@pytest.mark.parametrize(
    ("hashed", "done", "total", "elapsed", "expected"),
    [
        (50, 50, 200, 10.0, (5.0, 30.0)),
        (30, 150, 200, 10.0, (3.0, 50 / 3)),
        (0, 0, 200, 10.0, (0.0, None)),  # no rate yet: no time left
        (10, 10, None, 5.0, (2.0, None)),  # no total: no time left
        (10, 12, 10, 5.0, (2.0, 0.0)),  # past the total (a retried bundle): never negative
        (3, 3, 10, 0.0, (0.0, None)),
    ],
)
def test_rate_and_time_left(hashed, done, total, elapsed, expected):
    assert progress.rate_and_left(hashed, done, total, elapsed) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.6, "5 s"), (59.4, "59 s"), (65, "1 min 05 s"), (3600 + 7 * 60 + 3, "1 h 07 min")],
)
def test_time_left_reads_as_people_say_it(seconds, text):
    assert progress._duration(seconds) == text


def test_the_bar_never_wraps_a_narrow_terminal():
    counts = {"objects": 5, "errors": 1, "bytes": 10_000}
    assert len(progress.bar_text(counts, total=10, elapsed=1.0, width=30)) == 29
    assert progress.bar_text(counts, total=10, elapsed=1.0, width=200).startswith("[#####.....]")
    assert "| 10.0 KB/s |" in progress.bar_text(counts, total=10, elapsed=1.0, width=200)
    # An 80-column terminal holds the bar and every number of a plain run.
    wide = {"objects": 129, "errors": 0, "bytes": 9_800_000}
    line = progress.bar_text(wide, total=400, elapsed=1.5, width=80)
    assert line.startswith("[###.......] 129/400 objects 32% |") and line.endswith(" s left")
    done = progress.bar_text({"objects": 400}, total=400, elapsed=4.0)
    assert "100%" in done and "left" not in done
