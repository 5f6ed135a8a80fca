"""Decode a video object's sampled frames with PyAV, as Meta's vPDQ chooses them.

**Frame choice (read from vpdq 0.2.5, cpp/vpdq/cpp/hashing/filehasher.cpp and
ffmpegwrapper.cpp).** vPDQ samples by *frame count*, not by timestamp:

* the frame rate is the first video stream's ``avg_frame_rate``, or its
  ``r_frame_rate`` when that is 0/0 (a double);
* ``frame_mod = int(seconds_per_hash * frame_rate)``, at least 1
  (``seconds_per_hash = 0`` thus means every frame);
* frames are numbered 0, 1, 2... in the order the decoder returns them
  (``AVCodecContext.frame_num - 1``), over every packet of that stream,
  including the decoder's flush at the end; frame ``n`` is sampled when
  ``n % frame_mod == 0``;
* its timestamp is ``float(n) / float(frame_rate)`` in *float32*, not the
  frame's pts;
* each sampled frame is converted to RGB24 at the stream's declared size
  (or a requested one) by swscale with ``SWS_AREA``.

:func:`sample_frames` reproduces all of this with PyAV, so the same file
gives the same frame numbers, timestamps and pixels (the tests check it
against the ``vpdq`` package, where installed). Unsampled frames are never
converted to RGB, and only decoded when a later frame may depend on them
(``skip_unsampled``): intra-only streams decode just the sampled packets;
H.264 skips unsampled non-reference pictures, numbering frames by pts rank
(the decoder's output order) and falling back to decoding everything if the
decoder's output ever departs from that plan.

``sampling="keyframes"`` is the fast, *different* choice: the decoder skips
every non-key frame (``skip_frame = NONKEY``), and the first key frame in
each ``frame_mod`` interval is sampled, numbered from its pts. It decodes a
small fraction of the frames, but the frames are not vPDQ's, so the hashes
are not comparable frame by frame (see benchmarks/README.md, "Video
hashing", for the measured match shares).

**Segments.** :func:`plan_segments` cuts a long video into parts of about
``segment_frames`` sampled frames each, from its packets alone (no frame is
decoded), so that the parts can be decoded apart (by different workers) and
their frames together are exactly :func:`sample_frames`'s. It cuts only
where the frame numbering is known without decoding from the start:
intra-only codecs (frame ``n`` is the ``n``-th non-empty packet) and H.264
with a pts plan (frame ``n`` has the ``n``-th smallest pts); each part starts
decoding at a key frame (for H.264 an IDR picture that no earlier packet
follows in output order) at or before its first sampled frame. Elsewhere
(VP9, MPEG-4, damaged indexes, repeated pts...) the plan is one segment, the
whole video. A part whose decoder output departs from the plan raises
:class:`SegmentDeparted`: the caller then decodes the whole video instead.

Every failure is a :class:`VideoDecodeError` (a DecodeError, so callers file
it with a FailureReason like any decode failure).
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.video import nonref
from photosieve.video.detect import sniff

try:  # PyAV is a dependency; the import is guarded so the error is specific.
    import av
    import av.error
except ImportError:  # pragma: no cover - exercised only without the dependency
    av = None

SAMPLING_MODES = ("vpdq", "keyframes")
# What reading packets can raise: FFmpeg's errors, and IndexError from PyAV
# (18.1) when a stream first appears mid-file (MPEG-TS can announce one late).
_DEMUX_ERRORS = (av.error.FFmpegError, IndexError) if av is not None else ()
# PDQ (and vPDQ's frame hasher) cannot hash frames below 5 px per side.
MIN_SIDE = 5


class VideoDecodeError(DecodeError):
    """A video object that gives no frames, and why.

    ``kind`` is a finer, stable label than ``reason`` (e.g. ``no_video_stream``
    is filed as NOT_AN_IMAGE: the object holds no pictures).
    """

    def __init__(self, reason: FailureReason, message: str, *, kind: str | None = None):
        super().__init__(reason, message)
        self.kind = kind or reason.value


class SegmentDeparted(Exception):
    """A segment's decoder output is not what its plan said (frames missing, out of order, unknown pts).

    Not a decode failure: the video may be fine, only the shortcut is not.
    The caller decodes the whole video in one piece instead, never a segment
    whose frames may be numbered differently from vPDQ's.
    """


@dataclasses.dataclass(frozen=True)
class Segment:
    """One part of a video's sampled frames, decodable on its own (see :func:`plan_segments`).

    Attributes:
        index, count: its position in the plan and the plan's length.
        first: the first frame number it yields (a sampled frame).
        last: the last frame number it yields; None = to the end of the
            video (the last segment, which also makes the video's end checks:
            truncation, ``max_sampled_frames``).
        start: non-empty packets (in demux order) not decoded before its key frame.
    """

    index: int
    count: int
    first: int
    last: int | None
    start: int

    @property
    def whole(self) -> bool:
        return self.count == 1


# The plan of a video that is not cut: one segment, decoded as sample_frames(data) does.
WHOLE = Segment(0, 1, 0, None, 0)


@dataclasses.dataclass(frozen=True)
class VideoDecodeOptions:
    """How to sample and what one video may cost. Validated at construction.

    Attributes:
        seconds_per_hash: sampling interval, as vPDQ's ``seconds_per_hash``
            (0 = every frame).
        sampling: ``"vpdq"`` (vPDQ's exact frame choice) or ``"keyframes"``.
        width, height: convert sampled frames to this size (vPDQ's
            ``downsample_width/height``, 0 = the stream's own), with swscale's
            area filter like vPDQ.
        max_pixels: limit on the declared width x height of the stream and
            of every decoded frame (DECOMPRESSION_BOMB).
        max_sampled_frames: sampled frames after which reading stops with
            FRAMES_CUT_OFF (the earlier ones were yielded).
        max_decoded_frames: decoded frames (sampled or not) after which
            reading stops with OVER_BUDGET.
        max_cpu_seconds: CPU seconds of the decoding thread after which no
            further packet is decoded (OVER_BUDGET); None = no limit. With
            ``threads != 1`` FFmpeg's own threads are not counted.
        threads: decoder threads (0 = FFmpeg's choice). Threading changes
            wall time only: frames and pixels are the same.
        skip_unsampled: never decode a packet no sampled frame needs:
            for intra-only codecs (MJPEG, ProRes, FFV1...) every unsampled
            packet; for H.264 the unsampled non-reference pictures (see
            :mod:`photosieve.video.nonref`). Same frames, same pixels, less
            work. False decodes every frame, as vPDQ does.
    """

    seconds_per_hash: float = 1.0
    sampling: str = "vpdq"
    width: int = 0
    height: int = 0
    max_pixels: int = 8192 * 4320
    max_sampled_frames: int = 24 * 3600
    max_decoded_frames: int = 24 * 3600 * 60
    max_cpu_seconds: float | None = 600.0
    threads: int = 1
    skip_unsampled: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.seconds_per_hash, (int, float)) and math.isfinite(self.seconds_per_hash)
                and self.seconds_per_hash >= 0):
            raise ConfigError(f"seconds_per_hash must be a finite number >= 0, got {self.seconds_per_hash!r}")
        if self.sampling not in SAMPLING_MODES:
            raise ConfigError(f"sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}")
        for name in ("width", "height", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("max_pixels", "max_sampled_frames", "max_decoded_frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if self.max_cpu_seconds is not None and not (
            isinstance(self.max_cpu_seconds, (int, float)) and self.max_cpu_seconds > 0
        ):
            raise ConfigError(f"max_cpu_seconds must be > 0 or None, got {self.max_cpu_seconds!r}")


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What the container declares about its first video stream."""

    container: str
    codec: str
    width: int
    height: int
    frame_rate: float
    frame_mod: int
    declared_frames: int
    duration_seconds: float | None


@dataclasses.dataclass(frozen=True, eq=False)
class SampledFrame:
    """One sampled frame: vPDQ's frame number and timestamp, and its RGB pixels.

    ``timestamp`` is vPDQ's (frame number / frame rate, float32); ``pts_seconds``
    is the frame's own presentation time, when the stream has one.
    """

    frame_number: int
    timestamp: float
    pts_seconds: float | None
    rgb: np.ndarray


def vpdq_frame_mod(seconds_per_hash: float, frame_rate: float) -> int:
    """vPDQ's sampling period in frames: ``int(seconds_per_hash * frame_rate)``, at least 1."""
    return max(1, int(seconds_per_hash * frame_rate))


def vpdq_timestamp(frame_number: int, frame_rate: float) -> float:
    """vPDQ's timestamp: frame number over frame rate, both as float32."""
    return float(np.float32(frame_number) / np.float32(frame_rate))


def sample_frames(
    data: bytes, options: VideoDecodeOptions | None = None, segment: Segment | None = None
) -> Iterator[SampledFrame]:
    """Yield the sampled frames of one video object (or of one segment of it), in frame order.

    ``segment`` (from :func:`plan_segments` with the same data and options):
    decode only that part; its budgets (decoded frames, CPU time) count for
    that part alone. None or a one-segment plan: the whole video.

    Raises VideoDecodeError (possibly after some frames were yielded, for
    budgets and data broken mid-stream), and SegmentDeparted when a segment
    cannot be decoded as planned (decode the whole video then).
    """
    options = options or VideoDecodeOptions()
    container = _open(data)
    try:
        stream = _video_stream(container)
        info = _info(container, stream, options)
        _configure(stream, options)
        budget = _Budget(options)
        if segment is not None and not segment.whole:
            yield from _sample_segment(data, container, stream, info, options, budget, segment)
            return
        # Every frame of an intra-only codec is a key frame: both samplings agree.
        if options.sampling == "vpdq" or stream.codec_context.codec.intra_only:
            yield from _sample_vpdq(data, container, stream, info, options, budget)
        else:
            yield from _sample_keyframes(container, stream, info, options, budget)
    finally:
        container.close()


def probe(data: bytes, options: VideoDecodeOptions | None = None) -> VideoInfo:
    """The declared facts of the first video stream, without decoding a frame."""
    options = options or VideoDecodeOptions()
    container = _open(data)
    try:
        return _info(container, _video_stream(container), options)
    finally:
        container.close()


def plan_segments(
    data: bytes, options: VideoDecodeOptions | None = None, segment_frames: int = 300
) -> list[Segment]:
    """Cut the video into segments of about ``segment_frames`` sampled frames, reading packets only.

    Only where vPDQ's frame numbering is known without decoding from the
    start (``sampling="vpdq"``, ``skip_unsampled``, a sampling period above
    one frame, and an intra-only codec or H.264 with a pts plan); anything
    else, including a video that does not open, gives ``[WHOLE]`` (decoding
    it reports what is wrong). An H.264 segment keeps its sampled frames and
    starts decoding at the last usable IDR picture at or before its first
    one; a boundary with no IDR picture of its own since the previous one is
    dropped (the previous segment runs on). Segments after the
    one where ``max_sampled_frames`` is reached are not planned: that
    segment is the last, and raises FRAMES_CUT_OFF as the whole video would.
    """
    options = options or VideoDecodeOptions()
    if not (isinstance(segment_frames, int) and segment_frames >= 1):
        raise ConfigError(f"segment_frames must be an integer >= 1, got {segment_frames!r}")
    if options.sampling != "vpdq" or not options.skip_unsampled:
        return [WHOLE]
    try:
        container = _open(data)
    except VideoDecodeError:
        return [WHOLE]
    try:
        stream = _video_stream(container)
        info = _info(container, stream, options)
        if info.frame_mod <= 1:
            return [WHOLE]
        if info.declared_frames and -(-info.declared_frames // info.frame_mod) <= segment_frames:
            return [WHOLE]  # short by its own index: not worth reading its packets
        if stream.codec_context.codec.intra_only:
            packets = sum(1 for packet in _packets(container, stream) if packet is not None)
            starts = None  # every packet is a key frame
        elif stream.codec_context.name == "h264":
            plan = _skip_plan(container, stream)
            if plan is None:
                return [WHOLE]
            packets, starts = len(plan.rank), plan.starts
        else:
            return [WHOLE]
    except VideoDecodeError:
        return [WHOLE]
    finally:
        container.close()
    mod = info.frame_mod
    # Sampled frames reached: all of them, or up to the one that is cut off.
    reached = min(-(-packets // mod), options.max_sampled_frames + 1)
    cuts: list[tuple[int, int]] = []  # (first sampled frame, key frame position)
    for k in range(0, reached, segment_frames):
        first = k * mod
        if starts is None:
            cuts.append((first, first))
            continue
        key = max((p for p in starts if p <= first), default=None)
        if key is None or (cuts and key <= cuts[-1][1]):
            if not cuts:
                return [WHOLE]  # no IDR picture to start at
            continue
        cuts.append((first, key))
    if len(cuts) <= 1:
        return [WHOLE]
    return [
        Segment(i, len(cuts), first, cuts[i + 1][0] - mod if i + 1 < len(cuts) else None, key)
        for i, (first, key) in enumerate(cuts)
    ]


def _sample_segment(
    data, container, stream, info, options, budget, segment: Segment
) -> Iterator[SampledFrame]:
    """One segment of a plan: decode from its key frame, yield its sampled frames, check the plan."""
    if not (options.sampling == "vpdq" and options.skip_unsampled and info.frame_mod > 1):
        raise SegmentDeparted("the options do not allow segments")
    if stream.codec_context.codec.intra_only:
        yield from _segment_intra_only(container, stream, info, options, budget, segment)
        return
    plan = _skip_plan(container, stream) if stream.codec_context.name == "h264" else None
    if plan is None or segment.start not in plan.starts:
        raise SegmentDeparted(f"segment {segment.index} has no key frame at packet {segment.start}")
    yield from _segment_h264(data, plan, info, options, budget, segment)


def _in_segment(number: int, segment: Segment) -> bool:
    return number >= segment.first and (segment.last is None or number <= segment.last)


def _segment_intra_only(container, stream, info, options, budget, segment: Segment) -> Iterator[SampledFrame]:
    """:func:`_sample_intra_only` from packet ``segment.first`` on (frame n is packet n)."""
    ctx = stream.codec_context
    if ctx.thread_count != 1:
        ctx.thread_type = "SLICE"
    number, yielded = 0, 0
    for packet in _packets(container, stream):
        if packet is None:
            break
        if number % info.frame_mod == 0 and _in_segment(number, segment):
            try:
                decoded = ctx.decode(packet)
            except av.error.FFmpegError as exc:
                raise VideoDecodeError(
                    FailureReason.CORRUPT, f"frame {number} does not decode ({exc})"
                ) from exc
            if len(decoded) != 1:
                raise VideoDecodeError(
                    FailureReason.CORRUPT,
                    f"packet {number} of an intra-only stream gave {len(decoded)} frames",
                )
            budget.frame(decoded[0])
            yield _sampled(decoded[0], number, info, options, number // info.frame_mod)
            yielded += 1
            if number == segment.last:
                return
        number += 1
    if segment.last is not None or yielded == 0:
        # The plan counted these packets: reading them again gave fewer.
        raise SegmentDeparted(f"segment {segment.index} ended at packet {number}")
    if info.declared_frames and number < info.declared_frames:
        raise VideoDecodeError(
            FailureReason.TRUNCATED,
            f"found {number} of the {info.declared_frames} frames the container declares",
        )


def _segment_h264(data, plan: _SkipPlan, info, options, budget, segment: Segment) -> Iterator[SampledFrame]:
    """:func:`_sample_skipping` from the segment's IDR packet on, until its last sampled frame.

    The packets before ``segment.start`` are demuxed but never sent to the
    decoder. The decoder must return exactly the planned frames from the
    IDR picture's number on, in order, else SegmentDeparted.
    """
    container = _open(data)
    try:
        stream = _reopened_stream(container, plan.index)
        _configure(stream, options)
        ctx = stream.codec_context
        mod = info.frame_mod
        keep = sorted(r for r in plan.rank.values()
                      if r >= segment.start and (r % mod == 0 or r not in plan.droppable))
        expected = iter(keep)
        position = -1
        for packet in _packets(container, stream):
            if packet is not None:
                position += 1
                if position < segment.start:
                    continue
                number = plan.rank.get(packet.pts)
                if number is None:
                    raise SegmentDeparted(f"packet {position} has a pts the plan does not know")
                if number % mod and number in plan.droppable:
                    continue
            frames = _decode_packet(ctx, packet, budget)
            for frame in frames:
                number = plan.rank.get(frame.pts) if frame.pts is not None else None
                if number is None or number != next(expected, None):
                    raise SegmentDeparted(f"segment {segment.index}: the decoder returned an unplanned frame")
                budget.frame(frame)
                if number % mod == 0 and _in_segment(number, segment):
                    yield _sampled(frame, number, info, options, number // mod)
                if number == segment.last:
                    return
        if segment.last is not None or next(expected, None) is not None:
            raise SegmentDeparted(f"segment {segment.index}: frames the plan expected never came")
        if info.declared_frames and len(plan.rank) < info.declared_frames:
            raise VideoDecodeError(
                FailureReason.TRUNCATED,
                f"found {len(plan.rank)} of the {info.declared_frames} frames the container declares",
            )
    finally:
        container.close()


def _open(data: bytes):
    if av is None:  # pragma: no cover
        raise VideoDecodeError(FailureReason.UNSUPPORTED_FORMAT, "PyAV (av) is not installed")
    if len(data) == 0:
        raise VideoDecodeError(FailureReason.EMPTY, "zero-length object")
    short = declared_end(data)
    if short is not None and short > len(data):
        raise VideoDecodeError(
            FailureReason.TRUNCATED,
            f"{sniff(data)} structure declares at least {short} bytes, the object has {len(data)}",
        )
    try:
        # Tags are free text: damaged ones must not stop the pictures being read.
        return av.open(io.BytesIO(data), mode="r", metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise _opening_error(data, exc) from exc


def declared_end(data: bytes) -> int | None:
    """Where the container's own size fields say the object ends, if they say (else None).

    MP4/MOV: the end of the last top-level box; AVI: the RIFF size; WebM/MKV:
    the end of the Segment (unless its size is "unknown", as in live
    streams). MPEG-TS and -PS carry no total size. A truncated object is
    then told apart from a corrupt one without decoding a frame, and a
    truncated MKV or AVI is not hashed as if its first half were the video.
    """
    kind = sniff(data)
    if kind in ("mp4", "mov"):
        return _bmff_end(data)
    if kind == "avi":
        return 8 + int.from_bytes(data[4:8], "little")
    if kind in ("webm", "matroska"):
        return _ebml_segment_end(data)
    return None


def _bmff_end(data: bytes) -> int | None:
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        header = 8
        if size == 1:
            if offset + 16 > len(data):
                return offset + 16
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        if size == 0:  # the box runs to the end of the file
            return len(data)
        kind = data[offset + 4 : offset + 8]
        if size < header or not all(32 <= c < 127 for c in kind):
            return None  # not a box: leave the verdict to FFmpeg
        offset += size
    return offset


def _vint(data: bytes, offset: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at offset: (value, length), or None if cut off or invalid."""
    if offset >= len(data) or data[offset] == 0:
        return None
    length = 9 - data[offset].bit_length()
    if offset + length > len(data):
        return None
    value = int.from_bytes(data[offset : offset + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


def _ebml_segment_end(data: bytes) -> int | None:
    offset = 0
    for expected in (0x1A45DFA3, 0x18538067):  # EBML header, then Segment
        element = _vint(data, offset, keep_marker=True)
        size = _vint(data, offset + element[1], keep_marker=False) if element else None
        if element is None or size is None or element[0] != expected:
            return None
        value, length = size
        start = offset + element[1] + length
        if expected == 0x18538067:
            return None if value == (1 << (7 * length)) - 1 else start + value
        offset = start + value
    return None


def _opening_error(data: bytes, exc: Exception) -> VideoDecodeError:
    """Why FFmpeg could not open the object: not a video at all, or a corrupt one.

    Truncation was ruled out before opening (:func:`declared_end`), so a
    recognised container FFmpeg cannot read is corrupt.
    """
    kind = sniff(data)
    if kind is None:
        return VideoDecodeError(FailureReason.NOT_AN_IMAGE, f"no video container recognised ({exc})")
    return VideoDecodeError(FailureReason.CORRUPT, f"{kind} container cannot be read ({exc})")


def _video_stream(container):
    if not len(container.streams):
        raise VideoDecodeError(FailureReason.CORRUPT, f"{container.format.name} container holds no stream")
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise VideoDecodeError(
            FailureReason.NOT_AN_IMAGE,
            f"no video stream (streams: {', '.join(kinds)})",
            kind="no_video_stream",
        )
    return container.streams.video[0]


def _frame_rate(stream) -> float:
    """avg_frame_rate, else r_frame_rate, as vPDQ reads them (0 if neither is known)."""
    for rate in (stream.average_rate, stream.base_rate):
        if rate:
            return float(Fraction(rate))
    return 0.0


def _info(container, stream, options: VideoDecodeOptions) -> VideoInfo:
    ctx = stream.codec_context
    if ctx is None:  # a codec id this FFmpeg build has no decoder for
        raise VideoDecodeError(
            FailureReason.UNSUPPORTED_FORMAT, f"no decoder for the video codec of a {container.format.name} stream"
        )
    width, height = ctx.width, ctx.height
    if width <= 0 or height <= 0:
        raise VideoDecodeError(FailureReason.CORRUPT, f"video stream declares size {width}x{height}")
    if width * height > options.max_pixels:
        raise VideoDecodeError(
            FailureReason.DECOMPRESSION_BOMB,
            f"video frames of {width}x{height} exceed max_pixels={options.max_pixels}",
        )
    out_w, out_h = options.width or width, options.height or height
    if min(out_w, out_h) < MIN_SIDE:
        raise VideoDecodeError(
            FailureReason.TOO_SMALL, f"frames of {out_w}x{out_h} are below PDQ's {MIN_SIDE} px per side"
        )
    rate = _frame_rate(stream)
    if not rate > 0:
        raise VideoDecodeError(FailureReason.CORRUPT, "video stream declares no frame rate")
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    return VideoInfo(
        container=container.format.name,
        codec=ctx.name,
        width=width,
        height=height,
        frame_rate=rate,
        frame_mod=vpdq_frame_mod(options.seconds_per_hash, rate),
        declared_frames=int(stream.frames or 0),
        duration_seconds=duration,
    )


def _configure(stream, options: VideoDecodeOptions) -> None:
    ctx = stream.codec_context
    ctx.thread_count = options.threads
    if options.threads != 1:
        ctx.thread_type = "AUTO"
    # Decoders that ignore skip_frame (FFmpeg's VP9) return every frame; the
    # keyframe sampler then takes the first frame of each interval, vPDQ's.
    if options.sampling == "keyframes" and not ctx.codec.intra_only:
        ctx.skip_frame = "NONKEY"


class _Budget:
    """Counts decoded frames and CPU time against the options' limits."""

    def __init__(self, options: VideoDecodeOptions):
        self.options = options
        self.start = time.thread_time()
        self.decoded = 0

    def frame(self, frame) -> None:
        self.decoded += 1
        if self.decoded > self.options.max_decoded_frames:
            raise VideoDecodeError(
                FailureReason.OVER_BUDGET,
                f"more than max_decoded_frames={self.options.max_decoded_frames} frames",
            )
        if frame.width * frame.height > self.options.max_pixels:
            raise VideoDecodeError(
                FailureReason.DECOMPRESSION_BOMB,
                f"frame {self.decoded - 1} of {frame.width}x{frame.height} exceeds "
                f"max_pixels={self.options.max_pixels}",
            )
        limit = self.options.max_cpu_seconds
        if limit is not None and time.thread_time() - self.start > limit:
            raise VideoDecodeError(
                FailureReason.OVER_BUDGET, f"decoding took more than max_cpu_seconds={limit}"
            )


def _decoded(container, stream, budget: _Budget):
    """Every frame the decoder returns, with FFmpeg's errors made typed."""
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except _DEMUX_ERRORS as exc:
            raise VideoDecodeError(
                FailureReason.CORRUPT, f"video data broken after {budget.decoded} frames ({exc})"
            ) from exc
        budget.frame(frame)
        yield frame


def _rgb(frame, info: VideoInfo, options: VideoDecodeOptions) -> np.ndarray:
    """RGB24 at the stream's declared (or requested) size, via swscale's area filter, like vPDQ."""
    try:
        return frame.to_ndarray(
            format="rgb24",
            width=options.width or info.width,
            height=options.height or info.height,
            interpolation="AREA",
        )
    except av.error.FFmpegError as exc:
        raise VideoDecodeError(
            FailureReason.CORRUPT, f"a {frame.width}x{frame.height} {frame.format.name} frame cannot be converted to RGB ({exc})"
        ) from exc


def _pts_seconds(frame) -> float | None:
    return float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None


def _sampled(frame, number: int, info: VideoInfo, options: VideoDecodeOptions, sampled: int) -> SampledFrame:
    if sampled >= options.max_sampled_frames:
        raise VideoDecodeError(
            FailureReason.FRAMES_CUT_OFF,
            f"more than max_sampled_frames={options.max_sampled_frames} sampled frames",
        )
    return SampledFrame(number, vpdq_timestamp(number, info.frame_rate), _pts_seconds(frame),
                        _rgb(frame, info, options))


def _sample_vpdq(data, container, stream, info, options, budget) -> Iterator[SampledFrame]:
    if options.skip_unsampled and info.frame_mod > 1:
        if stream.codec_context.codec.intra_only:
            yield from _sample_intra_only(container, stream, info, options, budget)
            return
        plan = _skip_plan(container, stream) if stream.codec_context.name == "h264" else None
        if plan is not None:
            progress = yield from _sample_skipping(data, plan, info, options, budget)
            if progress is None:
                return
            # The decoder did not return the frames the plan expected: decode
            # everything, from the start, and go on after the last frame yielded.
            # (The budget keeps counting: the work was done.)
            retry = _open(data)
            try:
                stream = _reopened_stream(retry, stream.index)
                _configure(stream, options)
                yield from _sample_all(retry, stream, info, options, budget, *progress)
            finally:
                retry.close()
            return
    yield from _sample_all(container, stream, info, options, budget)


def _sample_all(
    container, stream, info, options, budget, after: int = -1, sampled: int = 0
) -> Iterator[SampledFrame]:
    """vPDQ's loop: decode every frame, convert the sampled ones (those after ``after``)."""
    for number, frame in enumerate(_decoded(container, stream, budget)):
        if number % info.frame_mod == 0 and number > after:
            yield _sampled(frame, number, info, options, sampled)
            sampled += 1
    _check_complete(info, budget)


@dataclasses.dataclass(frozen=True)
class _SkipPlan:
    """Frame numbers by pts (output order) and which of them may go undecoded."""

    rank: dict[int, int]
    droppable: frozenset[int]
    index: int = 0  # the stream's index in the container
    # Where decoding may start (non-empty packet positions in demux order): IDR
    # pictures such that the packets before them are exactly frames 0..p-1.
    starts: tuple[int, ...] = (0,)


def _skip_plan(container, stream) -> _SkipPlan | None:
    """Read every packet's pts and reference flag, or None where numbering by pts is unsafe.

    vPDQ numbers frames in the decoder's output order, which for H.264 is
    pts order, one frame per packet. Packets without pts, with repeated pts,
    or marked discard (MP4 edit lists) leave that mapping uncertain: no plan.
    """
    length_size = nonref.avcc_length_size(stream.codec_context.extradata)
    pts, droppable_pts, idr = [], set(), []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None or packet.is_discard or packet.is_corrupt:
                return None
            pts.append(packet.pts)
            payload = bytes(packet)
            if nonref.is_nonreference_h264(payload, length_size):
                droppable_pts.add(packet.pts)
            if packet.is_keyframe and _is_idr(payload, length_size):
                idr.append(len(pts) - 1)
    except _DEMUX_ERRORS:
        return None  # let the decoding pass report the damage
    if len(set(pts)) != len(pts) or not pts:
        return None
    rank = {p: i for i, p in enumerate(sorted(pts))}
    # Position p may start a segment when its packet is frame p and the p
    # packets before it are frames 0..p-1 (their largest rank is p-1): an IDR
    # picture there is then decoded with every later frame and no earlier one.
    ranks = [rank[p] for p in pts]
    prefix_max, starts = -1, []
    idr_set = set(idr)
    for position, r in enumerate(ranks):
        if position in idr_set and r == position and prefix_max == position - 1:
            starts.append(position)
        prefix_max = max(prefix_max, r)
    return _SkipPlan(rank, frozenset(rank[p] for p in droppable_pts), stream.index, tuple(starts))


def _is_idr(payload: bytes, length_size: int | None) -> bool:
    """True if the H.264 packet holds an IDR slice (NAL type 5): no later picture refers before it."""
    headers = nonref._avcc_headers(payload, length_size) if length_size else nonref._annex_b_headers(payload)
    return bool(headers) and any(h & 0x1F == 5 for h in headers)


def _sample_skipping(data, plan: _SkipPlan, info, options, budget):
    """Decode all but the droppable unsampled pictures; yield the sampled frames.

    Returns None when every frame came out as planned, else (number of the
    last frame yielded or -1, frames yielded) so the caller can fall back.
    """
    first_index = plan.index
    container = _open(data)
    try:
        stream = _reopened_stream(container, first_index)
        _configure(stream, options)
        ctx = stream.codec_context
        keep = sorted(r for r in plan.rank.values() if r % info.frame_mod == 0 or r not in plan.droppable)
        expected = iter(keep)
        last, sampled = -1, 0
        for packet in _packets(container, stream):
            if packet is not None:
                number = plan.rank.get(packet.pts)
                if number is None:
                    return last, sampled
                if number % info.frame_mod and number in plan.droppable:
                    continue
            frames = _decode_packet(ctx, packet, budget)
            for frame in frames:
                number = plan.rank.get(frame.pts) if frame.pts is not None else None
                if number is None or number != next(expected, None):
                    return last, sampled
                budget.frame(frame)
                if number % info.frame_mod == 0:
                    yield _sampled(frame, number, info, options, sampled)
                    last, sampled = number, sampled + 1
        if next(expected, None) is not None:
            return last, sampled
        if info.declared_frames and len(plan.rank) < info.declared_frames:
            raise VideoDecodeError(
                FailureReason.TRUNCATED,
                f"found {len(plan.rank)} of the {info.declared_frames} frames the container declares",
            )
        return None
    finally:
        container.close()


def _decode_packet(ctx, packet, budget: _Budget) -> list:
    """The frames one packet (or the flush, None) gives; FFmpeg's refusal is a CORRUPT VideoDecodeError."""
    try:
        return ctx.decode(packet)
    except av.error.FFmpegError as exc:
        raise VideoDecodeError(
            FailureReason.CORRUPT, f"video data broken after {budget.decoded} frames ({exc})"
        ) from exc


def _reopened_stream(container, index: int):
    """The same video stream in a second opening of the object (damaged data may not give it)."""
    streams = [s for s in container.streams.video if s.index == index]
    if not streams:
        raise VideoDecodeError(FailureReason.CORRUPT, "the video stream is not found when read again")
    return streams[0]


def _packets(container, stream):
    """The stream's non-empty packets (not the demuxer's end marker or empty AVI chunks), then
    None (the decoder's flush)."""
    packets = container.demux(stream)
    count = 0
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except _DEMUX_ERRORS as exc:
            raise VideoDecodeError(
                FailureReason.CORRUPT, f"container broken after {count} packets ({exc})"
            ) from exc
        if packet.size:
            count += 1
            yield packet
    yield None


def _sample_intra_only(container, stream, info, options, budget) -> Iterator[SampledFrame]:
    """Intra-only streams: decode only the sampled packets.

    Every frame of an intra-only codec is coded on its own and is returned
    as soon as its packet is sent (no reordering), so vPDQ's frame ``n`` is
    the ``n``-th non-empty packet. Each decoded packet must give exactly one
    frame, else the numbering is not known and the object is CORRUPT. Where
    vPDQ would fail on a broken packet that is not sampled, this path never
    reads it (the one difference).
    """
    ctx = stream.codec_context
    if ctx.thread_count != 1:
        ctx.thread_type = "SLICE"  # frame threading would hold frames back
    sampled = number = 0
    for packet in _packets(container, stream):
        if packet is None:  # the flush marker: intra-only frames are never held back
            break
        if number % info.frame_mod == 0:
            try:
                decoded = ctx.decode(packet)
            except av.error.FFmpegError as exc:
                raise VideoDecodeError(FailureReason.CORRUPT, f"frame {number} does not decode ({exc})") from exc
            if len(decoded) != 1:
                raise VideoDecodeError(
                    FailureReason.CORRUPT, f"packet {number} of an intra-only stream gave {len(decoded)} frames"
                )
            budget.frame(decoded[0])
            yield _sampled(decoded[0], number, info, options, sampled)
            sampled += 1
        number += 1
    if sampled == 0:
        raise VideoDecodeError(FailureReason.CORRUPT, "the video stream gave no decodable frame")
    if info.declared_frames and number < info.declared_frames:
        raise VideoDecodeError(
            FailureReason.TRUNCATED,
            f"found {number} of the {info.declared_frames} frames the container declares",
        )


def _sample_keyframes(container, stream, info, options, budget) -> Iterator[SampledFrame]:
    """The first key frame of each frame_mod interval, numbered from its pts."""
    sampled = 0
    start = None
    next_due = 0
    for frame in _decoded(container, stream, budget):
        seconds = _pts_seconds(frame)
        if seconds is None:
            number = budget.decoded - 1  # no pts: count key frames instead (best effort)
        else:
            start = seconds if start is None else start
            number = max(0, round((seconds - start) * info.frame_rate))
        if number >= next_due:
            yield _sampled(frame, number, info, options, sampled)
            sampled += 1
            next_due = (number // info.frame_mod + 1) * info.frame_mod


def _check_complete(info: VideoInfo, budget: _Budget) -> None:
    """A stream whose index promised frames that never came is truncated."""
    if budget.decoded == 0:
        raise VideoDecodeError(FailureReason.CORRUPT, "the video stream gave no decodable frame")
    if info.declared_frames and budget.decoded < info.declared_frames:
        raise VideoDecodeError(
            FailureReason.TRUNCATED,
            f"decoded {budget.decoded} of the {info.declared_frames} frames the container declares",
        )
