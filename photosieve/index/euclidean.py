"""Exact Euclidean-threshold search for byte-vector hashes (the ``gradient`` hash).

A gradient hash is ``nbytes`` unsigned bytes; two hashes are at distance
``sqrt(sum((a - b)**2))``, as :meth:`HashValue.distance` computes it. The
index answers "every list hash within ``t``" exactly, by blocked matrix
products::

    |a - b|**2 = |a|**2 + |b|**2 - 2 a.b

Exactness: every term is an integer. With 144 bytes a dot product is at most
``144 * 255**2 = 9,363,600 < 2**24``, and so is every partial sum a BLAS
kernel forms in any order, so float32 products are exact integers; longer
vectors switch to float64 (exact below ``2**53``). The squared distance is
then formed in int64 and compared as ``sqrt(d2) <= t`` with the same
correctly rounded square root as the scalar code, so index, brute force and
``HashValue.distance`` agree on every boundary case.
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

__all__ = ["EuclideanIndex"]

# float32 holds integers exactly up to 2**24 (24-bit significand).
_FLOAT32_EXACT_LIMIT = 1 << 24
_MAX_BYTE = 255
# [queries, items] tile of the distance matrix, in elements (~32 MB of float64).
TILE_ELEMENTS = 1 << 22
QUERY_BLOCK = 1024


class EuclideanIndex:
    """Exact Euclidean-threshold search over ``uint8 [n, nbytes]`` hashes.

    Same interface as :class:`~photosieve.index.multi_index.MultiIndex`:
    items are row numbers of the array given to :meth:`build`; the object
    holds numpy arrays only and pickles as such.
    """

    nbytes: int

    def __init__(self, *, rows: np.ndarray, norms: np.ndarray) -> None:
        """Assemble from arrays; use :meth:`build` instead."""
        self._rows = rows  # uint8: 4x smaller than float32; blocks are converted per product
        self._norms = norms
        self.nbytes = int(rows.shape[1])
        exact_in_float32 = self.nbytes * _MAX_BYTE**2 < _FLOAT32_EXACT_LIMIT
        self._dtype = np.float32 if exact_in_float32 else np.float64

    @classmethod
    def build(cls, hashes: np.ndarray, *, nbytes: int | None = None) -> EuclideanIndex:
        """Index ``hashes`` (``uint8 [n, nbytes]``); ``nbytes`` is required when n is 0."""
        array = np.asarray(hashes)
        if nbytes is None:
            if array.ndim != 2:
                raise ConfigError(f"hashes must be uint8 [n, nbytes], got shape {array.shape}")
            nbytes = array.shape[1]
        rows = as_hash_rows(array, nbytes)
        norms = np.einsum("ij,ij->i", rows.astype(np.int64), rows.astype(np.int64))
        return cls(rows=rows, norms=norms)

    def __len__(self) -> int:
        return int(self._rows.shape[0])

    def nbytes_used(self) -> int:
        return int(self._rows.nbytes + self._norms.nbytes)

    def hashes_of(self, items: np.ndarray) -> np.ndarray:
        """The indexed hashes of ``items`` as ``uint8 [len(items), nbytes]``."""
        return np.take(self._rows, np.asarray(items, dtype=np.int64), axis=0)

    def __getstate__(self) -> dict:
        return {"rows": self._rows, "norms": self._norms}

    def __setstate__(self, state: dict) -> None:
        self.__init__(rows=state["rows"], norms=state["norms"])

    def __repr__(self) -> str:
        return f"EuclideanIndex(n={len(self)}, nbytes={self.nbytes})"

    def query(self, h: object, *, threshold: float) -> list[Match]:
        """Every indexed hash within Euclidean distance ``threshold`` of ``h``, nearest first."""
        found = self.query_batch(single_hash_row(h, self.nbytes), threshold=threshold)
        matches = [Match(int(i), float(d)) for i, d in zip(found.item, found.distance)]
        return sorted(matches, key=lambda match: (match.distance, match.item))

    def query_batch(
        self, queries: np.ndarray, *, threshold: float, valid: np.ndarray | None = None
    ) -> BatchMatches:
        """Every (query, variant, item) with distance <= ``threshold``; distances float64."""
        if threshold is None or not math.isfinite(threshold) or threshold < 0:
            raise ConfigError(f"threshold must be a finite number >= 0, got {threshold!r}")
        rows, k, valid_rows = as_query_batch(queries, self.nbytes, valid)
        flat = np.arange(rows.shape[0])
        if valid_rows is not None:
            flat = np.flatnonzero(valid_rows)
            rows = rows[flat]
        if len(self) == 0 or rows.shape[0] == 0:
            return BatchMatches.empty(np.float64)
        # Squared threshold with slack; the exact test below uses sqrt like the scalar code.
        limit = math.floor(threshold * threshold) + 1
        item_block = max(1, TILE_ELEMENTS // QUERY_BLOCK)
        parts_q, parts_item, parts_d = [], [], []
        for q_lo in range(0, rows.shape[0], QUERY_BLOCK):
            block = rows[q_lo : q_lo + QUERY_BLOCK]
            q_vectors = block.astype(self._dtype)
            q_norms = np.einsum("ij,ij->i", block.astype(np.int64), block.astype(np.int64))
            for lo in range(0, len(self), item_block):
                dots = q_vectors @ self._rows[lo : lo + item_block].astype(self._dtype).T
                d2 = q_norms[:, None] + self._norms[None, lo : lo + item_block]
                d2 -= 2 * dots.astype(np.int64)
                qq, ii = np.nonzero(d2 <= limit)
                dist = np.sqrt(d2[qq, ii].astype(np.float64))
                keep = dist <= threshold
                parts_q.append(flat[qq[keep] + q_lo])
                parts_item.append(ii[keep] + lo)
                parts_d.append(dist[keep])
        return BatchMatches.from_flat(
            np.concatenate(parts_q), np.concatenate(parts_item), np.concatenate(parts_d), k
        )
