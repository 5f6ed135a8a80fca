"""HashImages: rows equal to the core's, every bad object typed, the accounting ledger."""

from __future__ import annotations

from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve import schemas
from photosieve.errors import FailureReason, HashFailure
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import FrameHashes, HashPlan, ImageHasher, ObjectHashes
from photosieve.transforms import hashing as hashing_transforms
from photosieve.transforms.hashing import (
    FAILED,
    HASHED,
    MISSING,
    PARTIAL,
    UNEXPECTED,
    HashImages,
    account,
)
from photosieve.transforms.ledger import METRICS_NAMESPACE
from photosieve.transforms.reading import ObjectRecord, ReadImages
from tests.transforms import docstring_examples, samples

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py
PLAN = HashPlan.parse("pdq,md5")
HASH_KEYS = (
    schemas.URI,
    schemas.ALGORITHM,
    schemas.HASH,
    schemas.QUALITY,
    schemas.FRAME,
    schemas.ORIENTATION,
)


def _hash_key(row: dict) -> tuple:
    return tuple(row.get(k) for k in HASH_KEYS)


def _error_key(row: dict) -> tuple:
    return row[schemas.URI], row[schemas.STAGE], row[schemas.ERROR], tuple(row[schemas.ALGORITHMS])


def _sum_counters(counters) -> Counter:
    return sum(counters, start=Counter())


def test_rows_equal_the_core_and_bad_objects_are_typed(tmp_path):
    objects = samples.write_archive(tmp_path, n_good=4)
    hasher = ImageHasher(PLAN)
    expected_hashes = [
        _hash_key(row)
        for name, data in objects.items()
        for row in schemas.hash_rows(
            hasher.hash_bytes(str(tmp_path / name), data), mtime_us=None, run_id="r"
        )
    ]
    expected_errors = [
        (str(tmp_path / name), "decode", reason, ("pdq",))
        for name, reason in samples.BAD_OBJECTS.items()
    ]
    n_good, n_bad = 4, len(samples.BAD_OBJECTS)
    expected_ledger = {
        ("objects", "hashed"): n_good + n_bad,
        ("units", "pdq", HASHED): n_good,
        ("units", "pdq", FAILED): n_bad,
        ("units", "md5", HASHED): n_good + n_bad,  # digests of the raw bytes, whatever they hold
        ("hashes", "algorithm", "pdq"): n_good,
        ("hashes", "algorithm", "md5"): n_good + n_bad,
        ("errors", "stage", "decode"): n_bad,
        **{("errors", "class", c): n for c, n in Counter(samples.BAD_OBJECTS.values()).items()},
    }
    with BeamTestPipeline(runner=RUNNER) as p:
        read = p | ReadImages([str(tmp_path / "**")])
        hashed = read.objects | HashImages(PLAN, run_id="r")
        assert_that(
            hashed.hashes | "KeyHashes" >> beam.Map(_hash_key),
            equal_to(expected_hashes),
            label="Hashes",
        )
        assert_that(
            hashed.errors | "KeyErrors" >> beam.Map(_error_key),
            equal_to(expected_errors),
            label="Errors",
        )
        summed = hashed.ledger | beam.CombineGlobally(_sum_counters) | beam.Map(dict)
        assert_that(summed, equal_to([expected_ledger]), label="Ledger")


def test_rows_carry_listing_metadata_and_run_id():
    record = ObjectRecord(
        "mem://a.png", 1234, 1_700_000_000_000_000, samples.encode(samples.picture(3), "PNG")
    )
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = p | beam.Create([record]) | HashImages(PLAN, run_id="run-7")
        meta = hashed.hashes | beam.Map(
            lambda r: (r[schemas.ALGORITHM], r[schemas.MTIME], r[schemas.RUN_ID])
        )
        assert_that(
            meta,
            equal_to(
                [("md5", 1_700_000_000_000_000, "run-7"), ("pdq", 1_700_000_000_000_000, "run-7")]
            ),
        )


def test_read_failures_cover_every_requested_algorithm():
    failure = HashFailure(
        "", "read", FailureReason.TOO_LARGE, "object is 9 bytes, over the 8-byte limit"
    )
    record = ObjectRecord("mem://big.jpg", 9, None, failure)
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = p | beam.Create([record]) | HashImages(PLAN, run_id="r")
        assert_that(hashed.hashes, equal_to([]), label="NoHashes")
        errors = hashed.errors | beam.Map(lambda r: (*_error_key(r), r[schemas.SIZE]))
        assert_that(
            errors,
            equal_to([("mem://big.jpg", "read", "too_large", ("pdq", "md5"), 9)]),
            label="Errors",
        )


