"""A readable report of an audit run: what it shows, computed once from the run's files.

The renderers are :mod:`photosieve.report.html` (one self-contained page)
and :mod:`photosieve.report.markdown` (the same facts as text); the words
for how each match was found are :mod:`photosieve.report.labels`.

The report is for the people who act on an audit: how much was scanned,
what failed and why (with example paths), what matched which list and label,
what is new since the previous run, and two plots people would rather look
at than read: each algorithm's match distances against its threshold (matches
near the threshold deserve a closer look) and matches over the chain of runs.

It reads only the run's ``summary.json`` and its ``matches`` and ``errors``
tables; the ``hashes`` table (the big one) is never loaded. It never embeds
or links image content: paths are text, the page loads nothing (inline CSS
and SVG, no scripts, no external URLs).

Every value the report shows (names, list names, ids, labels, reasons,
messages, run ids) was written by someone else and is shown as text, never
as markup: the HTML page escapes it with :func:`html.escape` after
:func:`photosieve.text.printable` (no control or bidi character reorders
it), and the Markdown with :func:`photosieve.text.markdown_text`, so a file
named ``<img src=x onerror=...>`` or ``a|b`` renders as that name.

Run chains: a run's ``summary.json`` may name the runs it built on under
``previous`` (a list of output directories, latest last); the report walks
that chain for the history plot. In runs made with ``audit --previous``
(their summary has an ``incremental`` section) a match row's ``new_reason``
column says why it is new (``new object``, ``new list``, ``new list
entry``...; see :mod:`photosieve.incremental`) or is null when the previous
run had it; otherwise rows are compared with the previous run's matches.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.ledger import Ledger
from photosieve.report.labels import (
    ORIENTATION_LABELS,
    how_matched,
    is_exact,
    listed_part,
    started_label,
    status_label,
)
from photosieve.summary import SUMMARY_FILE, Summary, read_summary

# Examples of each error class shown in the report (paths and messages only).
ERROR_EXAMPLES = 5
# Match rows listed in full in the report; beyond this, counts only.
MAX_LISTED_MATCHES = 200
# Runs shown in the history plot, most recent last.
MAX_HISTORY = 24
NEW_REASON = schemas.NEW_REASON
# Why a row is new when the run did not classify its own rows (no --previous).
NOT_IN_PREVIOUS = "not in the previous run"
# Rows listed in this order of status: what to act on first.
_STATUS_ORDER = {schemas.STATUS_MATCH: 0, schemas.STATUS_SUPPRESSED: 1, schemas.STATUS_SUPPRESS: 2}

# Row identity of a match across runs: the same object, frame and query
# orientation matching the same list entry.
_MATCH_KEY = (
    schemas.URI, schemas.FRAME, schemas.ALGORITHM, schemas.ORIENTATION,
    schemas.LIST_NAME, schemas.MATCHED_HASH,
)


@dataclass
class RunData:
    """What the report reads of one run."""

    path: str
    summary: Summary
    matches: list[dict]
    errors: list[dict]

    @property
    def run_id(self) -> str:
        return self.summary.run_id or os.path.basename(self.path.rstrip("/"))

    @property
    def previous_paths(self) -> list[str]:
        return list(self.summary.previous or ())


def _read_table(run_dir: str, name: str) -> list[dict]:
    path = os.path.join(run_dir, name)
    if not os.path.exists(path):
        return []
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    if not files:
        return []
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default").to_pylist()


def load_run(run_dir: str, *, errors: bool = True) -> RunData:
    """Read a run's summary and its ``matches`` and (unless ``errors`` is false) ``errors`` tables."""
    summary = read_summary(run_dir, lambda path: open(path, "rb"), join=os.path.join)
    return RunData(run_dir, summary, _read_table(run_dir, schemas.MATCHES),
                   _read_table(run_dir, schemas.ERRORS) if errors else [])


@dataclass(frozen=True)
class Count:
    """One line of the report's counts: a number, and what it counts in words.

    ``depth`` 1 is a part of the line above it: the parts add up to it.
    """

    label: str
    value: int
    meaning: str
    depth: int = 0


