"""MultiIndex returns exactly the pairs within the threshold: checked against brute force.

The oracle below is deliberately naive (unpack every bit, sum) and shares no
code with the index.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photosieve.errors import ConfigError
from photosieve.index.geometry import DEFAULT_MAX_BYTES_PER_HASH, Geometry, choose_geometry
from photosieve.index.multi_index import MultiIndex
from photosieve.index.types import BatchMatches, Match


def brute_force(hashes: np.ndarray, queries: np.ndarray, t: int) -> set[tuple[int, int, int, int]]:
    """{(query, variant, item, distance)} for queries [q, k, nbytes], by unpacking bits."""
    found = set()
    for qi in range(queries.shape[0]):
        for v in range(queries.shape[1]):
            if len(hashes) == 0:
                continue
            dist = np.unpackbits(hashes ^ queries[qi, v], axis=1).sum(axis=1)
            for item in np.flatnonzero(dist <= t):
                found.add((qi, v, int(item), int(dist[item])))
    return found


def as_set(matches: BatchMatches) -> set[tuple[int, int, int, int]]:
    rows = zip(matches.query, matches.variant, matches.item, matches.distance)
    return {(int(q), int(v), int(i), int(d)) for q, v, i, d in rows}


def flip_bits(row: np.ndarray, positions: list[int]) -> np.ndarray:
    bits = np.unpackbits(row)
    bits[positions] ^= 1
    return np.packbits(bits)


@st.composite
def geometries(draw: st.DrawFn, nbits: int, t: int) -> Geometry | None:
    """None (cost model) or a forced geometry small enough to enumerate its probes."""
    if draw(st.booleans()):
        return None
    b = draw(st.integers(1, min(nbits, 20)))
    m = draw(st.integers(1, nbits // b))
    # Keep the probe count small: sum of C(b, f) for f <= t // m.
    while sum(__import__("math").comb(b, f) for f in range(min(t // m, b) + 1)) > 5000:
        b -= 1
        m = min(m, nbits // b)
    return Geometry(m, b)


@st.composite
def cases(draw: st.DrawFn):
    nbytes = draw(st.sampled_from([1, 5, 8, 16, 32]))
    nbits = nbytes * 8
    t = draw(st.integers(0, nbits))
    n = draw(st.integers(0, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    if n and draw(st.booleans()):  # duplicated rows
        hashes = np.concatenate([hashes, hashes[rng.integers(0, n, size=draw(st.integers(1, 5)))]])
    q = draw(st.integers(1, 6))
    k = draw(st.integers(1, 8))
    queries = rng.integers(0, 256, size=(q, k, nbytes), dtype=np.uint8)
    for qi in range(q):
        for v in range(k):
            if len(hashes) and rng.random() < 0.7:
                # A list hash at distance exactly t or t + 1 (capped by the hash size).
                d = min(nbits, t + int(rng.integers(0, 2)))
                source = hashes[rng.integers(0, len(hashes))]
                queries[qi, v] = flip_bits(source, list(rng.choice(nbits, size=d, replace=False)))
    geometry = draw(geometries(nbits, t))
    method = draw(st.sampled_from(["auto", "index", "scan"]))
    return hashes, queries, t, geometry, method


@settings(max_examples=300, deadline=None)
@given(cases())
def test_query_batch_returns_exactly_the_brute_force_pairs(case):
    hashes, queries, t, geometry, method = case
    index = MultiIndex.build(hashes, threshold=t, geometry=geometry)
    if index.geometry is None and method == "index" and len(hashes):
        method = "scan"  # no tables were built: the cost model found a scan cheaper
    got = index.query_batch(queries, threshold=t, method=method)
    assert as_set(got) == brute_force(hashes, queries, t)
    assert len(as_set(got)) == len(got)  # each (query, variant, item) once


@st.composite
def chunk_spread_cases(draw: st.DrawFn):
    """A pair whose differing bits are spread over the chunks in a chosen pattern.

    Random flips rarely produce the layouts that stress the pigeonring filter
    (every chunk just over t // m but one); here the per-chunk distances are
    drawn directly, summing to exactly t or t + 1.
    """
    # Chunk widths that do and do not divide 64, so chunks straddle words.
    m, b = draw(st.sampled_from([(16, 16), (4, 16), (8, 8), (9, 14), (7, 13), (4, 18), (5, 12)]))
    nbytes = 32 if m * b > 64 else 8
    t = draw(st.integers(0, min(m * b, 3 * m)))
    total = t + draw(st.integers(0, 1))
    per_chunk = [0] * m
    for _ in range(total):
        open_chunks = [j for j in range(m) if per_chunk[j] < b]
        per_chunk[draw(st.sampled_from(open_chunks))] += 1
    seed = draw(st.integers(0, 2**32 - 1))
    return m, b, nbytes, t, per_chunk, seed


@settings(max_examples=300, deadline=None)
@given(chunk_spread_cases())
def test_pairs_spread_adversarially_over_chunks_are_found(case):
    m, b, nbytes, t, per_chunk, seed = case
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(50, nbytes), dtype=np.uint8)
    positions = [
        j * b + int(p) for j, d in enumerate(per_chunk) for p in rng.choice(b, d, replace=False)
    ]
    query = flip_bits(hashes[17], positions)
    index = MultiIndex.build(hashes, threshold=t, geometry=Geometry(m, b))
    got = index.query_batch(query[None, None, :], threshold=t, method="index")
    assert as_set(got) == brute_force(hashes, query[None, None, :], t)
    assert ((0, 0, 17, sum(per_chunk)) in as_set(got)) == (sum(per_chunk) <= t)


def test_pigeonring_worst_case_for_pdq_geometry():
    # Chunk distances 1,3,1,3,...,1,2 sum to 31: the only chunk whose run of
    # two stays within 2 * 31 // 16 = 3 is chunk 14 (1 + 2).
    per_chunk = [1, 3] * 7 + [1, 2]
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 256, size=(10, 32), dtype=np.uint8)
    positions = [j * 16 + p for j, d in enumerate(per_chunk) for p in range(d)]
    query = flip_bits(hashes[4], positions)
    index = MultiIndex.build(hashes, threshold=31, geometry=Geometry(16, 16))
    assert index.query_batch(query[None], threshold=31, method="index").item.tolist() == [4]
    assert index.query_batch(query[None], threshold=30, method="index").item.tolist() == []


def test_threshold_zero_finds_only_identical_hashes():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 256, size=(100, 32), dtype=np.uint8)
    hashes[50] = hashes[10]
    index = MultiIndex.build(hashes, threshold=0, geometry=Geometry(16, 16))
    near = flip_bits(hashes[20], [200])
    got = index.query_batch(np.stack([hashes[10], near]), threshold=0, method="index")
    assert as_set(got) == {(0, 0, 10, 0), (0, 0, 50, 0)}


def test_empty_index_matches_nothing():
    index = MultiIndex.build(np.zeros((0, 32), dtype=np.uint8), threshold=31)
    assert len(index) == 0
    assert index.query(bytes(32), threshold=31) == []
    assert len(index.query_batch(np.zeros((3, 8, 32), np.uint8), threshold=256)) == 0


def test_large_threshold_falls_back_to_brute_force():
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 256, size=(2000, 32), dtype=np.uint8)
    index = MultiIndex.build(hashes, threshold=31, geometry=Geometry(16, 16))
    assert index.plan(31).method == "index"
    assert index.plan(120).method == "scan"
    queries = rng.integers(0, 256, size=(4, 1, 32), dtype=np.uint8)
    assert as_set(index.query_batch(queries, threshold=120)) == brute_force(hashes, queries, 120)


def test_dihedral_batch_reports_which_variant_matched():
    rng = np.random.default_rng(2)
    hashes = rng.integers(0, 256, size=(30, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(2, 8, 32), dtype=np.uint8)
    queries[1, 5] = flip_bits(hashes[7], list(range(0, 200, 20)))  # 10 bits away
    queries[1, 2] = flip_bits(hashes[7], [3, 4])  # 2 bits away
    valid = np.ones((2, 8), dtype=bool)
    index = MultiIndex.build(hashes, threshold=31, geometry=Geometry(16, 16))
    got = index.query_batch(queries, threshold=31, valid=valid, method="index")
    assert as_set(got) == {(1, 2, 7, 2), (1, 5, 7, 10)}
    best = got.best()
    assert (best.query.tolist(), best.variant.tolist(), best.distance.tolist()) == ([1], [2], [2])
    valid[1, 2] = False  # padding rows are never reported
    got = index.query_batch(queries, threshold=31, valid=valid, method="index")
    assert as_set(got) == {(1, 5, 7, 10)}


def test_query_accepts_bytes_and_returns_nearest_first():
    rng = np.random.default_rng(4)
    hashes = rng.integers(0, 256, size=(20, 8), dtype=np.uint8)
    hashes[3] = flip_bits(hashes[9], [0, 1, 2])
    index = MultiIndex.build(hashes, threshold=5, geometry=Geometry(4, 16))
    query = bytes(flip_bits(hashes[9], [63]))
    assert index.query(query, threshold=5) == [Match(9, 1), Match(3, 4)]


def test_pickle_round_trip_holds_only_arrays_and_answers_the_same():
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, size=(500, 32), dtype=np.uint8)
    index = MultiIndex.build(hashes, threshold=31, geometry=Geometry(16, 16))
    state = index.__getstate__()
    assert {type(v) for v in state.values()} <= {np.ndarray, int, tuple}
    clone = pickle.loads(pickle.dumps(index))
    queries = np.stack([flip_bits(hashes[i], list(range(i % 30))) for i in range(40)])
    a = index.query_batch(queries, threshold=31, method="index")
    b = clone.query_batch(queries, threshold=31, method="index")
    assert as_set(a) == as_set(b) and len(a) == 40


def test_cost_model_picks_16x16_for_a_million_pdq_hashes_at_31():
    # The geometry the issue, STYLE.md and Meta's matcher use, now picked by the model.
    assert choose_geometry(1_000_000, 256, 31) == Geometry(16, 16)


@pytest.mark.parametrize("n", [1, 100, 30_000])
def test_built_index_stays_within_its_memory_budget(n):
    rng = np.random.default_rng(6)
    index = MultiIndex.build(rng.integers(0, 256, size=(n, 32), dtype=np.uint8), threshold=31)
    assert index.nbytes_used() <= max(DEFAULT_MAX_BYTES_PER_HASH * n, 1 << 20) + 32 * n


@pytest.mark.parametrize("threshold", [-1, float("nan"), float("inf")])
def test_bad_threshold_is_a_config_error(threshold):
    index = MultiIndex.build(np.zeros((3, 8), np.uint8), threshold=5)
    with pytest.raises(ConfigError):
        index.query_batch(np.zeros((1, 8), np.uint8), threshold=threshold)


def test_wrong_query_width_is_a_config_error():
    index = MultiIndex.build(np.zeros((3, 32), np.uint8), threshold=5)
    with pytest.raises(ConfigError, match="uint8"):
        index.query_batch(np.zeros((1, 8), np.uint8), threshold=5)
    with pytest.raises(ConfigError, match="does not fit"):
        MultiIndex.build(np.zeros((3, 8), np.uint8), threshold=5, geometry=Geometry(5, 16))


@pytest.mark.parametrize(
    ("n", "expected"), [(10_000_000, Geometry(16, 16)), (1000, Geometry(32, 8))]
)
def test_cost_model_choices_across_list_sizes(n, expected):
    # 10M: 16 x 16 (6.6k q/s measured) ties 11 x 22 (6.2k) and is the smaller index.
    assert choose_geometry(n, 256, 31) == expected
