"""Against Meta's vpdq package: the same files give the same features.

vpdq 0.2.5 builds from source against the system FFmpeg, which CI does not
install, so it is not in the ``test`` extra and these tests skip without it.
To run them::

    apt-get install libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \\
        libswresample-dev libavfilter-dev libavdevice-dev cmake g++ pkg-config
    .venv/bin/pip install '.[vpdq-oracle]'
    .venv/bin/python -m pytest -q tests/photosieve/video/test_vpdq_oracle.py

Measured (vpdq 0.2.5 on Debian's FFmpeg 5.1, PyAV 18.1 with its FFmpeg 8):
at the stream's own size every frame number, timestamp, quality and hash
bit is equal in all seven container/codec pairs. With a requested
``downsample`` size the two FFmpeg versions' swscale area filters differ by
a few pixel values and hashes by 0-4 bits (tolerance below: 8).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from photosieve.video.decode import VideoDecodeOptions, plan_segments, sample_frames
from photosieve.video.vpdq import hash_frames, hash_video, match
from tests.photosieve.video.videos import RECIPES, TS_H264, encode, frames

vpdq = pytest.importorskip("vpdq", reason="vpdq (Meta's vPDQ) is not installed: see this module's docstring")

DOWNSAMPLED_TOLERANCE_BITS = 8


def _oracle(tmp_path, data: bytes, name: str, **kwargs) -> list[tuple]:
    path = tmp_path / f"{name}.bin"
    path.write_bytes(data)
    return [(f.frame_number, f.quality, f.hex, f.timestamp) for f in vpdq.computeHash(str(path), **kwargs)]


def _ours(data: bytes, **kwargs) -> list[tuple]:
    return [(f.frame_number, f.quality, f.hex, f.timestamp) for f in hash_video(data, VideoDecodeOptions(**kwargs))]


@pytest.mark.parametrize("name", sorted(RECIPES))
@pytest.mark.parametrize("seconds_per_hash", [1.0, 0.5, 0.0])
def test_same_features_as_vpdq(tmp_path, name, seconds_per_hash):
    data = encode(frames(75), name, 25)
    expected = _oracle(tmp_path, data, name, seconds_per_hash=seconds_per_hash)
    assert expected  # the oracle did hash the file
    assert _ours(data, seconds_per_hash=seconds_per_hash) == expected


def test_same_features_for_annex_b_h264(tmp_path):
    data = encode(frames(75), TS_H264, 25)
    assert _ours(data) == _oracle(tmp_path, data, "ts-h264")


@pytest.mark.parametrize("recipe", ["mp4-h264", "mkv-h264", "avi-mjpeg", TS_H264])
@pytest.mark.parametrize("fps", [25, Fraction(30000, 1001)])
def test_segments_hashed_apart_give_vpdqs_features(tmp_path, recipe, fps):
    """A long video cut into segments of 3 sampled frames: together, vPDQ's features of the whole."""
    data = encode(frames(int(fps * 12) + 5, size=(128, 96)), recipe, fps)
    segments = plan_segments(data, None, 3)
    assert len(segments) >= 3
    parts = [f for s in segments for f in hash_frames(sample_frames(data, None, s))]
    ours = [(f.frame_number, f.quality, f.hex, f.timestamp) for f in parts]
    assert ours == _oracle(tmp_path, data, "segmented")


@pytest.mark.parametrize("fps", [10, 24, 30, Fraction(30000, 1001)])
def test_same_features_at_other_frame_rates(tmp_path, fps):
    """NTSC's 29.97 fps: period int(29.97) = 29 frames, float32 timestamps like 0.9676333."""
    data = encode(frames(int(fps * 3) + 1, size=(176, 144)), "mp4-h264", fps)
    assert _ours(data) == _oracle(tmp_path, data, "rate")


@pytest.mark.parametrize("name", ["mp4-h264", "ts-mpeg2", "webm-vp9"])
@pytest.mark.parametrize("size", [(64, 64), (128, 128), (80, 60)])
def test_downsampled_features_within_tolerance(tmp_path, name, size):
    data = encode(frames(75), name, 25)
    expected = _oracle(tmp_path, data, name, downsample_width=size[0], downsample_height=size[1])
    got = _ours(data, width=size[0], height=size[1])
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert [g[3] for g in got] == [e[3] for e in expected]
    for g, e in zip(got, expected):
        assert (int(g[2], 16) ^ int(e[2], 16)).bit_count() <= DOWNSAMPLED_TOLERANCE_BITS
        assert abs(g[1] - e[1]) <= 5


def test_matching_our_hashes_equals_matching_vpdqs(tmp_path):
    """Re-encoded and trimmed copies: the match shares from our features equal those from vpdq's."""
    source = frames(150)
    original = encode(source, "mp4-h264", 25)
    copies = {"reencoded": encode(source, "webm-vp8", 25), "trimmed": encode(source[40:130], "mkv-h264", 25)}
    ours_original = hash_video(original)
    theirs_original = vpdq.computeHash(str(_write(tmp_path, "o.mp4", original)))
    for name, data in copies.items():
        ours = hash_video(data)
        theirs = vpdq.computeHash(str(_write(tmp_path, name, data)))
        assert [f.hex for f in ours] == [f.hex for f in theirs]
        for rule in ("threatexchange", "cpp"):
            a = match(ours, ours_original, rule=rule)
            b = match(_as_features(theirs), _as_features(theirs_original), rule=rule)
            assert a == b


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _as_features(vpdq_features):
    from photosieve.hashes.value import HashValue
    from photosieve.video.vpdq import VpdqFeature

    return [VpdqFeature(f.frame_number, f.quality, HashValue("pdq", bytes.fromhex(f.hex)), f.timestamp)
            for f in vpdq_features]
