"""The run report: facts right, plots present, no image content, chains followed."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from photosieve import schemas
from photosieve.pipelines import cli
from photosieve.report.html import render_html
from photosieve.report.markdown import render_markdown
from photosieve.report.model import build_report
from tests.photosieve.report.samples import match, write_run

_match, _write_run = match, write_run


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(page: str) -> list[tuple[str, dict]]:
    collector = _Collector()
    collector.feed(page)
    return collector.tags


ERROR = {schemas.URI: "x/<b>evil</b>.jpg", schemas.SIZE: 3, schemas.MTIME: None, schemas.STAGE: "decode",
         schemas.ERROR: "truncated", schemas.MESSAGE: "JPEG: image file is truncated", schemas.ALGORITHMS: ["pdq"],
         schemas.RUN_ID: "r"}


def test_report_counts_plots_and_no_image_content(tmp_path):
    run = _write_run(tmp_path / "run", [_match("a.jpg", 3), _match("b.jpg", 30, label="dog"),
                                        _match("c.jpg", 0, algorithm="md5")], [ERROR])
    report = build_report(str(run))
    page = render_html(report)
    tags = _parse(page)
    names = [t for t, _ in tags]
    assert "img" not in names and "script" not in names and "a" not in names and "iframe" not in names
    assert not any("src" in attrs or "href" in attrs for _, attrs in tags)
    bars = [a for t, a in tags if t == "rect" and a.get("class") == "bar"]
    assert len(bars) == 32  # one bin per Hamming distance 0..31 (md5 is exact: not plotted)
    assert any(t == "line" and a.get("class") == "threshold" for t, a in tags)
    assert "&lt;b&gt;evil&lt;/b&gt;" in page and "<b>evil" not in page
    assert report.matches_by_list == [("known", "cat", 2), ("known", "dog", 1)]
    assert report.errors_by_class == [("truncated", 1, [("x/<b>evil</b>.jpg", "JPEG: image file is truncated")])]
    assert report.new_matches is None  # nothing to compare with
    markdown = render_markdown(report)
    assert "| known | cat | 2 |" in markdown and "truncated: 1 error rows" in markdown


def test_new_matches_against_an_explicit_previous_run(tmp_path):
    old = _write_run(tmp_path / "old", [_match("a.jpg", 3)], run_id="r1")
    new = _write_run(tmp_path / "new", [_match("a.jpg", 3), _match("b.jpg", 5)], run_id="r2")
    report = build_report(str(new), str(old))
    assert [m[schemas.URI] for m in report.new_matches] == ["b.jpg"]
    assert "New since the previous run (1)" in render_html(report)


def test_new_reason_column_and_history_chain(tmp_path):
    r1 = _write_run(tmp_path / "r1", [_match("a.jpg", 1)], run_id="r1", started="2026-11-01T00:00:00")
    r2 = _write_run(tmp_path / "r2", [_match("a.jpg", 1), _match("b.jpg", 2)], previous=r1, run_id="r2",
                    started="2026-11-08T00:00:00")
    r3 = _write_run(tmp_path / "r3", [_match("a.jpg", 1, new_reason=None), _match("b.jpg", 2, new_reason=None),
                                      _match("c.jpg", 2, new_reason="new object"),
                                      _match("d.jpg", 9, new_reason="new list entry")],
                    previous=r2, run_id="r3", started="2026-11-15T00:00:00")
    report = build_report(str(r3))
    assert report.new_by_reason == {"new object": 1, "new list entry": 1}
    assert [h[0] for h in report.history] == ["r1", "r2", "r3"]
    assert [(h[2], h[3]) for h in report.history] == [(1, 1), (2, 1), (4, 2)]
    tags = _parse(render_html(report))
    assert len([a for t, a in tags if t == "rect" and a.get("class") == "run"]) == 3


def test_cli_writes_both_files_and_rejects_non_runs(tmp_path, capsys):
    run = _write_run(tmp_path / "run", [_match("a.jpg", 3)])
    assert cli.main(["report", str(run), "-q"]) == 0
    assert (run / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (run / "report.md").read_text().startswith("# photosieve audit report")
    with pytest.raises(SystemExit) as info:
        cli.main(["report", str(tmp_path)])
    assert info.value.code == 2


def test_overview_counts_a_repeat_audit_that_read_nothing(tmp_path):
    run = _write_run(tmp_path / "run", [_match("a.jpg", 3)])
    summary = json.loads((run / "summary.json").read_text())
    # A repeat audit that carried every file: counters that stayed at zero are absent.
    summary["counts"]["objects"] = {"carried": 5}
    summary["incremental"] = {"files": {"unchanged": 5}, "read": 0, "carried": 5, "matches": {}}
    (run / "summary.json").write_text(json.dumps(summary))
    report = build_report(str(run))
    assert [(c.label, c.value) for c in report.counts] == [
        ("files listed", 5), ("objects read", 0), ("hashed, no error", 0), ("with an error row", 0),
        ("carried, unread", 5)]
    markdown = render_markdown(report)
    assert "| carried, unread | 5 |" in markdown
    assert "| files read / carried | 0 / 5 |" in markdown


# -- hostile names: every value the report shows is text, in Markdown, HTML and on the terminal --

from markdown_it import MarkdownIt  # noqa: E402

HOSTILE_URIS = [
    "up/<img src=x onerror=alert(1)>.jpg",
    "up/<script>alert(1)</script>.png",
    "up/x](javascript:alert(1)).jpg",
    "up/[click](javascript:alert(2)).jpg",
    "up/![i](http://example.com/x.png).jpg",
    "up/a|b|c.jpg",
    "up/line\nbreak\n# heading\n| x | y |.jpg",
    "up/back`tick``s.jpg",
    "up/\x1b[31mred\x1b]0;title\x07\u202egpj.exe",
]
HOSTILE_LIST = "<b>list</b>|x"
HOSTILE_LABEL = "[l](javascript:alert(3))"
HOSTILE_RUN = "<i>run</i>\x1b[2J"
HOSTILE_MESSAGE = "<script>alert(4)</script>\n| fake | row |"
TERMINAL_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Tags CommonMark (with GFM tables) makes of the report's own structure.
REPORT_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}


class _Text(_Collector):
    """Tags and the text of the page (character references decoded), cell by cell."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.rows: list[int] = []

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_data(self, data):
        self.text.append(data)


