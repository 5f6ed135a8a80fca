"""What every index returns, and the small interface the pipeline codes against.

The pipeline holds one index per (list, algorithm). Whatever the metric
(Hamming multi-index, Euclidean, exact digest), an index is built from a
``uint8 [n, nbytes]`` array of hashes and answers with *items*: row numbers
into that array. A :class:`~photosieve.lists.HashList` stores each distinct
hash once, so an item leads to every id and label of that hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from photosieve.errors import ConfigError


@dataclass(frozen=True, order=True)
class Match:
    """One indexed hash within the threshold of one query hash.

    Attributes:
        item: row of the array the index was built from.
        distance: under the algorithm's metric (an int for Hamming, a float
            for Euclidean, 0 for exact digests).
    """

    item: int
    distance: float


@dataclass(frozen=True)
class BatchMatches:
    """Every (query, variant, item) triple within the threshold, as parallel arrays.

    A query image may carry up to ``k`` hashes (the 8 dihedral PDQ hashes);
    ``variant`` says which of them matched. Triples are sorted by
    (query, item, variant). See :meth:`best` to keep one row per (query, item).

    Attributes:
        query: int64 [m], index of the query image in the batch.
        variant: int64 [m], which of its k hashes matched (0 when k = 1).
        item: int64 [m], row of the indexed array.
        distance: [m], int32 for Hamming and exact, float64 for Euclidean.
    """

    query: np.ndarray
    variant: np.ndarray
    item: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return int(self.query.size)

    @classmethod
    def empty(cls, distance_dtype: type = np.int32) -> BatchMatches:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0, dtype=distance_dtype))

    @classmethod
    def from_flat(
        cls, flat_query: np.ndarray, item: np.ndarray, distance: np.ndarray, k: int
    ) -> BatchMatches:
        """Split flattened query rows (``query * k + variant``) and sort the triples."""
        flat_query = np.asarray(flat_query, dtype=np.int64)
        query, variant = np.divmod(flat_query, k)
        item = np.asarray(item, dtype=np.int64)
        order = np.lexsort((variant, item, query))
        return cls(query[order], variant[order], item[order], np.asarray(distance)[order])

    def best(self) -> BatchMatches:
        """Keep, per (query, item), the row with the smallest distance (then lowest variant)."""
        if not len(self):
            return self
        order = np.lexsort((self.variant, self.distance, self.item, self.query))
        q, it = self.query[order], self.item[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (it[1:] != it[:-1])
        keep = order[first]
        return BatchMatches(
            self.query[keep], self.variant[keep], self.item[keep], self.distance[keep]
        )

    def for_query(self, query: int) -> BatchMatches:
        lo, hi = np.searchsorted(self.query, [query, query + 1])
        return BatchMatches(
            self.query[lo:hi], self.variant[lo:hi], self.item[lo:hi], self.distance[lo:hi]
        )


@runtime_checkable
class HashIndex(Protocol):
    """The interface shared by :class:`MultiIndex`, :class:`EuclideanIndex` and :class:`ExactIndex`.

    Indexes are immutable after ``build``, hold only numpy arrays (cheap to
    pickle as a Beam side input) and are safe to query from several threads.
    """

    nbytes: int

    def __len__(self) -> int: ...

    def query(self, h: object, *, threshold: float) -> list[Match]: ...

    def query_batch(
        self, queries: np.ndarray, *, threshold: float, valid: np.ndarray | None = None
    ) -> BatchMatches: ...

    def nbytes_used(self) -> int: ...


def as_hash_rows(hashes: object, nbytes: int, *, what: str = "hashes") -> np.ndarray:
    """Return ``hashes`` as a C-contiguous ``uint8 [n, nbytes]`` array, or raise ConfigError."""
    array = np.asarray(hashes)
    if array.size == 0:
        return np.zeros((0, nbytes), dtype=np.uint8)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != nbytes:
        raise ConfigError(
            f"{what} must be a uint8 array of shape [n, {nbytes}], got {array.dtype} {array.shape}"
        )
    return np.ascontiguousarray(array)


def as_query_batch(
    queries: object, nbytes: int, valid: np.ndarray | None
) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Flatten ``[q, k, nbytes]`` (or ``[q, nbytes]``) queries; return (rows, k, valid rows).

    ``valid`` (bool ``[q, k]``) marks which of the k hashes exist: an image may
    have fewer hashes than the batch's widest one. Rows it marks False are
    never reported.
    """
    array = np.asarray(queries)
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3 or array.dtype != np.uint8 or array.shape[2] != nbytes:
        raise ConfigError(
            f"queries must be uint8 [q, k, {nbytes}] or [q, {nbytes}],"
            f" got {array.dtype} {array.shape}"
        )
    q, k, _ = array.shape
    rows = np.ascontiguousarray(array.reshape(q * k, nbytes))
    valid_rows = None
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != (q, k):
            raise ConfigError(f"valid must be bool [{q}, {k}], got {valid.shape}")
        valid_rows = valid.reshape(q * k)
    return rows, max(k, 1), valid_rows


def single_hash_row(h: object, nbytes: int) -> np.ndarray:
    """Accept a HashValue, bytes or a uint8 array; return ``uint8 [1, nbytes]``."""
    bits = getattr(h, "bits", h)
    if isinstance(bits, (bytes, bytearray, memoryview)):
        row = np.frombuffer(bytes(bits), dtype=np.uint8)
    else:
        row = np.asarray(bits)
    if row.dtype != np.uint8 or row.shape != (nbytes,):
        raise ConfigError(f"query must be {nbytes} bytes, got {row.dtype} {row.shape}")
    return row.reshape(1, nbytes)