@dataclass
class Report:
    """Everything the renderers show, computed once."""

    run: RunData
    previous: RunData | None
    errors_by_class: list[tuple[str, int, list[tuple[str, str]]]]
    matches_by_list: list[tuple[str, str, int]]  # (list, label, rows with status match)
    status_counts: dict[str, int]
    new_matches: list[dict] | None  # None when there is nothing to compare with
    new_by_reason: dict[str, int]
    distances: dict[str, tuple[list[float], float]]  # algorithm -> (distances or scores, threshold)
    history: list[tuple[str, str, int, int]]  # (run id, started, matches, new)
    counts: list[Count] = field(default_factory=list)
    # Algorithms whose plotted values are a mode's combined scores, not distances.
    scored: set[str] = field(default_factory=set)
    # Rows of every status (matches first, then suppressed, then benign hits), by list and object.
    all_rows: list[dict] = field(default_factory=list)

    @property
    def new_by_reason_rows(self) -> list[tuple[str, list[dict]]]:
        """The new matches grouped by why they are new, reasons in name order."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for m in self.new_matches or ():
            groups[m.get(NEW_REASON) or NOT_IN_PREVIOUS].append(m)
        return sorted(groups.items())

    def rows_by_list(self, limit: int = MAX_LISTED_MATCHES) -> list[tuple[str, list[dict]]]:
        """The first ``limit`` rows of :attr:`all_rows` grouped by list (lists with matches first)."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for m in self.all_rows[:limit]:
            groups[m[schemas.LIST_NAME]].append(m)
        return list(groups.items())


def _key(row: dict) -> tuple:
    return tuple(row.get(k) for k in _MATCH_KEY)


def _new_matches(run: RunData, previous: RunData | None) -> tuple[list[dict] | None, dict[str, int]]:
    current = [m for m in run.matches if m.get(schemas.STATUS) == schemas.STATUS_MATCH]
    if run.summary.incremental:  # the run classified its own rows
        new = [m for m in current if m.get(NEW_REASON)]
        return new, dict(Counter(m[NEW_REASON] for m in new))
    if previous is None:
        return None, {}
    seen = {_key(m) for m in previous.matches}
    new = [m for m in current if _key(m) not in seen]
    return new, ({NOT_IN_PREVIOUS: len(new)} if new else {})


def _history(run: RunData, loaded: list[RunData], limit: int = MAX_HISTORY) -> list[RunData]:
    """The run and its predecessors, oldest first (follows ``previous`` links).

    ``loaded``: runs already read, not read again; the others are read
    without their errors tables (the history counts matches only).
    """
    by_path = {os.path.abspath(r.path): r for r in loaded}
    chain, seen, current = [run], {os.path.abspath(run.path)}, run
    while len(chain) < limit and current.previous_paths:
        path = current.previous_paths[-1]
        if os.path.abspath(path) in seen or not os.path.exists(os.path.join(path, SUMMARY_FILE)):
            break
        seen.add(os.path.abspath(path))
        current = by_path.get(os.path.abspath(path)) or load_run(path, errors=False)
        chain.append(current)
    return chain[::-1]


