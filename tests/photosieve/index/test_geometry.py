"""The geometry shared by the index and the shuffle join: chunking, candidate rule, cost model."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosieve.index import geometry as geometry_module
from photosieve.index.geometry import (
    INDEX_COSTS,
    SHUFFLE_COSTS,
    Geometry,
    ball_size,
    choose_geometry,
    chunk_keys,
    estimate,
)


def test_module_examples_run():
    assert doctest.testmod(geometry_module).failed == 0


def _words(rows: np.ndarray) -> np.ndarray:
    """uint8 [n, nbytes] (nbytes a multiple of 8) -> uint64 [nwords, n], big-endian words."""
    return np.ascontiguousarray(rows.view(">u8").T.astype(np.uint64))


@pytest.mark.parametrize(("m", "b"), [(16, 16), (11, 23), (5, 12), (1, 32), (32, 8), (2, 4)])
def test_int_and_numpy_chunking_cut_the_same_bits(m, b):
    # The shuffle join keys ints, the index numpy words: one chunking for both.
    rng = np.random.default_rng(m * 100 + b)
    rows = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    geometry = Geometry(m, b)
    words = _words(rows)
    by_numpy = np.stack([chunk_keys(words, j, b) for j in range(m)], axis=1).tolist()
    by_int = [geometry.keys(int.from_bytes(row.tobytes(), "big"), 256) for row in rows]
    assert by_numpy == by_int
    # Chunk 0 starts at the first hex digit.
    top = int(rows[0].tobytes().hex(), 16) >> (256 - b)
    assert by_int[0][0] == top


@pytest.mark.parametrize(("m", "b", "t"), [(16, 16, 31), (2, 4, 1), (4, 8, 9), (3, 5, 40)])
def test_probe_masks_are_the_ball_the_model_counts(m, b, t):
    geometry = Geometry(m, b)
    masks = geometry.probe_masks(t)
    r1 = min(t // m, b)
    assert len(set(masks)) == len(masks) == ball_size(b, r1)
    assert all(mask < 1 << b and mask.bit_count() <= r1 for mask in masks)
    assert [mask.bit_count() for mask in masks] == sorted(mask.bit_count() for mask in masks)
    assert geometry.probe_count(t) == m * len(masks)
    plan = estimate(geometry, 1000, m * b, t)
    assert plan.probes == geometry.probe_count(t)


def _chunk_distances(a: int, b: int, geometry: Geometry, nbits: int) -> list[int]:
    return [
        bin(x ^ y).count("1")  # noqa: FURB161 - another way to count than the code under test
        for x, y in zip(geometry.keys(a, nbits), geometry.keys(b, nbits))
    ]


@settings(max_examples=500, deadline=None)
@given(
    m=st.integers(1, 16),
    b=st.integers(1, 8),
    spare=st.integers(0, 8),
    t=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_pair_within_the_threshold_is_a_candidate_of_some_chunk(m, b, spare, t, seed):
    """Pigeonhole and pigeonring: no pair within t is lost, whatever the geometry (bits past m*b too)."""
    nbits = m * b + spare
    geometry = Geometry(m, b)
    rng = np.random.default_rng(seed)
    a = int.from_bytes(rng.bytes(32), "big") >> (256 - nbits)
    flipped = rng.choice(nbits, size=min(t, nbits), replace=False)  # as far as the threshold allows
    other = a
    for bit in flipped:
        other ^= 1 << int(bit)
    assert bin(a ^ other).count("1") <= t  # noqa: FURB161
    r1, r2 = geometry.radii(t)
    first = geometry.first_candidate(geometry.keys(a, nbits), geometry.keys(other, nbits), t)
    assert first is not None
    d = _chunk_distances(a, other, geometry, nbits)
    assert d[first] <= r1 and d[first] + d[(first + 1) % m] <= r2
    # ...and it is the first chunk that passes both tests.
    assert all(not (d[j] <= r1 and d[j] + d[(j + 1) % m] <= r2) for j in range(first))


def test_a_pair_far_in_every_chunk_is_no_candidate():
    geometry = Geometry(4, 4)
    assert geometry.first_candidate([0, 0, 0, 0], [0b111, 0b111, 0b111, 0b111], 7) is None


def test_index_costs_pick_the_measured_geometries():
    # The in-memory index: 16 x 16 for PDQ at 31 (Meta's matcher's geometry), no tables for tiny lists.
    assert choose_geometry(1_000_000, 256, 31) == Geometry(16, 16)
    assert choose_geometry(1_000_000, 256, 31, costs=INDEX_COSTS) == Geometry(16, 16)
    assert choose_geometry(1, 256, 31) is None
    assert choose_geometry(0, 256, 31) is None


def test_shuffle_costs_pick_the_fewest_keys_the_join_can_afford():
    # 16 chunks of 16 bits probed within 1 bit: 272 shuffled keys per PDQ query hash.
    geometry = choose_geometry(1_000_000, 256, 31, costs=SHUFFLE_COSTS, max_bytes_per_hash=None)
    assert geometry == Geometry(16, 16)
    assert geometry.radii(31)[0] == 1 and geometry.probe_count(31) == 272
    # An exact-match threshold on a short list: one 32-bit key, no flipped bits.
    small = choose_geometry(10, 256, 0, costs=SHUFFLE_COSTS, max_bytes_per_hash=None)
    assert small.radii(0) == (0, 0) and small.probe_count(0) == small.chunks
    # No scan to fall back on: a geometry even where the index would rather scan.
    assert choose_geometry(1, 256, 31, costs=SHUFFLE_COSTS, max_bytes_per_hash=None) is not None


@pytest.mark.parametrize("costs", [INDEX_COSTS, SHUFFLE_COSTS])
@pytest.mark.parametrize(("nbits", "t"), [(64, 10), (64, 31), (64, 40), (256, 31), (256, 64)])
@pytest.mark.parametrize("n", [1, 1000, 1_000_000])
def test_no_geometry_probes_every_key_of_a_chunk(costs, nbits, t, n):
    # Such a "geometry" is a scan with extra steps; in a shuffle, a broadcast to a few hot keys.
    geometry = choose_geometry(n, nbits, t, costs=costs, max_bytes_per_hash=None)
    if geometry is not None:
        assert geometry.radii(t)[0] < geometry.chunk_bits
        assert costs.min_chunk_bits <= geometry.chunk_bits <= costs.max_chunk_bits


def test_the_shuffle_prices_keys_above_pairs():
    # 11 x 23 probes 3047 keys per query: cheap pairs, but each key is a 35 us shuffled element.
    wide = estimate(Geometry(11, 23), 1_000_000, 256, 31, SHUFFLE_COSTS)
    square = estimate(Geometry(16, 16), 1_000_000, 256, 31, SHUFFLE_COSTS)
    assert wide.probes == 11 * ball_size(23, 2)
    assert square.index_ns < wide.index_ns
    assert math.isinf(square.scan_ns)