def _explode_on_boom(self, items):
    for uri, data in items:
        if "boom" in uri:
            raise RuntimeError("hash function bug")
        yield from ImageHasher.hash_many(self, [(uri, data)])


def test_an_unexpected_exception_is_one_error_row_not_a_failed_bundle(monkeypatch):
    # In-process runner: the patched class is the one the DoFn uses.
    patched = type("PatchedHasher", (ImageHasher,), {"hash_many": _explode_on_boom})
    monkeypatch.setattr(hashing_transforms, "ImageHasher", patched)
    good = samples.encode(samples.picture(5), "JPEG")
    records = [
        ObjectRecord("mem://boom.jpg", 3, None, b"abc"),
        ObjectRecord("mem://ok.jpg", len(good), None, good),
    ]
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = p | beam.Create(records) | HashImages(PLAN, run_id="r")
        assert_that(
            hashed.errors | beam.Map(_error_key),
            equal_to([("mem://boom.jpg", "hash", "hash_error", ("pdq", "md5"))]),
            label="Errors",
        )
        assert_that(
            hashed.hashes | beam.Map(lambda r: r[schemas.URI]),
            equal_to(["mem://ok.jpg"] * 2),
            label="Hashes",
        )


def test_outcomes_are_counted_as_beam_counters(tmp_path):
    samples.write_archive(tmp_path, n_good=2, bad=False)
    (tmp_path / "zero.jpg").write_bytes(b"")
    p = BeamTestPipeline(runner=RUNNER)
    _ = (p | ReadImages([str(tmp_path / "**")])).objects | HashImages(PLAN, run_id="r")
    result = p.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))[
            "counters"
        ]
    }
    assert counters["objects.hashed"] == 3
    assert counters["units.pdq.hashed"] == 2 and counters["units.pdq.failed"] == 1
    assert counters["errors.class.empty"] == 1


def _result(hashed: list[str], failed: list[str], frames: int = 1) -> ObjectHashes:
    pdq_hash = HashResult(HashValue("pdq", bytes(32)), quality=100)
    md5_hash = HashResult(HashValue("md5", bytes(16)))
    frame = FrameHashes(0, 8, 8, 8, 8, "PNG", "RGB", False, 1.0, (pdq_hash,))
    return ObjectHashes(
        "x",
        1,
        digests=(md5_hash,) if "md5" in hashed else (),
        frames=(frame,) * frames if "pdq" in hashed else (),
        failures=tuple(
            HashFailure("x", "decode", FailureReason.CORRUPT, "", (name,)) for name in failed
        ),
    )


@pytest.mark.parametrize(
    "hashed,failed,expected",
    [
        (["pdq", "md5"], [], {"pdq": HASHED, "md5": HASHED}),
        (["md5"], ["pdq"], {"pdq": FAILED, "md5": HASHED}),
        (["md5"], [], {"pdq": MISSING, "md5": HASHED}),
        (["pdq", "md5"], ["pdq"], {"pdq": PARTIAL, "md5": HASHED}),
        (["pdq", "md5"], ["phash"], {"pdq": HASHED, "md5": HASHED, "phash": UNEXPECTED}),
    ],
)
def test_account_classifies_each_algorithm(hashed, failed, expected):
    assert account(_result(hashed, failed), PLAN) == expected


def test_display_data_reports_the_configuration():
    assert HashImages(HashPlan.parse("pdq-dihedral,md5"), run_id="r").display_data() == {
        "algorithms": "pdq,md5",
        "decode": "fast",
    }


@pytest.mark.parametrize("batch_bytes", [hashing_transforms._HashObjectsFn.BATCH_BYTES, 1])
def test_batches_are_flushed_by_count_and_by_bytes_without_losing_objects(monkeypatch, batch_bytes):
    # 40 objects: one full batch of 32 and a rest flushed at the bundle's end;
    # a 1-byte budget flushes after every object instead.
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "BATCH_BYTES", batch_bytes)
    records = [
        ObjectRecord(
            f"mem://{i}.png", None, None, samples.encode(samples.picture(i, (64, 48)), "PNG")
        )
        for i in range(40)
    ]
    hasher = ImageHasher(PLAN)
    expected = [
        _hash_key(row)
        for r in records
        for row in schemas.hash_rows(hasher.hash_bytes(r.uri, r.data), mtime_us=None, run_id="r")
    ]
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = p | beam.Create(records, reshuffle=False) | HashImages(PLAN, run_id="r")
        assert_that(hashed.hashes | beam.Map(_hash_key), equal_to(expected))


