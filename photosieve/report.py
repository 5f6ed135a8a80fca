"""A readable report of an audit run: one self-contained HTML page and a Markdown summary.

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

import html
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from photosieve import algorithms, schemas
from photosieve import ledger as keys
from photosieve.ledger import Ledger
from photosieve.summary import SUMMARY_FILE, Summary, read_summary
from photosieve.text import markdown_text, printable

# Examples of each error class shown in the report (paths and messages only).
ERROR_EXAMPLES = 5
# Match rows listed in full in the report; beyond this, counts only.
MAX_LISTED_MATCHES = 200
# Runs shown in the history plot, most recent last.
MAX_HISTORY = 24
NEW_REASON = schemas.NEW_REASON

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
    distances: dict[str, tuple[list[float], float]]  # algorithm -> (distances, threshold)
    history: list[tuple[str, str, int, int]]  # (run id, started, matches, new)
    listed_matches: list[dict] = field(default_factory=list)


def _is_exact(algorithm: str) -> bool:
    try:
        return algorithms.get(algorithm).metric is algorithms.Metric.EXACT
    except Exception:  # an algorithm this version does not know: plot it
        return False


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
    return new, ({"not in the previous run": len(new)} if new else {})


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
    for m in run.matches:
        if m.get(schemas.STATUS) == schemas.STATUS_SUPPRESS or _is_exact(m[schemas.ALGORITHM]):
            continue  # digests match at distance 0 or not at all: nothing to plot
        values, threshold = distances.get(m[schemas.ALGORITHM], ([], 0.0))
        values.append(float(m[schemas.DISTANCE]))
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

    listed = sorted(matched, key=lambda m: (m[schemas.LIST_NAME], m[schemas.URI], m[schemas.DISTANCE]))
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
        listed_matches=listed[:MAX_LISTED_MATCHES],
    )


# -- plots (inline SVG) ----------------------------------------------------------

_W, _H, _PAD = 520, 200, 36


def _html_text(value: Any) -> str:
    """A value read from the run as HTML/SVG text (attribute-safe: quotes escaped too)."""
    return html.escape(printable(value))


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        f'role="img" aria-label="{_html_text(title)}"><title>{_html_text(title)}</title>'
        + "".join(body) + "</svg>"
    )


def distance_histogram_svg(algorithm: str, distances: list[float], threshold: float) -> str:
    """Bars of match counts per distance bin, with the threshold as a red line."""
    top = max(threshold, max(distances, default=0.0)) or 1.0
    bins = int(min(top, 40)) + 1 if float(top).is_integer() else 20
    width = top / (bins - 1) if bins > 1 else 1.0
    counts = [0] * bins
    for d in distances:
        counts[min(bins - 1, int(round(d / width)))] += 1
    peak = max(counts) or 1
    plot_w, plot_h = _W - 2 * _PAD, _H - 2 * _PAD
    bar_w = plot_w / bins
    body = [f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#333"/>']
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        body.append(
            f'<rect class="bar" x="{_PAD + i * bar_w + 1:.1f}" y="{_H - _PAD - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#4a7ab5"><title>distance {i * width:g}: {n}</title></rect>'
        )
    x = _PAD + (threshold / width + 0.5) * bar_w if width else _PAD
    body.append(f'<line class="threshold" x1="{x:.1f}" y1="{_PAD - 8}" x2="{x:.1f}" y2="{_H - _PAD}" stroke="#c0392b" stroke-width="2" stroke-dasharray="4 3"/>')
    anchor, dx = ("end", -4) if x > _W / 2 else ("start", 4)
    body.append(f'<text x="{x + dx:.1f}" y="{_PAD}" font-size="11" fill="#c0392b" text-anchor="{anchor}">threshold {threshold:g}</text>')
    body.append(f'<text x="{_PAD}" y="{_H - 18}" font-size="11">0</text>')
    body.append(f'<text x="{_W - _PAD}" y="{_H - 18}" font-size="11" text-anchor="end">{top:g}</text>')
    body.append(f'<text x="{_W / 2:.0f}" y="{_H - 4}" font-size="11" text-anchor="middle">distance of the matched list hash</text>')
    body.append(f'<text x="{_PAD}" y="16" font-size="12" font-weight="bold">{_html_text(algorithm)}: {len(distances)} matches, max {peak} per bin</text>')
    return _svg(body, f"{algorithm} match distances against threshold {threshold:g}")


def history_svg(history: list[tuple[str, str, int, int]]) -> str:
    """Matches per run (grey) with the new ones (orange), oldest run first."""
    peak = max((h[2] for h in history), default=0) or 1
    plot_w, plot_h = _W - 2 * _PAD, _H - 2 * _PAD
    step = plot_w / max(len(history), 1)
    body = [f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#333"/>']
    for i, (run_id, started, total, new) in enumerate(history):
        x = _PAD + i * step + step * 0.15
        w = step * 0.7
        h_total, h_new = plot_h * total / peak, plot_h * new / peak
        body.append(f'<rect class="run" x="{x:.1f}" y="{_H - _PAD - h_total:.1f}" width="{w:.1f}" height="{h_total:.1f}" fill="#b8c4d0"><title>{_html_text(run_id)}: {total} matches</title></rect>')
        body.append(f'<rect class="new" x="{x:.1f}" y="{_H - _PAD - h_new:.1f}" width="{w:.1f}" height="{h_new:.1f}" fill="#e67e22"><title>{_html_text(run_id)}: {new} new</title></rect>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{_H - _PAD + 14}" font-size="10" text-anchor="middle">{_html_text(started[:10] or run_id[:10])}</text>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{_H - _PAD - h_total - 3:.1f}" font-size="10" text-anchor="middle">{total}</text>')
    body.append(f'<text x="{_PAD}" y="16" font-size="12" font-weight="bold">matches per run (orange: new in that run)</text>')
    return _svg(body, "matches over runs")


# -- renderers -------------------------------------------------------------------

def _overview(report: Report, quote) -> list[tuple[str, str]]:
    """(label, value) rows; ``quote`` makes each value read from the run safe for the renderer."""
    q = quote
    s = report.run.summary
    counts = Ledger(s.counts)
    accounting = s.accounting
    listed, hashed = (
        (counts.count(keys.FILES_LISTED), counts.count(keys.OBJECTS_HASHED)) if s.counts else ("?", "?")
    )
    carried = counts.count(keys.OBJECTS_CARRIED)
    rows = [
        ("run", q(report.run.run_id)),
        ("command", q(s.command)),
        ("started", q(s.started_at)),
        ("wall time", f"{_number(s.wall_seconds):.1f} s"),
        # Counters that stayed at zero are absent from a summary that has counts.
        ("objects listed / hashed",
         f"{q(listed)} / {q(hashed)}"
         + (f" (+{q(carried)} carried from previous runs, unread)" if carried else "")),
        ("hash rows", q(s.tables.get(schemas.HASHES, "?"))),
        ("error rows", q(s.tables.get(schemas.ERRORS, len(report.run.errors)))),
        ("match rows", ", ".join(f"{n} {q(k)}" for k, n in sorted(report.status_counts.items(), key=str)) or "0"),
        ("accounting", "balanced" if accounting.balanced else f"NOT balanced: {q(list(accounting.problems))}"),
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
        rows.append(("compared with", q(report.previous.run_id)))
    return rows


def _format(value: Any, quote) -> str:
    """A number as ``:g`` formats it; anything else quoted as text."""
    return f"{value:g}" if isinstance(value, (int, float)) else quote(value)


def _number(value: Any) -> float:
    """A summary's number, or 0 for anything else (the summary is read, not trusted)."""
    return float(value) if isinstance(value, (int, float)) else 0.0


