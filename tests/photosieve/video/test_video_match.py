"""The indexed vPDQ matcher decides as the brute-force rule does, pair for pair."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve.errors import ConfigError
from photosieve.hashes.value import HashValue
from photosieve.video.video_list import VideoList
from photosieve.video.video_match import VideoIndex, VideoRule, kept_features
from photosieve.video.vpdq import VpdqFeature, match


def _flip(bits: np.ndarray, count: int, rng) -> np.ndarray:
    out = np.unpackbits(bits).copy()
    out[rng.choice(256, size=count, replace=False)] ^= 1
    return np.packbits(out)


def _video(rng, bases: np.ndarray, frames: int, noise: tuple[int, int]) -> tuple[VpdqFeature, ...]:
    """Frames drawn from ``bases`` with a few flipped bits, repeats and low-quality frames among them."""
    features = []
    for n in range(frames):
        base = bases[rng.integers(len(bases))]
        bits = _flip(base, int(rng.integers(*noise)), rng)
        if features and rng.random() < 0.15:  # an identical frame again (a still scene)
            bits = np.frombuffer(features[-1].pdq.bits, dtype=np.uint8)
        quality = int(rng.choice([100, 90, 70, 49, 10]))
        features.append(VpdqFeature(n, quality, HashValue("pdq", bits.tobytes()), n * 1.0))
    return tuple(features)


def _list(rng, videos: int, scenes: int = 6):
    pools = [rng.integers(0, 256, size=(scenes, 32), dtype=np.uint8) for _ in range(videos)]
    features = tuple(_video(rng, pool, int(rng.integers(3, 30)), (0, 12)) for pool in pools)
    ids = tuple(f"v{i}" for i in range(videos))
    return VideoList("known", "ver", 31, ids, tuple((f"label{i % 3}",) for i in range(videos)), features), pools


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rule", [VideoRule(), VideoRule(50, 30.0, 20.0), VideoRule(0, 0.0, 0.0)])
def test_same_decisions_and_shares_as_the_brute_force_rule(seed, rule):
    rng = np.random.default_rng(seed)
    listed, pools = _list(rng, 25)
    index = VideoIndex.build(listed, rule)
    for trial in range(12):
        # A copy of a listed video's scenes (noisier), a mix of two, or unrelated scenes.
        kind = trial % 3
        if kind == 0:
            pool = pools[rng.integers(len(pools))]
        elif kind == 1:
            pool = np.concatenate([pools[rng.integers(len(pools))], pools[rng.integers(len(pools))]])
        else:
            pool = rng.integers(0, 256, size=(6, 32), dtype=np.uint8)
        query = _video(rng, pool, int(rng.integers(1, 40)), (0, 40))
        expected = {}
        for v, features in enumerate(listed.features):
            brute = match(query, features, distance_tolerance=31, quality_tolerance=rule.quality)
            if brute.query_match_percent == 0 and brute.compared_match_percent == 0:
                continue  # no pair at all: never a candidate
            if brute.is_match(rule.query_percent, rule.compared_percent):
                expected[listed.ids[v]] = (brute.query_match_percent, brute.compared_match_percent)
        got = {m.video_id: (m.query_match_percent, m.compared_match_percent) for m in index.match(query)}
        assert got == expected  # the same integer counts over the same denominators


def test_segments_and_closest_pair_of_a_trimmed_copy():
    rng = np.random.default_rng(3)
    scenes = rng.integers(0, 256, size=(20, 32), dtype=np.uint8)
    original = tuple(VpdqFeature(n, 90, HashValue("pdq", scenes[n].tobytes()), float(n)) for n in range(20))
    listed = VideoList("known", "ver", 31, ("orig",), ((),), (original,))
    # Seconds 5..12 of the original, re-encoded (3 bits off), starting at 0 in the copy.
    trimmed = [VpdqFeature(n, 80, HashValue("pdq", _flip(scenes[5 + n], 3, rng).tobytes()), float(n))
               for n in range(8)]
    trimmed[4] = VpdqFeature(4, 80, HashValue("pdq", scenes[9].tobytes()), 4.0)  # one exact frame
    (found,) = VideoIndex.build(listed).match(trimmed)
    assert (found.query_match_percent, found.compared_match_percent) == (100.0, 40.0)
    assert (found.segment_start, found.segment_end) == (0.0, 7.0)
    assert (found.listed_start, found.listed_end) == (5.0, 12.0)
    assert found.distance == 0 and found.query_feature.timestamp == 4.0
    assert found.listed_hash == scenes[9].tobytes()


def test_hash_shared_by_two_listed_videos_counts_for_both():
    h = HashValue("pdq", bytes([7]) * 32)
    other = HashValue("pdq", bytes([0xF0, 0x0F] * 16))
    a = (VpdqFeature(0, 90, h, 0.0),)
    b = (VpdqFeature(0, 90, other, 0.0), VpdqFeature(1, 90, h, 1.0))
    index = VideoIndex.build(VideoList("known", "ver", 31, ("a", "b"), ((), ()), (a, b)))
    got = {m.video_id: (m.query_match_percent, m.compared_match_percent) for m in index.match(a)}
    assert got == {"a": (100.0, 100.0), "b": (100.0, 50.0)}
    assert index.hashes == 2


def test_low_quality_and_repeated_frames_are_dropped_in_upstream_order():
    h = HashValue("pdq", bytes([1]) * 32)
    # The first occurrence decides: a repeat with good quality does not bring the hash back.
    features = [VpdqFeature(0, 10, h, 0.0), VpdqFeature(1, 90, h, 1.0)]
    assert kept_features(features, 50) == []
    listed = VideoList("known", "ver", 31, ("a",), ((),), ((VpdqFeature(0, 90, h, 0.0),),))
    assert VideoIndex.build(listed).match(features) == []


def test_listed_video_with_no_good_frame_is_never_a_candidate():
    h = HashValue("pdq", bytes([1]) * 32)
    listed = VideoList("known", "ver", 31, ("dim",), ((),), ((VpdqFeature(0, 5, h, 0.0),),))
    index = VideoIndex.build(listed)
    assert index.hashes == 0
    assert index.match([VpdqFeature(0, 90, h, 0.0)]) == []


@pytest.mark.parametrize("kwargs", [{"quality": 101}, {"query_percent": -1}, {"compared_percent": 200},
                                    {"quality": True}])
def test_rule_refuses_values_out_of_range(kwargs):
    with pytest.raises(ConfigError, match="vPDQ"):
        VideoRule(**kwargs)
