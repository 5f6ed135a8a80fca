"""Object names: bytes on POSIX, one lossless, printable string in every table.

A POSIX file name is any bytes but ``/`` and NUL; archive members are
whatever bytes their creator wrote. Python (and Beam's local filesystem)
hands undecodable bytes over as lone surrogates (``os.fsdecode``), which no
coder, Parquet column or terminal accepts. So every name photosieve writes
is *escaped*, percent-style, and a name read from a table is *unescaped*
back to the exact path to open:

* each byte that is not part of valid UTF-8 becomes ``%XX`` (its value);
  (a lone surrogate no file system gives, which no coder could write either,
  becomes the ``%XX`` of its three "surrogatepass" bytes);
* ``%`` itself becomes ``%25`` (so the form round-trips);
* control characters (C0, DEL, C1) and the bidirectional overrides that
  make a name print as another (U+202A-U+202E, U+2066-U+2069) become the
  ``%XX`` of their UTF-8 bytes;
* a ``!`` that is followed by ``/`` becomes ``%21``: ``!/`` is the archive
  member separator (``photos/a.zip!/dir/m.jpg``), so no escaped real path
  contains it, and the first ``!/`` of a uri always starts a member name.

Everything else, UTF-8 text included, stays as it is: ``photos/été.jpg``
is written as is. To get a name's bytes back::

    >>> escape("a%b\\udcff.jpg")
    'a%25b%FF.jpg'
    >>> to_bytes("a%25b%FF.jpg")
    b'a%b\\xff.jpg'

and :func:`unescape` for the ``str`` path (surrogates and all) that
``open``/Beam's ``FileSystems`` take.
"""

from __future__ import annotations

import re

__all__ = [
    "MEMBER_SEPARATOR",
    "OCCURRENCE_MARK",
    "escape",
    "member_uri",
    "occurrence_uri",
    "split_member",
    "split_occurrence",
    "to_bytes",
    "unescape",
]

# Archive members are objects named ``archive.zip!/dir/member.jpg``: the
# separator of Java's jar: URLs and Hadoop's har: paths. Real paths never
# contain it once escaped (see the module docstring).
MEMBER_SEPARATOR = "!/"

# Characters that are written as the %XX of their UTF-8 bytes.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ESCAPED = re.compile(
    "[%\x00-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff]|!(?=/)"
)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# Archives may hold several members of one name (a zip with two ``a.jpg``, a
# tar that appends a new version): the 2nd, 3rd... get ``%!2``, ``%!3``...
# after their uri. An escaped name has no ``%`` that is not followed by two
# hex digits, so no real name can end that way.
OCCURRENCE_MARK = "%!"
_OCCURRENCE = re.compile(re.escape(OCCURRENCE_MARK) + r"([1-9][0-9]*)\Z")


def _escape_char(match: re.Match) -> str:
    char = match.group(0)
    if "\udc80" <= char <= "\udcff":  # an undecodable byte, as os.fsdecode gives it
        return f"%{ord(char) - 0xDC00:02X}"
    # Any other lone surrogate comes from no file system (os.fsdecode makes only the
    # ones above), but no coder could write it: its 3 "surrogatepass" bytes.
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def escape(name: str) -> str:
    """The escaped, printable form of a name as Python's ``os``/Beam hand it over.

    Idempotent only for names with no ``%``; escape once, where a name
    enters photosieve (listing, archive members).
    """
    return _ESCAPED.sub(_escape_char, name)


def to_bytes(escaped: str) -> bytes:
    """The raw bytes an escaped name stands for."""
    out = bytearray()
    position = 0
    for match in _PERCENT.finditer(escaped):
        out += escaped[position : match.start()].encode("utf-8", "surrogateescape")
        out.append(int(match.group(1), 16))
        position = match.end()
    out += escaped[position:].encode("utf-8", "surrogateescape")
    return bytes(out)


def unescape(escaped: str) -> str:
    """The path to open (undecodable bytes as surrogates, like ``os.fsdecode``)."""
    if "%" not in escaped:
        return escaped
    return to_bytes(escaped).decode("utf-8", "surrogateescape")


def member_uri(container_uri: str, member_name: str) -> str:
    """``container_uri`` (already escaped) ``!/`` the escaped member name."""
    return f"{container_uri}{MEMBER_SEPARATOR}{escape(member_name)}"


def split_member(uri: str) -> tuple[str, str | None]:
    """``(container uri, escaped member name)``, or ``(uri, None)`` for a plain object.

    >>> split_member("s/a.zip!/d/m.jpg"), split_member("s/x%21/y.jpg")
    (('s/a.zip', 'd/m.jpg'), ('s/x%21/y.jpg', None))
    """
    head, separator, member = uri.partition(MEMBER_SEPARATOR)
    return (head, member) if separator else (uri, None)


def occurrence_uri(uri: str, occurrence: int) -> str:
    """The uri of the ``occurrence``-th (1-based, in archive order) member named ``uri``.

    The first keeps its uri, so archives with distinct names are unchanged;
    later ones get a suffix no escaped name can have (see ``OCCURRENCE_MARK``):

    >>> occurrence_uri("a.zip!/m.jpg", 1), occurrence_uri("a.zip!/m.jpg", 2)
    ('a.zip!/m.jpg', 'a.zip!/m.jpg%!2')
    """
    if occurrence < 1:
        raise ValueError(f"occurrence must be >= 1, got {occurrence}")
    return uri if occurrence == 1 else f"{uri}{OCCURRENCE_MARK}{occurrence}"


def split_occurrence(uri: str) -> tuple[str, int]:
    """``(uri without the occurrence suffix, occurrence)``: the inverse of :func:`occurrence_uri`.

    >>> split_occurrence("a.zip!/m.jpg%!2"), split_occurrence("a.zip!/m%25!2")
    (('a.zip!/m.jpg', 2), ('a.zip!/m%25!2', 1))
    """
    match = _OCCURRENCE.search(uri)
    if match is None:
        return uri, 1
    return uri[: match.start()], int(match.group(1))
