"""Progress of a local run: objects done of total, bytes, rate, time left and errors, while it runs.

Beam reports metrics only when a job ends on the local runners, so for
local runs the hashing and carrying DoFns also keep a small JSON file of
their running counts in a directory of the local machine
(:class:`ProgressFile`), and the launcher sums those files a few times a
second (:class:`ProgressMonitor`). Both sides are on the same machine,
which is why this is only switched on for the DirectRunner; on a cluster,
use the runner's own UI (the same counts are Beam counters in the
``photosieve`` namespace).

In a terminal the monitor redraws one bar in place on stderr; otherwise (a
file, a pipe, a cluster's log) it logs a line every ten seconds. The total
counts objects: preflight lists files, which are the objects unless
``--archives`` opens some of them, so with archives the total is not known
and the line says how many archives were opened instead of a percentage.
Objects a repeat audit carries are counted apart from those it hashes (and
give no rate: carrying reads no image). The texts themselves are
:mod:`photosieve.progress_text`'s, pure functions of the counts.

Counts may briefly run ahead of the truth when a bundle is retried; the
summary's counts come from the ledger, never from these files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from typing import TextIO

from photosieve.progress_text import (
    ARCHIVES,
    BYTES,
    CARRIED,
    ERRORS,
    OBJECTS,
    bar_text,
    log_text,
)

__all__ = ["ProgressFile", "ProgressMonitor", "read_progress"]

_LOG = logging.getLogger(__name__)

# A DoFn rewrites its file at most this often (seconds): cheap next to
# hashing, fresh enough for a human watching.
WRITE_INTERVAL_S = 1.0
# Without a terminal, the launcher logs a progress line this often (seconds).
DEFAULT_REPORT_INTERVAL_S = 10.0
# In a terminal, the bar is redrawn this often (seconds): a few times a second.
BAR_INTERVAL_S = 0.25
# Narrower terminals are taken for unsized ones (a pty reporting 0 columns).
MIN_COLUMNS = 40


class ProgressFile:
    """The running counts of one DoFn instance, kept in ``directory/<random>.json``."""

    def __init__(self, directory: str):
        self._path = os.path.join(directory, f"{uuid.uuid4().hex}.json")
        self._counts: Counter = Counter()
        self._written = 0.0
        self._container: str | None = None

    def add(
        self,
        objects: int = 0,
        errors: int = 0,
        *,
        size: int = 0,
        carried: int = 0,
        container: str | None = None,
    ) -> None:
        """Count objects hashed (``size`` bytes), failed or carried.

        ``container``: the archive an object hashed was a member of. An
        archive's members are read in one go and hashed in order by the same
        instance, so an archive is counted when its first member arrives.
        """
        for key, count in ((OBJECTS, objects), (ERRORS, errors), (BYTES, size), (CARRIED, carried)):
            if count:  # a count never added stays out of the file
                self._counts[key] += count
        if container is not None and container != self._container:
            self._container = container
            self._counts[ARCHIVES] += 1
        if time.monotonic() - self._written >= WRITE_INTERVAL_S:
            self.write()

    def write(self) -> None:
        """Replace the file atomically, so a reader never sees half of it."""
        temporary = f"{self._path}.tmp"
        try:
            with open(temporary, "w") as handle:
                json.dump(self._counts, handle)
            os.replace(temporary, self._path)
        except OSError as exc:  # progress is best effort; never fail the work for it
            _LOG.debug("cannot write progress file %s: %s", self._path, exc)
        self._written = time.monotonic()


def read_progress(directory: str) -> Counter:
    """The sum of every progress file in ``directory``."""
    total: Counter = Counter()
    try:
        names = os.listdir(directory)
    except OSError:
        return total
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                total.update(json.load(handle))
        except (OSError, ValueError, TypeError):
            continue  # replaced or removed while listing
    return total


class ProgressMonitor:
    """Shows the progress in a daemon thread: a bar in a terminal, else a log line every 10 s.

    Use as a context manager around the pipeline run::

        with ProgressMonitor(directory, total=5000):
            pipeline.run().wait_until_finish()

    Args:
        directory: where the DoFns' progress files are.
        total: objects expected (files preflight listed), or None.
        archives: ``--archives`` is on (the total then counts files, not objects).
        stream: where the bar goes (default: stderr); a bar only when it is a terminal.
        interval: seconds between two lines or redraws (default: by the choice above).
    """

    def __init__(
        self,
        directory: str,
        *,
        total: int | None,
        archives: bool = False,
        stream: TextIO | None = None,
        interval: float | None = None,
    ):
        self._directory = directory
        self._total = total
        self._archives = archives
        self._stream = stream if stream is not None else sys.stderr
        self.terminal = _is_terminal(self._stream)
        default = BAR_INTERVAL_S if self.terminal else DEFAULT_REPORT_INTERVAL_S
        self._interval = default if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="photosieve-progress", daemon=True)
        self._started = 0.0
        # The first reading with an object hashed, and when: live rates count
        # from there, so the workers' start-up does not inflate the time left.
        self._first: tuple[float, Counter] | None = None
        self._lock = threading.Lock()
        self._drawn = False  # the bar is on the terminal's last line
        self._handlers: list[logging.Handler] = []

    def __enter__(self) -> ProgressMonitor:  # noqa: PYI034 - a final class; no Self needed
        self._started = time.monotonic()
        if self.terminal:
            # A log line written to the bar's terminal first clears the bar, so
            # it starts a line of its own; the next redraw puts the bar below it.
            self._handlers = [
                handler
                for handler in logging.getLogger().handlers
                if getattr(handler, "stream", None) is self._stream
            ]
            for handler in self._handlers:
                handler.addFilter(self._clear_for_log)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self._interval, 1.0))
        # The last state: rates over the whole run.
        if self.terminal:
            for handler in self._handlers:
                handler.removeFilter(self._clear_for_log)
            self._draw(whole_run=True)
            self._write("\n")  # the bar's last state stays; what follows starts a line
        else:
            _LOG.info("progress: %s", self.line(whole_run=True))

    def _reading(self, whole_run: bool) -> dict:
        """The counts now, and what the rates are counted over (log_text's keywords)."""
        counts = read_progress(self._directory)
        now = time.monotonic()
        if self._first is None and counts.get(OBJECTS, 0):
            self._first = (now, counts)
        if whole_run or self._first is None:
            return {"counts": counts, "elapsed": max(now - self._started, 1e-9), "since": None}
        when, first = self._first
        return {"counts": counts, "elapsed": now - when, "since": first}

    def line(self, *, whole_run: bool = False) -> str:
        """The current progress line (as logged)."""
        reading = self._reading(whole_run)
        return log_text(total=self._total, archives=self._archives, **reading)

    def bar(self, *, whole_run: bool = False) -> str:
        """The current progress bar (as drawn in a terminal)."""
        reading = self._reading(whole_run)
        return bar_text(
            total=self._total, archives=self._archives, width=_columns(self._stream), **reading
        )

    def _draw(self, *, whole_run: bool = False) -> None:
        # \r back to the line's start, the bar, then clear what a longer one left.
        text = f"\r{self.bar(whole_run=whole_run)}\x1b[K"
        with self._lock:
            self._write(text)
            self._drawn = True

    def _clear_for_log(self, record: logging.LogRecord) -> bool:
        """A logging filter that lets every record through, clearing the bar first."""
        with self._lock:
            if self._drawn:
                self._write("\r\x1b[K")
                self._drawn = False
        return True

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed stream: progress is best effort
            pass

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            if self.terminal:
                self._draw()
            else:
                _LOG.info("progress: %s", self.line())


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` draws on (stdout may be a pipe meanwhile)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    # A terminal may report no size (a pty nobody sized): $COLUMNS, else 80.
    if columns >= MIN_COLUMNS:
        return columns
    return max(shutil.get_terminal_size().columns, MIN_COLUMNS)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
