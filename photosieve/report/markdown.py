"""The report as Markdown: the same facts as the page, for terminals and tickets.

Every value read from the run goes through :func:`photosieve.text.markdown_text`
(``t`` below), so it renders as its text and stays inside its table cell or
list item whatever it holds. The matches are listed per list, and the new
ones under the reason they are new.
"""

from __future__ import annotations

from photosieve import schemas
from photosieve.report.labels import distance_caption, started_label, video_caption
from photosieve.report.model import (
    MAX_LISTED_MATCHES,
    Report,
    list_rows,
    match_cells,
    overview_rows,
)
from photosieve.text import markdown_text

__all__ = ["MARKDOWN_MATCH_COLUMNS", "render_markdown"]

# The Markdown matches table: (header, match_cells key). Entry ids are in the page.
MARKDOWN_MATCH_COLUMNS = (
    ("object", "object"),
    ("how it matched", "how"),
    ("algorithm", "algorithm"),
    ("distance", "distance"),
    ("variant", "variant"),
    ("listed part", "listed part"),
    ("match mode", "mode"),
    ("status", "status"),
    ("labels", "labels"),
)
# New matches listed per reason in the Markdown (the page lists up to MAX_LISTED_MATCHES).
NEW_LISTED = 20


def render_markdown(report: Report) -> str:
    """The report's facts as CommonMark (GFM tables)."""
    t = markdown_text
    run = report.run
    lines = [f"# photosieve audit report: run {t(run.run_id)}", "",
             f"Started {t(started_label(run.summary.started_at))}.", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in overview_rows(report, t)] + [""]
    if report.counts:
        lines += ["## What was read", "", "Indented lines are the parts of the line above them and add up to it.", "",
                  "| | | what it counts |", "|---|---|---|"]
        lines += [f"| {'— ' if c.depth else ''}{t(c.label)} | {c.value} | {t(c.meaning)} |" for c in report.counts]
        lines.append("")
    lines += ["## Lists", "", "| list | role | version | distinct hashes | thresholds |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in list_rows(report, t)] + [""]
    lines += ["## Matches per list and label", ""]
    if report.matches_by_list:
        lines += ["| list | label | matches |", "|---|---|---|"]
        lines += [f"| {t(a)} | {t(b)} | {n} |" for a, b, n in report.matches_by_list]
    else:
        lines.append("No matches.")
    if report.new_matches is not None:
        lines += ["", f"## New since the previous run: {len(report.new_matches)}", ""]
        if not report.new_matches:
            lines.append("None: every match was in the previous run too.")
        for reason, rows in report.new_by_reason_rows:
            lines.append(f"- {len(rows)} {t(reason)}")
            for m in rows[:NEW_LISTED]:
                c = match_cells(m)
                lines.append(f"  - {t(c['object'])}: {t(c['how'])}, list {t(c['list'])}, {t(c['algorithm'])} "
                             f"distance {t(c['distance'])}")
            if len(rows) > NEW_LISTED:
                lines.append(f"  - and {len(rows) - NEW_LISTED} more (see report.html)")
    lines += ["", "## Match distances", ""]
    for algorithm, (values, threshold) in sorted(report.distances.items()):
        lines.append(f"- {t(distance_caption(algorithm, values, threshold, scored=algorithm in report.scored))}")
    videos = [m for m in report.run.matches if m[schemas.ALGORITHM] == schemas.VPDQ]
    if videos:
        lines.append(f"- {t(video_caption(videos))}")
    if not report.distances and not videos:
        lines.append("No distance to show (no match by a similarity hash).")
    lines += ["", "## Errors", ""]
    if report.errors_by_class:
        for name, n, examples in report.errors_by_class:
            lines.append(f"- {t(name)}: {n} error rows (e.g. {t(examples[0][0])}: {t(examples[0][1])})")
    else:
        lines.append("No errors.")
    if len(report.history) > 1:
        lines += ["", "## Runs", "", "| run | started | matches | new |", "|---|---|---|---|"]
        lines += [f"| {t(r)} | {t(started_label(s))} | {n_all} | {n_new} |" for r, s, n_all, n_new in report.history]
    if report.all_rows:
        total = len(report.all_rows)
        lines += ["", f"## Matches: {total} rows" + (f" (first {MAX_LISTED_MATCHES})" if total > MAX_LISTED_MATCHES
                                                      else ""), "",
                  "Matches first, then rows a suppress list silenced and the suppress lists' own hits. "
                  "The variant column is the orientation or part of the object that matched, the listed "
                  "part column the part of the listed image."]
        header = "| " + " | ".join(h for h, _ in MARKDOWN_MATCH_COLUMNS) + " |"
        rule = "|" + "---|" * len(MARKDOWN_MATCH_COLUMNS)
        for name, rows in report.rows_by_list():
            lines += ["", f"### list {t(name)}: {len(rows)} rows", "", header, rule]
            for m in rows:
                c = match_cells(m)
                lines.append("| " + " | ".join(t(c[k]) for _, k in MARKDOWN_MATCH_COLUMNS) + " |")
    return "\n".join(lines) + "\n"
