"""Indexes over known hashes: one per (list, algorithm), picked by the algorithm's metric.

* :class:`MultiIndex` (Hamming: PDQ, pHash, dHash, aHash): exact multi-index
  hashing with a pigeonring filter; see :mod:`photosieve.index.multi_index`.
* :class:`EuclideanIndex` (the ``gradient`` hash): exact, by blocked matrix products.
* :class:`ExactIndex` (MD5, SHA-256): equality.

All three share :class:`HashIndex`: ``build`` from ``uint8 [n, nbytes]``,
``query(h, *, threshold) -> list[Match]``, ``query_batch(queries[q, k, nbytes],
*, threshold) -> BatchMatches``, ``len()``, and pickling through numpy arrays.

>>> import numpy as np
>>> hashes = np.array([[0x0F] * 32, [0xF0] * 32], dtype=np.uint8)
>>> index = build_index("pdq", hashes)
>>> index.query(hashes[1], threshold=31)
[Match(item=1, distance=0)]
"""

from __future__ import annotations

import numpy as np

from photosieve import algorithms
from photosieve.index.euclidean import EuclideanIndex
from photosieve.index.exact import ExactIndex
from photosieve.index.geometry import Geometry
from photosieve.index.multi_index import MultiIndex
from photosieve.index.types import BatchMatches, HashIndex, Match, as_hash_rows

__all__ = [
    "BatchMatches",
    "EuclideanIndex",
    "ExactIndex",
    "Geometry",
    "HashIndex",
    "Match",
    "MultiIndex",
    "build_index",
]


def build_index(algorithm: str, hashes: np.ndarray, *, threshold: float | None = None) -> HashIndex:
    """Build the right index for ``algorithm`` over ``hashes`` (``uint8 [n, nbytes]``).

    Args:
        algorithm: a registered algorithm name (see :mod:`photosieve.algorithms`).
        hashes: one hash per row; n may be 0.
        threshold: the threshold queries will use (tunes the Hamming index's
            geometry); defaults to the algorithm's default threshold.

    Raises:
        ConfigError: unknown algorithm, or hashes of the wrong width.
    """
    spec = algorithms.get(algorithm)
    if threshold is None:
        threshold = spec.default_threshold
    rows = as_hash_rows(hashes, spec.nbytes, what=f"{spec.name} hashes")
    if spec.metric is algorithms.Metric.HAMMING:
        return MultiIndex.build(rows, threshold=int(threshold))
    if spec.metric is algorithms.Metric.EUCLIDEAN:
        return EuclideanIndex.build(rows, nbytes=spec.nbytes)
    return ExactIndex.build(rows, nbytes=spec.nbytes)
