"""Hash objects' bytes with the photosieve core, inside a Beam pipeline.

Transforms:

* :class:`HashImages`: :class:`~transforms.reading.ObjectRecord` in; three
  tagged outputs: ``hashes`` (one ``hashes``-table row dict per hash),
  ``errors`` (one ``errors``-table row dict per failure) and ``ledger``
  (per-bundle counts, including the per-algorithm accounting, the decoder's
  warnings by category as ``("warnings", "decode", CATEGORY)`` and the objects
  whose frames were cut off by ``max_frames`` as ``("frames", "cut_off")``).

Each object is decoded once for all requested hashes (the core's
:class:`~photosieve.hashing.ImageHasher`); nothing is shuffled, except the
segments of long videos:

**Long videos.** A video the core cuts into several segments
(:func:`photosieve.video.decode.plan_segments`: more than
``plan.video_segment_frames`` sampled frames, H.264 or an intra-only codec)
is not hashed in the element that read it. That element emits the
object's digest rows and one element per segment, which a
``beam.Reshuffle`` spreads over the workers. Each segment element carries
the object's bytes (archive members have no path of their own to read
again), so a video of B bytes in K segments is shipped K x B bytes, once.
Each segment hashes its frames and sends them, keyed by uri, to a
``GroupByKey`` (videos only, a few rows per sampled frame), after which one
call writes the object's pixel rows and error rows and accounts it, once:
HASHED if a frame hashed, PARTIAL if a segment also failed, FAILED if none
hashed. A segment whose decoder output departs from the plan
(:class:`~photosieve.video.decode.SegmentDeparted`) hashes the whole video
in its element instead, and that result replaces all the segments' (when
several depart, the lowest segment's is kept). Rows are therefore those of
hashing the object whole; only a video broken in the middle differs: hashed
whole, reading stops at the damage; in segments, those after it are hashed
too (and each broken segment gives an error row).

On Dataflow the hashing step carries a ``min_ram`` resource hint
(:func:`decode_min_ram`): what one decode at the plan's ``max_pixels`` may
hold, plus the SDK process itself, so right fitting does not place it on
workers too small for the largest image the run accepts. Other runners get
no hint (see :func:`honours_min_ram`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator, Sequence

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput
from apache_beam.utils.windowed_value import WindowedValue

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.cli.hash_flags import add_hash_arguments
from photosieve.errors import FailureReason, HashFailure
from photosieve.hashing import DEFAULT_BATCH_SIZE, HashPlan, ImageHasher, ObjectHashes
from photosieve.names import split_member
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.progress import ProgressFile
from photosieve.transforms.reading import ObjectRecord
from photosieve.video.decode import Segment, SegmentDeparted

__all__ = [
    "HashImages", "HashOutputs", "account", "decode_min_ram", "honours_min_ram", "merge_segments", "outcomes",
]

# Outcomes of one (object, algorithm) unit in the ledger ("units", algorithm, outcome).
HASHED = "hashed"  # at least one hash row, no failure
FAILED = "failed"  # a failure row, no hash row
PARTIAL = "partial"  # hashes for some frames, a failure for another (animated images only)
MISSING = "missing"  # neither: an object lost (never expected; the run fails)
UNEXPECTED = "unexpected"  # an algorithm nobody asked for (never expected; the run fails)
# The tagged output of _HashObjectsFn that carries long videos' segments (internal).
_SEGMENTS = "video_segments"


# Memory one decode may hold per declared pixel, as photosieve.decode bounds it
# (DecodeOptions.max_pixels): Pillow's RGBX frame (4 bytes), plus the 3-byte
# RGB array exact mode hashes. Formats whose decoders hold more per pixel are
# refused at proportionally fewer pixels, so this bound covers them too.
_DECODE_BYTES_PER_PIXEL = {"fast": 4, "exact": 7}
# The SDK worker process before any image: the interpreter, Beam, numpy,
# pyarrow and the batch of object bytes waiting to be hashed (BATCH_BYTES).
_WORKER_BASE_RAM = 1 << 30  # 1 GiB
# Runners that act on min_ram: Dataflow's right fitting picks workers with at
# least that memory for the step. Beam's local engine, Flink and Spark ignore
# it, and on the local engine a hinted step gets an environment of its own,
# which splits the fused read-and-hash stage and holds every object's bytes
# between the two. On Dataflow too a step whose hints differ from its
# neighbours' is in an environment of its own; a job-wide hint at least as
# large (--resource_hints=min_ram=...) gives every step the same one.
_MIN_RAM_RUNNER = "DataflowRunner"


def decode_min_ram(plan: HashPlan) -> int:
    """Bytes a worker needs to hash the largest image ``plan`` accepts: one decode plus the process.

    Decoding is refused beyond ``max_pixels`` before any pixel is loaded, so
    one decode's memory is bounded by the plan, not by the input. A lower
    bound for a worker machine: it runs one SDK process per vCPU, each
    decoding one object per thread at a time, so the profile's
    ``machine_type`` sizes the rest (``dataflow.yaml``: one thread each).
    """
    per_pixel = _DECODE_BYTES_PER_PIXEL[plan.decode.mode]
    return _WORKER_BASE_RAM + plan.decode.max_pixels * per_pixel


def honours_min_ram(pipeline: beam.Pipeline) -> bool:
    """True when ``pipeline`` runs on a runner that acts on a step's ``min_ram`` hint (Dataflow).

    Judged by the runner's class and its bases, so that subclasses
    (``TestDataflowRunner``) count and the Dataflow module is never imported.
    """
    return any(cls.__name__ == _MIN_RAM_RUNNER for cls in type(pipeline.runner).__mro__)


def account(result: ObjectHashes, plan: HashPlan) -> dict[str, str]:
    """Classify each algorithm of one hashed object: HASHED, FAILED, PARTIAL, MISSING or UNEXPECTED."""
    hashed, failed = schemas.covered_algorithms(result)
    return outcomes(hashed, failed, plan.algorithms)


def outcomes(hashed: set[str], failed: set[str], requested: Sequence[str]) -> dict[str, str]:
    """The accounting outcome of each algorithm of one object, from the algorithms in its rows.

    Args:
        hashed: algorithms with at least one hash row.
        failed: algorithms named by an error row.
        requested: the run's algorithms.
    """
    found = {}
    for name in requested:
        if name in hashed:
            found[name] = PARTIAL if name in failed else HASHED
        else:
            found[name] = FAILED if name in failed else MISSING
    for name in (hashed | failed) - set(requested):
        found[name] = UNEXPECTED
    return found


class _HashObjectsFn(beam.DoFn):
    """ObjectRecord -> hashes rows (main), errors rows and ledger (tagged).

    Objects are buffered and hashed a few at a time: the core then runs
    PDQ's DCT once per batch, measured at 4-6% less CPU per photo than one
    object per call. The buffer is bounded in objects and in bytes, and
    emptied at the end of every bundle; outputs keep each object's window.
    A long video the core cuts into segments is not buffered: its digest
    rows go out at once and its segments to the ``video_segments`` output
    (see the module docstring).
    """

    # Objects per hash_many call (the core batches this many frames per DCT).
    BATCH_OBJECTS = DEFAULT_BATCH_SIZE
    # ...unless their bytes reach this first: memory stays bounded for large objects.
    BATCH_BYTES = 64 * 1024 * 1024  # 64 MiB

    def __init__(self, plan: HashPlan, run_id: str, progress_dir: str | None):
        self._plan = plan
        self._run_id = run_id
        self._progress_dir = progress_dir

    def setup(self) -> None:
        # Built once per DoFn instance; the hasher holds no per-object state.
        self._hasher = ImageHasher(self._plan)
        self._tally = Tally()
        self._progress = ProgressFile(self._progress_dir) if self._progress_dir else None

    def start_bundle(self) -> None:
        self._pending: list[tuple[ObjectRecord, object, object]] = []
        self._pending_bytes = 0

    def process(
        self, record: ObjectRecord, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam
    ):
        if not isinstance(record.data, HashFailure):
            planned = self._segments(record)
            if planned is not None:
                yield from self._emit_segments(record, *planned)
                return
        self._pending.append((record, window, timestamp))
        if not isinstance(record.data, HashFailure):
            self._pending_bytes += len(record.data)
        if len(self._pending) >= self.BATCH_OBJECTS or self._pending_bytes >= self.BATCH_BYTES:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()
        if self._progress is not None:
            self._progress.write()
        yield from self._tally.flush()

    def _flush(self) -> Iterator[WindowedValue | TaggedOutput]:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        items = [self._item(record) for record, _, _ in pending]
        try:
            results = list(self._hasher.hash_many(items))
        except Exception:  # noqa: BLE001 - find the object at fault; the others are hashed
            results = [self._hash_one(uri, data) for uri, data in items]
        for (record, window, timestamp), result in zip(pending, results):
            listed_size = record.size if isinstance(record.data, HashFailure) else None
            for output in self._outputs(result, record.mtime_us, listed_size):
                if isinstance(output, TaggedOutput):
                    yield TaggedOutput(
                        output.tag, WindowedValue(output.value, timestamp, (window,))
                    )
                else:
                    yield WindowedValue(output, timestamp, (window,))

    def _segments(self, record: ObjectRecord) -> tuple[ObjectHashes, list[Segment]] | None:
        try:
            return self._hasher.video_segments(record.uri, record.data)
        except Exception:  # noqa: BLE001 - planning is a shortcut: hash the object whole instead
            return None

    def _emit_segments(self, record: ObjectRecord, digests: ObjectHashes, segments: list[Segment]):
        """A long video's digest rows (accounted now) and its segments (accounted by _FinishVideoFn)."""
        tally = self._tally
        hashed, failed = schemas.covered_algorithms(digests)
        for name, outcome in outcomes(hashed, failed, self._plan.digest_algorithms).items():
            tally.add((*keys.UNITS, name, outcome))
        for category, count in digests.decode_warnings:
            tally.add((*keys.WARNINGS_DECODE, category), count)
        for row in schemas.hash_rows(digests, mtime_us=record.mtime_us, run_id=self._run_id):
            tally.add((*keys.HASHES_ALGORITHM, row[schemas.ALGORITHM]))
            yield row
        for segment in segments:
            yield TaggedOutput(_SEGMENTS, _SegmentWork(record.uri, record.mtime_us, record.data, segment))

    def _item(self, record: ObjectRecord) -> tuple[str, bytes | HashFailure]:
        data = record.data
        if isinstance(data, HashFailure):  # unreadable: the failure covers every algorithm
            data = dataclasses.replace(data, uri=record.uri, algorithms=self._plan.algorithms)
        return record.uri, data

    def _hash_one(self, uri: str, data: bytes | HashFailure) -> ObjectHashes:
        try:
            return next(self._hasher.hash_many([(uri, data)]))
        except Exception as exc:  # noqa: BLE001 - one bad object must not fail the bundle
            message = f"unexpected {type(exc).__name__} while hashing: {exc}"[:300]
            failure = HashFailure(
                uri, "hash", FailureReason.HASH_ERROR, message, self._plan.algorithms
            )
            return ObjectHashes(
                uri, 0 if isinstance(data, HashFailure) else len(data), failures=(failure,)
            )

    def _outputs(self, result: ObjectHashes, mtime_us: int | None, listed_size: int | None):
        """The rows of one hashed object (hashes untagged, errors tagged), counted."""
        return _object_outputs(result, self._plan.algorithms, self._tally, self._progress,
                               mtime_us=mtime_us, run_id=self._run_id, listed_size=listed_size)


