"""The objects of the local commands (``hash``, ``match-files``): files, folders and ``-``.

Both commands read what the user names the same way: folders are walked as
``photosieve hash`` always walked them (:func:`photosieve.listing.list_paths`:
names escaped as in the tables, FIFOs, devices and broken links never
opened, a note on stderr for each), and ``-`` is one object read from
standard input, so ``curl ... | photosieve hash -`` works as it does with
``threatexchange hash``; outputs name it ``<stdin>`` (a bare ``-`` would
be a formula cell a spreadsheet-safe CSV must quote). A file really named
``-`` is given as ``./-``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from photosieve.errors import FailureReason, HashFailure
from photosieve.hashing import ImageHasher
from photosieve.listing import Skip, list_paths
from photosieve.names import unescape
from photosieve.reading import ReadError, read_object

__all__ = ["STDIN", "STDIN_NAME", "check_paths", "objects"]

# The argument that means standard input, and the object's name in every output.
STDIN = "-"
STDIN_NAME = "<stdin>"


def check_paths(paths: Sequence[str]) -> str | None:
    """Why the paths cannot be read (a usage error), or None: stdin holds one object only."""
    if list(paths).count(STDIN) > 1:
        return f"{STDIN!r} (standard input) may be given once"
    return None


def read_stdin(stream: BinaryIO, max_bytes: int) -> bytes:
    """All of ``stream``, or ReadError(TOO_LARGE) past ``max_bytes`` (never more is held)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        message = f"standard input exceeds the {max_bytes}-byte limit"
        raise ReadError(FailureReason.TOO_LARGE, message)
    return data


def objects(
    paths: Sequence[str],
    hasher: ImageHasher,
    *,
    max_bytes: int,
    command: str,
    stdin: BinaryIO | None = None,
) -> Iterator[tuple[str, bytes | HashFailure]]:
    """``(uri, bytes or the read failure)`` per object, in order, for ``hasher.hash_many``."""
    for path in paths:
        if path == STDIN:
            try:
                yield STDIN_NAME, read_stdin(stdin or sys.stdin.buffer, max_bytes)
            except ReadError as exc:
                yield STDIN_NAME, hasher.read_failure(STDIN_NAME, exc.reason, exc.message)
            continue
        for found in list_paths([path]):
            uri = found.uri
            if isinstance(found, Skip):
                note = f"photosieve {command}: skipped {uri} ({found.kind}: not a regular file)"
                print(note, file=sys.stderr)
                continue
            try:
                yield uri, read_object(unescape(uri), max_bytes=max_bytes)
            except ReadError as exc:
                yield uri, hasher.read_failure(uri, exc.reason, exc.message)