def build_report(run_dir: str, previous_dir: str | None = None) -> Report:
    """Compute the report of ``run_dir``, compared with ``previous_dir`` (or the run's own chain)."""
    run = load_run(run_dir)
    if previous_dir is None and run.previous_paths and os.path.exists(os.path.join(run.previous_paths[-1], SUMMARY_FILE)):
        previous_dir = run.previous_paths[-1]
    previous = load_run(previous_dir) if previous_dir else None

    by_class: dict[str, list[dict]] = defaultdict(list)
    for row in run.errors:
        by_class[row[schemas.ERROR]].append(row)
    errors_by_class = sorted(
        ((name, len(rows), [(r[schemas.URI], r.get(schemas.MESSAGE) or "") for r in rows[:ERROR_EXAMPLES]])
         for name, rows in by_class.items()),
        key=lambda item: (-item[1], item[0]),
    )

    matched = [m for m in run.matches if m.get(schemas.STATUS) == schemas.STATUS_MATCH]
    per_label: Counter = Counter()
    for m in matched:
        for label in m.get(schemas.LABELS) or ["(no label)"]:
            per_label[(m[schemas.LIST_NAME], label)] += 1
    matches_by_list = sorted(((lst, lab, n) for (lst, lab), n in per_label.items()), key=lambda t: (t[0], -t[2], t[1]))

    distances: dict[str, tuple[list[float], float]] = {}
    scored: set[str] = set()
    for m in run.matches:
        if m.get(schemas.STATUS) == schemas.STATUS_SUPPRESS or is_exact(m[schemas.ALGORITHM]):
            continue  # digests match at distance 0 or not at all: nothing to plot
        if m[schemas.ALGORITHM] == schemas.VPDQ:
            continue  # video pairs are decided by shares of frames: video_caption says so
        values, threshold = distances.get(m[schemas.ALGORITHM], ([], 0.0))
        # A --match-mode row compared its score with the threshold (the
        # distance itself, or the second opinion's combined score).
        score = m.get(schemas.SCORE)
        values.append(float(m[schemas.DISTANCE] if score is None else score))
        if score is not None and score != m[schemas.DISTANCE]:
            scored.add(m[schemas.ALGORITHM])
        distances[m[schemas.ALGORITHM]] = (values, max(threshold, float(m[schemas.THRESHOLD])))

    new, new_by_reason = _new_matches(run, previous)
    chain = _history(run, [previous] if previous is not None else [])
    if previous is not None and all(os.path.abspath(r.path) != os.path.abspath(previous.path) for r in chain):
        chain = [previous] + chain
    history = []
    for i, item in enumerate(chain):
        count = sum(1 for m in item.matches if m.get(schemas.STATUS) == schemas.STATUS_MATCH)
        fresh, _ = _new_matches(item, chain[i - 1] if i else None)
        history.append((item.run_id, item.summary.started_at[:19], count,
                        count if fresh is None else len(fresh)))

    every = sorted(run.matches, key=lambda m: (_STATUS_ORDER.get(m.get(schemas.STATUS), 3), m[schemas.LIST_NAME],
                                               m[schemas.URI], m[schemas.DISTANCE]))
    return Report(
        run=run,
        previous=previous,
        errors_by_class=errors_by_class,
        matches_by_list=matches_by_list,
        status_counts=dict(Counter(m.get(schemas.STATUS) for m in run.matches)),
        new_matches=new,
        new_by_reason=new_by_reason,
        distances=distances,
        history=history,
        counts=object_counts(run),
        scored=scored,
        all_rows=every,
    )




