"""vPDQ features: per-frame PDQ, Meta's file formats, and the matching rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photosieve.hashes import pdq
from photosieve.hashes.value import HashValue
from photosieve.video.decode import VideoDecodeOptions
from photosieve.video.vpdq import (
    VpdqFeature,
    VpdqFormatError,
    format_hash_file,
    frame_buffer,
    frame_luma,
    from_signal,
    hash_video,
    match,
    parse_hash_file,
    read_hash_file,
    to_signal,
    write_hash_file,
)
from tests.photosieve.video.videos import encode, frames, video

RNG = np.random.default_rng(5)


def _feature(n: int, bits: bytes, quality: int = 100, timestamp: float | None = None) -> VpdqFeature:
    return VpdqFeature(n, quality, HashValue("pdq", bits), float(n) if timestamp is None else timestamp)


def _random_bits() -> bytes:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes()


def _flip(bits: bytes, count: int) -> bytes:
    value = int.from_bytes(bits, "big")
    for i in range(count):
        value ^= 1 << (i * 7 % 256)
    return value.to_bytes(32, "big")


def test_luma_is_float32_arithmetic_like_the_cpp_buffer_hasher():
    rgb = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    expected = (np.float32(0.299) * r + np.float32(0.587) * g) + np.float32(0.114) * b
    assert frame_luma(rgb).dtype == np.float32
    assert np.array_equal(frame_luma(rgb), expected)


def test_frame_buffer_uses_a_64x64_frame_as_is_and_blurs_others():
    rgb = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(frame_buffer(rgb), frame_luma(rgb))
    big = RNG.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    assert np.array_equal(frame_buffer(big), pdq.downsample(frame_luma(big)))
    with pytest.raises(ValueError):
        frame_buffer(np.zeros((4, 64, 3), dtype=np.uint8))


def test_video_features_are_the_frames_pdq():
    data = video("avi-mjpeg", seconds=2)
    features = hash_video(data)
    assert [f.frame_number for f in features] == [0, 25]
    assert [f.timestamp for f in features] == [0.0, 1.0]
    # Same stream, every frame: the sampled features are a subset, hash for hash.
    every = {f.frame_number: f for f in hash_video(data, VideoDecodeOptions(seconds_per_hash=0))}
    assert all(every[f.frame_number] == f for f in features)
    # Frames a second apart of a panning scene are different pictures.
    assert features[0].distance(features[1]) > 31
    assert all(0 <= f.quality <= 100 for f in features)


def test_c_plus_plus_hash_file_round_trip(tmp_path):
    features = [_feature(0, _random_bits(), 87, 0.0), _feature(30, _random_bits(), 100, 1.0001),
                _feature(60, _random_bits(), 12, 2.0004)]
    text = format_hash_file(features)
    lines = text.splitlines()
    assert lines[0] == f"0,87,{features[0].hex},0.000"
    assert lines[1].endswith(",1.000") and lines[2].endswith(",2.000")
    write_hash_file(tmp_path / "v.txt", features)
    back = read_hash_file(tmp_path / "v.txt")
    assert [(f.frame_number, f.quality, f.pdq) for f in back] == [(f.frame_number, f.quality, f.pdq) for f in features]
    assert [f.timestamp for f in back] == [0.0, 1.0, 2.0]  # rounded to 3 decimals


@pytest.mark.parametrize(
    "text, where",
    [("", None), ("0,100,abcd,0.000\n", 1), ("0,100," + "0" * 64 + "\n", 1),
     ("x,100," + "0" * 64 + ",0.0\n", 1), ("0,100," + "0" * 64 + ",0.0\n1,101," + "0" * 64 + ",1.0\n", 2),
     ("0,100," + "g" * 64 + ",0.0\n", 1), ("0,100," + "0" * 64 + ",-1.0\n", 1)],
)
def test_bad_hash_files_name_the_line(text, where):
    with pytest.raises(VpdqFormatError) as caught:
        parse_hash_file(text)
    assert caught.value.line == where


def test_threatexchange_signal_round_trip():
    features = [_feature(0, _random_bits(), 90, 0.0), _feature(30, _random_bits(), 50, 12.345)]
    text = to_signal(features)
    # python-threatexchange formats with {:.3}: three significant digits.
    assert json.loads(text) == [f"{features[0].hex},90,0.0", f"{features[1].hex},50,12.3"]
    back = from_signal(text)
    assert [(f.pdq, f.quality, f.timestamp, f.frame_number) for f in back] == [
        (features[0].pdq, 90, 0.0, -1), (features[1].pdq, 50, 12.3, -1)]
    assert from_signal("") == []
    for bad in ["{", '{"a": 1}', '["abc,1"]', '["' + "0" * 64 + ',101,0.0"]']:
        with pytest.raises(VpdqFormatError):
            from_signal(bad)


def _brute(query, compared, distance, quality, rule):
    """The upstream loops, literally (vpdq_brute_matcher.py / matchTwoHash.cpp)."""
    def prep(features):
        if rule == "threatexchange":
            seen, unique = set(), []
            for f in features:
                if f.hex not in seen:
                    unique.append(f)
                    seen.add(f.hex)
            features = unique
        return [f for f in features if f.quality >= quality]

    def close(a, b):
        return a.distance(b) <= distance if rule == "threatexchange" else a.distance(b) < distance

    q, c = prep(query), prep(compared)
    return (sum(any(close(a, b) for b in c) for a in q) * 100 / len(q),
            sum(any(close(b, a) for a in q) for b in c) * 100 / len(c))


@pytest.mark.parametrize("rule", ["threatexchange", "cpp"])
def test_matching_equals_the_upstream_loops_on_random_features(rule):
    base = [_random_bits() for _ in range(20)]
    query = [_feature(i, _flip(b, int(RNG.integers(0, 50))), int(RNG.integers(0, 101))) for i, b in enumerate(base)]
    query += query[:3]  # duplicates: the threatexchange rule counts each hash once
    compared = [_feature(i, _flip(b, int(RNG.integers(0, 50))), int(RNG.integers(0, 101)))
                for i, b in enumerate(base[5:])]
    compared += [_feature(99, _random_bits())]
    for distance in (20, 31, 40):
        got = match(query, compared, distance_tolerance=distance, quality_tolerance=40, rule=rule)
        want = _brute(query, compared, distance, 40, rule)
        assert (got.query_match_percent, got.compared_match_percent) == pytest.approx(want)


def test_matching_tolerance_boundary_differs_between_rules():
    a = _random_bits()
    q, c = [_feature(0, a)], [_feature(0, _flip(a, 31))]
    assert match(q, c, rule="threatexchange").query_match_percent == 100.0  # <= 31
    assert match(q, c, rule="cpp").query_match_percent == 0.0  # < 31


def test_matching_with_nothing_left_after_the_quality_filter_is_zero():
    q = [_feature(0, _random_bits(), quality=10)]
    result = match(q, q)
    assert (result.query_match_percent, result.compared_match_percent) == (0.0, 0.0)
    assert not result.is_match()
    with pytest.raises(ValueError):
        match(q, q, rule="other")


def test_a_clip_of_a_video_matches_it():
    """Trimmed copy: the clip's frames are all in the video; the video's are partly in the clip."""
    source = frames(150)
    whole = hash_video(encode(source, "mp4-h264", 25))
    clip = hash_video(encode(source[50:100], "webm-vp9", 25))
    other = hash_video(encode(frames(150, seed=99), "mp4-h264", 25))
    result = match(clip, whole)
    assert result.query_match_percent == 100.0
    assert 0 < result.compared_match_percent < 100.0
    assert result.is_match()
    assert match(other, whole).query_match_percent == 0.0