def _object_outputs(
    result: ObjectHashes,
    requested: Sequence[str],
    tally: Tally,
    progress: ProgressFile | None,
    *,
    mtime_us: int | None,
    run_id: str,
    listed_size: int | None = None,
):
    """One object's rows (hashes untagged, errors tagged), its accounting over ``requested`` and its progress.

    Shared by whole objects (every algorithm) and segmented videos, whose
    digests were accounted when they were read (the pixel algorithms).
    """
    if progress is not None:
        container, member = split_member(result.uri)
        progress.add(
            1,
            1 if result.failures else 0,
            size=0 if listed_size is not None else result.size,  # bytes read, not listed
            container=container if member is not None else None,
        )
    tally.add(keys.OBJECTS_HASHED)
    hashed, failed = schemas.covered_algorithms(result)
    for name, outcome in outcomes(hashed, failed, requested).items():
        tally.add((*keys.UNITS, name, outcome))
    for category, count in result.decode_warnings:  # kept off stderr, counted here
        tally.add((*keys.WARNINGS_DECODE, category), count)
    if any(f.reason is FailureReason.FRAMES_CUT_OFF for f in result.failures):
        tally.add(keys.FRAMES_CUT_OFF)  # objects with frames past max_frames, unread
    for row in schemas.hash_rows(result, mtime_us=mtime_us, run_id=run_id):
        tally.add((*keys.HASHES_ALGORITHM, row[schemas.ALGORITHM]))
        yield row
    for row in schemas.error_rows(result, mtime_us=mtime_us, run_id=run_id, size=listed_size):
        tally.add((*keys.ERRORS_CLASS, row[schemas.ERROR]))
        tally.add((*keys.ERRORS_STAGE, row[schemas.STAGE]))
        yield TaggedOutput(schemas.ERRORS, row)


