"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external URLs.

The page is read on a laptop (1280 px) and on a phone (390 px): the body
is at most 1200 px wide, long paths wrap anywhere, every table sits in a
box that scrolls sideways on its own, the plots scale to the width, and
below 700 px the tables with column headers turn into one card per row (each cell
labelled with its column) so nothing needs a sideways scroll there.

Every value read from the run is text (:func:`photosieve.report.plots.svg_text`:
:func:`photosieve.text.printable`, then :func:`html.escape`).
"""

from __future__ import annotations

from typing import Any

from photosieve import schemas
from photosieve.report.labels import distance_caption, started_label, video_caption
from photosieve.report.model import (
    ERROR_EXAMPLES,
    MAX_LISTED_MATCHES,
    Report,
    list_rows,
    match_cells,
    overview_rows,
)
from photosieve.report.plots import distance_histogram_svg, history_svg, svg_text

__all__ = ["CSS", "MATCH_COLUMNS", "render_html"]

# The matches table: (header, match_cells key, cell class).
MATCH_COLUMNS = (
    ("object", "object", "path"),
    ("how it matched", "how", "how"),
    ("list", "list", ""),
    ("hash", "algorithm", ""),
    ("distance", "distance", "num"),
    ("variant", "variant", "mono"),
    ("listed part", "listed part", ""),
    ("mode", "mode", ""),
    ("status", "status", ""),
    ("entries", "entries", "ids"),
    ("labels", "labels", "ids"),
)
# The new-matches table: the columns that say what it is and why it is new.
NEW_COLUMNS = ("object", "how it matched", "list", "hash", "distance", "status", "labels")

CSS = "\n".join([
    "*{box-sizing:border-box}",
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;color:#222;padding:1em 1.5em}",
    "h1{font-size:1.45em;overflow-wrap:anywhere}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}",
    "h3{font-size:1em;margin:1.2em 0 .3em}",
    ".scroll{overflow-x:auto;max-width:100%}",
    "table{border-collapse:collapse;margin:.5em 0}",
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}",
    "th{background:#f3f5f7}.warn{color:#c0392b;font-weight:bold}",
    # Paths and variant boxes break anywhere (they have no spaces); words do not.
    "td.path,.mono,td.mono{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}",
    "td.ids{min-width:7em;overflow-wrap:anywhere}td.path{min-width:16em}td.how{min-width:11em}td.num,th{white-space:nowrap}td.mono{min-width:9em}",
    "table.counts td:nth-child(2){text-align:right;font-variant-numeric:tabular-nums}",
    "table.counts tr.part td:first-child{padding-left:1.8em}",
    "table.errors td:last-child{white-space:pre-line;font-family:ui-monospace,monospace;font-size:12px}",
    ".plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;max-width:100%;flex:1 1 420px}",
    "figure svg{display:block;width:100%;max-width:520px;height:auto}",
    "figcaption{font-size:13px;color:#444;max-width:520px}",
    "p.caption{color:#444;max-width:60em}",
    # A phone: tables with headers as one card per row, each cell labelled.
    "@media (max-width:700px){",
    "body{padding:.6em .8em}",
    "table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}",
    "table.cards thead{display:none}",
    "table.cards tr{border:1px solid #ccc;margin:.6em 0;padding:.2em 0}",
    "table.cards td{border:none;padding:1px 8px;min-width:0}",
    "table.cards td::before{content:attr(data-label) ': ';font-weight:600;"
    "font-family:system-ui,sans-serif;font-size:13px}",
    "}",
])


def _cell(value: Any) -> str:
    # A list is one value per line (the errors table shows them pre-line).
    return "\n".join(svg_text(v) for v in value) if isinstance(value, list) else svg_text(value)


def _table(headers, rows, cls: str = "", cell_classes=None, row_classes=None) -> str:
    """A table in a box that scrolls sideways; each cell carries its header as ``data-label``."""
    head = "".join(f"<th>{svg_text(h)}</th>" for h in headers) if any(headers) else ""
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            attrs = f' data-label="{svg_text(headers[j])}"' if headers[j] else ""
            if cell_classes and cell_classes[j]:
                attrs += f' class="{cell_classes[j]}"'
            cells.append(f"<td{attrs}>{_cell(value)}</td>")
        tr_class = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{tr_class}>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table class="{cls}">{thead}<tbody>{"".join(body)}</tbody></table></div>'


def _matches_table(rows: list[dict], headers, cls: str) -> str:
    """Match rows in the ``MATCH_COLUMNS`` named by ``headers``; a card per row on a phone."""
    picked = [c for c in MATCH_COLUMNS if c[0] in headers]
    cells = [match_cells(m) for m in rows]
    return _table([c[0] for c in picked], [[c[k] for _, k, _ in picked] for c in cells],
                  f"{cls} cards", [c[2] for c in picked])


def render_html(report: Report) -> str:
    """A self-contained page: inline CSS and SVG, no scripts, no external resources."""
    e = svg_text
    run = report.run
    started = started_label(run.summary.started_at)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>photosieve report {e(run.run_id)}</title><style>", CSS, "</style></head><body>",
        f"<h1>photosieve audit report: run {e(run.run_id)}</h1>",
        f"<p>Started {e(started)}. Paths and hashes only: this report contains and links no image content.</p>",
        "<h2>Overview</h2>", _table(("", ""), overview_rows(report, str), "overview"),
    ]
    if report.counts:
        parts += [
            "<h2>What was read</h2>",
            "<p class='caption'>Indented lines are the parts of the line above them and add up to it.</p>",
            _table(("", "", "what it counts"),
                   [(c.label, c.value, c.meaning) for c in report.counts], "counts",
                   row_classes=["part" if c.depth else "" for c in report.counts]),
        ]
    parts += [
        "<h2>Lists</h2>", _table(("list", "role", "version", "distinct hashes", "thresholds"),
                                 list_rows(report, str), "lists cards"),
        "<h2>Matches per list and label</h2>",
        _table(("list", "label", "matches"), report.matches_by_list, "by-label")
        if report.matches_by_list else "<p>No matches.</p>",
    ]
    if report.new_matches is not None:
        parts.append(f"<h2>New since the previous run ({len(report.new_matches)})</h2>")
        if not report.new_matches:
            parts.append("<p>None: every match was in the previous run too.</p>")
        shown = 0
        for reason, rows in report.new_by_reason_rows:
            parts.append(f"<h3>{e(reason)}: {len(rows)}</h3>")
            parts.append(_matches_table(rows[:max(MAX_LISTED_MATCHES - shown, 0)], NEW_COLUMNS, "new"))
            shown += len(rows)
    parts.append("<h2>Plots</h2><div class='plots'>")
    for algorithm, (values, threshold) in sorted(report.distances.items()):
        parts.append(f"<figure>{distance_histogram_svg(algorithm, values, threshold)}"
                     f"<figcaption>{e(distance_caption(algorithm, values, threshold, scored=algorithm in report.scored))}"
                     "</figcaption></figure>")
    videos = [m for m in report.run.matches if m[schemas.ALGORITHM] == schemas.VPDQ]
    if videos:
        parts.append(f"<figure><figcaption>{e(video_caption(videos))}</figcaption></figure>")
    if report.history:
        more = "; the runs table below names each in full" if len(report.history) > 1 else ""
        parts.append(f"<figure>{history_svg(report.history)}<figcaption>Matches (status match) in each "
                     f"run, labelled by start date and the end of the run id{more}.</figcaption></figure>")
    parts.append("</div>")
    if len(report.history) > 1:
        parts += ["<h2>Runs</h2>", _table(("run", "started", "matches", "new"),
                                          [(r, started_label(s), n, new) for r, s, n, new in report.history],
                                          "runs cards")]
    parts.append("<h2>Errors</h2>")
    if report.errors_by_class:
        rows = [(name, n, [f"{uri}: {msg}" for uri, msg in examples]) for name, n, examples in report.errors_by_class]
        parts.append(_table(("class", "error rows", f"examples (first {ERROR_EXAMPLES})"), rows, "errors cards"))
    else:
        parts.append("<p>No errors.</p>")
    if report.all_rows:
        total = len(report.all_rows)
        parts.append(f"<h2>Matches ({total} rows" + (f", first {MAX_LISTED_MATCHES}" if total > MAX_LISTED_MATCHES
                                                      else "") + ")</h2>")
        parts.append("<p class='caption'>One row per object and listed hash, matches first, then rows a "
                     "suppress list silenced and the suppress lists' own (benign) hits. <strong>How it matched</strong> "
                     "says what the object is compared with the listed image; <strong>variant</strong> is the "
                     "orientation or part of the object that matched, <strong>listed part</strong> the part of the "
                     "listed image; distance 0 of a border or crop hit means that part is the listed "
                     "image, not the whole object.</p>")
        for name, rows in report.rows_by_list():
            parts.append(f"<h3>list {e(name)}: {len(rows)} rows</h3>")
            parts.append(_matches_table(rows, [c[0] for c in MATCH_COLUMNS], "matches"))
    parts.append("</body></html>")
    return "\n".join(parts)
