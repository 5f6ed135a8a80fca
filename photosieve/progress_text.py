"""The texts of live progress: a log line and a terminal bar, from running counts.

Pure functions of the counts the DoFns keep (:mod:`photosieve.transforms.progress`
sums them): objects hashed, carried, errors, bytes and archives opened,
the total preflight listed, and the seconds the rates are counted over.
Here so that every case (archives, repeat audits, a narrow terminal) is
checked without a pipeline or a clock.

The total is the files preflight listed: those are the objects, unless
``--archives`` opens some of them, so with archives no total or time left
is shown but the archives opened. Carried objects are done without being
hashed: they count towards the total, never towards the rate.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["bar_text", "log_text", "rate_and_left"]

# Characters of the bar itself (the rest of the line is counts).
BAR_WIDTH = 10
# The counts a progress file holds.
OBJECTS = "objects"  # objects hashed by this run (read and hashed, or failed)
ERRORS = "errors"  # objects with an error row (this run's or carried)
BYTES = "bytes"  # bytes of the objects hashed
CARRIED = "carried"  # objects carried from a previous run, unread
ARCHIVES = "archives"  # archives whose members this run hashed


def rate_and_left(
    hashed: int, done: int, total: int | None, elapsed: float
) -> tuple[float, float | None]:
    """Objects hashed per second, and the seconds left at that rate (None: not known).

    ``hashed`` objects were hashed in the last ``elapsed`` seconds.
    ``done`` counts carried objects too (they are done, but took no hashing
    time); what is left is ``total - done`` at the hashing rate.

    >>> rate_and_left(50, 50, 200, 10.0)
    (5.0, 30.0)
    >>> rate_and_left(0, 20, 200, 10.0)  # nothing hashed yet: no rate to go by
    (0.0, None)
    """
    rate = hashed / elapsed if elapsed > 0 else 0.0
    if not total or rate <= 0:
        return rate, None
    return rate, max(total - done, 0) / rate


def _duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 07 min``: time left, as people read it."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


class _State:
    """One reading of the counts, with what follows from them."""

    def __init__(
        self,
        counts: Mapping[str, int],
        total: int | None,
        elapsed: float,
        archives: bool,
        since: Mapping[str, int] | None,
    ):
        since = since or {}
        self.hashed = counts.get(OBJECTS, 0)
        self.carried = counts.get(CARRIED, 0)
        self.errors = counts.get(ERRORS, 0)
        self.size = counts.get(BYTES, 0)
        self.opened = counts.get(ARCHIVES, 0)
        # With --archives the files preflight counted are not the objects.
        self.total = None if archives else total
        self.archives = archives
        self.done = self.hashed + self.carried
        hashed_since = self.hashed - since.get(OBJECTS, 0)
        self.rate, self.left = rate_and_left(hashed_since, self.done, self.total, elapsed)
        if self.left is not None and self.done >= (self.total or 0):
            self.left = None  # finished: nothing is left to time
        size_since = self.size - since.get(BYTES, 0)
        self.byte_rate = size_since / elapsed if elapsed > 0 else 0.0

    @property
    def percent(self) -> float | None:
        return 100.0 * min(self.done, self.total) / self.total if self.total else None


def log_text(
    counts: Mapping[str, int],
    *,
    total: int | None,
    elapsed: float,
    archives: bool = False,
    since: Mapping[str, int] | None = None,
) -> str:
    """The progress line logged without a terminal.

    Rates are of the counts gained in ``elapsed`` seconds: since the start
    (``since`` None) or since the reading ``since``.

    >>> log_text({"objects": 50, "errors": 2, "bytes": 5_000_000}, total=200, elapsed=10)
    'hashed 50 of 200 objects (25%), 5.0 objects/s, 500.0 KB/s, 2 errors, about 30 s left'
    >>> log_text({"objects": 65, "archives": 13}, total=13, elapsed=13, archives=True)
    'hashed 65 objects (13 archives opened), 5.0 objects/s, 0 errors'
    >>> log_text({"objects": 30, "carried": 20}, total=200, elapsed=10)
    'done 50 of 200 objects (25%): 30 hashed, 20 carried; 3.0 objects/s, 0 errors, about 50 s left'
    """
    state = _State(counts, total, elapsed, archives, since)
    if state.archives:
        opened = _plural(state.opened, "archive")
        head = f"hashed {_plural(state.hashed, 'object')} ({opened} opened)"
    elif state.total:
        head = f"{state.done} of {state.total} objects ({state.percent:.0f}%)"
    else:
        head = _plural(state.done, "object")
    if state.carried:
        head = f"done {head}: {state.hashed} hashed, {state.carried} carried;"
    elif not state.archives:
        head = f"hashed {head},"
    else:
        head += ","
    parts = [f"{head} {state.rate:.1f} objects/s"]
    if state.size:
        parts.append(f"{_size(state.byte_rate)}/s")
    parts.append(_plural(state.errors, "error"))
    if state.left is not None:
        parts.append(f"about {_duration(state.left)} left")
    return ", ".join(parts)


def bar_text(
    counts: Mapping[str, int],
    *,
    total: int | None,
    elapsed: float,
    archives: bool = False,
    since: Mapping[str, int] | None = None,
    width: int = 80,
) -> str:
    """The progress bar drawn in a terminal, at most ``width - 1`` characters (no wrap).

    Rates as in :func:`log_text`. Where the numbers leave no room for the
    bar itself, the bar goes and the numbers stay.

    >>> bar_text({"objects": 50, "errors": 2}, total=200, elapsed=10)
    '[##........] 50/200 objects 25% | 5.0 obj/s | 2 errors | 30 s left'
    >>> bar_text({"objects": 65, "archives": 13}, total=13, elapsed=13, archives=True)
    '65 objects (13 archives opened) | 5.0 obj/s | 0 errors'
    """
    state = _State(counts, total, elapsed, archives, since)
    bar = ""
    if state.archives:
        head = f"{_plural(state.hashed, 'object')} ({_plural(state.opened, 'archive')} opened)"
    elif state.total:
        filled = int(BAR_WIDTH * min(state.done, state.total) / state.total)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
        head = f"{state.done}/{state.total} objects {state.percent:.0f}%"
    else:
        head = _plural(state.done, "object")
    if state.carried:
        head += f" ({state.hashed} hashed, {state.carried} carried)"
    parts = [head, f"{state.rate:.1f} obj/s"]
    if state.size:
        parts.append(f"{_size(state.byte_rate)}/s")
    parts.append(_plural(state.errors, "error"))
    if state.left is not None:
        parts.append(f"{_duration(state.left)} left")
    text = " | ".join(parts)
    if len(bar) + len(text) < width:  # the bar only where the numbers fit beside it
        text = bar + text
    return text[: max(width - 1, 1)]


def _plural(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"