def _counters(records, plan: HashPlan) -> dict[str, int]:
    p = BeamTestPipeline(runner=RUNNER)
    _ = p | beam.Create(records) | HashImages(plan, run_id="r")
    result = p.run()
    result.wait_until_finish()
    found = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    return {c.key.metric.name: c.committed for c in found}


def test_frame_cut_offs_bad_frames_and_decoder_warnings_are_counted():
    from photosieve.decode import DecodeOptions
    from tests import multiframe_samples

    pages, bad = multiframe_samples.many_page_tiff(30), multiframe_samples.tiff_with_bad_page()
    records = [
        ObjectRecord("mem://pages.tif", len(pages), None, pages),
        ObjectRecord("mem://bad.tif", len(bad), None, bad),
    ]
    plan = HashPlan.parse("pdq,md5", DecodeOptions(all_frames=True, max_frames=10))
    counters = _counters(records, plan)
    assert counters["frames.cut_off"] == 1  # pages.tif: frames 10.. unread
    assert counters["units.pdq.partial"] == 2  # both: some frames hashed, one an error row
    assert counters["errors.class.frames_cut_off"] == 1
    assert counters["errors.class.truncated"] == 1  # bad.tif's frame 1
    assert counters["hashes.algorithm.pdq"] == 10 + 1
    assert counters["warnings.decode.UserWarning"] >= 1  # Pillow's "Corrupt EXIF data"
    # First frame only: nothing partial, nothing cut off, bad.tif's frame 0 hashed.
    first = _counters(records, HashPlan.parse("pdq,md5"))
    assert first["units.pdq.hashed"] == 2 and "frames.cut_off" not in first


def _hash_step_hints(runner_args: list[str], plan: HashPlan) -> dict[str, bytes]:
    """The resource hints of the environment the HashObjects step runs in, once ``plan`` is applied."""
    from apache_beam.options.pipeline_options import PipelineOptions

    p = beam.Pipeline(options=PipelineOptions(runner_args))
    records = p | beam.Create([ObjectRecord("in/a.jpg", 3, None, b"abc")])
    _ = records | HashImages(plan, run_id="r")
    proto = p.to_runner_api()
    (step,) = [
        t
        for t in proto.components.transforms.values()
        if "/HashObjects/" in t.unique_name and t.spec.urn == "beam:transform:pardo:v1"
    ]
    return dict(proto.components.environments[step.environment_id].resource_hints)


_DATAFLOW = [
    "--runner=DataflowRunner", "--project=my-project", "--region=europe-west1",
    "--temp_location=gs://my-bucket/tmp", "--staging_location=gs://my-bucket/staging",
]  # fmt: skip
_MIN_RAM = "beam:resources:min_ram_bytes:v1"


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_on_dataflow_the_hash_step_asks_for_the_memory_of_its_largest_decode(mode):
    from photosieve.decode import DecodeOptions

    plan = HashPlan.parse("pdq,md5", DecodeOptions(mode=mode))
    hints = _hash_step_hints(_DATAFLOW, plan)
    assert int(hints[_MIN_RAM]) == hashing_transforms.decode_min_ram(plan)
    # Above the peaks measured for one decode at the default max_pixels
    # (photosieve/decode.py: exact 1.37 GiB, fast 0.71 GiB), with room for the process.
    measured_peak = {"fast": 0.71, "exact": 1.37}[mode] * 2**30
    assert hashing_transforms.decode_min_ram(plan) > measured_peak + 0.5 * 2**30
    smaller = HashPlan.parse("pdq,md5", DecodeOptions(mode=mode, max_pixels=10_000_000))
    assert hashing_transforms.decode_min_ram(smaller) < hashing_transforms.decode_min_ram(plan)


