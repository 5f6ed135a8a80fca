"""Frame sampling as vPDQ does it, budgets, and a typed error for every broken input."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve.errors import ConfigError, FailureReason
from photosieve.video.decode import (
    WHOLE,
    Segment,
    SegmentDeparted,
    VideoDecodeError,
    VideoDecodeOptions,
    declared_end,
    plan_segments,
    probe,
    sample_frames,
    vpdq_frame_mod,
    vpdq_timestamp,
)
from tests.photosieve.video.videos import RECIPES, TS_H264, audio_only, encode, frames, video

FPS = 25
SOURCE = frames(3 * FPS)


@pytest.fixture(scope="module", params=sorted(RECIPES))
def clip(request):
    return request.param, encode(SOURCE, request.param, FPS)


def _nearest_source(rgb: np.ndarray) -> int:
    errors = [np.abs(rgb.astype(np.int16) - s).mean() for s in SOURCE]
    return int(np.argmin(errors))


def test_one_frame_per_second_by_frame_count(clip):
    _name, data = clip
    sampled = list(sample_frames(data))
    assert [f.frame_number for f in sampled] == [0, 25, 50]
    assert [f.timestamp for f in sampled] == [0.0, 1.0, 2.0]
    # The pixels are those of the numbered frame, not a neighbour (B-frames reorder packets).
    assert [_nearest_source(f.rgb) for f in sampled] == [0, 25, 50]
    assert all(f.rgb.shape == (120, 160, 3) and f.rgb.dtype == np.uint8 for f in sampled)


def test_other_intervals_follow_vpdqs_integer_frame_period(clip):
    _, data = clip
    half = list(sample_frames(data, VideoDecodeOptions(seconds_per_hash=0.5)))
    assert [f.frame_number for f in half] == list(range(0, 75, 12))  # int(0.5 * 25) = 12
    assert [f.timestamp for f in half] == [vpdq_timestamp(n, 25.0) for n in range(0, 75, 12)]
    every = list(sample_frames(data, VideoDecodeOptions(seconds_per_hash=0)))
    assert [f.frame_number for f in every] == list(range(75))


def test_frame_mod_and_timestamp_rules():
    assert vpdq_frame_mod(1.0, 29.97) == 29
    assert vpdq_frame_mod(1.0, 0.5) == 1
    assert vpdq_frame_mod(0.0, 30) == 1
    # float32 division, as vPDQ computes it: not the float64 quotient.
    assert vpdq_timestamp(29, 29.97) == float(np.float32(29) / np.float32(29.97))
    assert vpdq_timestamp(29, 29.97) != 29 / 29.97


def test_probe_reports_declared_facts():
    info = probe(video("mp4-h264", seconds=2, fps=10))
    assert (info.width, info.height, info.frame_rate, info.frame_mod) == (160, 120, 10.0, 10)
    assert info.codec == "h264" and info.declared_frames == 20


def test_requested_size_converts_sampled_frames():
    sampled = list(sample_frames(video("mp4-h264", seconds=1), VideoDecodeOptions(width=64, height=48)))
    assert sampled[0].rgb.shape == (48, 64, 3)


def test_pts_of_sampled_frames(clip):
    name, data = clip
    pts = [f.pts_seconds for f in sample_frames(data)]
    assert pts == pytest.approx([0.0, 1.0, 2.0], abs=0.05), name


def test_keyframe_sampling_decodes_key_frames_only():
    data = encode(SOURCE, "mp4-h264", FPS)  # a key frame every 24 frames
    sampled = list(sample_frames(data, VideoDecodeOptions(sampling="keyframes")))
    numbers = [f.frame_number for f in sampled]
    assert numbers == [0, 48, 72]  # 24 falls in the first second with 0; one per interval
    assert [_nearest_source(f.rgb) for f in sampled] == numbers
    assert [f.timestamp for f in sampled] == [vpdq_timestamp(n, 25.0) for n in numbers]


def test_keyframe_sampling_equals_vpdq_sampling_for_intra_only_video():
    data = encode(SOURCE, "avi-mjpeg", FPS)
    key = [f.frame_number for f in sample_frames(data, VideoDecodeOptions(sampling="keyframes"))]
    assert key == [f.frame_number for f in sample_frames(data)]


# --- budgets -----------------------------------------------------------------------------


def _reason(data: bytes, options: VideoDecodeOptions | None = None) -> tuple[FailureReason, int]:
    got = 0
    with pytest.raises(VideoDecodeError) as caught:
        for _ in sample_frames(data, options):
            got += 1
    return caught.value.reason, got


def test_sampled_frame_limit_cuts_off_after_yielding_the_first():
    assert _reason(video(), VideoDecodeOptions(max_sampled_frames=2)) == (FailureReason.FRAMES_CUT_OFF, 2)


def test_decoded_frame_limit():
    options = VideoDecodeOptions(max_decoded_frames=30, skip_unsampled=False)
    assert _reason(video(), options) == (FailureReason.OVER_BUDGET, 2)


def test_cpu_budget():
    reason, _ = _reason(video(), VideoDecodeOptions(max_cpu_seconds=1e-9))
    assert reason is FailureReason.OVER_BUDGET


def test_pixel_budget_is_checked_before_decoding():
    assert _reason(video(), VideoDecodeOptions(max_pixels=160 * 120 - 1)) == (
        FailureReason.DECOMPRESSION_BOMB, 0)
    assert list(sample_frames(video(seconds=1), VideoDecodeOptions(max_pixels=160 * 120)))


def test_frames_too_small_for_pdq():
    assert _reason(video(seconds=1), VideoDecodeOptions(width=4)) == (FailureReason.TOO_SMALL, 0)


@pytest.mark.parametrize(
    "options",
    [{"seconds_per_hash": -1}, {"seconds_per_hash": float("nan")}, {"sampling": "every"},
     {"width": -1}, {"max_pixels": 0}, {"max_sampled_frames": 0}, {"max_cpu_seconds": 0},
     {"threads": -2}],
)
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        VideoDecodeOptions(**options)


# --- broken input ------------------------------------------------------------------------


def test_zero_length():
    assert _reason(b"") == (FailureReason.EMPTY, 0)


def test_not_a_video():
    assert _reason(b"plain text, not a container" * 20) == (FailureReason.NOT_AN_IMAGE, 0)


def test_audio_only_has_no_video_stream():
    with pytest.raises(VideoDecodeError) as caught:
        list(sample_frames(audio_only()))
    assert caught.value.reason is FailureReason.NOT_AN_IMAGE
    assert caught.value.kind == "no_video_stream"
    assert "audio" in str(caught.value)


@pytest.mark.parametrize("name", sorted(set(RECIPES) - {"ts-mpeg2"}))
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_containers_with_size_fields(name, keep):
    data = video(name)
    cut = data[: int(len(data) * keep)]
    assert declared_end(data) <= len(data)
    assert declared_end(cut) > len(cut)
    assert _reason(cut) == (FailureReason.TRUNCATED, 0)


def test_truncated_mpeg_ts_hashes_the_frames_present():
    """MPEG-TS has no total size: a cut stream gives a prefix of the whole stream's frames."""
    data = video("ts-mpeg2")
    whole = [(f.frame_number, f.rgb.tobytes()) for f in sample_frames(data)]
    part = [(f.frame_number, f.rgb.tobytes()) for f in sample_frames(data[: len(data) // 2])]
    assert 0 < len(part) < len(whole)
    assert part == whole[: len(part)]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_garbage_after_a_valid_header(name):
    data = bytearray(video(name))
    data[64:] = np.random.default_rng(1).integers(0, 256, len(data) - 64, dtype=np.uint8).tobytes()
    reason, count = _reason(bytes(data))
    assert count == 0
    # MPEG-TS: the garbage also breaks the sync pattern the sniff needs.
    assert reason is (FailureReason.NOT_AN_IMAGE if name == "ts-mpeg2" else FailureReason.CORRUPT)


# What 2,000 random bytes in the middle of each generated file give (deterministic:
# the generated files are bit-exact): MP4/MOV lose sample data the index points
# at, and the VP9 decoder rejects a frame; the AVI's chunk sizes break; the other
# decoders conceal the damage.
INSIDE = {"mp4-h264": FailureReason.CORRUPT, "mov-mpeg4": FailureReason.CORRUPT,
          "avi-mjpeg": FailureReason.TRUNCATED, "mkv-h264": None, "webm-vp8": None, "webm-vp9": FailureReason.CORRUPT,
          "ts-mpeg2": None}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_garbage_inside_the_stream_is_a_typed_error_or_concealed(name):
    data = bytearray(video(name))
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(2).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    # Every frame decoded, as vPDQ does (intra-only MJPEG would otherwise skip the damage).
    options = VideoDecodeOptions(skip_unsampled=False)
    if INSIDE[name] is None:
        assert [f.frame_number for f in sample_frames(bytes(data), options)] == [0, 25, 50]
    else:
        assert _reason(bytes(data), options)[0] is INSIDE[name]


def test_intra_only_streams_decode_only_the_sampled_packets():
    data = encode(SOURCE, "avi-mjpeg", FPS)
    full = list(sample_frames(data, VideoDecodeOptions(skip_unsampled=False)))
    # 3 sampled frames of 75: the skipping path decodes only those three.
    skipped = list(sample_frames(data, VideoDecodeOptions(max_decoded_frames=3)))
    assert [(f.frame_number, f.timestamp, f.rgb.tobytes()) for f in skipped] == [
        (f.frame_number, f.timestamp, f.rgb.tobytes()) for f in full]
    assert _reason(data, VideoDecodeOptions(max_decoded_frames=3, skip_unsampled=False))[0] is (
        FailureReason.OVER_BUDGET)


def _features(data: bytes, options: VideoDecodeOptions) -> list[tuple]:
    return [(f.frame_number, f.timestamp, f.rgb.tobytes()) for f in sample_frames(data, options)]


@pytest.mark.parametrize("name", ["mp4-h264", "mkv-h264", TS_H264])
def test_h264_skips_unsampled_nonreference_pictures(name):
    data = encode(SOURCE, name, FPS)  # 3 B-frames between references: ~half the frames
    full = _features(data, VideoDecodeOptions(skip_unsampled=False))
    assert _features(data, VideoDecodeOptions(max_decoded_frames=60)) == full
    assert _reason(data, VideoDecodeOptions(max_decoded_frames=60, skip_unsampled=False))[0] is (
        FailureReason.OVER_BUDGET)


@pytest.mark.parametrize("from_rank", [0, 40])
def test_h264_skipping_falls_back_when_the_decoder_disagrees_with_the_plan(monkeypatch, from_rank):
    """A packet that gives no frame (simulated: a phantom packet in the plan) is caught and undone.

    vPDQ numbers the frames the decoder returns, so the frame after a lost
    one takes its number; the plan numbered packets. The skipping pass sees
    the decoder skip a planned frame and falls back to decoding everything.
    From rank 40 that happens after frames 0 and 25 were yielded: the
    fall-back yields only frame 50.
    """
    from photosieve.video import decode

    data = encode(SOURCE, "mp4-h264", FPS)
    full = _features(data, VideoDecodeOptions(skip_unsampled=False))
    real = decode._skip_plan

    def shifted(container, stream):
        plan = real(container, stream)
        rank = {p: r + (r >= from_rank) for p, r in plan.rank.items()}
        rank[-(10**9)] = from_rank  # a packet the decoder will never return a frame for
        return decode._SkipPlan(rank, frozenset(r + (r >= from_rank) for r in plan.droppable), plan.index)

    resumed = []
    sample_all = decode._sample_all

    def recording(*args):
        resumed.append(args[5:])
        return sample_all(*args)

    monkeypatch.setattr(decode, "_skip_plan", shifted)
    monkeypatch.setattr(decode, "_sample_all", recording)
    assert _features(data, VideoDecodeOptions()) == full
    assert resumed == [(-1, 0)] if from_rank == 0 else [(25, 2)]


def _mutated(data: bytes, rng: np.random.Generator) -> bytes:
    """Byte flips, zeroed runs, inserted noise, or a huge size field near the start."""
    d = bytearray(data)
    kind = int(rng.integers(0, 4))
    if kind == 0:
        for _ in range(int(rng.integers(1, 20))):
            d[int(rng.integers(0, len(d)))] = int(rng.integers(0, 256))
    elif kind == 1:
        at = int(rng.integers(0, len(d)))
        d[at : at + int(rng.integers(1, 500))] = bytes(int(rng.integers(1, 500)))
    elif kind == 2:
        at = int(rng.integers(0, len(d)))
        d[at:at] = rng.integers(0, 256, int(rng.integers(1, 300)), dtype=np.uint8).tobytes()
    else:
        at = int(rng.integers(0, 200))
        d[at : at + 4] = (0xFFFFFFF0).to_bytes(4, "big")
    return bytes(d)


def test_mutated_videos_give_frames_or_a_typed_error():
    """Seeded damage to every recipe: nothing but VideoDecodeError escapes.

    A 3,000-mutation run of the same generator found an unknown-codec stream
    (no codec context), non-UTF-8 tags, a stream announced mid-file (PyAV
    raised IndexError) and an unconvertible frame; each is now typed.
    """
    rng = np.random.default_rng(0)
    sources = {name: video(name, seconds=2) for name in RECIPES}
    reasons = set()
    for i in range(350):
        name = sorted(sources)[i % len(sources)]
        try:
            for frame in sample_frames(_mutated(sources[name], rng)):
                assert frame.rgb.ndim == 3
        except VideoDecodeError as exc:
            reasons.add(exc.reason)
    assert {FailureReason.CORRUPT, FailureReason.TRUNCATED} <= reasons


# -- segments -------------------------------------------------------------------

SEGMENTED = ("mp4-h264", "mkv-h264", "avi-mjpeg")  # H.264 with B-frames (IDR every 24), intra-only
LONG = frames(20 * FPS)


def _flat(sampled) -> list[tuple]:
    return [(f.frame_number, f.timestamp, f.pts_seconds) for f in sampled]


def _segmented(data: bytes, options: VideoDecodeOptions | None, segments) -> list:
    return [f for segment in segments for f in sample_frames(data, options, segment)]


@pytest.fixture(scope="module", params=[*SEGMENTED, "ts-h264", "webm-vp9", "mov-mpeg4"])
def long_clip(request):
    recipe = TS_H264 if request.param == "ts-h264" else request.param
    return request.param, encode(LONG, recipe, FPS)


@pytest.mark.parametrize("interval, segment_frames", [(1.0, 3), (0.5, 7), (1.0, 19)])
def test_the_segments_together_give_the_whole_videos_frames(long_clip, interval, segment_frames):
    name, data = long_clip
    options = VideoDecodeOptions(seconds_per_hash=interval)
    whole = list(sample_frames(data, options))
    segments = plan_segments(data, options, segment_frames)
    if name in ("webm-vp9", "mov-mpeg4"):  # numbering not known without decoding: not cut
        assert segments == [WHOLE]
    else:
        assert len(segments) == -(-len(whole) // segment_frames)
        assert [s.index for s in segments] == list(range(len(segments)))
        assert {s.count for s in segments} == {len(segments)}
    parts = _segmented(data, options, segments)
    assert _flat(parts) == _flat(whole)
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(parts, whole))


def test_h264_segments_start_at_an_idr_picture_at_or_before_their_first_sampled_frame():
    data = encode(LONG, "mp4-h264", FPS)
    segments = plan_segments(data, None, 3)
    assert [(s.first, s.last) for s in segments[:3]] == [(0, 50), (75, 125), (150, 200)]
    assert all(s.start % 24 == 0 and s.start <= s.first for s in segments)  # x264: an IDR picture every 24
    assert [s.start for s in segments[:3]] == [0, 72, 144]
    assert segments[-1].last is None


def test_each_sampled_frame_is_in_exactly_one_segment():
    data = encode(LONG, "avi-mjpeg", FPS)
    segments = plan_segments(data, None, 4)
    numbers = [[f.frame_number for f in sample_frames(data, None, s)] for s in segments]
    assert numbers[0] == [0, 25, 50, 75] and numbers[-1] == [400, 425, 450, 475]
    assert [n for part in numbers for n in part] == list(range(0, 20 * FPS, FPS))


@pytest.mark.parametrize("name", SEGMENTED)
def test_the_frames_cut_off_are_the_same_and_only_the_last_segment_says_so(name):
    data = encode(LONG, name, FPS)
    options = VideoDecodeOptions(max_sampled_frames=7)
    whole = []
    with pytest.raises(VideoDecodeError) as cut:
        whole.extend(sample_frames(data, options))
    segments = plan_segments(data, options, 3)
    assert len(segments) == 3  # frames 0-2, 3-5, and 6 followed by the cut-off: no segment beyond
    parts = _segmented(data, options, segments[:-1])
    with pytest.raises(VideoDecodeError) as cut_too:
        parts.extend(sample_frames(data, options, segments[-1]))
    assert cut.value.reason is cut_too.value.reason is FailureReason.FRAMES_CUT_OFF
    assert _flat(parts) == _flat(whole) and len(parts) == 7


def test_short_videos_and_other_samplings_are_one_segment():
    data = encode(LONG, "mp4-h264", FPS)
    assert plan_segments(data, None, 20) == [WHOLE]  # 20 sampled frames: one segment of 20
    assert plan_segments(data, VideoDecodeOptions(sampling="keyframes"), 3) == [WHOLE]
    assert plan_segments(data, VideoDecodeOptions(skip_unsampled=False), 3) == [WHOLE]
    assert plan_segments(data, VideoDecodeOptions(seconds_per_hash=0), 3) == [WHOLE]  # every frame
    assert plan_segments(b"not a video at all", None, 3) == [WHOLE]
    assert plan_segments(data[:5000], None, 3) == [WHOLE]  # truncated: decoding it says so
    with pytest.raises(ConfigError, match="segment_frames"):
        plan_segments(data, None, 0)


def test_a_segment_that_does_not_fit_the_video_departs_from_its_plan():
    h264, mjpeg = encode(LONG, "mp4-h264", FPS), encode(LONG, "avi-mjpeg", FPS)
    # Packet 30 is no IDR picture: the frames decoded from there are not known.
    with pytest.raises(SegmentDeparted):
        list(sample_frames(h264, None, Segment(1, 2, 50, None, 30)))
    # A segment planned for a longer video: the packets end before its last frame.
    for data in (h264, mjpeg):
        with pytest.raises(SegmentDeparted):
            list(sample_frames(data, None, Segment(1, 3, 475, 600, 475 if data is mjpeg else 480)))
    # Options that number frames differently from the plan's.
    with pytest.raises(SegmentDeparted):
        list(sample_frames(mjpeg, VideoDecodeOptions(skip_unsampled=False), Segment(1, 2, 50, None, 50)))
    # The whole-video plan is no shortcut: it decodes as without one.
    assert _flat(sample_frames(h264, None, WHOLE)) == _flat(sample_frames(h264))
