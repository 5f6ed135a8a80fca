"""``photosieve report``: an HTML page and a Markdown summary of an audit run.

    photosieve report out/run-2026-11-24 --previous out/run-2026-11-17

writes ``report.html`` and ``report.md`` into the run directory (or where
``--html``/``--markdown`` say) and prints the Markdown. No Beam needed.
Names and messages are shown as text (see :mod:`photosieve.text`): no
control character or escape sequence from a file name reaches the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys

from photosieve.pipelines import help_text
from photosieve.report.html import render_html
from photosieve.report.markdown import render_markdown
from photosieve.report.model import build_report
from photosieve.summary import SUMMARY_FILE
from photosieve.text import printable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve report",
        description="Write an HTML page and a Markdown summary of a run (no Beam).",
        **help_text.parser_options("report"),
    )
    parser.add_argument("run", metavar="RUN_DIR", help="An audit's output directory (holds summary.json).")
    parser.add_argument("-p", "--previous", metavar="RUN_DIR", default=None,
                        help="Compare with this earlier run. Default: the run's own previous run, if it names one.")
    parser.add_argument("--html", default=None, help="Where to write the HTML page. Default: RUN_DIR/report.html.")
    parser.add_argument("--markdown", default=None, help="Where to write the Markdown. Default: RUN_DIR/report.md.")
    parser.add_argument("-q", "--quiet", action="store_true", help="Do not print the Markdown. Default: print it.")
    return parser


def _private(path: str, flags: int) -> int:
    """Create report files 0600, as the run's own outputs: they name the matched paths."""
    return os.open(path, flags, 0o600)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for path in filter(None, (args.run, args.previous)):
        if not os.path.exists(os.path.join(path, SUMMARY_FILE)):
            # summary.json is written last: without it a directory is no run, or an unfinished one.
            parser.error(f"{path} is not a finished run (no {SUMMARY_FILE}: incomplete, or not a run)")
    report = build_report(args.run, args.previous)
    html_path = args.html or os.path.join(args.run, "report.html")
    md_path = args.markdown or os.path.join(args.run, "report.md")
    markdown = render_markdown(report)
    with open(html_path, "w", encoding="utf-8", opener=_private) as handle:
        handle.write(render_html(report))
    with open(md_path, "w", encoding="utf-8", opener=_private) as handle:
        handle.write(markdown)
    if not args.quiet:
        # The Markdown already shows every value through markdown_text; printing
        # it through printable() too keeps the terminal safe whatever a
        # future line interpolates.
        sys.stdout.write(printable(markdown, newlines=True))
    print(f"wrote {printable(html_path)} and {printable(md_path)}", file=sys.stderr)
    return 0
