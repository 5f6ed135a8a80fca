"""Progress of a local run: objects done of total, rate and errors, while it runs.

Beam reports metrics only when a job ends on the local runners, so for
local runs the hashing DoFn also keeps a small JSON file of its running
counts in a directory of the local machine (:class:`ProgressFile`), and the
launcher sums those files every few seconds (:class:`ProgressMonitor`).
Both sides are on the same machine, which is why this is only switched on
for the DirectRunner; on a cluster, use the runner's own UI (the same counts
are Beam counters in the ``photosieve`` namespace).

Counts may briefly run ahead of the truth when a bundle is retried; the
summary's counts come from the ledger, never from these files.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections import Counter

__all__ = ["ProgressFile", "ProgressMonitor", "read_progress"]

_LOG = logging.getLogger(__name__)

# A DoFn rewrites its file at most this often (seconds): cheap next to
# hashing, fresh enough for a human watching.
WRITE_INTERVAL_S = 1.0
# The launcher logs a progress line this often (seconds).
DEFAULT_REPORT_INTERVAL_S = 10.0
OBJECTS = "objects"
ERRORS = "errors"


class ProgressFile:
    """The running counts of one DoFn instance, kept in ``directory/<random>.json``."""

    def __init__(self, directory: str):
        self._path = os.path.join(directory, f"{uuid.uuid4().hex}.json")
        self._counts: Counter = Counter()
        self._written = 0.0

    def add(self, objects: int, errors: int) -> None:
        self._counts[OBJECTS] += objects
        self._counts[ERRORS] += errors
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
        except (OSError, ValueError):
            continue  # replaced or removed while listing
    return total


class ProgressMonitor:
    """Logs ``done of total, rate, errors`` every ``interval`` seconds in a daemon thread.

    Use as a context manager around the pipeline run::

        with ProgressMonitor(directory, total=5000):
            pipeline.run().wait_until_finish()
    """

    def __init__(
        self, directory: str, *, total: int | None, interval: float = DEFAULT_REPORT_INTERVAL_S
    ):
        self._directory = directory
        self._total = total
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="photosieve-progress", daemon=True)
        self._started = 0.0

    def __enter__(self) -> ProgressMonitor:  # noqa: PYI034 - a final class; no Self needed
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval)

    def line(self) -> str:
        """The current progress line."""
        counts = read_progress(self._directory)
        done, errors = counts[OBJECTS], counts[ERRORS]
        elapsed = max(time.monotonic() - self._started, 1e-9)
        of_total = f" of {self._total} ({100.0 * done / self._total:.0f}%)" if self._total else ""
        return f"hashed {done}{of_total} objects, {done / elapsed:.1f} objects/s, {errors} errors"

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            _LOG.info("progress: %s", self.line())
