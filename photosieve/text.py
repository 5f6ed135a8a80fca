"""Untrusted text made safe for where photosieve writes it: terminals, Markdown, spreadsheets.

File names, archive member names, list names, entry ids, labels and error
messages come from whoever uploaded a file or contributed a list entry.
Written as they are, they can act instead of being read:

* on a terminal, an ESC or C1 sequence moves the cursor, recolours, rewrites
  the title or hides lines, and a bidirectional override makes
  ``gpj.exe`` print as ``exe.jpg``: :func:`printable` shows such characters
  as visible ``\\x1b``/``\\u202e`` escapes;
* in Markdown, ``<img src=x onerror=...>``, ``](javascript:...)``, ``|`` or a
  backtick becomes a tag, a link, a table cell or code:
  :func:`markdown_text` backslash-escapes every character a CommonMark or
  GFM renderer could take as syntax, so the rendered text is the value;
* in a spreadsheet, a CSV cell starting with ``=``, ``+``, ``-`` or ``@`` is
  a formula: :func:`spreadsheet_cell` prefixes ``'`` (the OWASP rule).

Names that went through :func:`photosieve.names.escape` have no control
characters left, so :func:`printable` leaves them as they are.
"""

from __future__ import annotations

import re

__all__ = ["markdown_text", "printable", "spreadsheet_cell"]

# What a terminal acts on or reorders: C0 controls, DEL, C1 controls, the
# bidirectional embeddings, overrides and isolates (the characters
# names.escape writes as %XX, so that an escaped name prints as it is), and
# lone surrogates (undecodable bytes as os.fsdecode hands them over; no
# UTF-8 stream can carry them).
_UNPRINTABLE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNPRINTABLE_KEEP_NEWLINES = re.compile(f"[{_UNPRINTABLE}]")
_UNPRINTABLE_ALL = re.compile(f"[\n{_UNPRINTABLE}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` with every control, bidi and lone-surrogate character as a visible escape.

    For values printed or logged (messages, list names, ids, labels, paths):
    a newline is escaped too unless ``newlines`` is true, so a value cannot
    fake a line of its own; pass ``newlines=True`` only for text whose line
    breaks photosieve wrote (a whole report). Display only: ``\\`` itself
    is kept, so the form does not round-trip (names.escape does).
    """
    pattern = _UNPRINTABLE_KEEP_NEWLINES if newlines else _UNPRINTABLE_ALL
    return pattern.sub(_visible, str(text))


# CommonMark inline syntax (backslash, code, emphasis, links and images,
# raw HTML and autolinks, entities), GFM's tables, strikethrough and
# extended autolinks (``:`` of a scheme, ``@`` of an e-mail address), and
# the ``$`` math, ``{}`` attribute and ``^`` footnote syntaxes of common
# renderers. A ``:`` only after a letter (a scheme: ``javascript:``,
# ``https:``), so that times (``00:00``) stay readable. All are ASCII
# punctuation, which CommonMark lets a backslash escape anywhere.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*{}\[\]()<>#+!|~&$@^]|(?<=[A-Za-z]):")
# Block syntax at the start of a list item's text: a bullet or a thematic
# break (``-``), a setext underline (``=``) or an ordered list marker
# (``1.``; ``1)`` has its ``)`` escaped anyway, as have ``#``, ``>``, ``+``
# and ``*``).
_MARKDOWN_LEADING = re.compile(r"^(?:(\d{1,9})\.|([-=]))")
# ``www.`` starts a GFM autolink wherever it follows a space or a delimiter.
_MARKDOWN_WWW = re.compile(r"(?i)(www)\.")


def _markdown_underscores(text: str) -> str:
    """``_`` escaped unless it sits between two letters or digits (``IMG_1234``).

    CommonMark never opens or closes emphasis with an intraword ``_``, so
    ordinary file names stay readable on a terminal.
    """
    out = []
    for i, char in enumerate(text):
        if char == "_" and not (0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()):
            out.append("\\_")
        else:
            out.append(char)
    return "".join(out)


def markdown_text(value: object) -> str:
    """``value`` as Markdown that renders as exactly its text, on one line.

    The one function for every value a Markdown report interpolates (names,
    list names, ids, labels, reasons, messages, run ids): control
    characters and newlines become visible escapes first
    (:func:`printable`), then each character that a renderer could read as
    syntax is backslash-escaped. The result is safe inside a table cell, a
    list item or a heading: no tag, link, image, code span, emphasis or
    cell break can come out of it.
    """
    text = printable(value)
    text = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _markdown_underscores(text)
    text = _MARKDOWN_WWW.sub(r"\1\\.", text)
    text = _MARKDOWN_LEADING.sub(lambda m: f"{m.group(1)}\\." if m.group(1) else f"\\{m.group(2)}", text)
    # Leading and trailing spaces would be indentation (an indented code
    # block in a list item) or a hard line break, or be trimmed from a table
    # cell: write them as character references, which show as themselves.
    stripped = text.strip()
    if stripped != text:
        head = text[: len(text) - len(text.lstrip())]
        tail = text[len(head) + len(stripped) :]
        text = _references(head) + stripped + _references(tail)
    return text


def _references(spaces: str) -> str:
    return "".join(f"&#{ord(char)};" for char in spaces)


# Cells a spreadsheet takes as a formula (OWASP "CSV injection"), and the
# quote that marks a neutralised cell: a value that already starts with one
# is quoted too, so stripping one leading quote always gives the value back.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_cell(value: object) -> object:
    """A text cell that no spreadsheet evaluates: ``'`` before a leading ``= + - @``, tab or CR.

    Only for text columns (paths, messages, formats...): numbers are
    returned as they are, so ``-1`` stays a number. A value that starts
    with ``'`` gets one more, so removing one leading ``'`` from a cell that
    has it is the exact inverse.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