def _hostile_run(tmp_path: Path) -> Path:
    previous = _write_run(tmp_path / "old", [], run_id=HOSTILE_RUN + "-old")
    matches = [_match(uri, 3, lst=HOSTILE_LIST, label=HOSTILE_LABEL, entry_ids=["<u>id</u>"], new_reason=reason)
               for uri, reason in zip(HOSTILE_URIS, ["new object", "<em>why</em>"] * 5)]
    errors = [{**ERROR, schemas.URI: uri, schemas.MESSAGE: HOSTILE_MESSAGE, schemas.ERROR: "corrupt|<b>"}
              for uri in HOSTILE_URIS]
    run = _write_run(tmp_path / "run", matches, errors, previous=previous, run_id=HOSTILE_RUN)
    summary = json.loads((run / "summary.json").read_text())
    summary["lists"][0]["name"] = HOSTILE_LIST
    summary["accounting"] = {"balanced": False, "problems": ["<b>1 object</b> lost | `x`"]}
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def _rendered_markdown(markdown: str) -> _Text:
    page = _Text()
    page.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown))
    return page


def test_hostile_names_render_as_text_in_markdown(tmp_path):
    report = build_report(str(_hostile_run(tmp_path)))
    markdown = render_markdown(report)
    page = _rendered_markdown(markdown)
    assert {tag for tag, _ in page.tags} <= REPORT_TAGS  # no img, script, a, b, i, em, code...
    assert not any(attrs for _, attrs in page.tags)  # no src, href, onerror
    text = "".join(page.text)
    assert "javascript:" not in "".join(str(a) for _, a in page.tags)
    # Every table row keeps its cells: 2 in the overview, 3 counts or per list and label, 4 per run,
    # 5 per list, 9 per match.
    assert sorted(set(page.rows)) == [2, 3, 4, 5, 9]
    # The values are shown, literally (controls and newlines as visible escapes).
    for value in [HOSTILE_LIST, HOSTILE_LABEL, "<i>run</i>\\x1b[2J", "<em>why</em>", "corrupt|<b>",
                  "<script>alert(4)</script>\\n| fake | row |", "<b>1 object</b> lost | `x`"]:
        assert value in text, value
    for uri in HOSTILE_URIS[:8]:  # the report lists one error example and 20 new matches
        assert uri.replace("\n", "\\n") in text, uri
    assert "up/\\x1b[31mred\\x1b]0;title\\x07\\u202egpj.exe" in text
    assert not TERMINAL_CONTROL.search(markdown)


