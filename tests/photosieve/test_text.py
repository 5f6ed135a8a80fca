"""Untrusted text helpers: nothing a terminal, a Markdown renderer or a spreadsheet acts on gets through."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from photosieve import names
from photosieve.text import markdown_text, printable, spreadsheet_cell

# What a terminal acts on or reorders (the newline is checked separately).
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# Markdown syntax, controls and spaces, mixed with any text: what a hostile name is made of.
HOSTILE = st.text(
    st.one_of(
        st.characters(codec=None),
        st.sampled_from(list("<>&|\\`*_[](){}!#\n\r\t \x1b\x9b\u202e\udcff-=+.@:~$^'\"0123456789wW")),
    ),
    max_size=40,
)


class _Tree(HTMLParser):
    """Tags (with attributes) and the text inside each ``td``/``li``."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.cells: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag in ("td", "li"):
            self._open = tag
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.cells[-1] += data


def _render(source: str) -> _Tree:
    tree = _Tree()
    tree.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(source))
    return tree


@given(HOSTILE)
@settings(max_examples=400, deadline=None)
def test_markdown_text_is_one_literal_table_cell_and_one_literal_list_item(value):
    shown = printable(value)
    cell = _render(f"| a | b |\n|---|---|\n| {markdown_text(value)} | end |\n")
    assert [t for t, _ in cell.tags] == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    assert all(not attrs for _, attrs in cell.tags)
    assert cell.cells == [shown, "end"]
    item = _render(f"- {markdown_text(value)}\n- end\n")
    assert [t for t, _ in item.tags] == ["ul", "li", "li"]
    assert item.cells == [shown, "end"]


@pytest.mark.parametrize("value", [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "x](javascript:alert(1))",
    "[a](javascript:alert(1))", "![i](http://e/x.png)", "<http://e>", "a|b", "`code`", "*em* __strong__",
    "www.example.com", "a@example.com", "&lt;b&gt;", "# title", "1. item", "- item", "> quote",
])
def test_markdown_text_escapes_each_syntax(value):
    tree = _render(f"- {markdown_text(value)}\n")
    assert [t for t, _ in tree.tags] == ["ul", "li"] and tree.cells == [value]


def test_ordinary_names_stay_readable():
    assert markdown_text("photos/2026/IMG_1234.jpg") == "photos/2026/IMG_1234.jpg"
    assert markdown_text("été, 3 copies.png") == "été, 3 copies.png"
    assert markdown_text("2026-11-01T00:00:00") == "2026-11-01T00:00:00"


@given(HOSTILE)
@settings(max_examples=300, deadline=None)
def test_printable_leaves_no_control_character(value):
    shown = printable(value)
    assert not CONTROL.search(shown) and "\n" not in shown
    assert printable(shown) == shown  # idempotent: printing twice changes nothing
    assert "\n" not in CONTROL.sub("", printable(value, newlines=True).replace("\n", ""))


def test_printable_shows_what_it_replaced():
    assert printable("a\x1b[31mb\u202ec\nd\te\x9b\udcff") == "a\\x1b[31mb\\u202ec\\nd\\te\\x9b\\udcff"
    assert printable("line 1\nline 2\x07", newlines=True) == "line 1\nline 2\\x07"


@given(st.text(st.characters(codec=None)))
@example("\u200e\u200f\u061c\u2028\u2029\u200b\ufeff\u00a0")  # bidi marks and separators names.escape keeps
@example("\x1b\x9b\u202e\u2066\udcff%\n")
def test_escaped_names_print_as_they_are(value):
    escaped = names.escape(value)
    assert printable(escaped) == escaped


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-x.png", "'-x.png"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("'=1", "''=1"), ("a=1", "a=1"), ("", ""),
    (-1, -1), (-1.5, -1.5), (0, 0), (None, None),
])
def test_spreadsheet_cell(value, cell):
    assert spreadsheet_cell(value) == cell


@given(st.text())
def test_spreadsheet_cell_is_undone_by_removing_one_quote(value):
    cell = spreadsheet_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert (cell[1:] if cell != value else cell) == value
