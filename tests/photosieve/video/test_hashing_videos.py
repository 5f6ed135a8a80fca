"""ImageHasher on video objects: vPDQ's frames, PDQ equal to vPDQ's features, budgets, typed failures."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pyarrow as pa
import pytest

from photosieve import schemas
from photosieve.decode import DecodeOptions
from photosieve.errors import ConfigError, FailureReason
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.video import vpdq
from tests.photosieve.video import videos
from tests.transforms import samples


@pytest.fixture(scope="module")
def clip() -> bytes:
    return videos.video("mp4-h264", seconds=3, fps=25)


def _hasher(names="pdq,md5", **plan) -> ImageHasher:
    decode = plan.pop("decode", None)
    return ImageHasher(dataclasses.replace(HashPlan.parse(names, decode), **plan))


def test_a_video_gives_one_frame_result_per_sampled_frame_with_vpdq_hashes(clip):
    out = _hasher("pdq,phash,md5").hash_bytes("a.mp4", clip)
    assert out.failures == ()
    assert [d.hash.algorithm for d in out.digests] == ["md5"]
    assert out.digests[0].hash.to_hex() == hashlib.md5(clip).hexdigest()  # digests of the bytes, as for any object
    features = vpdq.hash_video(clip)
    assert [f.frame for f in out.frames] == [f.frame_number for f in features] == [0, 25, 50]
    assert [f.timestamp for f in out.frames] == [f.timestamp for f in features] == [0.0, 1.0, 2.0]
    for frame, feature in zip(out.frames, features):
        by_name = {r.hash.algorithm: r for r in frame.results}
        assert set(by_name) == {"pdq", "phash"}
        assert by_name["pdq"].hash.to_hex() == feature.hex  # bit-exact with vPDQ
        assert by_name["pdq"].quality == feature.quality
        assert (frame.format, frame.width, frame.height) == ("MP4", 160, 120)


def test_pdq_of_video_frames_does_not_depend_on_the_image_decode_mode(clip):
    fast = _hasher("pdq").hash_bytes("a.mp4", clip)
    exact = _hasher("pdq", decode=DecodeOptions(mode="exact")).hash_bytes("a.mp4", clip)
    assert [f.results for f in fast.frames] == [f.results for f in exact.frames]


def test_the_interval_chooses_the_frames(clip):
    out = _hasher("pdq", video_interval_s=0.5).hash_bytes("a.mp4", clip)
    assert [f.frame for f in out.frames] == [0, 12, 24, 36, 48, 60, 72]


def test_dihedral_plans_hash_eight_orientations_per_frame(clip):
    out = ImageHasher(HashPlan.parse("pdq-dihedral")).hash_bytes("a.mp4", clip)
    assert [len(f.results) for f in out.frames] == [8, 8, 8]
    original = next(r for r in out.frames[1].results if r.orientation == "original")
    assert original.hash.to_hex() == vpdq.hash_video(clip)[1].hex


def test_video_max_frames_caps_the_sampled_frames_and_says_so(clip):
    out = _hasher("pdq,md5", video_max_frames=2).hash_bytes("a.mp4", clip)
    assert [f.frame for f in out.frames] == [0, 25]
    assert [(f.stage, f.reason, f.algorithms) for f in out.failures] == [
        ("decode", FailureReason.FRAMES_CUT_OFF, ("pdq",))
    ]


def test_the_image_max_frames_does_not_cap_videos(clip):
    out = _hasher("pdq,md5", decode=DecodeOptions(max_frames=2)).hash_bytes("a.mp4", clip)
    assert [f.frame for f in out.frames] == [0, 25, 50]
    assert out.failures == ()


@pytest.mark.parametrize("name", ["video_max_frames", "video_segment_frames"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_bad_video_limits_are_config_errors(name, bad):
    with pytest.raises(ConfigError, match=name):
        HashPlan(("pdq",), **{name: bad})


def test_segments_hashed_apart_give_the_whole_videos_frames():
    data = videos.video("mp4-h264", seconds=12, fps=25)
    hasher = _hasher("pdq,phash,md5", video_segment_frames=4)
    whole = hasher.hash_bytes("v.mp4", data)
    digests, segments = hasher.video_segments("v.mp4", data)
    assert len(segments) == 3
    assert digests.digests == whole.digests and digests.frames == () and digests.failures == ()
    parts = [hasher.hash_segment("v.mp4", data, s) for s in segments]
    assert [f for p in parts for f in p.frames] == list(whole.frames)
    assert [[f.frame for f in p.frames] for p in parts] == [[0, 25, 50, 75], [100, 125, 150, 175],
                                                            [200, 225, 250, 275]]
    assert all(p.digests == () and p.failures == () for p in parts)


def test_only_long_videos_of_segmentable_codecs_get_segments(clip):
    hasher = _hasher("pdq,md5", video_segment_frames=2)
    png = samples.encode(samples.picture(3, (200, 150)), "PNG")
    assert hasher.video_segments("a.png", png) is None
    assert hasher.video_segments("v.webm", videos.video("webm-vp9", seconds=3)) is None  # numbering unknown
    assert _hasher("pdq,md5").video_segments("a.mp4", clip) is None  # 3 sampled frames: one segment
    assert _hasher("md5", video_segment_frames=2).video_segments("a.mp4", clip) is None  # no pixels wanted
    assert len(hasher.video_segments("a.mp4", clip)[1]) == 2


def test_max_pixels_limits_each_frame(clip):
    out = _hasher("pdq,md5", decode=DecodeOptions(max_pixels=100 * 100)).hash_bytes("a.mp4", clip)
    assert out.frames == ()
    assert [(f.reason, f.algorithms) for f in out.failures] == [(FailureReason.DECOMPRESSION_BOMB, ("pdq",))]
    assert [d.hash.algorithm for d in out.digests] == ["md5"]


@pytest.mark.parametrize("data, reason", [
    (videos.audio_only(), FailureReason.NO_VIDEO_STREAM),
    (videos.video("mp4-h264", seconds=1)[:4000], FailureReason.TRUNCATED),
])
def test_failures_are_typed(data, reason):
    out = _hasher("pdq,md5").hash_bytes("x.mp4", data)
    assert [(f.stage, f.reason, f.algorithms) for f in out.failures] == [("decode", reason, ("pdq",))]
    assert out.frames == () and len(out.digests) == 1


def test_without_video_hashing_a_video_is_not_an_image(clip):
    out = _hasher("pdq,md5", video_interval_s=None).hash_bytes("a.mp4", clip)
    assert out.frames == ()
    assert [f.reason for f in out.failures] == [FailureReason.NOT_AN_IMAGE]


def test_bytes_that_are_neither_stay_not_an_image():
    out = _hasher("pdq").hash_bytes("a.bin", b"\x00" * 2000)
    assert [f.reason for f in out.failures] == [FailureReason.NOT_AN_IMAGE]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "1", True])
def test_bad_intervals_are_config_errors(bad):
    with pytest.raises(ConfigError, match="video_interval_s"):
        HashPlan(("pdq",), video_interval_s=bad)


def test_videos_and_images_batch_together_in_order(clip):
    png = samples.encode(samples.picture(3, (200, 150)), "PNG")
    hasher = ImageHasher(HashPlan.parse("pdq"), batch_size=2)
    together = list(hasher.hash_many([("a.png", png), ("v.mp4", clip), ("b.png", png)]))
    alone = [hasher.hash_bytes(uri, data) for uri, data in (("a.png", png), ("v.mp4", clip), ("b.png", png))]
    assert together == alone
    assert [len(o.frames) for o in together] == [1, 3, 1]


def test_hash_rows_carry_the_frame_timestamp_videos_only(clip):
    hasher = _hasher("pdq,md5")
    video_rows = schemas.hash_rows(hasher.hash_bytes("v.mp4", clip), mtime_us=None, run_id="r")
    image = hasher.hash_bytes("a.png", samples.encode(samples.picture(3, (200, 150)), "PNG"))
    image_rows = schemas.hash_rows(image, mtime_us=None, run_id="r")
    assert [(r[schemas.ALGORITHM], r.get(schemas.FRAME), r.get(schemas.FRAME_TIMESTAMP)) for r in video_rows] == [
        ("md5", None, None), ("pdq", 0, 0.0), ("pdq", 25, 1.0), ("pdq", 50, 2.0)]
    assert [r.get(schemas.FRAME_TIMESTAMP) for r in image_rows] == [None, None]
    table = pa.Table.from_pylist(video_rows + image_rows, schema=schemas.HASHES_SCHEMA)
    assert table.column(schemas.FRAME_TIMESTAMP).type == pa.float64()
    assert np.isnan(np.array(table.column(schemas.FRAME_TIMESTAMP).to_pylist(), dtype=float)).sum() == 3


def test_the_cpu_budget_is_per_segment_and_a_video_hashed_whole_gets_its_segments_worth():
    data = videos.video("mp4-h264", seconds=12, fps=25)  # 12 sampled frames
    budget = DecodeOptions().max_cpu_seconds
    assert _hasher(video_segment_frames=4).video_options().max_cpu_seconds == budget  # one segment's
    assert _hasher(video_segment_frames=4).video_options(data).max_cpu_seconds == 3 * budget
    assert _hasher(video_segment_frames=5).video_options(data).max_cpu_seconds == 3 * budget  # 5 + 5 + 2
    assert _hasher().video_options(data).max_cpu_seconds == budget  # 12 frames: one segment of 300
    # No more than video_max_frames worth, whatever the container declares.
    assert _hasher(video_segment_frames=4, video_max_frames=5).video_options(data).max_cpu_seconds == 2 * budget
    assert _hasher(video_segment_frames=4).video_options(b"not a video").max_cpu_seconds == budget


def test_letterboxed_frames_get_a_borders_row_with_the_video_s_most_frequent_box():
    import numpy as np

    from photosieve.hashing import HashPlan, ImageHasher
    from tests.photosieve.video import videos

    bars = [np.pad(frame, ((24, 24), (0, 0), (0, 0))) for frame in videos.frames(150)]
    data = videos.encode(bars, "mp4-h264")
    result = ImageHasher(HashPlan.parse("pdq")).hash_bytes("lb.mp4", data)
    variants = [[r.variant for r in frame.results] for frame in result.frames]
    assert all(v[0] == "" for v in variants) and len(variants) == 6
    boxes = [v[1] for v in variants if len(v) == 2]
    assert len(boxes) >= 5 and boxes[-1] == "borders 0.000,0.143,1.000,0.714"  # rows 24-144 of 168
    plain = ImageHasher(HashPlan.parse("pdq", video_borders=False)).hash_bytes("lb.mp4", data)
    assert [[r.variant for r in f.results] for f in plain.frames] == [[""]] * 6
    # The whole-frame rows are vPDQ's in both.
    assert [f.results[0].hash for f in result.frames] == [f.results[0].hash for f in plain.frames]
