"""The files ``photosieve lists build`` reads: files, folders and globs, as ``audit --input`` lists them.

A list is only as complete as the listing behind it, so ``lists build`` finds
its files the way an audit finds objects (:mod:`photosieve.listing`): a
folder is walked recursively, a glob has Beam's syntax (``*`` within a
directory, ``**`` across), a file is itself. Only regular files (and links
to them) are read; FIFOs, sockets, devices, directory links, dangling links
and link loops are never opened and come back as counted
:class:`~photosieve.listing.Skip`\\ s. No extension is looked at: whether a
file is an image is for the decoder to say, as in ``hash`` and ``audit``.

Each file keeps the path relative to the input that found it (a folder: the
path below it; a glob: the path below its fixed leading directories; a file:
its name), which ``--id-from path`` makes its list id. Names are escaped
(:func:`photosieve.names.escape`), as in every table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from photosieve.errors import ConfigError
from photosieve.listing import Entry, Skip, is_local, list_paths, list_pattern
from photosieve.names import escape, unescape

__all__ = ["ID_FROM", "Discovery", "SourceFile", "discover"]

# How an entry's id is made: --id-from's choices, the first the default (the
# behaviour before the flag existed).
ID_FROM = ("path", "name", "digest")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class SourceFile:
    """One regular file to list.

    Attributes:
        uri: the escaped path as found (what reports print).
        relative: the escaped path relative to its input, ``/``-separated.
        size: bytes, as listed (None when it could not be examined: reading
            then reports why).
    """

    uri: str
    relative: str
    size: int | None

    @property
    def name(self) -> str:
        """The escaped file name (``--id-from name``)."""
        return self.relative.rpartition("/")[2]


@dataclass(frozen=True)
class Discovery:
    """What the inputs hold: files to read, in input then path order, and skipped entries."""

    files: tuple[SourceFile, ...]
    skipped: tuple[Skip, ...]


def _root_and_entries(given: str):
    """(the directory ids are relative to, the listing) of one input.

    A path that exists is taken as it is, even with glob characters in its
    name (``case[1]/``); only then is an input a pattern.
    """
    if os.path.isdir(given):
        return given, list_paths([given])
    glob = _GLOB.search(given)
    if glob is None or os.path.lexists(given):
        return os.path.dirname(given), list_pattern(given) if glob is None else list_paths([given])
    return os.path.dirname(given[: glob.start()]), list_pattern(given)


def discover(inputs: Sequence[str]) -> Discovery:
    """List the files under ``inputs`` (files, folders, globs); a file found twice is listed once.

    Raises:
        ConfigError: an input is not local, or matches nothing (all such
            inputs named), before any file is read.
    """
    remote = [given for given in inputs if not is_local(given)]
    if remote:
        raise ConfigError(
            f"lists build reads local files only; got {' '.join(escape(r) for r in remote)}"
        )
    files: list[SourceFile] = []
    skipped: list[Skip] = []
    seen: set[str] = set()
    empty: list[str] = []
    for given in inputs:
        root, entries = _root_and_entries(given)
        found = False
        for entry in entries:
            found = True
            path = unescape(entry.uri)
            key = os.path.abspath(path)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(entry, Entry):
                relative = os.path.relpath(path, root or os.curdir).replace(os.sep, "/")
                files.append(SourceFile(entry.uri, escape(relative), entry.size))
            else:
                skipped.append(entry)
        if not found:
            empty.append(given)
    if empty:
        raise ConfigError(f"{' '.join(escape(e) for e in empty)}: matches no files")
    return Discovery(tuple(files), tuple(skipped))
