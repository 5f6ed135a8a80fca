"""Generated runs for the report's tests: match and error rows, a summary, and parsers of both renderings."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from markdown_it import MarkdownIt

from photosieve import schemas


def match(uri, distance, *, lst="known", label="cat", algorithm="pdq", status="match", **extra):
    """A match row as the pipeline writes it (columns not given left null)."""
    return {
        schemas.URI: uri, schemas.FRAME: 0, schemas.ALGORITHM: algorithm, schemas.QUERY_HASH: "ab" * 32,
        schemas.ORIENTATION: None, schemas.QUALITY: 90, schemas.LIST_NAME: lst, schemas.LIST_VERSION: "v1",
        schemas.LIST_ROLE: "suppress" if status == schemas.STATUS_SUPPRESS else "match",
        schemas.ENTRY_IDS: ["e1"], schemas.LABELS: [label],
        schemas.MATCHED_HASH: f"{hash(uri) & 0xffff:064x}", schemas.DISTANCE: float(distance),
        schemas.THRESHOLD: 31.0 if algorithm == "pdq" else 0.0, schemas.STATUS: status, schemas.SUPPRESSED_BY: None,
        schemas.RUN_ID: "r", schemas.MATCHED_AT: 0, **extra,
    }


def error(uri, *, reason="truncated", algorithms=("pdq",), carried_from=None, message="image file is truncated"):
    return {schemas.URI: uri, schemas.SIZE: 3, schemas.MTIME: None, schemas.STAGE: "decode",
            schemas.ERROR: reason, schemas.MESSAGE: message, schemas.ALGORITHMS: list(algorithms),
            schemas.RUN_ID: "r", schemas.CARRIED_FROM: carried_from}


def write_run(path: Path, matches, errors=(), previous=None, run_id="r", started="2026-11-01T00:00:00",
              counts=None):
    """A finished run's directory: matches and errors tables and a summary.json."""
    path.mkdir(parents=True)
    for name, rows in ((schemas.MATCHES, matches), (schemas.ERRORS, errors)):
        (path / name).mkdir()
        schema = schemas.TABLES[name]
        pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path / name / "part-0.parquet")
    summary = {
        "run_id": run_id, "command": "audit", "started_at": started, "wall_seconds": 1.5,
        "accounting": {"balanced": True, "problems": []},
        "tables": {"hashes": 10, "errors": len(errors), "matches": len(matches)},
        "counts": counts or {"files": {"listed": 5}, "objects": {"read": 5, "hashed": 5}},
        "lists": [{"name": "known", "role": "match", "version": "f" * 64, "distinct": 3, "thresholds": {"pdq": 31}}],
    }
    if previous:
        summary["previous"] = [str(previous)]
    if any(schemas.NEW_REASON in row for row in matches):  # rows classified by audit --previous
        summary["incremental"] = {"matches": {}}
    (path / "summary.json").write_text(json.dumps(summary))
    return path


class Page(HTMLParser):
    """Tags, text, and the tables of a page: each as its header cells and rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.tables: list[dict] = []  # {"class", "headers", "rows", "labels"}
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self._open: list[str] = []
        self.style = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._open.append(tag)
        if tag == "table":
            self.tables.append({"class": attrs.get("class") or "", "headers": [], "rows": [], "labels": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
            self.tables[-1]["labels"].append([])
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "td" and self.tables:
                self.tables[-1]["labels"][-1].append(attrs.get("data-label"))
        elif tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()
        if tag == "tr" and self.tables and not self.tables[-1]["rows"][-1]:  # the header row
            self.tables[-1]["rows"].pop()
            self.tables[-1]["labels"].pop()
        if tag in ("td", "th") and self._cell is not None and self.tables:
            text = "".join(self._cell)
            table = self.tables[-1]
            if tag == "th":
                table["headers"].append(text)
            else:
                table["rows"][-1].append(text)
            self._cell = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append((tag, "".join(self._heading)))
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._open and self._open[-1] == "style":
            self.style += data

    def table(self, cls: str) -> dict:
        """The first table whose class list holds ``cls``."""
        return next(t for t in self.tables if cls in t["class"].split())

    def tables_of(self, cls: str) -> list[dict]:
        return [t for t in self.tables if cls in t["class"].split()]


def parse_html(page: str) -> Page:
    parsed = Page()
    parsed.feed(page)
    return parsed


def markdown_html(markdown: str) -> str:
    """``markdown`` rendered as a CommonMark viewer with GFM tables would."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