@pytest.mark.parametrize("job_wide, shared", [("16GB", True), ("1GB", False)])
def test_a_job_wide_hint_at_least_the_steps_keeps_reading_and_hashing_in_one_environment(
    job_wide, shared
):
    """Steps in one environment can be fused; a smaller job-wide hint leaves the step apart."""
    from apache_beam.options.pipeline_options import PipelineOptions

    p = beam.Pipeline(options=PipelineOptions([*_DATAFLOW, f"--resource_hints=min_ram={job_wide}"]))
    records = p | beam.Create([ObjectRecord("in/a.jpg", 3, None, b"abc")])
    _ = records | "Read" >> beam.Map(lambda record: record) | HashImages(PLAN, run_id="r")
    transforms = p.to_runner_api().components.transforms.values()
    pardo = "beam:transform:pardo:v1"
    (read,) = [t for t in transforms if t.unique_name.startswith("Read") and t.spec.urn == pardo]
    (step,) = [t for t in transforms if "/HashObjects/" in t.unique_name and t.spec.urn == pardo]
    assert (step.environment_id == read.environment_id) is shared


@pytest.mark.parametrize("runner", ["FnApiRunner", "PortableRunner"])
def test_runners_that_ignore_min_ram_get_no_hint(runner):
    """No hint there: on Beam's local engine a hinted step would leave the fused read-and-hash stage."""
    assert _hash_step_hints([f"--runner={runner}"], PLAN) == {}


def test_docstring_examples():
    docstring_examples.check(hashing_transforms)


# -- long videos, hashed as segments ---------------------------------------------


def _video_records():
    from tests.photosieve.video import videos

    source = videos.frames(12 * 25)
    zeroed = bytearray(videos.encode(source, "mp4-h264"))
    half, three_quarters = len(zeroed) // 2, len(zeroed) * 3 // 4
    zeroed[half:three_quarters] = bytes(three_quarters - half)  # frame data zeroed; the index intact
    png = samples.encode(samples.picture(3), "PNG")
    objects = {
        "mem://long.mp4": videos.encode(source, "mp4-h264"),  # 12 sampled frames: 3 segments, cut off at 10
        "mem://long.avi": videos.encode(source[: 8 * 25], "avi-mjpeg"),  # 8: 2 segments
        "mem://short.mp4": videos.video("mp4-h264", seconds=2),  # 2: hashed whole
        "mem://damaged.mp4": bytes(zeroed),  # its later segments fail
        "mem://truncated.mp4": videos.video("mp4-h264", seconds=6)[:20000],  # fails before any plan
        "mem://a.png": png,
    }
    return [ObjectRecord(uri, len(data), 1_700_000_000_000_000, data) for uri, data in objects.items()]


def _video_plan(segment_frames: int) -> HashPlan:
    return HashPlan.parse("pdq,phash,md5", video_max_frames=10, video_segment_frames=segment_frames)


def _all_columns(row: dict) -> tuple:
    return tuple(sorted(row.items()))


# What _run_hash_images' pipelines found, by run and output (FnApiRunner runs in this process).
_FOUND: dict[tuple[int, str], object] = {}


def _keep(value, key):
    _FOUND[key] = value


def _run_hash_images(records, plan: HashPlan):
    """(hash rows, error rows, summed ledger) of HashImages on ``records``."""
    run = len(_FOUND)
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = p | beam.Create(records) | HashImages(plan, run_id="r")
        for name in ("hashes", "errors"):
            _ = (hashed[name] | f"Collect{name}" >> beam.combiners.ToList()
                 | f"Keep{name}" >> beam.Map(_keep, (run, name)))
        _ = (hashed.ledger | beam.CombineGlobally(_sum_counters) | beam.Map(dict)
             | "KeepLedger" >> beam.Map(_keep, (run, "ledger")))
    return tuple(_FOUND.pop((run, name)) for name in ("hashes", "errors", "ledger"))