@dataclasses.dataclass(frozen=True)
class _SegmentWork:
    """One segment of a long video to hash; carries the whole object's bytes (see the module docstring)."""

    uri: str
    mtime_us: int | None
    data: bytes
    segment: Segment


@dataclasses.dataclass(frozen=True)
class _SegmentDone:
    """What one segment element found: its frames and failures, or the whole video's (``whole``)."""

    index: int
    count: int
    whole: bool
    size: int
    mtime_us: int | None
    result: ObjectHashes


class _HashSegmentFn(beam.DoFn):
    """_SegmentWork -> (uri, _SegmentDone): one segment's frames, or the whole video's if it departs."""

    def __init__(self, plan: HashPlan):
        self._plan = plan

    def setup(self) -> None:
        self._hasher = ImageHasher(self._plan)

    def process(self, work: _SegmentWork):
        segment, whole = work.segment, False
        try:
            try:
                result = self._hasher.hash_segment(work.uri, work.data, segment)
            except SegmentDeparted:
                result, whole = self._hasher.hash_bytes(work.uri, work.data), True
                result = dataclasses.replace(result, digests=(), decode_warnings=())  # emitted already
        except Exception as exc:  # noqa: BLE001 - one bad segment must not fail the bundle
            message = f"unexpected {type(exc).__name__} while hashing segment {segment.index}: {exc}"[:300]
            failure = HashFailure(
                work.uri, "hash", FailureReason.HASH_ERROR, message, self._plan.pixel_algorithms
            )
            result = ObjectHashes(work.uri, len(work.data), failures=(failure,))
        done = _SegmentDone(segment.index, segment.count, whole, len(work.data), work.mtime_us, result)
        yield work.uri, done


