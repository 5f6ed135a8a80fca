"""Hash stored objects: read once, decode once, compute every requested hash.

This is the core's front door for pipelines and the CLI. One object (the
bytes of one file or archive member) gives an :class:`ObjectHashes`:
digests of the raw bytes, per-frame pixel hashes with decoder notes, and
typed failures for the algorithms that could not run. An object is never
lost: every requested algorithm ends in ``hashes`` or in ``failures``.

>>> hasher = ImageHasher(HashPlan.parse("pdq,md5"))
>>> out = hasher.hash_bytes("empty.jpg", b"")
>>> [r.hash.algorithm for r in out.digests], out.failures[0].reason.value
(['md5'], 'empty')
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from photosieve import algorithms
from photosieve.decode import DecodedImage, DecodeOptions, decode_frames
from photosieve.errors import ConfigError, DecodeError, FailureReason, HashFailure
from photosieve.hashes import pdq, pdq_fast
from photosieve.hashes.value import HashResult
from photosieve.robust.expansion import BORDERS, QueryExpansion, query_hashes
from photosieve.robust.regions import Box, find_borders
from photosieve.video import decode as video_decode
from photosieve.video import detect as video_detect
from photosieve.video import vpdq

_LOG = logging.getLogger(__name__)

# Every name the CLI and configs accept, in photosieve.hashes.BUILTIN's order;
# "pdq-dihedral" stores "pdq" hashes for all eight orientations (rotations and
# mirrors) of each image.
ALGORITHM_CHOICES = algorithms.choices()
# The default: PDQ for robust matching (the format hash-sharing programmes
# exchange), MD5 for the exact-copy lists that are still the most common.
DEFAULT_ALGORITHMS = ("pdq", "md5")
# EXIF orientation applied -> the name (as in pdq.ORIENTATIONS: what was done
# to the displayed image) of the transform that gives back the stored pixels.
_STORED_ORIENTATION = {
    2: "flipy", 3: "rotate180", 4: "flipx", 5: "flip_plus1",
    6: "rotate90", 7: "flip_minus1", 8: "rotate270",
}
# Inverse of each EXIF transposition, on H x W (x C) arrays (numpy views).
_UNDO_EXIF = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
    8: lambda a: np.rot90(a, -1),
}
# Frames buffered before one batched PDQ DCT (amortises numpy call overhead).
DEFAULT_BATCH_SIZE = 32
# vPDQ's default sampling interval (python-threatexchange, HMA): one frame a second.
DEFAULT_VIDEO_INTERVAL_S = 1.0
# Sampled frames hashed per video: 4 hours at one frame a second (FRAMES_CUT_OFF beyond).
DEFAULT_VIDEO_MAX_FRAMES = 4 * 3600
# Sampled frames per segment of a long video (5 minutes at one a second): the
# unit one worker decodes, and what max_cpu_seconds budgets.
DEFAULT_VIDEO_SEGMENT_FRAMES = 300


@dataclass(frozen=True)
class HashPlan:
    """Which hashes to compute, and how to decode for them.

    Attributes:
        algorithms: canonical stored names, in a stable order ("pdq" once,
            even when dihedral).
        pdq_dihedral: store PDQ hashes for all eight orientations.
        decode: decoder options (fast/exact, EXIF, limits, frames).
        pdq_as_stored: when EXIF orientation was applied, also store the PDQ
            hash of the pixels as stored, labelled with the orientation that
            gives them back (e.g. "rotate90"). Hash lists made
            by tools that ignore EXIF (python-threatexchange, HMA, pdqhash on
            ``Image.open``) hold that hash; without it, rotated camera photos
            would match those lists only with ``pdq_dihedral``.
        query_expansion: extra PDQ query hashes for robust matching (border-
            stripped, region, rotation, uncrop hypotheses; see
            :mod:`photosieve.robust.expansion`), appended to each frame's results with
            ``HashResult.variant`` set. None: none. Its ``dihedral`` must equal
            ``pdq_dihedral``. Match them with the threshold of the mode they
            belong to (:mod:`photosieve.robust.modes`), not PDQ's default.
        video_interval_s: objects the image decoder does not recognise but
            :mod:`photosieve.video.detect` does are hashed as videos: every
            pixel algorithm on each frame vPDQ samples at this interval
            (seconds; 0 = every frame). None: videos are not hashed (their
            bytes' digests only, and a ``not_an_image`` failure, as before).
        video_max_frames: sampled frames hashed per video; a longer one
            gets a FRAMES_CUT_OFF failure after them (its earlier frames are
            hashed). Videos do not use ``decode.max_frames``, an image limit.
        video_segment_frames: sampled frames per segment when a pipeline
            cuts a long video into parts hashed apart (see
            :func:`photosieve.video.decode.plan_segments`). It changes no
            hash row, only how the work is spread; ``decode.max_cpu_seconds``
            budgets each segment's decode (or a whole video's, when it is
            not cut).
        video_borders: also hash each sampled video frame inside its uniform
            borders (letterboxing, pillarboxing, a frame added around a
            re-posted clip), when :func:`photosieve.robust.regions.find_borders`
            finds some: a second PDQ row per such frame, variant
            ``borders x,y,w,h``. Bordered copies of a listed video, and of a
            listed image shown in a video, then match (vPDQ alone misses them).
    """

    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    pdq_dihedral: bool = False
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    pdq_as_stored: bool = True
    query_expansion: QueryExpansion | None = None
    video_interval_s: float | None = DEFAULT_VIDEO_INTERVAL_S
    video_max_frames: int = DEFAULT_VIDEO_MAX_FRAMES
    video_segment_frames: int = DEFAULT_VIDEO_SEGMENT_FRAMES
    video_borders: bool = True

    def __post_init__(self) -> None:
        if not self.algorithms:
            raise ConfigError("no hash algorithm requested")
        for name in ("video_max_frames", "video_segment_frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        interval = self.video_interval_s
        if interval is not None and not (
            isinstance(interval, (int, float)) and not isinstance(interval, bool)
            and np.isfinite(interval) and interval >= 0
        ):
            raise ConfigError(f"video_interval_s must be a finite number of seconds >= 0 or None, got {interval!r}")
        for name in self.algorithms:
            algorithms.get(name)  # raises ConfigError for unknown names
        if self.pdq_dihedral and "pdq" not in self.algorithms:
            raise ConfigError("pdq_dihedral needs 'pdq' among the algorithms")
        if self.query_expansion is not None:
            if "pdq" not in self.algorithms:
                raise ConfigError("query_expansion needs 'pdq' among the algorithms")
            if self.query_expansion.dihedral != self.pdq_dihedral:
                raise ConfigError(
                    f"query_expansion.dihedral ({self.query_expansion.dihedral}) must equal "
                    f"pdq_dihedral ({self.pdq_dihedral}): a mode's thresholds assume both"
                )

    @classmethod
    def parse(
        cls,
        names: str | Iterable[str],
        decode: DecodeOptions | None = None,
        *,
        video_interval_s: float | None = DEFAULT_VIDEO_INTERVAL_S,
        video_max_frames: int = DEFAULT_VIDEO_MAX_FRAMES,
        video_segment_frames: int = DEFAULT_VIDEO_SEGMENT_FRAMES,
        video_borders: bool = True,
    ) -> HashPlan:
        """Build a plan from ``"pdq,md5"`` or a list of names (CLI/config form)."""
        if isinstance(names, str):
            names = [n for n in names.split(",")]
        wanted = [n.strip().lower() for n in names if n.strip()]
        choices = algorithms.choices()
        unknown = sorted(set(wanted) - set(choices))
        if unknown:
            raise ConfigError(
                f"unknown algorithm(s) {', '.join(unknown)}; choose from {', '.join(choices)}"
            )
        specs = [algorithms.choice(n) for n in wanted]
        dihedral = any(spec.dihedral for spec in specs)
        stored = {spec.name for spec in specs}
        # In the registry's order, each stored name once ("pdq" for pdq-dihedral too).
        ordered = tuple(dict.fromkeys(
            spec.name for spec in map(algorithms.choice, choices) if spec.name in stored))
        return cls(ordered, dihedral, decode or DecodeOptions(), video_interval_s=video_interval_s,
                   video_max_frames=video_max_frames, video_segment_frames=video_segment_frames,
                   video_borders=video_borders)

    @property
    def pixel_algorithms(self) -> tuple[str, ...]:
        return tuple(a for a in self.algorithms if algorithms.get(a).needs_pixels)

    @property
    def digest_algorithms(self) -> tuple[str, ...]:
        return tuple(a for a in self.algorithms if not algorithms.get(a).needs_pixels)

    @property
    def effective_decode(self) -> DecodeOptions:
        """The decoder options the hasher really uses: ``decode``, or its luma form.

        Fast-mode PDQ alone needs only luma: JPEGs then decode straight to
        their Y channel, skipping colour conversion (measured 35% faster),
        which can move a PDQ bit or two. So the PDQ bits of a plan depend on
        its other pixel algorithms too; incremental audits compare this.
        """
        if self.decode.mode == "fast" and self.pixel_algorithms == ("pdq",) and self.query_expansion is None:
            return dataclasses.replace(self.decode, luma=True)
        return self.decode


@dataclass(frozen=True)
class FrameHashes:
    """The pixel hashes of one decoded frame, with what the decoder did.

    Attributes:
        frame: frame index (0 for still images).
        width, height: size of the pixels hashed (after draft/reduce/EXIF).
        source_width, source_height: size as stored in the file.
        format, source_mode: Pillow's format and mode of the stored image.
        exif_transposed: an EXIF orientation other than 1 was applied.
        scale: linear downscale of the fast decode path (1.0 = none).
        results: one HashResult per algorithm (eight for dihedral PDQ).
        timestamp: videos: vPDQ's timestamp of the frame (frame number over
            frame rate, seconds); None for images.
    """

    frame: int
    width: int
    height: int
    source_width: int
    source_height: int
    format: str
    source_mode: str
    exif_transposed: bool
    scale: float
    results: tuple[HashResult, ...]
    timestamp: float | None = None


@dataclass(frozen=True)
class ObjectHashes:
    """Everything hashing one object produced.

    Attributes:
        uri: the object's path or URI.
        size: its size in bytes.
        digests: hashes of the raw bytes (md5, sha256), whatever the pixels.
        frames: pixel hashes, one entry per decoded frame.
        failures: algorithms that produced nothing, and why. With all frames
            asked for, a frame that ended reading (damaged, cut off by
            ``max_frames``, over budget) is a stage ``decode`` failure for the
            pixel algorithms whose message names the frame; the frames before
            it are in ``frames``.
        decode_warnings: (category, count) of the warnings the decoder raised
            (and kept off stderr), sorted; see :func:`photosieve.decode.decode_frames`.
    """

    uri: str
    size: int
    digests: tuple[HashResult, ...] = ()
    frames: tuple[FrameHashes, ...] = ()
    failures: tuple[HashFailure, ...] = ()
    decode_warnings: tuple[tuple[str, int], ...] = ()


class ImageHasher:
    """Hash objects' bytes according to a :class:`HashPlan`.

    Stateless apart from the plan: safe to share between threads, cheap to
    pickle (Beam ships it to workers inside a DoFn).
    """

    def __init__(self, plan: HashPlan | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE):
        _single_threaded_blas()
        self.plan = plan or HashPlan()
        self.batch_size = batch_size
        # Each spec's compute function: digests, and every pixel hash but PDQ,
        # whose DCT the hasher batches over frames itself (_pdq_buffer, _finish).
        self._digest_computes = [algorithms.get(name).compute
                                 for name in self.plan.digest_algorithms]
        self._pixel_computes = {name: algorithms.get(name).compute
                                for name in self.plan.pixel_algorithms if name != pdq.SPEC.name}
        self._decode_options = self.plan.effective_decode

    def __getstate__(self):
        return {"plan": self.plan, "batch_size": self.batch_size}

    def __setstate__(self, state):
        self.__init__(state["plan"], batch_size=state["batch_size"])

    def hash_bytes(self, uri: str, data: bytes) -> ObjectHashes:
        """Hash one object. Never raises for bad content: failures are values."""
        return next(self.hash_many([(uri, data)]))

    def hash_many(self, items: Iterable[tuple[str, bytes | HashFailure]]) -> Iterator[ObjectHashes]:
        """Hash objects in order, batching PDQ's DCT over up to ``batch_size`` frames.

        Items are ``(uri, data)``; ``data`` may instead be the HashFailure of an
        object that could not be read, which passes through in order.
        Decoded pixels are dropped as soon as each frame's 64x64 PDQ buffer and
        other hashes are computed, so memory stays bounded on large images.
        """
        pending: list[_Pending] = []
        frames_waiting = 0
        for uri, data in items:
            if isinstance(data, HashFailure):
                item = _Pending(uri, 0, (), failures=[data])
            else:
                item = self._start(uri, data)
            pending.append(item)
            frames_waiting += len(item.frames)
            if frames_waiting >= self.batch_size:
                yield from self._finish(pending)
                pending, frames_waiting = [], 0
        yield from self._finish(pending)

    def video_segments(self, uri: str, data: bytes) -> tuple[ObjectHashes, list[video_decode.Segment]] | None:
        """For a video the plan hashes and cuts into several segments: its digests, and the segments.

        None for everything else (images, videos of one segment, plans
        without videos or pixel algorithms): hash those with
        :meth:`hash_many`. The returned ObjectHashes holds the object's
        digests (and the image decoder's warnings) only; the segments'
        frames come from :meth:`hash_segment`. Reads packets, decodes no frame.
        """
        plan = self.plan
        if plan.video_interval_s is None or not plan.pixel_algorithms:
            return None
        if video_detect.sniff(data[: video_detect.SNIFF_BYTES]) is None:
            return None
        warnings: Counter = Counter()
        try:  # an object the image decoder reads is an image, whatever its first bytes say
            decode_frames(data, self._decode_options, warnings)
            return None
        except DecodeError as exc:
            if exc.reason is not FailureReason.NOT_AN_IMAGE:
                return None
        segments = video_decode.plan_segments(data, self.video_options(), plan.video_segment_frames)
        if len(segments) < 2:
            return None
        digests = tuple(compute(data) for compute in self._digest_computes)
        return ObjectHashes(uri, len(data), digests, decode_warnings=tuple(sorted(warnings.items()))), segments

    def hash_segment(self, uri: str, data: bytes, segment: video_decode.Segment) -> ObjectHashes:
        """The frames (and pixel failures) of one segment from :meth:`video_segments`; no digests.

        Raises :class:`photosieve.video.decode.SegmentDeparted` when the
        segment cannot be decoded as planned: hash the whole object then.
        """
        kind = video_detect.sniff(data[: video_detect.SNIFF_BYTES]) or "video"
        pending = _Pending(uri, len(data), ())
        self._hash_video(pending, data, kind, segment)
        return next(self._finish([pending]))

    def read_failure(self, uri: str, reason: FailureReason, message: str) -> HashFailure:
        """The failure for an object whose bytes could not be read: covers every algorithm."""
        return HashFailure(uri, "read", reason, message, self.plan.algorithms)

    # -- internals -------------------------------------------------------------

    def _start(self, uri: str, data: bytes) -> _Pending:
        plan = self.plan
        digests = tuple(compute(data) for compute in self._digest_computes)
        pending = _Pending(uri, len(data), digests)
        pixel_algorithms = plan.pixel_algorithms
        if not pixel_algorithms:
            return pending
        warnings: Counter = Counter()
        try:
            decoded = decode_frames(data, self._decode_options, warnings)
        except DecodeError as exc:
            kind = None
            if exc.reason is FailureReason.NOT_AN_IMAGE and plan.video_interval_s is not None:
                kind = video_detect.sniff(data[: video_detect.SNIFF_BYTES])
            if kind is not None:
                self._hash_video(pending, data, kind)
                return pending
            pending.failures.append(HashFailure(uri, "decode", exc.reason, exc.message, pixel_algorithms))
            return pending
        finally:
            pending.decode_warnings = tuple(sorted(warnings.items()))
        frames, stop = list(decoded.frames), decoded.stop
        del decoded  # each frame's pixels go as soon as it is hashed
        while frames:
            self._hash_frame(pending, frames.pop(0))
        if stop is not None:  # the frames before it are hashed: the object is partial
            pending.failures.append(
                HashFailure(uri, "decode", stop.reason, stop.message, pixel_algorithms))
        return pending

    def video_options(self, data: bytes | None = None) -> video_decode.VideoDecodeOptions:
        """The plan's budgets applied to a video (``data``: to one decoded whole).

        ``max_pixels`` limits each frame (a video's frames are not one
        budget: a long video is not a bomb), ``video_max_frames`` caps the
        *sampled* frames (FRAMES_CUT_OFF after them) and ``max_cpu_seconds``
        the decoding time of one segment of ``video_segment_frames`` sampled
        frames. A video decoded whole (a codec that is not cut, a pipeline
        without segments, a fallback) gets the budget of the segments it
        would make, as its container declares its length (frames, else
        duration), at most ``video_max_frames`` worth: the same total
        whether or not it is cut, and a declared length cannot raise it
        beyond that.
        """
        decode = self.plan.decode
        options = video_decode.VideoDecodeOptions(
            seconds_per_hash=float(self.plan.video_interval_s),
            max_pixels=decode.max_pixels,
            max_sampled_frames=self.plan.video_max_frames,
            max_cpu_seconds=float(decode.max_cpu_seconds),
        )
        if data is None:
            return options
        try:
            info = video_decode.probe(data, options)
        except video_decode.VideoDecodeError:
            return options  # decoding says why
        frames = max(0, info.declared_frames or round((info.duration_seconds or 0) * info.frame_rate))
        sampled = min(-(-frames // info.frame_mod), self.plan.video_max_frames)
        parts = max(1, -(-sampled // self.plan.video_segment_frames))
        return dataclasses.replace(options, max_cpu_seconds=options.max_cpu_seconds * parts)

    def _hash_video(self, pending: _Pending, data: bytes, kind: str,
                    segment: video_decode.Segment | None = None) -> None:
        """Hash the frames vPDQ samples, each like one frame of an animated image.

        PDQ is computed as vPDQ does (full-size RGB24 frame, float32 luma,
        bit-exact DCT), whatever the plan's decode mode, so a frame's hash
        equals vPDQ's feature for it. The other pixel algorithms run on the
        same RGB frame. A failure after some frames leaves those frames
        hashed and adds a decode failure (the object is partial), as a
        damaged frame of an animated image does. ``segment``: that part of
        the video only (see :meth:`hash_segment`).
        """
        uri, pixel_algorithms = pending.uri, self.plan.pixel_algorithms
        batch: list[tuple[dict, list[HashResult], list]] = []
        try:
            whole = segment is None or segment.whole
            options = self.video_options(data) if whole else self.video_options()
            for frame in video_decode.sample_frames(data, options, segment):
                batch.append(self._video_frame(pending, frame, kind))
                del frame
                if len(batch) >= self.batch_size:
                    self._finish_video(pending, batch)
        except video_decode.VideoDecodeError as exc:
            reason = FailureReason.NO_VIDEO_STREAM if exc.kind == "no_video_stream" else exc.reason
            pending.failures.append(HashFailure(uri, "decode", reason, exc.message, pixel_algorithms))
        self._finish_video(pending, batch)

    def _video_frame(self, pending: _Pending, frame, kind: str) -> tuple[dict, list[HashResult], list]:
        rgb = frame.rgb
        height, width = rgb.shape[:2]
        results: list[HashResult] = []
        for name, compute in self._pixel_computes.items():
            try:
                results.extend(compute([rgb]))
            except ValueError as exc:
                pending.failures.append(HashFailure(
                    pending.uri, "hash", FailureReason.TOO_SMALL, f"{name}: {exc}", (name,)))
        buffers: list[tuple[str, np.ndarray]] = []  # (variant, 64x64 buffer): PDQ's, hashed in batches
        if "pdq" in self.plan.algorithms:
            buffers.append(("", vpdq.frame_buffer(rgb)))
            box = self._video_box(pending, rgb) if self.plan.video_borders else None
            if box is not None and min(box.width, box.height) >= pdq.PDQ_MIN_HASHABLE_DIM:
                # Not vPDQ's feature (vPDQ hashes whole frames): a query variant, as for images.
                buffers.append((f"{BORDERS} {box.label(width, height)}", vpdq.frame_buffer(box.crop(rgb))))
        notes = {"frame": frame.frame_number, "width": width, "height": height,
                 "source_width": width, "source_height": height, "format": kind.upper(),
                 "source_mode": "RGB", "exif_transposed": False, "scale": 1.0,
                 "timestamp": frame.timestamp}
        return notes, results, buffers

    @staticmethod
    def _video_box(pending: _Pending, rgb: np.ndarray) -> Box | None:
        """The borders box to hash this frame inside: the most frequent one so far in this element.

        A letterbox or a frame added around a clip is the same on every
        frame, but one frame's detection can miss it (a dark scene touching
        the bars) or land a line off (encoding blurs the edge), and PDQ moves
        as much for a line of bar kept as for a line of picture lost. The box
        found most often so far, this frame's included, is used on every
        frame from the first one found (None before any). Measured on
        letterboxed, thin-letterboxed and pillarboxed copies of 6 generated
        clips: 6, 6 and 6 found this way, 5, 4 and 5 with each frame's own
        box, 2, 2 and 2 with each frame's own box moved 2% inwards.

        "So far" is within what one element hashes: a long video cut into
        segments counts each segment's boxes apart, so a borders row of a
        frame before its segment's consensus settles may differ from the
        whole video's (the whole-frame rows never do).
        """
        height, width = rgb.shape[:2]
        found = find_borders(rgb)
        if found is not None:
            pending.video_boxes[found] += 1
        if not pending.video_boxes:
            return None
        # Ties go to the tighter box: a blurred bar line stops the peeling early, it does not go on.
        box = max(pending.video_boxes, key=lambda b: (pending.video_boxes[b], -b.width * b.height,
                                                       b.left, b.top, b.right, b.bottom))
        if box.right > width or box.bottom > height:  # the frame size changed mid-stream
            return found
        return box

    def _finish_video(self, pending: _Pending, batch: list) -> None:
        """PDQ of a batch of video frames (bit-exact DCT, as vPDQ), appended as finished frames."""
        buffers = [b for _, _, frame_buffers in batch for _, b in frame_buffers]
        if buffers:
            hashes, quality = pdq.hash_buffers(np.stack(buffers), dihedral=self.plan.pdq_dihedral, exact=True)
        row = 0
        for notes, results, frame_buffers in batch:
            pdq_results: list[HashResult] = []
            for variant, _ in frame_buffers:
                found = pdq.results_from_hashes(hashes[row], int(quality[row]), self.plan.pdq_dihedral)
                found = list(found) if self.plan.pdq_dihedral else [found]
                pdq_results += [dataclasses.replace(r, variant=variant) for r in found] if variant else found
                row += 1
            # Ready frames carry no buffers: _finish passes their results through.
            pending.frames.append((notes, pdq_results + results, []))
        batch.clear()

    def _hash_frame(self, pending: _Pending, image: DecodedImage) -> None:
        pixels = image.pixels
        results: list[HashResult] = []
        with_pdq = "pdq" in self.plan.algorithms
        buffer = self._pdq_buffer(image, pixels) if with_pdq else None
        expanded: list[HashResult] = []
        if buffer is not None and self.plan.query_expansion is not None:
            shape = full_shape(image) if self.plan.decode.mode == "fast" else None
            expanded = query_hashes(pixels, shape, self.plan.query_expansion)
        # A second opinion's hash of the whole, upright frame is the algorithm's own hash.
        upright = {r.hash.algorithm: r.hash for r in expanded
                   if r.hash.algorithm != "pdq" and not r.variant and r.orientation in ("", "original")}
        for name, compute in self._pixel_computes.items():
            if name in upright:
                results.append(HashResult(upright[name]))
                continue
            try:
                results.extend(compute([pixels]))
            except ValueError as exc:  # e.g. an image below an algorithm's minimum size
                pending.failures.append(HashFailure(
                    pending.uri, "hash", FailureReason.TOO_SMALL, f"{name}: {exc}", (name,)))
        buffers: list[tuple[str, np.ndarray]] = []
        if with_pdq:
            if buffer is None:
                rows, cols = full_shape(image)
                pending.failures.append(HashFailure(
                    pending.uri, "hash", FailureReason.TOO_SMALL,
                    f"pdq needs at least {pdq.PDQ_MIN_HASHABLE_DIM}x{pdq.PDQ_MIN_HASHABLE_DIM} pixels, "
                    f"frame {image.frame} is {cols}x{rows}", ("pdq",)))
            else:
                buffers.append(("", buffer))
                results.extend(expanded)
                stored = _STORED_ORIENTATION.get(image.exif_orientation)
                if image.exif_transposed and stored and self.plan.pdq_as_stored and not self.plan.pdq_dihedral:
                    # Hash the pixels as stored, not a DCT sign flip: the flip only
                    # approximates it (PDQ's sampling is not symmetric; 16-30 bits
                    # off on some images), and lists made without EXIF hold this.
                    as_stored = _UNDO_EXIF[image.exif_orientation](pixels)
                    buffers.append((stored, self._pdq_buffer(image, as_stored)))
        height, width = pixels.shape[:2]
        notes = dict(frame=image.frame, width=width, height=height,
                     source_width=image.source_size[0], source_height=image.source_size[1],
                     format=image.format, source_mode=image.source_mode,
                     exif_transposed=image.exif_transposed, scale=image.scale)
        pending.frames.append((notes, results, buffers))

    def _pdq_buffer(self, image: DecodedImage, pixels: np.ndarray) -> np.ndarray | None:
        if self.plan.decode.mode == "fast":
            return pdq_fast.buffer64(pixels, full_shape(image, pixels))
        return pdq.buffer64(np.ascontiguousarray(pixels), dihedral=self.plan.pdq_dihedral)

    def _finish(self, batch: Sequence[_Pending]) -> Iterator[ObjectHashes]:
        plan = self.plan
        buffers = [b for item in batch for (_, _, labelled) in item.frames for (_, b) in labelled]
        if buffers:
            hashes, quality = pdq.hash_buffers(
                np.stack(buffers), dihedral=plan.pdq_dihedral, exact=plan.decode.mode == "exact"
            )
        row = 0
        for item in batch:
            frames = []
            for notes, results, labelled in item.frames:
                pdq_results: list[HashResult] = []
                for orientation, _ in labelled:
                    found = pdq.results_from_hashes(hashes[row], int(quality[row]), plan.pdq_dihedral)
                    if plan.pdq_dihedral:
                        pdq_results.extend(found)
                    else:
                        pdq_results.append(HashResult(found.hash, found.quality, orientation))
                    row += 1
                if pdq_results or results:
                    frames.append(FrameHashes(results=tuple(pdq_results + results), **notes))
            yield ObjectHashes(item.uri, item.size, item.digests, tuple(frames),
                               tuple(item.failures), item.decode_warnings)


_BLAS_LIMITED = False


def _single_threaded_blas() -> None:
    """Limit numpy's BLAS to one thread, once per process.

    Hashing parallelises across images (Beam workers, threads, processes).
    A multi-threaded BLAS on top oversubscribes the cores: measured here,
    the fast PDQ path's 64 x 375 x 500 product took 10-24 ms with OpenBLAS's
    default threads on a busy 2-core machine and 0.5 ms with one thread.
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


def full_shape(image: DecodedImage, pixels: np.ndarray | None = None) -> tuple[int, int]:
    """(rows, cols) of the frame at full resolution, in the orientation of ``pixels``.

    The decoder reports the stored size (before EXIF transposition) and the
    reduction factor k; the pixels are ceil(stored / k) per side, possibly
    transposed. ``pixels`` defaults to the decoded frame's.
    """
    width, height = image.source_size
    k = round(1 / image.scale)
    rows, cols = (image.pixels if pixels is None else pixels).shape[:2]
    if (-(-height // k), -(-width // k)) == (rows, cols):
        return height, width
    return width, height


@dataclass
class _Pending:
    uri: str
    size: int
    digests: tuple[HashResult, ...]
    # (notes, non-PDQ results, [(orientation label, PDQ 64x64 buffer)]) per frame
    frames: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    decode_warnings: tuple[tuple[str, int], ...] = ()
    # Videos: how often each borders box was found so far (a letterbox stays put; see _video_box).
    video_boxes: Counter = field(default_factory=Counter)