def object_counts(run: RunData) -> list[Count]:
    """What the run read, as numbers that add up: read = hashed cleanly + with an error row (+ rest).

    The ledger's ``objects.hashed`` counts every object the hasher
    finished, failed ones too, so "listed / hashed" alone reads as "all
    fine" when most objects are error rows; the split comes from the
    ``errors`` table (distinct objects with a row made in this run).
    """
    counts = Ledger(run.summary.counts)
    if not run.summary.counts:
        return []
    if run.summary.command == "match":  # matched stored hashes: read no object
        return [Count("hash rows read", counts.count(keys.HASHES_READ),
                      "stored hash rows of an earlier run, matched again; no object was read")]
    read = counts.count(keys.OBJECTS_READ)
    own = [r for r in run.errors if not r.get(schemas.CARRIED_FROM)]
    failed_by_uri: dict[str, set[str]] = defaultdict(set)
    for row in own:
        failed_by_uri[row[schemas.URI]].update(row.get(schemas.ALGORITHMS) or ())
    requested = set(counts.counts(keys.UNITS))
    errored = len(failed_by_uri)
    partly = sum(1 for failed in failed_by_uri.values() if requested - failed)
    clean = max(read - errored, 0)
    rows = [Count("files listed", counts.count(keys.FILES_LISTED),
                  "files the inputs named, once each (an archive is one file)")]
    archives = counts.count(keys.FILES_ARCHIVES)
    if archives:
        rows.append(Count("archives opened", archives,
                          f"holding {_objects(counts.count(keys.FILES_ARCHIVE_OBJECTS))}, each read as its own object",
                          1))
    skipped = counts.total(keys.SKIPPED)
    if skipped:
        kinds = ", ".join(f"{n} {kind}" for where in sorted(counts.counts(keys.SKIPPED))
                          for kind, n in sorted(counts.counts((*keys.SKIPPED, where)).items()))
        rows.append(Count("skipped", skipped, f"not images or not readable as files, not read ({kinds})"))
    rows.append(Count("objects read", read, "files and archive members read in this run (= the two lines below)"))
    rows.append(Count("hashed, no error", clean, "every requested algorithm hashed", 1))
    rows.append(Count(
        "with an error row", errored,
        "see Errors" + (f"; {partly} of them still have some hashes (e.g. md5 of a file pdq cannot decode)"
                        if partly else ""), 1))
    if errored > read:  # never expected: the accounting check says what went wrong
        rows.append(Count("unexplained", errored - read,
                          "more objects with error rows than objects read: see accounting", 1))
    carried = counts.count(keys.OBJECTS_CARRIED)
    if carried:
        rows.append(Count("carried, unread", carried,
                          "unchanged since the previous run: its rows were copied, the files not read again"))
    return rows


# -- rows both renderers show ------------------------------------------------------

def overview_rows(report: Report, quote) -> list[tuple[str, str]]:
    """(label, value) rows; ``quote`` makes each value read from the run safe for the renderer."""
    q = quote
    s = report.run.summary
    accounting = s.accounting
    rows = [
        ("run", f"{q(report.run.run_id)}, started {q(started_label(s.started_at))}"),
        ("command", q(s.command)),
        ("wall time", f"{_number(s.wall_seconds):.1f} s"),
        ("hash rows", q(s.tables.get(schemas.HASHES, "?"))),
        ("error rows", q(s.tables.get(schemas.ERRORS, len(report.run.errors)))
         + " (one per failure: an object may have more than one)"),
        ("match rows", ", ".join(f"{n} {q(k)}" for k, n in sorted(report.status_counts.items(), key=str)) or "0"),
        ("accounting", "balanced: every object listed is in the hashes or errors table, or skipped"
         if accounting.balanced else f"NOT balanced: {q(list(accounting.problems))}"),
    ]
    incremental = s.incremental
    if incremental:
        files = incremental.get("files", {})
        rows.append(("files new / changed / unchanged / gone",
                     " / ".join(q(files.get(k, 0)) for k in ("new", "changed", "unchanged", "gone"))))
        reread = ", ".join(f"{q(n)} {q(why)}" for why, n in sorted(incremental.get("reread", {}).items()))
        rows.append(("files read / carried", f"{q(incremental.get('read', 0))} / {q(incremental.get('carried', 0))}"
                     + (f" (unchanged but read again: {reread})" if reread else "")))
    if report.previous is not None:
        rows.append(("compared with", f"{q(report.previous.run_id)}, started "
                     f"{q(started_label(report.previous.summary.started_at))}"))
    return rows


def _format(value: Any, quote) -> str:
    """A number as ``:g`` formats it; anything else quoted as text."""
    return f"{value:g}" if isinstance(value, (int, float)) else quote(value)


def _number(value: Any) -> float:
    """A summary's number, or 0 for anything else (the summary is read, not trusted)."""
    return float(value) if isinstance(value, (int, float)) else 0.0


