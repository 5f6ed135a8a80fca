"""EuclideanIndex returns exactly the hashes within the threshold, boundaries included."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosieve.errors import ConfigError
from photosieve.index import EuclideanIndex


def brute_force(
    hashes: np.ndarray, queries: np.ndarray, t: float
) -> set[tuple[int, int, int, float]]:
    """Per pair, the formula of HashValue.distance: sqrt of an exact integer sum."""
    found = set()
    for qi in range(queries.shape[0]):
        for v in range(queries.shape[1]):
            for item, row in enumerate(hashes):
                diff = row.astype(np.int64) - queries[qi, v].astype(np.int64)
                d = math.sqrt(int((diff * diff).sum()))
                if d <= t:
                    found.add((qi, v, item, d))
    return found


def as_set(matches) -> set[tuple[int, int, int, float]]:
    rows = zip(matches.query, matches.variant, matches.item, matches.distance)
    return {(int(q), int(v), int(i), float(d)) for q, v, i, d in rows}


@st.composite
def cases(draw: st.DrawFn):
    nbytes = draw(st.sampled_from([1, 3, 16, 144, 300]))  # 300 bytes: float64 products
    n = draw(st.integers(0, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    hashes = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    queries = rng.integers(
        0, 256, size=(draw(st.integers(1, 4)), draw(st.integers(1, 3)), nbytes), dtype=np.uint8
    )
    for qi in range(queries.shape[0]):
        if n and rng.random() < 0.8:
            near = hashes[rng.integers(0, n)].astype(np.int64) + rng.integers(-3, 4, size=nbytes)
            queries[qi, 0] = np.clip(near, 0, 255).astype(np.uint8)
    # Thresholds right at an existing distance, just under it, or arbitrary.
    if n and draw(st.booleans()):
        diff = hashes[0].astype(np.int64) - queries[0, 0].astype(np.int64)
        exact = math.sqrt(int((diff * diff).sum()))
        t = draw(st.sampled_from([exact, math.nextafter(exact, 0), exact + 0.5]))
    else:
        t = draw(st.floats(0, 4000, allow_nan=False))
    return hashes, queries, t


@settings(max_examples=200, deadline=None)
@given(cases())
def test_query_batch_returns_exactly_the_brute_force_pairs(case):
    hashes, queries, t = case
    index = EuclideanIndex.build(hashes, nbytes=hashes.shape[1])
    assert as_set(index.query_batch(queries, threshold=t)) == brute_force(hashes, queries, t)


def test_threshold_equal_to_the_distance_matches_and_just_under_does_not():
    hashes = np.zeros((2, 144), dtype=np.uint8)
    hashes[1, :4] = 3  # distance sqrt(36) = 6 from the zero hash
    index = EuclideanIndex.build(hashes)
    query = np.zeros(144, dtype=np.uint8)
    assert [m.item for m in index.query(query, threshold=6.0)] == [0, 1]
    assert [m.item for m in index.query(query, threshold=math.nextafter(6.0, 0))] == [0]
    assert index.query(query, threshold=6.0)[1].distance == 6.0


def test_empty_index_and_pickle():
    empty = EuclideanIndex.build(np.zeros((0, 144), np.uint8), nbytes=144)
    assert len(empty) == 0 and empty.query(bytes(144), threshold=1e6) == []
    rng = np.random.default_rng(0)
    index = EuclideanIndex.build(rng.integers(0, 256, size=(50, 144), dtype=np.uint8))
    clone = pickle.loads(pickle.dumps(index))
    q = rng.integers(0, 256, size=(5, 144), dtype=np.uint8)
    assert as_set(clone.query_batch(q, threshold=1500)) == as_set(
        index.query_batch(q, threshold=1500)
    )


def test_negative_threshold_is_a_config_error():
    index = EuclideanIndex.build(np.zeros((1, 4), np.uint8))
    with pytest.raises(ConfigError):
        index.query(bytes(4), threshold=-1)
