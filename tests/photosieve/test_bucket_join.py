"""The shuffle join's keys and verification, joined here by a dict: exact, each pair once."""

from __future__ import annotations

import doctest
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from photosieve import bucket_join, schemas
from photosieve.bucket_join import (
    bucket_geometry,
    list_bucket_entries,
    query_bucket_keys,
    verify_bucket,
)
from photosieve.errors import ConfigError
from photosieve.index.geometry import Geometry
from photosieve.lists.known import KnownList, list_info


def test_module_examples_run():
    assert doctest.testmod(bucket_join).failed == 0


def _known(name: str, algorithm: str, hashes: np.ndarray, threshold: float) -> KnownList:
    entries = pa.table(
        {"ids": [[f"{name}{i}"] for i in range(len(hashes))], "labels": [[] for _ in hashes]}
    )
    return KnownList(name, "v", "match", {algorithm: threshold}, {algorithm: (hashes, entries)})


def _join(known: list[KnownList], rows: list[dict], cutoff: int = 50):
    """CoGroupByKey by hand: bucket key -> queries and list entries, then verify each bucket."""
    infos = [list_info(k) for k in known]
    buckets: dict = defaultdict(lambda: {"queries": [], "lists": []})
    outcomes = []
    for row in rows:
        outcome, keys = query_bucket_keys(row, infos, cutoff)
        outcomes.append(outcome)
        for key, query in keys:
            buckets[key]["queries"].append(query)
    for k in known:
        for key, payload in list_bucket_entries(k, infos):
            buckets[key]["lists"].append(payload)
    hits = [hit for element in buckets.items() for hit in verify_bucket(element, infos)]
    return outcomes, hits


def _flip(row: np.ndarray, n: int, rng) -> np.ndarray:
    bits = np.unpackbits(row)
    bits[rng.choice(bits.size, size=n, replace=False)] ^= 1
    return np.packbits(bits)


@pytest.mark.parametrize(
    ("algorithm", "nbytes", "threshold"), [("pdq", 32, 31), ("phash", 8, 10), ("phash", 8, 3)]
)
def test_the_pairs_found_are_exactly_those_within_the_threshold_once_each(
    algorithm, nbytes, threshold
):
    rng = np.random.default_rng(threshold)
    listed = rng.integers(0, 256, size=(200, nbytes), dtype=np.uint8)
    listed[1] = _flip(listed[0], 2, rng)  # two list hashes close to each other
    queries = [
        _flip(listed[i], d, rng)
        for i, d in enumerate([threshold - 1, threshold, threshold + 1, 0] * 10)
    ]
    queries += list(rng.integers(0, 256, size=(30, nbytes), dtype=np.uint8))
    rows = [
        {
            schemas.URI: f"q{i}",
            schemas.FRAME: 0,
            schemas.ALGORITHM: algorithm,
            schemas.HASH: q.tobytes().hex(),
            schemas.QUALITY: 100,
        }
        for i, q in enumerate(queries)
    ]
    outcomes, hits = _join([_known("l", algorithm, listed, threshold)], rows)
    assert set(outcomes) == {"probed"}
    found = sorted((key[0], hit.item, hit.distance) for key, hit in hits)
    expected = sorted(
        (f"q{i}", j, float(np.unpackbits(q ^ h).sum()))
        for i, q in enumerate(queries)
        for j, h in enumerate(listed)
        if np.unpackbits(q ^ h).sum() <= threshold
    )
    assert len(expected) >= 30
    assert found == expected  # no pair missed, none twice


def test_digests_join_on_the_whole_digest_and_low_quality_pdq_is_not_queried():
    digest = np.frombuffer(bytes.fromhex("ab" * 16), np.uint8).reshape(1, 16)
    rows = [
        {schemas.URI: "same", schemas.ALGORITHM: "md5", schemas.HASH: "ab" * 16},
        {schemas.URI: "other", schemas.ALGORITHM: "md5", schemas.HASH: "ab" * 15 + "aa"},
        {
            schemas.URI: "flat",
            schemas.ALGORITHM: "pdq",
            schemas.HASH: "00" * 32,
            schemas.QUALITY: 0,
        },
        {schemas.URI: "p", schemas.ALGORITHM: "phash", schemas.HASH: "00" * 8},
    ]
    outcomes, hits = _join([_known("d", "md5", digest, 0.0)], rows)
    assert outcomes == ["probed", "probed", "low_quality", "no_list"]
    assert [(key, hit.distance) for key, hit in hits] == [(("same", -1, "md5"), 0.0)]


def test_bucket_geometry_is_the_shuffle_priced_geometry():
    assert bucket_geometry(256, 31, 1_000_000) == Geometry(16, 16)
    assert bucket_geometry(256, 31.9, 1_000_000) == Geometry(16, 16)  # Hamming thresholds floor
    assert bucket_geometry(256, 31, 0).chunks >= 1  # an empty list: the queries still have keys


def test_euclidean_lists_are_refused_with_the_strategy_to_use():
    known = _known("g", "gradient", np.zeros((1, 32), np.uint8), 0.1)
    row = {schemas.URI: "a", schemas.ALGORITHM: "gradient", schemas.HASH: "00" * 32}
    with pytest.raises(ConfigError, match="side-input"):
        _join([known], [row])
