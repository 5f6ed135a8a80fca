"""ExactIndex: equal digests only, duplicates all reported."""

from __future__ import annotations

import pickle

import numpy as np

from photosieve.index import ExactIndex, Match


def test_finds_equal_digests_and_ignores_shared_prefixes():
    rng = np.random.default_rng(0)
    digests = rng.integers(0, 256, size=(1000, 16), dtype=np.uint8)
    digests[500] = digests[20]  # duplicate
    digests[600, :8] = digests[30, :8]  # same sort key, different digest
    index = ExactIndex.build(digests)
    queries = np.stack([digests[20], digests[30], rng.integers(0, 256, 16, dtype=np.uint8)])
    got = index.query_batch(queries)
    assert list(zip(got.query.tolist(), got.item.tolist())) == [(0, 20), (0, 500), (1, 30)]
    assert set(got.distance.tolist()) == {0}
    assert index.query(digests[30].tobytes()) == [Match(30, 0)]


def test_variants_valid_mask_empty_and_pickle():
    digests = np.arange(64, dtype=np.uint8).reshape(2, 32)
    index = pickle.loads(pickle.dumps(ExactIndex.build(digests)))
    queries = np.stack([np.stack([digests[1], digests[0]])])  # [1, 2, 32]
    got = index.query_batch(queries, valid=np.array([[True, False]]))
    assert (got.variant.tolist(), got.item.tolist()) == ([0], [1])
    assert len(ExactIndex.build(np.zeros((0, 32), np.uint8), nbytes=32).query_batch(queries)) == 0
