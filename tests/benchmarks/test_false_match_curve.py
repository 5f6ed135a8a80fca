"""The false-match curve's counting: exact histograms, the comparisons the modes make, the shipped curve file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_robustness as robustness
from benchmarks import false_match_curve as curve

ROOT = Path(__file__).resolve().parents[2]


def _brute_force(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    bits_a = np.unpackbits(a, axis=1).astype(np.int64)
    bits_b = np.unpackbits(b, axis=1).astype(np.int64)
    distances = (bits_a[:, None, :] != bits_b[None, :, :]).sum(axis=2)
    return np.bincount(distances.ravel(), minlength=257)


def test_the_histogram_counts_every_pair_at_its_distance_including_0_and_256():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (37, 32), dtype=np.uint8)
    b = rng.integers(0, 256, (23, 32), dtype=np.uint8)
    b[0] = a[0]  # distance 0
    b[1] = ~a[1]  # distance 256: wraps to 0 in uint8 sums
    b[2] = ~a[2]
    a[3] = a[1]  # two queries complement one list hash
    a[4, :16] = b[5, :16]  # a near pair
    expected = _brute_force(a, b)
    for chunk in (1, 50, 4_000_000):  # one row at a time, a few, all at once
        got = curve.distance_histogram(a, b, chunk=chunk)
        assert got.tolist() == expected.tolist()
    assert expected[256] == 3 and expected[0] == 1


def test_an_empty_side_counts_nothing():
    a = np.zeros((0, 32), np.uint8)
    b = np.ones((4, 32), np.uint8)
    assert curve.distance_histogram(a, b).sum() == 0
    assert curve.distance_histogram(b, a).sum() == 0


def _photo(rng: np.random.Generator, versions: int) -> robustness.PhotoHashes:
    """A synthetic photo: query rows of every kind (some rotated, some uncrops) and a list built from an image."""
    window = np.array(
        [i for i, w in enumerate(robustness.SUPERSET_WINDOWS)
         if w.label in {x.label for x in robustness.MODES[3].config.windows}]
    )
    outside = [i for i in range(len(robustness.SUPERSET_WINDOWS)) if i not in set(window)]
    rows = []
    for v in range(versions):
        for kind in (robustness.PLAIN, robustness.BORDERS, robustness.ROTATION, robustness.UNCROP):
            for orientation in (0, 3):
                rows.append((v, kind, int(rng.integers(0, 45)) if kind == robustness.UNCROP else 0, orientation))
    n = len(rows)
    c = list(zip(*rows))
    list_kind = np.array([robustness.FULL, robustness.LIST_BORDERS] + [robustness.WINDOW] * 4, np.int8)
    list_window = np.array([-1, -1, window[0], window[7], window[30], outside[0]], np.int16)
    m = len(list_kind)
    return robustness.PhotoHashes(
        bits=rng.integers(0, 256, (n, 32), dtype=np.uint8),
        version=np.array(c[0], np.int16),
        kind=np.array(c[1], np.int8),
        hypothesis=np.array(c[2], np.int16),
        orientation=np.array(c[3], np.int8),
        gradient=np.zeros((n, 144), np.uint8),
        phash=np.zeros((n, 8), np.uint8),
        list_bits=rng.integers(0, 256, (m, 32), dtype=np.uint8),
        list_kind=list_kind,
        list_window=list_window,
        list_gradient=np.zeros((m, 144), np.uint8),
        list_phash=np.zeros((m, 8), np.uint8),
        **robustness.no_bordered(),
    )


def _compared_pairs(flat: curve.Flat, modes: list[robustness.Mode]) -> np.ndarray:
    """(query rows, list rows) True where some mode compares them, from mode_mask pair by pair."""
    q, l = np.meshgrid(np.arange(len(flat.q_kind)), np.arange(len(flat.l_kind)), indexing="ij")
    q, l = q.ravel(), l.ravel()
    pairs = type("P", (), {})()
    pairs.kind, pairs.hypothesis, pairs.orientation = flat.q_kind[q], flat.q_hypothesis[q], flat.q_orientation[q]
    pairs.list_kind, pairs.list_window, pairs.distance = flat.l_kind[l], flat.l_window[l], np.zeros(len(q))
    used = np.zeros(len(q), bool)
    for mode in modes:
        used |= robustness.mode_mask(pairs, mode)
    return used.reshape(len(flat.q_kind), len(flat.l_kind))


def test_the_histograms_count_every_used_query_hash_against_every_used_list_hash_of_other_photos():
    rng = np.random.default_rng(2)
    flat = curve.flatten([_photo(rng, versions=2) for _ in range(4)])
    histograms = curve.different_photo_histograms(flat, robustness.MODES)
    used = _compared_pairs(flat, robustness.MODES)
    queries, lists = used.any(axis=1), used.any(axis=0)
    # Every query row the modes compute (uncrops upright only) and every list row but the window outside the modes' set.
    assert queries.tolist() == ((flat.q_kind != robustness.UNCROP) | (flat.q_orientation == 0)).tolist()
    assert lists.sum() == len(lists) - flat.photos
    pairs = queries[:, None] & lists[None, :] & (flat.q_photo[:, None] != flat.l_photo[None, :])
    expected = np.zeros(257, np.int64)
    for q, l in zip(*np.nonzero(pairs)):
        expected += _brute_force(flat.q_bits[q : q + 1], flat.l_bits[l : l + 1])
    assert histograms.sum(axis=(0, 1)).tolist() == expected.tolist()
    assert histograms.sum() == 4 * 3 * queries.sum() // 4 * lists.sum() // 4  # equal-sized synthetic photos


def test_comparisons_per_pair_are_what_each_mode_compares():
    rng = np.random.default_rng(3)
    flat = curve.flatten([_photo(rng, versions=3) for _ in range(3)])
    for mode in robustness.MODES:
        per_pair = curve.comparisons_per_pair(flat, mode)
        used = _compared_pairs(flat, [mode])
        for i in range(flat.photos):
            for v in range(flat.versions):
                rows = (flat.q_photo == i) & (flat.q_version == v)
                for j in range(flat.photos):
                    assert per_pair[i, v, j] == used[rows][:, flat.l_photo == j].sum(), mode.name


def test_rates_where_nothing_is_counted_are_bounded_by_three_over_n():
    counts = np.zeros(257, np.int64)
    counts[30], counts[128] = 2, 998
    rate = curve.cumulative_rate(counts)
    assert rate[29] == pytest.approx(3 / 1000)
    assert rate[30] == pytest.approx(2 / 1000)
    assert rate[256] == 1.0


def test_agreement_flags_a_half_whose_rate_differs():
    a = np.zeros(257, np.int64)
    a[10], a[128] = 100, 10**6
    same, more = a.copy(), a.copy()
    more[10] = 400
    assert curve.agreement(a, same)[10][3]
    assert not curve.agreement(a, more)[10][3]
    assert curve.agreement(a, more)[128][3]


def test_the_shipped_curve_holds_counts_only_and_installs_with_the_package():
    record = json.loads(curve.CURVE_PATH.read_text())
    assert set(record) == {
        "algorithm", "comparisons", "counts", "photos", "split", "query_hashes",
        "list_hashes", "method", "command", "measured",
    }
    assert record["algorithm"] == "pdq" and record["split"] == "A"
    assert len(record["counts"]) == 257 and all(isinstance(c, int) and c >= 0 for c in record["counts"])
    assert sum(record["counts"]) == record["comparisons"] > 10**9
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert any(Path(curve.CURVE_PATH.name).match(p) for p in patterns)