def merge_segments(uri: str, done: list[_SegmentDone]) -> ObjectHashes:
    """One video's pixel result from its segments': their frames in order and their failures.

    A segment that fell back to the whole video replaces them all (the
    lowest such one).
    """
    done = sorted(done, key=lambda d: d.index)
    wholes = [d for d in done if d.whole]
    parts = wholes[:1] or done
    frames = tuple(sorted((f for d in parts for f in d.result.frames), key=lambda f: f.frame))
    failures = tuple(f for d in parts for f in d.result.failures)
    return ObjectHashes(uri, done[0].size, (), frames, failures)


class _FinishVideoFn(beam.DoFn):
    """(uri, [_SegmentDone]) -> one segmented video's pixel rows (main), errors rows and ledger (tagged).

    The object's one accounting: objects hashed, pixel algorithms' units,
    frames cut off, progress (its digests were accounted when it was read).
    """

    def __init__(self, plan: HashPlan, run_id: str, progress_dir: str | None):
        self._plan = plan
        self._run_id = run_id
        self._progress_dir = progress_dir

    def setup(self) -> None:
        self._tally = Tally()
        self._progress = ProgressFile(self._progress_dir) if self._progress_dir else None

    def process(self, element):
        uri, done = element
        done = list(done)
        yield from _object_outputs(merge_segments(uri, done), self._plan.pixel_algorithms, self._tally,
                                   self._progress, mtime_us=done[0].mtime_us, run_id=self._run_id)

    def finish_bundle(self):
        if self._progress is not None:
            self._progress.write()
        yield from self._tally.flush()