def test_long_videos_hashed_as_segments_give_the_rows_and_ledger_of_hashing_them_whole():
    records = _video_records()
    segmented, whole = _video_plan(4), _video_plan(10_000)
    hasher = ImageHasher(segmented)
    cut = {r.uri: len(hasher.video_segments(r.uri, r.data)[1])
           for r in records if hasher.video_segments(r.uri, r.data) is not None}
    assert cut == {"mem://long.mp4": 3, "mem://long.avi": 2, "mem://damaged.mp4": 3}
    assert all(ImageHasher(whole).video_segments(r.uri, r.data) is None for r in records)

    hashes, errors, ledger = _run_hash_images(records, segmented)
    hashes_whole, errors_whole, ledger_whole = _run_hash_images(records, whole)
    intact = lambda rows: sorted(_all_columns(r) for r in rows if r[schemas.URI] != "mem://damaged.mp4")
    assert intact(hashes) == intact(hashes_whole)  # every column: frame numbers, timestamps, hashes...
    assert intact(errors) == intact(errors_whole)
    core = sorted(_all_columns(row) for r in records if r.uri != "mem://damaged.mp4"
                  for row in schemas.hash_rows(ImageHasher(whole).hash_bytes(r.uri, r.data),
                                               mtime_us=r.mtime_us, run_id="r"))
    assert intact(hashes) == core
    frames = lambda uri: sorted(r[schemas.FRAME] for r in hashes if r[schemas.URI] == uri
                                and r[schemas.ALGORITHM] == "pdq")
    assert frames("mem://long.mp4") == list(range(0, 250, 25))  # 10 frames, then cut off
    assert frames("mem://long.avi") == list(range(0, 200, 25))

    # One object each, each (object, algorithm) once; the damaged video is partial.
    assert ledger["objects", "hashed"] == len(records)
    for name in ("pdq", "phash", "md5"):
        assert sum(n for k, n in ledger.items() if k[:2] == ("units", name)) == len(records)
    assert ledger["frames", "cut_off"] == 1
    assert ledger["units", "md5", "hashed"] == len(records)
    assert ledger["units", "pdq", "partial"] == 2  # long.mp4 (cut off) and damaged.mp4
    assert ledger["units", "pdq", "failed"] == 1  # truncated.mp4
    assert ledger["units", "pdq", "hashed"] == 3
    # The counts that do not involve the damaged video are those of the whole-object run.
    differ = {k for k in set(ledger) | set(ledger_whole) if ledger.get(k) != ledger_whole.get(k)}
    assert differ <= {("errors", "class", "corrupt"), ("errors", "stage", "decode")}

    damaged = sorted((r[schemas.ERROR], tuple(r[schemas.ALGORITHMS]))
                     for r in errors if r[schemas.URI] == "mem://damaged.mp4")
    assert damaged == [("corrupt", ("pdq", "phash"))] * 2  # segments 1 and 2 each broke
    damaged_frames = frames("mem://damaged.mp4")
    assert damaged_frames[:4] == [0, 25, 50, 75] and 200 not in damaged_frames


def test_a_segment_departing_from_its_plan_hashes_the_whole_video_instead(monkeypatch):
    from photosieve.video.decode import SegmentDeparted

    records = [r for r in _video_records() if r.uri in ("mem://long.mp4", "mem://long.avi")]
    hash_segment = ImageHasher.hash_segment

    departed = []

    def departing(self, uri, data, segment):
        if segment.index == 1:
            departed.append(uri)
            raise SegmentDeparted("planned frames did not come")
        return hash_segment(self, uri, data, segment)

    expected = _run_hash_images(records, _video_plan(10_000))
    monkeypatch.setattr(ImageHasher, "hash_segment", departing)
    hashes, errors, ledger = _run_hash_images(records, _video_plan(4))
    assert sorted(departed) == ["mem://long.avi", "mem://long.mp4"]  # FnApiRunner: in this process
    assert sorted(map(_all_columns, hashes)) == sorted(map(_all_columns, expected[0]))
    assert sorted(map(_all_columns, errors)) == sorted(map(_all_columns, expected[1]))
    assert ledger == expected[2]


def test_merging_segments_keeps_frames_in_order_and_every_failure():
    def done(index, frames, failures=(), whole=False):
        result = ObjectHashes("v", 10, (), tuple(_frame(n) for n in frames), failures)
        return hashing_transforms._SegmentDone(index, 3, whole, 10, None, result)

    broken = HashFailure("v", "decode", FailureReason.CORRUPT, "frame 50", ("pdq",))
    merged = hashing_transforms.merge_segments(
        "v", [done(2, [50], (broken,)), done(0, [0, 10]), done(1, [20])])
    assert [f.frame for f in merged.frames] == [0, 10, 20, 50] and merged.failures == (broken,)
    replaced = hashing_transforms.merge_segments(
        "v", [done(0, [0]), done(1, [0, 10, 20, 30, 50], whole=True)])
    assert [f.frame for f in replaced.frames] == [0, 10, 20, 30, 50] and replaced.failures == ()


def _frame(number: int) -> FrameHashes:
    bits = HashValue("pdq", bytes(32))
    return FrameHashes(number, 8, 8, 8, 8, "MP4", "RGB", False, 1.0, (HashResult(bits, 100),), number / 25)
