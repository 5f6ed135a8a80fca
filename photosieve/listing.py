"""Listing local files without opening them: regular files are objects, the rest are counted skips.

Beam's local ``FileSystems.match`` walks with ``os.walk`` and keeps what
``os.path.getsize`` accepts: a FIFO, socket or device is listed like a file
(and reading it then hangs or streams forever), while dangling links and
link loops vanish from the listing without a trace. This lister decides
from ``lstat``/``stat`` alone, never opens an entry, and says what each one is:

* :class:`Entry`: a regular file (or a link to one): an object to read.
* :class:`Skip`: anything else, with its kind (``fifo``, ``socket``,
  ``device``, ``symlink``, ``dangling_link``, ``link_loop``, ``other``): in no
  table, but counted and named in ``summary.json`` (see the README's skips).

Symlink policy: a link to a regular file is followed (the object keeps the
link's name, with the target's size and time, as Beam's glob does); a link
to a directory inside the tree is not walked (a ``symlink`` skip: no loops,
no file listed twice); a path given on the command line is followed
whatever it is (``photos -> /mnt/photos`` lists the mount). A dangling link
is a ``dangling_link`` skip, a link that resolves to itself a ``link_loop``.
Directories are structure, not objects, and are not counted.

Patterns have Beam's glob syntax (``*`` within a directory, ``**`` across,
``?``, ``[...]``), so a local pattern matches here what it matched before.
Uris are :func:`photosieve.names.escape`-d: lossless for any bytes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from photosieve import ledger as keys
from photosieve.names import escape

__all__ = [
    "SKIP_KINDS",
    "Entry",
    "Skip",
    "file_kind",
    "is_local",
    "list_paths",
    "list_pattern",
    "normalise",
]

FIFO, SOCKET, DEVICE, SYMLINK = "fifo", "socket", "device", "symlink"
DANGLING_LINK, LINK_LOOP, OTHER = "dangling_link", "link_loop", "other"
SKIP_KINDS = (FIFO, SOCKET, DEVICE, SYMLINK, DANGLING_LINK, LINK_LOOP, OTHER)
_GLOB = re.compile(r"[*?\[]")


class Entry(NamedTuple):
    """A regular file to read: escaped uri, size in bytes, modification time in seconds."""

    uri: str
    size: int | None
    mtime_s: float | None


class Skip(NamedTuple):
    """An entry that is not an object: escaped uri and one of :data:`SKIP_KINDS`."""

    uri: str
    kind: str


def is_local(path: str) -> bool:
    """Whether ``path`` names the local filesystem (no ``scheme://``)."""
    return "://" not in path


def normalise(path: str) -> str:
    """One spelling of a local path: absolute and normalised (``ph``, ``./ph/`` -> ``/abs/ph``).

    Links are not resolved: an object keeps the name it was found under.
    Other filesystems' uris lose only a trailing ``/``.
    """
    if not is_local(path):
        return path.rstrip("/") or path
    return os.path.abspath(path)


def file_kind(mode: int) -> str | None:
    """None for a regular file, else the skip kind of a (stat-ed, not lstat-ed) mode."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISSOCK(mode):
        return SOCKET
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return DEVICE
    return OTHER


def classify(path: str, *, follow_dirs: bool = False) -> Entry | Skip | None:
    """What one path is, from ``lstat``/``stat`` only, never opened.

    None for a directory (and a link to one, with ``follow_dirs``) and for a
    path that vanished since it was listed.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:  # permissions, I/O: an object the reader will report, not a silent gap
        return Entry(escape(path), None, None)
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return Skip(escape(path), LINK_LOOP)
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return Skip(escape(path), DANGLING_LINK)
            return Entry(escape(path), None, None)
        if stat.S_ISDIR(info.st_mode):
            return None if follow_dirs else Skip(escape(path), SYMLINK)
    if stat.S_ISDIR(info.st_mode):
        return None
    kind = file_kind(info.st_mode)
    if kind is not None:
        return Skip(escape(path), kind)
    return Entry(escape(path), info.st_size, info.st_mtime)


def translate(pattern: str) -> re.Pattern:
    """Beam's glob syntax as a regular expression (``*``: ``[^/]*``, ``**``: ``.*``)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            if i < n and pattern[i] == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            j = i + (i < n and pattern[i] == "!")
            j += j < n and pattern[j] == "]"
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(r"\[")
            else:
                body = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if body[0] == "!":
                    body = "^" + body[1:]
                elif body[0] == "^":
                    body = "\\" + body
                out.append(f"[{body}]")
        else:
            out.append(re.escape(char))
    return re.compile("(?ms)" + "".join(out) + r"\Z")


def _is_real_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False  # classify turns it into an object the reader reports


def _walk(root: str, max_depth: int | None) -> Iterator[tuple[str, bool]]:
    """``(path, listed)`` for every non-directory below ``root`` (sorted per directory).

    Directory links are not followed. A directory that cannot be listed
    (permissions) comes out itself with ``listed`` False: Beam's ``os.walk``
    drops it silently, here reading it gives the error row that says so.
    """
    stack = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            with os.scandir(directory or ".") as scan:
                # d_type from the directory itself: no stat per entry to know a subdirectory
                entries = sorted((e.name, _is_real_dir(e)) for e in scan)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            yield directory, False
            continue
        below = []
        for name, is_dir in entries:
            path = os.path.join(directory, name)
            if is_dir:
                if max_depth is None or depth + 1 < max_depth:
                    below.append((path, depth + 1))
            else:
                yield path, True
        stack.extend(reversed(below))


def list_pattern(pattern: str) -> Iterator[Entry | Skip]:
    """The entries a local Beam-style glob pattern matches (a plain path: itself, followed).

    Never raises for what it finds: an entry or directory that cannot be
    examined comes out as an Entry without size, for the reader to report.
    """
    glob = _GLOB.search(pattern)
    if glob is None:
        found = classify(pattern, follow_dirs=True)
        if found is not None:
            yield found
        return
    root = os.path.dirname(pattern[: glob.start()])  # "" for "*.jpg": names as they are
    rest = pattern[len(root) :]
    depth = None if ("**" in rest or "?" in rest or "[" in rest) else rest.count("/")
    regex = translate(pattern)
    for path, listed in _walk(root, depth):
        if not listed:
            yield Entry(escape(path), None, None)
        elif regex.match(path):
            found = classify(path)
            if found is not None:
                yield found


def list_paths(paths: Iterable[str]) -> Iterator[Entry | Skip]:
    """Files and directories (walked recursively, sorted) as ``photosieve hash`` takes them.

    A path that does not exist comes out as an Entry without size, so the
    reader reports it (``not_found``) instead of it vanishing.
    """
    for path in paths:
        try:
            is_dir = os.path.isdir(path)
        except ValueError:  # NUL in the name
            is_dir = False
        if is_dir:
            for path_below, listed in _walk(path, None):
                found = classify(path_below) if listed else Entry(escape(path_below), None, None)
                if found is not None:
                    yield found
            continue
        found = classify(path, follow_dirs=True)
        yield found if found is not None else Entry(escape(path), None, None)


# Example uris of skipped entries kept per kind (in each bundle's ledger, and in summary.json).
SKIP_EXAMPLES = 20


def count_skip(counts, where: str, kind: str, uri: str) -> None:
    """Count one skip under ``("skipped", where, kind)``; keep its uri while fewer than
    :data:`SKIP_EXAMPLES` of that kind were seen. ``counts``: a Counter-like tally."""
    key = (*keys.SKIPPED, where, kind)
    if counts.counts[key] < SKIP_EXAMPLES:
        counts.add((*keys.SKIP_EXAMPLES, where, kind, uri))
    counts.add(key)


def pop_skip_examples(ledger: dict, limit: int = SKIP_EXAMPLES) -> dict:
    """Take the skip examples out of a nested ledger: ``{where: {kind: [uri, ...]}}``, sorted.

    The listing records example uris in the ledger (``skip_examples``, per
    bundle) next to the ``skipped`` counts; ``summary.json`` shows the counts
    under ``counts.skipped`` and these under a top-level ``skipped``.
    """
    examples = ledger.pop(keys.SKIP_EXAMPLES[0], {})
    return {
        where: {kind: sorted(uris)[:limit] for kind, uris in sorted(kinds.items())}
        for where, kinds in sorted(examples.items())
    }