def _lists(report: Report, quote) -> list[tuple[str, str, str, str, str]]:
    q = quote
    return [
        (q(l.get("name")), q(l.get("role", "")), q(str(l.get("version", ""))[:12]), q(l.get("distinct", "")),
         ", ".join(f"{q(a)} {_format(t, q)}" for a, t in sorted((l.get("thresholds") or {}).items(), key=str)))
        for l in report.run.summary.lists or ()
    ]


def render_html(report: Report) -> str:
    """A self-contained page: inline CSS and SVG, no scripts, no external resources."""
    e = _html_text

    def cell(value: Any) -> str:
        # A list is one value per line (the errors table shows them pre-line).
        return "\n".join(e(v) for v in value) if isinstance(value, list) else e(value)

    def table(headers, rows, cls=""):
        head = "".join(f"<th>{e(h)}</th>" for h in headers) if any(headers) else ""
        body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
        thead = f"<thead><tr>{head}</tr></thead>" if head else ""
        return f'<table class="{cls}">{thead}<tbody>{body}</tbody></table>'

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>photosieve report {e(report.run.run_id)}</title><style>",
        "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}",
        "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}",
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}",
        "th{background:#f3f5f7}.plots{display:flex;flex-wrap:wrap;gap:1em}.warn{color:#c0392b;font-weight:bold}",
        "td.path,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}",
        "table.errors td:last-child{white-space:pre-line;font-family:ui-monospace,monospace;font-size:12px}",
        "</style></head><body>",
        f"<h1>photosieve audit report: {e(report.run.run_id)}</h1>",
        "<p>Paths and hashes only: this report contains and links no image content.</p>",
        "<h2>Overview</h2>", table(("", ""), _overview(report, str), "overview"),
        "<h2>Lists</h2>", table(("list", "role", "version", "distinct hashes", "thresholds"), _lists(report, str), "lists"),
        "<h2>Matches per list and label</h2>",
        table(("list", "label", "matches"), report.matches_by_list, "by-label") if report.matches_by_list else "<p>No matches.</p>",
    ]
    if report.new_matches is not None:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(report.new_by_reason.items())) or "none"
        parts += [f"<h2>New since the previous run ({len(report.new_matches)})</h2>", f"<p>{e(reasons)}</p>"]
        if report.new_matches:
            parts.append(table(
                ("object", "list", "algorithm", "distance", "labels", "why new"),
                [(m[schemas.URI], m[schemas.LIST_NAME], m[schemas.ALGORITHM], f"{m[schemas.DISTANCE]:g}",
                  ", ".join(m.get(schemas.LABELS) or []), m.get(NEW_REASON) or "not in the previous run")
                 for m in report.new_matches[:MAX_LISTED_MATCHES]], "new"))
    parts.append("<h2>Plots</h2><div class='plots'>")
    for algorithm, (values, threshold) in sorted(report.distances.items()):
        parts.append(f"<figure>{distance_histogram_svg(algorithm, values, threshold)}</figure>")
    if report.history:
        parts.append(f"<figure>{history_svg(report.history)}</figure>")
    parts.append("</div>")
    parts.append("<h2>Errors</h2>")
    if report.errors_by_class:
        rows = [(name, n, [f"{uri}: {msg}" for uri, msg in examples]) for name, n, examples in report.errors_by_class]
        parts.append(table(("class", "objects", f"examples (first {ERROR_EXAMPLES})"), rows, "errors"))
    else:
        parts.append("<p>No errors.</p>")
    if report.listed_matches:
        parts += [f"<h2>Matches (first {MAX_LISTED_MATCHES})</h2>", table(
            ("object", "frame", "list", "algorithm", "orientation", "distance", "entries", "labels"),
            [(m[schemas.URI], m.get(schemas.FRAME) if m.get(schemas.FRAME) is not None else "", m[schemas.LIST_NAME],
              m[schemas.ALGORITHM], m.get(schemas.ORIENTATION) or "", f"{m[schemas.DISTANCE]:g}",
              ", ".join(m.get(schemas.ENTRY_IDS) or []), ", ".join(m.get(schemas.LABELS) or []))
             for m in report.listed_matches], "matches")]
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(report: Report) -> str:
    """The same facts as text: for terminals and tickets.

    Every value read from the run goes through :func:`markdown_text` (``t``
    below), so it renders as its text and stays inside its table cell or
    list item whatever it holds.
    """
    t = markdown_text
    lines = [f"# photosieve audit report: {t(report.run.run_id)}", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in _overview(report, t)] + [""]
    lines += ["## Matches per list and label", ""]
    if report.matches_by_list:
        lines += ["| list | label | matches |", "|---|---|---|"]
        lines += [f"| {t(a)} | {t(b)} | {n} |" for a, b, n in report.matches_by_list]
    else:
        lines.append("No matches.")
    if report.new_matches is not None:
        lines += ["", f"## New since the previous run: {len(report.new_matches)}", ""]
        for reason, n in sorted(report.new_by_reason.items()):
            lines.append(f"- {n} {t(reason)}")
        for m in report.new_matches[:20]:
            lines.append(f"  - {t(m[schemas.URI])} {t(m[schemas.LIST_NAME])}/{t(m[schemas.ALGORITHM])} "
                         f"distance {m[schemas.DISTANCE]:g}")
    lines += ["", "## Match distances", ""]
    for algorithm, (values, threshold) in sorted(report.distances.items()):
        near = sum(1 for v in values if v > 0.8 * threshold)
        lines.append(f"- {t(algorithm)}: {len(values)} matches, median distance {sorted(values)[len(values) // 2]:g}, "
                     f"{near} in the top fifth below the threshold {threshold:g}")
    lines += ["", "## Errors", ""]
    if report.errors_by_class:
        for name, n, examples in report.errors_by_class:
            lines.append(f"- {t(name)}: {n} (e.g. {t(examples[0][0])}: {t(examples[0][1])})")
    else:
        lines.append("No errors.")
    if len(report.history) > 1:
        lines += ["", "## Runs", "", "| run | started | matches | new |", "|---|---|---|---|"]
        lines += [f"| {t(r)} | {t(s)} | {n_all} | {n_new} |" for r, s, n_all, n_new in report.history]
    return "\n".join(lines) + "\n"
