"""CarryForward (transforms.incremental) on previous-run tables written with plain pyarrow."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve import incremental, schemas
from photosieve.hashing import HashPlan
from photosieve.incremental import CarryPolicy, PreviousRun
from photosieve.transforms import incremental as incremental_transforms
from photosieve.transforms.incremental import CONTEXT, CarryForward
from photosieve.transforms.ledger import LEDGER
from tests.transforms import docstring_examples
from tests.transforms.previous_runs import write_table

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py
PLAN = HashPlan.parse("pdq,md5")
SETTINGS = incremental.hash_settings(PLAN)
T0_S = 1_700_000_000  # modification time, seconds
T0 = T0_S * 1_000_000


def _previous(tmp_path: Path, *, shards: int = 1) -> PreviousRun:
    """Run r0 saw keep.jpg (hashed), bad.jpg (corrupt), edited.jpg (hashed), gone.jpg (hashed)."""
    output = tmp_path / "r0"
    files = [
        {
            schemas.URI: f"{name}.jpg",
            schemas.SIZE: 10,
            schemas.MTIME: T0,
            schemas.STATE: "new",
            schemas.RUN_ID: "r0",
        }
        for name in ("keep", "bad", "edited", "gone")
    ]
    hashes = [
        {schemas.URI: f"{name}.jpg", schemas.SIZE: 10, schemas.MTIME: T0, schemas.ALGORITHM: algorithm,
         schemas.HASH: f"{name}-{algorithm}", schemas.RUN_ID: "r0"}
        for name in ("keep", "edited", "gone") for algorithm in ("pdq", "md5")
    ]  # fmt: skip
    hashes.append({**hashes[0], schemas.FRAME: 0})  # a second pdq row of keep.jpg
    errors = [
        {schemas.URI: "bad.jpg", schemas.SIZE: 10, schemas.MTIME: T0, schemas.STAGE: "decode",
         schemas.ERROR: "corrupt", schemas.ALGORITHMS: ["pdq"], schemas.RUN_ID: "r0"},
        {**hashes[1], schemas.URI: "bad.jpg", schemas.HASH: "bad-md5"},
    ]  # fmt: skip
    write_table(output, schemas.FILES, files, shards=shards)
    write_table(output, schemas.HASHES, hashes + [errors[1]], shards=shards)
    write_table(output, schemas.ERRORS, errors[:1], shards=shards)
    return PreviousRun(0, str(output), "r0", False, SETTINGS, {"max_pixels": 100}, {}, 50, {})


def _policy(run: PreviousRun) -> CarryPolicy:
    return CarryPolicy(
        [run], PLAN.algorithms, SETTINGS, max_pixels=100, archives=False, run_id="r1"
    )


LISTING = [
    ("keep.jpg", (10, T0_S)),
    ("keep.jpg", (10, T0_S)),  # matched by two patterns
    ("bad.jpg", (10, T0_S)),
    ("edited.jpg", (11, T0_S)),
    ("new.jpg", (10, T0_S)),
]


def _run_carry(run: PreviousRun) -> None:
    with BeamTestPipeline(runner=RUNNER) as p:
        carried = p | beam.Create(LISTING) | CarryForward(_policy(run), classify=True)
        read = carried.to_read | "Paths" >> beam.Map(lambda item: (item[0], len(item[1])))
        assert_that(read, equal_to([("edited.jpg", 1), ("new.jpg", 1)]), label="ToRead")
        carried_hashes = carried[schemas.HASHES] | "HashKeys" >> beam.Map(
            lambda r: (r[schemas.URI], r[schemas.HASH], r[schemas.RUN_ID], r[schemas.CARRIED_FROM])
        )
        assert_that(
            carried_hashes,
            equal_to(
                [
                    ("keep.jpg", "keep-pdq", "r1", "r0"),
                    ("keep.jpg", "keep-pdq", "r1", "r0"),
                    ("keep.jpg", "keep-md5", "r1", "r0"),
                    ("bad.jpg", "bad-md5", "r1", "r0"),
                ]
            ),
            label="Hashes",
        )
        errors = carried[schemas.ERRORS] | "ErrorKeys" >> beam.Map(
            lambda r: (r[schemas.URI], r[schemas.ERROR])
        )
        assert_that(errors, equal_to([("bad.jpg", "corrupt")]), label="Errors")
        files = carried[schemas.FILES] | "FileKeys" >> beam.Map(
            lambda r: (r[schemas.URI], r[schemas.STATE], r[schemas.CARRIED_FROM], r[schemas.MTIME])
        )
        assert_that(
            files,
            equal_to(
                [
                    ("keep.jpg", "unchanged", "r0", T0),
                    ("bad.jpg", "unchanged", "r0", T0),
                    ("edited.jpg", "changed", None, T0),
                    ("new.jpg", "new", None, T0),
                    ("gone.jpg", "gone", None, T0),
                ]
            ),
            label="Files",
        )
        assert_that(
            carried[CONTEXT],
            equal_to(
                [
                    ("edited.jpg", ("changed", None, 0)),
                    ("new.jpg", ("new", None, -1)),
                    ("gone.jpg", ("gone", None, 0)),
                ]
            ),
            label="Context",
        )
        ledger = carried[LEDGER] | beam.CombineGlobally(sum, start=Counter())
        assert_that(ledger | beam.Map(lambda c: (c[("objects", "carried")], c[("units", "pdq", "failed")],
                                                 c[("files", "listed")])),
                    equal_to([(2, 1, 2)]), label="Ledger")  # fmt: skip


def test_carry_forward_reads_new_and_changed_files_and_carries_the_rest(tmp_path):
    _run_carry(_previous(tmp_path))


def test_a_files_rows_split_over_shards_and_row_groups_are_joined_whole(tmp_path):
    _run_carry(_previous(tmp_path, shards=3))


def test_with_no_previous_run_everything_is_new_and_read(tmp_path):
    policy = CarryPolicy([], PLAN.algorithms, SETTINGS, max_pixels=100, archives=False, run_id="r1")
    with BeamTestPipeline(runner=RUNNER) as p:
        carried = p | beam.Create(LISTING) | CarryForward(policy)
        assert_that(
            carried.to_read | beam.Map(lambda item: item[0]),
            equal_to(["keep.jpg", "bad.jpg", "edited.jpg", "new.jpg"]),
        )
        assert_that(
            carried[schemas.FILES] | "States" >> beam.Map(lambda r: r[schemas.STATE]),
            equal_to(["new"] * 4),
            label="Files",
        )


def test_docstring_examples():
    docstring_examples.check(incremental_transforms)


def test_carry_forward_display_data_reports_the_configuration(tmp_path):
    run = PreviousRun(0, str(tmp_path / "r0"), "r0", False, SETTINGS, {}, {}, 50, {})
    policy = CarryPolicy(
        [run], PLAN.algorithms, SETTINGS, max_pixels=100, archives=False, run_id="r1", rehash=True
    )
    assert CarryForward(policy, checksums=True).display_data() == {
        "previous": str(tmp_path / "r0"),
        "checksums": True,
        "rehash": True,
    }
