"""What every index returns and takes (photosieve.index.types)."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve.errors import ConfigError
from photosieve.hashes.value import HashValue
from photosieve.index import build_index
from photosieve.index.types import (
    BatchMatches,
    HashIndex,
    as_hash_rows,
    as_query_batch,
    single_hash_row,
)


def test_flat_rows_split_into_query_and_variant_sorted():
    # rows are query * k + variant, k = 2: rows 3, 0, 2 -> (1, 1), (0, 0), (1, 0)
    found = BatchMatches.from_flat(np.array([3, 0, 2]), np.array([5, 5, 5]), np.array([2, 1, 0]), 2)
    assert found.query.tolist() == [0, 1, 1] and found.variant.tolist() == [0, 0, 1]
    assert found.distance.tolist() == [1, 0, 2] and len(found) == 3


def test_best_keeps_the_nearest_variant_per_query_and_item():
    found = BatchMatches(
        np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]), np.array([7, 7, 8, 7]), np.array([5, 3, 3, 9])
    )
    best = found.best()
    assert list(zip(best.query, best.item, best.variant, best.distance)) == [
        (0, 7, 1, 3),
        (0, 8, 2, 3),
        (1, 7, 0, 9),
    ]
    assert found.for_query(1).item.tolist() == [7] and len(BatchMatches.empty()) == 0


def test_inputs_are_checked_with_their_shapes_named():
    assert as_hash_rows([], 32).shape == (0, 32)
    with pytest.raises(ConfigError, match=r"uint8 array of shape \[n, 32\], got int64"):
        as_hash_rows(np.zeros((2, 32), dtype=np.int64), 32)
    rows, k, valid = as_query_batch(np.zeros((3, 2, 8), np.uint8), 8, np.ones((3, 2), bool))
    assert rows.shape == (6, 8) and k == 2 and valid.shape == (6,)
    assert as_query_batch(np.zeros((3, 8), np.uint8), 8, None)[1] == 1
    with pytest.raises(ConfigError, match=r"valid must be bool \[3, 2\]"):
        as_query_batch(np.zeros((3, 2, 8), np.uint8), 8, np.ones((3,), bool))
    value = HashValue.from_hex("phash", "d1c4b8a5e3f09b72")
    assert single_hash_row(value, 8).tobytes() == value.bits
    with pytest.raises(ConfigError, match="query must be 8 bytes"):
        single_hash_row(b"\0" * 7, 8)


def test_every_index_kind_follows_the_interface():
    for algorithm, nbytes in (("pdq", 32), ("gradient", 144), ("md5", 16)):
        index = build_index(algorithm, np.zeros((2, nbytes), np.uint8))
        assert isinstance(index, HashIndex) and len(index) == 2
