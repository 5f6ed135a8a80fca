"""``photosieve report`` on a real audit of hostile file names: the names are text everywhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from photosieve.hashing import HashPlan, ImageHasher
from photosieve.pipelines import cli
from tests.transforms import samples

# Names anyone who can upload a file can choose (no '/': one path component each).
PRINTABLE_NAMES = [
    "<img src=x onerror=alert(1)>.png",
    "<script>alert(1).png",
    "x](javascript:alert(1)).png",
    "[click](javascript:alert(2)).png",
    "a|b|c.png",
    "back`tick``s.png",
    "*em* _u_ ~~s~~.png",
]
CONTROL_NAMES = ["line\nbreak\n# heading.png", "\x1b[31mred\x1b]0;title\x07\u202egnp.exe.png"]
BROKEN = "<b>broken<|.jpg"
LABEL, ENTRY = "[l](javascript:alert(3))", "<u>id</u>"
TERMINAL_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPORT_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    """A repeat audit that finds copies of a listed image under hostile names, and a broken file named like them.

    A repeat (``--previous``) so that the report lists each new match by name.
    """
    root = tmp_path_factory.mktemp("hostile")
    archive = root / "archive"
    archive.mkdir()
    (archive / "decoy.png").write_bytes(samples.encode(samples.picture(8, (320, 240)), "PNG"))
    data = samples.encode(samples.picture(7, (320, 240)), "PNG")
    pdq = ImageHasher(HashPlan.parse("pdq")).hash_bytes("", data).frames[0].results[0].hash.to_hex()
    (root / "known.csv").write_text(f'hash,algorithm,id,labels\n{pdq},pdq,"{ENTRY}","{LABEL}"\n')

    def audit(output: Path, *extra: str) -> Path:
        argv = ["audit", "-i", str(archive), "-l", f"known={root / 'known.csv'}", "-o", str(output),
                "--no-progress", "--num-shards", "1", *extra]
        assert cli.main(argv) == 0
        return output

    first = audit(root / "first")
    for name in PRINTABLE_NAMES + CONTROL_NAMES:
        (archive / name).write_bytes(data)
    (archive / BROKEN).write_bytes(b"\xff\xd8\xff\xe0 not really")
    return audit(root / "repeat", "--previous", str(first))


def test_report_md_of_a_real_run_renders_names_as_text(hostile_run, capsys):
    assert cli.main(["report", str(hostile_run)]) == 0
    out, err = capsys.readouterr()
    markdown = (hostile_run / "report.md").read_text()
    page = _parse(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown))
    assert {tag for tag, _ in page.tags} <= REPORT_TAGS  # no img, script, a, code, em, s...
    assert not any(attrs for _, attrs in page.tags)
    text = "".join(page.text)
    for name in PRINTABLE_NAMES:
        assert name in text, name
    assert LABEL in text and BROKEN in text
    # Control characters are shown, not sent: on the terminal and in the file.
    assert "red" in text and "gnp.exe.png" in text
    for shown in (out, err, markdown):
        assert not TERMINAL_CONTROL.search(shown)


def test_report_html_of_a_real_run_has_no_injected_element(hostile_run):
    assert cli.main(["report", str(hostile_run), "-q"]) == 0
    page = _parse((hostile_run / "report.html").read_text())
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"img", "script", "a", "b", "u", "em", "s", "code", "iframe", "link", "object", "embed"}
    assert not any(k.startswith("on") or k in ("src", "href") for _, attrs in page.tags for k in attrs)
    text = "".join(page.text)
    for name in [*PRINTABLE_NAMES, LABEL, ENTRY, BROKEN]:
        assert name in text, name
    assert not TERMINAL_CONTROL.search((hostile_run / "report.html").read_text())


def test_the_report_calls_a_directory_without_summary_incomplete(tmp_path, capsys):
    from photosieve.pipelines import report_cli

    with pytest.raises(SystemExit):
        report_cli.main([str(tmp_path)])
    assert "not a finished run" in capsys.readouterr().err


def test_report_of_a_real_repeat_audit_counts_and_labels_add_up(hostile_run):
    """The page's counts of a real run: read = hashed cleanly + with an error row; carried apart; every match labelled."""
    from tests.photosieve.report.samples import parse_html

    assert cli.main(["report", str(hostile_run), "-q"]) == 0
    page = parse_html((hostile_run / "report.html").read_text())
    counts = {row[0]: int(row[1]) for row in page.table("counts")["rows"]}
    assert counts["objects read"] == len(PRINTABLE_NAMES + CONTROL_NAMES) + 1  # the copies and the broken file
    assert counts["with an error row"] == 1  # the broken file
    assert counts["hashed, no error"] + counts["with an error row"] == counts["objects read"]
    assert counts["carried, unread"] == 1  # the decoy, unchanged since the first run
    rows = [dict(zip(t["headers"], r)) for t in page.tables_of("matches") for r in t["rows"]]
    assert len(rows) == len(PRINTABLE_NAMES + CONTROL_NAMES)
    assert {r["how it matched"] for r in rows} == {"same picture"}  # exact copies, no edit
    assert {(r["status"], r["mode"], r["listed part"]) for r in rows} == {("match", "plain", "whole image")}
