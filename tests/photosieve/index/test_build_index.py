"""build_index picks the index for the algorithm's metric; BatchMatches helpers."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.index import (
    BatchMatches,
    EuclideanIndex,
    ExactIndex,
    HashIndex,
    MultiIndex,
    build_index,
)


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("pdq", MultiIndex), ("phash", MultiIndex), ("md5", ExactIndex), ("sha256", ExactIndex)],
)
def test_build_index_follows_the_metric(algorithm, kind):
    nbytes = algorithms.get(algorithm).nbytes
    index = build_index(algorithm, np.zeros((3, nbytes), np.uint8))
    assert isinstance(index, kind) and isinstance(index, HashIndex)
    assert [m.item for m in index.query(bytes(nbytes), threshold=0)] == [0, 1, 2]


def test_build_index_for_gradient_is_euclidean():
    if "gradient" not in algorithms.names():
        pytest.skip("the gradient hash module is not registered yet")
    nbytes = algorithms.get("gradient").nbytes
    assert isinstance(build_index("gradient", np.zeros((2, nbytes), np.uint8)), EuclideanIndex)


def test_build_index_rejects_the_wrong_width():
    with pytest.raises(ConfigError, match="pdq hashes"):
        build_index("pdq", np.zeros((4, 16), np.uint8))


def test_best_keeps_the_nearest_variant_per_query_and_item():
    matches = BatchMatches.from_flat(
        flat_query=np.array([3, 1, 2, 9, 8]),  # k = 4: query 0 variants 3,1,2; query 2 variants 1,0
        item=np.array([5, 5, 5, 7, 7]),
        distance=np.array([4, 9, 4, 1, 1], dtype=np.int32),
        k=4,
    )
    assert matches.query.tolist() == [0, 0, 0, 2, 2]
    best = matches.best()
    assert list(zip(best.query.tolist(), best.variant.tolist(), best.distance.tolist())) == [
        (0, 2, 4),
        (2, 0, 1),
    ]
    assert matches.for_query(2).variant.tolist() == [0, 1]
