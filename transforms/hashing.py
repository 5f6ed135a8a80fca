"""Hash objects' bytes with the photosieve core, inside a Beam pipeline.

Transforms:

* :class:`HashImages`: :class:`~transforms.reading.ObjectRecord` in; three
  tagged outputs: ``hashes`` (one ``hashes``-table row dict per hash),
  ``errors`` (one ``errors``-table row dict per failure) and ``ledger``
  (per-bundle counts, including the per-algorithm accounting).

Each object is decoded once for all requested hashes (the core's
:class:`~photosieve.hashing.ImageHasher`); nothing is shuffled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from photosieve import schemas
from photosieve.errors import FailureReason, HashFailure
from photosieve.hashing import HashPlan, ImageHasher, ObjectHashes
from transforms.ledger import LEDGER, Tally
from transforms.progress import ProgressFile
from transforms.reading import ObjectRecord

__all__ = ["HashImages", "account"]

# Outcomes of one (object, algorithm) unit in the ledger ("units", algorithm, outcome).
HASHED = "hashed"  # at least one hash row, no failure
FAILED = "failed"  # a failure row, no hash row
PARTIAL = "partial"  # hashes for some frames, a failure for another (animated images only)
MISSING = "missing"  # neither: an object lost (never expected; the run fails)
UNEXPECTED = "unexpected"  # an algorithm nobody asked for (never expected; the run fails)


def account(result: ObjectHashes, plan: HashPlan) -> dict[str, str]:
    """Classify each algorithm of one hashed object: HASHED, FAILED, PARTIAL, MISSING or UNEXPECTED."""
    hashed, failed = schemas.covered_algorithms(result)
    outcomes = {}
    for name in plan.algorithms:
        if name in hashed:
            outcomes[name] = PARTIAL if name in failed else HASHED
        else:
            outcomes[name] = FAILED if name in failed else MISSING
    for name in (hashed | failed) - set(plan.algorithms):
        outcomes[name] = UNEXPECTED
    return outcomes


class _HashObjectsFn(beam.DoFn):
    """ObjectRecord -> hashes rows (main), errors rows and ledger (tagged)."""

    def __init__(self, plan: HashPlan, run_id: str, progress_dir: str | None):
        self._plan = plan
        self._run_id = run_id
        self._progress_dir = progress_dir

    def setup(self) -> None:
        # Built once per DoFn instance; the hasher holds no per-object state.
        self._hasher = ImageHasher(self._plan)
        self._tally = Tally()
        self._progress = ProgressFile(self._progress_dir) if self._progress_dir else None

    def process(self, record: ObjectRecord) -> Iterator[dict | TaggedOutput]:
        uri, size, mtime_us, data = record
        listed_size = None
        if isinstance(data, HashFailure):  # unreadable: the failure covers every algorithm
            data = dataclasses.replace(data, uri=uri, algorithms=self._plan.algorithms)
            listed_size = size
        try:
            result = next(self._hasher.hash_many([(uri, data)]))
        except Exception as exc:  # noqa: BLE001 - one bad object must not fail the bundle
            message = f"unexpected {type(exc).__name__} while hashing: {exc}"[:300]
            failure = HashFailure(
                uri, "hash", FailureReason.HASH_ERROR, message, self._plan.algorithms
            )
            result = ObjectHashes(uri, len(data), failures=(failure,))
        if self._progress is not None:
            self._progress.add(1, 1 if result.failures else 0)
        tally = self._tally
        tally.add(("objects", "hashed"))
        for name, outcome in account(result, self._plan).items():
            tally.add(("units", name, outcome))
        for row in schemas.hash_rows(result, mtime_us=mtime_us, run_id=self._run_id):
            tally.add(("hashes", "algorithm", row[schemas.ALGORITHM]))
            yield row
        for row in schemas.error_rows(
            result, mtime_us=mtime_us, run_id=self._run_id, size=listed_size
        ):
            tally.add(("errors", "class", row[schemas.ERROR]))
            tally.add(("errors", "stage", row[schemas.STAGE]))
            yield TaggedOutput(schemas.ERRORS, row)

    def finish_bundle(self):
        if self._progress is not None:
            self._progress.write()
        yield from self._tally.flush()


class HashImages(beam.PTransform):
    """Hashes each object's bytes: every requested algorithm from one decode.

    Example::

        plan = HashPlan.parse("pdq,md5")
        result = objects | HashImages(plan, run_id="2026-11-24T21-00-00")
        result.hashes | WriteTables(...)

    Args:
        plan: which hashes, and decoder options.
        run_id: written on every row.
        progress_dir: a local directory for live progress counts (local
            runs only; see :mod:`transforms.progress`). Default: None (off).

    Returns a tuple-like result with outputs ``hashes`` (main), ``errors``
    and ``ledger``. Every requested algorithm of every object ends in
    ``hashes`` or ``errors``; the ledger's ``("units", algorithm, outcome)``
    counts let the run check it.

    See also: :class:`transforms.reading.ReadImages` (the input),
    :class:`transforms.matching.MatchHashes` (takes the ``hashes`` rows).
    """

    def __init__(self, plan: HashPlan, *, run_id: str, progress_dir: str | None = None):
        super().__init__()
        self._plan = plan
        self._run_id = run_id
        self._progress_dir = progress_dir

    def expand(self, objects):
        fn = _HashObjectsFn(self._plan, self._run_id, self._progress_dir)
        return objects | "HashObjects" >> beam.ParDo(fn).with_outputs(
            schemas.ERRORS, LEDGER, main=schemas.HASHES
        )

    def display_data(self):
        return {"algorithms": ",".join(self._plan.algorithms), "decode": self._plan.decode.mode}
