"""The ledger's keys, declared once, and a read-only view of a summed ledger.

Every photosieve step counts what it does in a per-bundle tally keyed by
tuples (``photosieve.transforms.ledger``); the tallies are summed once into
nested JSON (``{"objects": {"read": 12}}``) that the accounting check, the
summary, repeat audits and the report read. Writers and readers take their
keys from here, so a key cannot be misspelt on one side only.

A key is a tuple of fixed parts; the ones documented "+ x" take more parts
at run time (``(*UNITS, "pdq", "hashed")``). :class:`Ledger` reads the
nested form: :meth:`Ledger.count` one number, :meth:`Ledger.counts` the
numbers below a key, :meth:`Ledger.total` their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Ledger", "nest_counts"]

# -- listing and reading ----------------------------------------------------------
LISTING_ENTRIES = ("listing", "entries")  # entries the listing produced
SKIPPED = ("skipped",)  # + where ("listing", "archive"), kind: counted skips
SKIP_EXAMPLES = ("skip_examples",)  # + where, kind, uri: example uris (not a counter)
FILES_LISTED = ("files", "listed")  # files read or carried, once each
FILES_RELISTED = ("files", "relisted")  # more matches of the same file by overlapping globs
FILES_ARCHIVES = ("files", "archives")  # archives opened (or carried)
FILES_ARCHIVE_OBJECTS = ("files", "archive_objects")  # members of those archives
FILES_ARCHIVE_FAILURES = ("files", "archive_failures")  # archives with a problem of their own
OBJECTS_READ = ("objects", "read")  # objects that reached the hasher
OBJECTS_HASHED = ("objects", "hashed")  # objects the hasher finished
OBJECTS_CARRIED = ("objects", "carried")  # objects carried from a previous run, unread
# -- hashing ----------------------------------------------------------------------
UNITS = ("units",)  # + algorithm, outcome: one per (object, requested algorithm)
WARNINGS_DECODE = ("warnings", "decode")  # + category: decoder warnings
FRAMES_CUT_OFF = ("frames", "cut_off")  # objects with frames past --max-frames
HASHES_ALGORITHM = ("hashes", "algorithm")  # + algorithm: hash rows written
HASHES_CARRIED = ("hashes", "carried")  # + run id: hash rows carried
HASHES_READ = ("hashes", "read")  # stored hash rows ``match`` read
ERRORS_CLASS = ("errors", "class")  # + error class: error rows
ERRORS_STAGE = ("errors", "stage")  # + stage
ERRORS_CARRIED = ("errors", "carried")  # + run id
# -- repeat audits ----------------------------------------------------------------
FILES_STATE = ("files", "state")  # + state (new, changed, unchanged, gone): files table rows
FILES_REREAD = ("files", "reread")  # + why an unchanged file was read again
FILES_CARRIED = ("files", "carried")  # + run id: files carried
# -- matching ---------------------------------------------------------------------
QUERIES = ("queries",)  # + reason ("probed", or why not), algorithm
QUERIES_PROBED = "probed"
MATCHES_STATUS = ("matches", "status")  # + status: match rows
MATCHES_LIST = ("matches", "list")  # + list, status
MATCHES_LABEL = ("matches", "label")  # + list, label
MATCHES_MODE = ("matches", "mode")  # + mode configuration
MATCHES_BEFORE = ("matches", "matched_before")  # + status: matched by a previous run too
MATCHES_NEW = ("matches", "new")  # + status, reason
MATCHES_NO_LONGER = ("matches", "no_longer_matched")  # + status, why


class Ledger:
    """A summed ledger (nested JSON), read by key; absent keys count 0.

    >>> ledger = Ledger({"objects": {"read": 3}, "units": {"pdq": {"hashed": 2, "failed": 1}}})
    >>> ledger.count(OBJECTS_READ), ledger.counts(UNITS + ("pdq",)), ledger.total(UNITS)
    (3, {'hashed': 2, 'failed': 1}, 3)
    """

    def __init__(self, nested: Mapping[str, Any] | None):
        self.nested = nested or {}

    def _node(self, key: tuple[str, ...]) -> Any:
        node: Any = self.nested
        for part in key:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def count(self, key: tuple[str, ...]) -> int:
        """The number at ``key`` (0 when absent or not a number)."""
        node = self._node(key)
        return node if isinstance(node, int) and not isinstance(node, bool) else 0

    def counts(self, key: tuple[str, ...]) -> dict[str, Any]:
        """What is below ``key``, one level (numbers, or mappings for deeper keys)."""
        node = self._node(key)
        return dict(node) if isinstance(node, Mapping) else {}

    def has(self, key: tuple[str, ...]) -> bool:
        return self._node(key) is not None

    def total(self, key: tuple[str, ...]) -> int:
        """The sum of every number below ``key``."""

        def add(node: Any) -> int:
            if isinstance(node, Mapping):
                return sum(add(child) for child in node.values())
            return node if isinstance(node, int) and not isinstance(node, bool) else 0

        return add(self._node(key))


def nest_counts(counts: Mapping[tuple, int]) -> dict:
    """``{("a", "b"): 1}`` -> ``{"a": {"b": 1}}``, keys sorted: the ledger as JSON.

    >>> nest_counts({("objects", "read"): 2, ("units", "pdq", "hashed"): 2})
    {'objects': {'read': 2}, 'units': {'pdq': {'hashed': 2}}}
    """
    nested: dict = {}
    for key in sorted(counts):
        node = nested
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = node.get(key[-1], 0) + counts[key]
    return nested