class HashOutputs(dict):
    """HashImages' outputs by tag (``hashes``, ``errors``, ``ledger``), also as attributes."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class HashImages(beam.PTransform):
    """Hashes each object's bytes: every requested algorithm from one decode.

    Three bytes are no image: MD5 hashes them, PDQ fails, and each
    algorithm of the object ends in exactly one of the two outputs:

    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> from photosieve.transforms.reading import ObjectRecord
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     objects = p | beam.Create([ObjectRecord("in/a.jpg", 3, None, b"abc")])
    ...     hashed = objects | HashImages(HashPlan.parse("pdq,md5"), run_id="r1")
    ...     hashes = hashed.hashes | beam.Map(lambda row: (row["algorithm"], row["hash"]))
    ...     errors = hashed.errors | beam.Map(lambda row: (row["algorithms"], row["error"]))
    ...     _ = assert_that(
    ...         hashes, equal_to([("md5", "900150983cd24fb0d6963f7d28e17f72")]), label="Hashes")
    ...     _ = assert_that(errors, equal_to([(["pdq"], "not_an_image")]), label="Errors")

    Args:
        plan: which hashes, and decoder options.
        run_id: written on every row.
        progress_dir: a local directory for live progress counts (local
            runs only; see :mod:`photosieve.transforms.progress`). Default: None (off).

    Returns a :class:`HashOutputs` with outputs ``hashes``, ``errors``
    and ``ledger`` (by key or attribute). Every requested algorithm of every object ends in
    ``hashes`` or ``errors``; the ledger's ``("units", algorithm, outcome)``
    counts let the run check it.

    See also: :class:`photosieve.transforms.reading.ReadImages` (the input),
    :class:`photosieve.transforms.matching.MatchHashes` (takes the ``hashes`` rows).
    """

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The hash plan's flags: ``--algorithms``, ``--decode`` and the decoder's limits.

        Defined in :mod:`photosieve.cli.hash_flags`, which ``photosieve hash``
        shares without importing Beam.
        """
        add_hash_arguments(parser)

    def __init__(self, plan: HashPlan, *, run_id: str, progress_dir: str | None = None):
        super().__init__()
        self._plan = plan
        self._run_id = run_id
        self._progress_dir = progress_dir

    def expand(self, objects):
        fn = _HashObjectsFn(self._plan, self._run_id, self._progress_dir)
        step, segment_step = beam.ParDo(fn), beam.ParDo(_HashSegmentFn(self._plan))
        if honours_min_ram(objects.pipeline):
            step = step.with_resource_hints(min_ram=decode_min_ram(self._plan))
            segment_step = segment_step.with_resource_hints(min_ram=decode_min_ram(self._plan))
        hashed = objects | "HashObjects" >> step.with_outputs(
            schemas.ERRORS, LEDGER, _SEGMENTS, main=schemas.HASHES
        )
        videos = (
            hashed[_SEGMENTS]
            | "SpreadSegments" >> beam.Reshuffle()
            | "HashSegments" >> segment_step
            | "GroupSegments" >> beam.GroupByKey()
            | "FinishVideos" >> beam.ParDo(
                _FinishVideoFn(self._plan, self._run_id, self._progress_dir)
            ).with_outputs(schemas.ERRORS, LEDGER, main=schemas.HASHES)
        )
        return HashOutputs({
            name: (hashed[name], videos[name]) | f"Flatten{name.capitalize()}" >> beam.Flatten()
            for name in (schemas.HASHES, schemas.ERRORS, LEDGER)
        })

    def display_data(self):
        return {"algorithms": ",".join(self._plan.algorithms), "decode": self._plan.decode.mode}
