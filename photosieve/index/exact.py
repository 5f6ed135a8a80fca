"""Exact-digest lookup (MD5, SHA-256): equal bytes or no match.

Digests are uniformly distributed, so their first 8 bytes are an excellent
sort key: the index keeps those keys sorted (``np.searchsorted`` finds the
run of equal keys) and confirms the full digest. Distances are 0 for a match;
any threshold >= 0 means "equal".
"""

from __future__ import annotations

import math

import numpy as np

from photosieve.errors import ConfigError
from photosieve.index.types import (
    BatchMatches,
    Match,
    as_hash_rows,
    as_query_batch,
    single_hash_row,
)

__all__ = ["ExactIndex"]

_KEY_BYTES = 8


class ExactIndex:
    """Equality search over ``uint8 [n, nbytes]`` digests; interface of :class:`MultiIndex`."""

    nbytes: int

    def __init__(self, *, rows: np.ndarray, keys: np.ndarray, order: np.ndarray) -> None:
        """Assemble from arrays; use :meth:`build` instead."""
        self._rows = rows
        self._keys = keys
        self._order = order
        self.nbytes = int(rows.shape[1])

    @classmethod
    def build(cls, hashes: np.ndarray, *, nbytes: int | None = None) -> ExactIndex:
        """Index ``hashes`` (``uint8 [n, nbytes]``); ``nbytes`` is required when n is 0."""
        array = np.asarray(hashes)
        if nbytes is None:
            if array.ndim != 2:
                raise ConfigError(f"hashes must be uint8 [n, nbytes], got shape {array.shape}")
            nbytes = array.shape[1]
        rows = as_hash_rows(array, nbytes)
        keys = _sort_keys(rows)
        order = np.argsort(keys, kind="stable")
        return cls(rows=rows, keys=keys[order], order=order.astype(np.int64))

    def __len__(self) -> int:
        return int(self._rows.shape[0])

    def nbytes_used(self) -> int:
        return int(self._rows.nbytes + self._keys.nbytes + self._order.nbytes)

    def hashes_of(self, items: np.ndarray) -> np.ndarray:
        """The indexed hashes of ``items`` as ``uint8 [len(items), nbytes]``."""
        return np.take(self._rows, np.asarray(items, dtype=np.int64), axis=0)

    def __getstate__(self) -> dict:
        return {"rows": self._rows, "keys": self._keys, "order": self._order}

    def __setstate__(self, state: dict) -> None:
        self.__init__(rows=state["rows"], keys=state["keys"], order=state["order"])

    def __repr__(self) -> str:
        return f"ExactIndex(n={len(self)}, nbytes={self.nbytes})"

    def query(self, h: object, *, threshold: float = 0) -> list[Match]:
        """Every indexed row equal to ``h`` (distance 0)."""
        found = self.query_batch(single_hash_row(h, self.nbytes), threshold=threshold)
        return [Match(int(i), 0) for i in sorted(found.item)]

    def query_batch(
        self, queries: np.ndarray, *, threshold: float = 0, valid: np.ndarray | None = None
    ) -> BatchMatches:
        """Every (query, variant, item) with equal bytes; distances int32 zeros."""
        if threshold is None or not math.isfinite(threshold) or threshold < 0:
            raise ConfigError(f"threshold must be a finite number >= 0, got {threshold!r}")
        rows, k, valid_rows = as_query_batch(queries, self.nbytes, valid)
        flat = np.arange(rows.shape[0])
        if valid_rows is not None:
            flat = np.flatnonzero(valid_rows)
            rows = rows[flat]
        if len(self) == 0 or rows.shape[0] == 0:
            return BatchMatches.empty()
        keys = _sort_keys(rows)
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        counts = hi - lo
        total = int(counts.sum())
        ends = np.cumsum(counts)
        positions = np.arange(total, dtype=np.int64) - np.repeat(ends - counts - lo, counts)
        query_rows = np.repeat(np.arange(rows.shape[0]), counts)
        items = self._order[positions]
        equal = np.all(self._rows[items] == rows[query_rows], axis=1)
        query_rows, items = query_rows[equal], items[equal]
        return BatchMatches.from_flat(
            flat[query_rows], items, np.zeros(items.size, dtype=np.int32), k
        )


def _sort_keys(rows: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each row as a big-endian uint64 (zero-padded if shorter)."""
    head = np.zeros((rows.shape[0], _KEY_BYTES), dtype=np.uint8)
    width = min(_KEY_BYTES, rows.shape[1])
    head[:, :width] = rows[:, :width]
    return head.view(">u8").reshape(-1).astype(np.uint64)