def list_rows(report: Report, quote) -> list[tuple[str, str, str, str, str]]:
    """(name, role, version, distinct hashes, thresholds) of each list the run matched."""
    q = quote
    return [
        (q(l.get("name")), q(l.get("role", "")), q(str(l.get("version", ""))[:12]),
         q(f"{l.get('videos')} videos" if l.get("kind") == "video" else l.get("distinct", "")),
         ", ".join(f"{q(a)} {_format(t, q)}" for a, t in sorted((l.get("thresholds") or {}).items(), key=str)))
        for l in report.run.summary.lists or ()
    ]


def match_cells(m: dict) -> dict[str, str]:
    """One match row as the text of each report column (raw values, not yet quoted).

    ``how`` is the plain-language label; ``variant``, ``listed part``,
    ``mode`` and ``status`` keep the row's own values beside it, so a
    reader can check the words against the columns.
    """
    if m[schemas.ALGORITHM] == schemas.VPDQ:
        return _video_cells(m)
    frame = m.get(schemas.FRAME)
    stamp = m.get(schemas.FRAME_TIMESTAMP)
    distance = float(m[schemas.DISTANCE])
    score = m.get(schemas.SCORE)
    shown = f"{distance:g}" + (f" (score {score:g})" if score is not None and score != distance else "")
    return {
        "object": m[schemas.URI] + (f" (at {stamp:g} s, frame {frame})" if stamp is not None
                                    else f" (frame {frame})" if frame not in (None, 0) else ""),
        "how": how_matched(m) + ("; a frame of a video" if stamp is not None else ""),
        "list": m[schemas.LIST_NAME],
        "algorithm": m[schemas.ALGORITHM],
        "distance": "0 (exact)" if is_exact(m[schemas.ALGORITHM]) else f"{shown} of {float(m[schemas.THRESHOLD]):g}",
        "variant": ", ".join(v for v in (m.get(schemas.ORIENTATION), m.get(schemas.VARIANT)) if v) or "",
        "listed part": listed_part(m.get(schemas.LIST_VARIANT)),
        "mode": m.get(schemas.MATCH_MODE) or "plain",
        "status": status_label(m),
        "entries": ", ".join(m.get(schemas.ENTRY_IDS) or []),
        "labels": ", ".join(m.get(schemas.LABELS) or []),
    }


def _video_cells(m: dict) -> dict[str, str]:
    """A (video, listed video) row: which shares of frames matched, and where, in words."""
    start, end = m.get(schemas.SEGMENT_START), m.get(schemas.SEGMENT_END)
    listed_start, listed_end = m.get(schemas.LIST_SEGMENT_START), m.get(schemas.LIST_SEGMENT_END)
    query, listed = m.get(schemas.QUERY_MATCH_PERCENT) or 0.0, m.get(schemas.LIST_MATCH_PERCENT) or 0.0
    part = "the whole listed video" if listed >= 99.95 else f"{listed:.0f}% of the listed video's frames"
    orientation = m.get(schemas.ORIENTATION)
    turned = f"{ORIENTATION_LABELS.get(orientation, orientation)}; " if orientation not in (None, "", "original") else ""
    return {
        "object": f"{m[schemas.URI]} ({_seconds(start)}-{_seconds(end)} s)",
        "how": f"{turned}video: {query:.0f}% of its frames match {part} "
               f"({_seconds(listed_start)}-{_seconds(listed_end)} s of it)",
        "list": m[schemas.LIST_NAME],
        "algorithm": m[schemas.ALGORITHM],
        "distance": f"{query:.0f}% of frames (needs {float(m[schemas.THRESHOLD]):g}%), closest frame "
                    f"{float(m[schemas.DISTANCE]):g} bits",
        "variant": orientation or "",
        "listed part": f"{_seconds(listed_start)}-{_seconds(listed_end)} s",
        "mode": m.get(schemas.MATCH_MODE) or schemas.VPDQ,
        "status": status_label(m),
        "entries": ", ".join(m.get(schemas.ENTRY_IDS) or []),
        "labels": ", ".join(m.get(schemas.LABELS) or []),
    }


def _seconds(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, (int, float)) else "?"


def _objects(n: int) -> str:
    return f"{n} object" if n == 1 else f"{n} objects"