def test_hostile_names_are_text_in_html(tmp_path):
    page = render_html(build_report(str(_hostile_run(tmp_path))))
    parsed = _Text()
    parsed.feed(page)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"img", "script", "a", "b", "i", "u", "em", "iframe", "link", "object", "embed"}
    assert not any(k.startswith("on") or k in ("src", "href") for _, attrs in parsed.tags for k in attrs)
    text = "".join(parsed.text)
    for value in [*HOSTILE_URIS[:8], HOSTILE_LIST, HOSTILE_LABEL, "<u>id</u>", "<em>why</em>"]:
        assert value.replace("\n", "\\n") in text, value
    assert "up/\\x1b[31mred\\x1b]0;title\\x07\\u202egpj.exe" in text
    assert not TERMINAL_CONTROL.search(page)  # no escape sequence or bidi override reorders the page


def test_report_cli_prints_no_control_characters(tmp_path, capsys):
    run = _hostile_run(tmp_path)
    assert cli.main(["report", str(run)]) == 0
    out, err = capsys.readouterr()
    assert "up/\\\\x1b\\[31mred" in out  # shown as text, escaped for Markdown
    assert not TERMINAL_CONTROL.search(out) and not TERMINAL_CONTROL.search(err)
    assert out == (run / "report.md").read_text()


def test_a_match_run_counts_the_hash_rows_it_read_not_objects(tmp_path):
    run = write_run(tmp_path / "run", [match("a.jpg", 3)], counts={"hashes": {"read": 40}})
    summary = json.loads((run / "summary.json").read_text())
    summary["command"] = "match"
    (run / "summary.json").write_text(json.dumps(summary))
    assert [(c.label, c.value) for c in build_report(str(run)).counts] == [("hash rows read", 40)]


def _video_match(uri, query, listed, segment, listed_segment, **extra):
    return _match(uri, 4, lst="videos", algorithm=schemas.VPDQ, **{
        schemas.THRESHOLD: 80.0, schemas.SCORE: query, schemas.MATCH_MODE: schemas.VPDQ,
        schemas.QUERY_MATCH_PERCENT: query, schemas.LIST_MATCH_PERCENT: listed,
        schemas.SEGMENT_START: segment[0], schemas.SEGMENT_END: segment[1],
        schemas.LIST_SEGMENT_START: listed_segment[0], schemas.LIST_SEGMENT_END: listed_segment[1], **extra})


def test_video_matches_say_shares_and_seconds_not_a_distance_plot(tmp_path):
    rows = [_video_match("clip.mp4", 100.0, 40.0, (0.0, 4.0), (3.0, 7.0)),
            _video_match("flip.mp4", 85.0, 100.0, (0.0, 9.0), (0.0, 9.0), **{schemas.ORIENTATION: "flipy"}),
            _match("a.jpg", 3, **{schemas.FRAME_TIMESTAMP: 2.0, schemas.FRAME: 50})]
    report = build_report(str(_write_run(tmp_path / "run", rows)))
    assert set(report.distances) == {"pdq"}  # the video pairs have shares, not distances to plot
    markdown = render_markdown(report)
    assert "clip.mp4 \\(0-4 s\\)" in markdown
    assert "video\\: 100% of its frames match 40% of the listed video's frames \\(3-7 s of it\\)" in markdown
    assert "mirror" in markdown.split("flip.mp4")[1].split("\n")[0]
    assert "the whole listed video" in markdown
    assert "2 video matches" in markdown and "1 cover the whole listed video, 1 a part of it" in markdown
    assert "a.jpg \\(at 2 s, frame 50\\)" in markdown and "a frame of a video" in markdown
    page = render_html(report)
    assert "2 video matches" in page and "clip.mp4 (0-4 s)" in page
