"""List the files that glob patterns match, on any Beam filesystem, without opening them.

Transforms:

* :class:`ListFiles`: patterns in, ``files`` (``(uri, (size, mtime_s))``, one
  per match) and ``ledger`` out. Local patterns are listed by
  :mod:`photosieve.listing` (FIFOs, devices and broken links become counted
  skips, never opened); other filesystems by Beam's ``MatchAll``. Every uri
  is escaped (:mod:`photosieve.names`).

:class:`~photosieve.transforms.reading.ReadImages` lists with it and reads;
the incremental audit lists with it, joins the listing with the previous
runs, and reads only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io import fileio

from photosieve import ledger as keys
from photosieve.listing import Entry, count_skip, is_local, list_pattern
from photosieve.names import escape, unescape
from photosieve.transforms.ledger import LEDGER, Tally

__all__ = ["ListFiles", "count_listed", "first_listing"]


def first_listing(metadata: Sequence[tuple[int, float | None]]) -> tuple[int, int | None]:
    """``(size, mtime_us)`` of a file from its grouped listing (several when globs overlap: one file)."""
    size, mtime_s = metadata[0]
    return size, None if mtime_s is None else round(mtime_s * 1e6)


def count_listed(tally: Tally, metadata: Sequence) -> None:
    """Count a grouped listing: one file listed, the overlapping globs' repeats as relisted."""
    tally.add(keys.FILES_LISTED)
    if len(metadata) > 1:
        tally.add(keys.FILES_RELISTED, len(metadata) - 1)


class _ListLocalFn(beam.DoFn):
    """An escaped local pattern -> ``(uri, (size, mtime_s))`` per regular file; skips counted."""

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, pattern: str):
        tally = self._tally
        for found in list_pattern(unescape(pattern)):
            tally.add(keys.LISTING_ENTRIES)
            if isinstance(found, Entry):
                yield found.uri, (found.size, found.mtime_s)
                continue
            count_skip(tally, "listing", found.kind, found.uri)

    def finish_bundle(self):
        yield from self._tally.flush()


class _KeyByUriFn(beam.DoFn):
    """Beam's FileMetadata -> ``(escaped uri, (size, mtime_s))``, counted as listed."""

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, metadata):
        self._tally.add(keys.LISTING_ENTRIES)
        yield escape(metadata.path), (metadata.size_in_bytes, metadata.last_updated_in_seconds)

    def finish_bundle(self):
        yield from self._tally.flush()


class ListFiles(beam.PTransform):
    """Lists the files matching glob patterns: one ``(uri, (size, mtime_s))`` per match.

    A file matched by several patterns comes out once per pattern; group by
    uri before reading (:class:`ReadImages` does, and so does the
    incremental audit's join with the previous runs). Local patterns are
    listed without opening anything (:func:`photosieve.listing.list_pattern`):
    FIFOs, sockets, devices, directory links, dangling links and link loops
    are counted skips (``("skipped", "listing", kind)``, with up to
    ``photosieve.listing.SKIP_EXAMPLES`` uris per kind and bundle under ``skip_examples``).
    Every entry is counted as ``("listing", "entries")``, for the accounting
    check (listed = read + carried + skipped).

    >>> import os, shutil, tempfile
    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("a.jpg", "b.png"):
    ...     with open(os.path.join(folder, name), "wb") as handle:
    ...         _ = handle.write(b"abc")
    >>> patterns = [os.path.join(folder, "*"), os.path.join(folder, "*.jpg")]  # a.jpg: twice
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     listed = p | ListFiles(patterns)
    ...     sizes = listed["files"] | beam.Map(lambda kv: (os.path.basename(kv[0]), kv[1][0]))
    ...     _ = assert_that(sizes, equal_to([("a.jpg", 3), ("a.jpg", 3), ("b.png", 3)]))
    >>> shutil.rmtree(folder)

    Args:
        patterns: Beam glob patterns (``*`` within a directory, ``**`` across).

    Returns a dict: ``files`` (the listing) and ``ledger``.
    """

    def __init__(self, patterns: Sequence[str]):
        super().__init__()
        self._patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        if not self._patterns:
            raise ValueError("listing needs at least one glob pattern")

    def expand(self, pbegin):
        local = [escape(p) for p in self._patterns if is_local(p)]  # a coder takes any name
        other = [p for p in self._patterns if not is_local(p)]
        parts = [_list_local(pbegin, local)] if local else []
        parts += [_match_other(pbegin, other)] if other else []
        return {
            "files": tuple(part.files for part in parts) | "FlattenListings" >> beam.Flatten(),
            LEDGER: tuple(part[LEDGER] for part in parts) | "FlattenLedgers" >> beam.Flatten(),
        }

    def display_data(self):
        return {"patterns": ", ".join(self._patterns)}


def _list_local(pbegin, patterns: list[str]):
    """Local (escaped) patterns, listed by :mod:`photosieve.listing`: ``files`` and ``ledger``."""
    return (
        pbegin
        | "CreateLocalPatterns" >> beam.Create(patterns)
        | "ListLocal" >> beam.ParDo(_ListLocalFn()).with_outputs(LEDGER, main="files")
    )


def _match_other(pbegin, patterns: list[str]):
    """Patterns of other filesystems, matched by Beam: ``files`` and ``ledger``."""
    return (
        pbegin
        | "CreatePatterns" >> beam.Create(patterns)
        | "MatchPatterns" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
        | "KeyByPath" >> beam.ParDo(_KeyByUriFn()).with_outputs(LEDGER, main="files")
    )


