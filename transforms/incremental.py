"""Repeat audits in Beam: join this run's listing with previous runs, carry what is unchanged.

Transforms:

* :class:`CarryForward`: this run's listing (``(path, (size, mtime_s))``, from
  :class:`~photosieve.transforms.listing.ListFiles`) in. One ``CoGroupByKey`` on the file
  path joins it with the previous runs' ``files``, ``hashes`` and ``errors``
  rows; :class:`~photosieve.incremental.CarryPolicy` decides each file. Outputs:
  ``to_read`` (main: ``(path, [(size, mtime_s), ...])`` for
  :class:`~photosieve.transforms.reading.ReadListedFiles`), ``hashes`` and ``errors``
  (the carried rows, relabelled), ``files`` (``files``-table rows, gone files
  included), ``context`` (what
  :class:`~photosieve.transforms.new_matches.ClassifyNewMatches` must know of
  the files that are not simply unchanged) and ``ledger``.

Then :mod:`photosieve.transforms.new_matches` joins this run's match rows
with the previous runs' (a second ``CoGroupByKey`` on the file path) and the
``context`` above, and sets ``new_reason``.

Why a join, not a side input: previous hashes tables hold millions of rows.
Rows are read in Parquet batches and grouped per file before the shuffle,
so the join moves about one element per file and table (like the listing's
own group-by-path, which it replaces), and no worker holds more than one
file's rows at a time. The second join only sees match rows and the files
that are new, changed, re-read or carried from an older run of a chain.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Iterator, Sequence

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import ReadFromParquetBatched
from apache_beam.pvalue import TaggedOutput

from photosieve import incremental, schemas
from photosieve import ledger as keys
from photosieve.cli import values
from photosieve.incremental import CarryPolicy, Listing, PreviousRun
from photosieve.names import unescape
from photosieve.reading import container_path, is_archive
from photosieve.transforms.hashing import outcomes
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.listing import count_listed, first_listing
from photosieve.transforms.progress import ProgressFile
from photosieve.transforms.tables import PARQUET_SUFFIX

__all__ = ["CONTEXT", "TO_READ", "CarryForward", "read_previous", "table_pattern"]

# Tags of CarryForward's outputs.
TO_READ = "to_read"
CONTEXT = "context"
def table_pattern(output: str, table: str) -> str:
    """The Parquet shards of one table of a run."""
    return FileSystems.join(output, table, "*" + PARQUET_SUFFIX)


def _plain_times(table: pa.Table) -> pa.Table:
    """Timestamp columns as integer microseconds: what this pipeline's rows carry (small, exact)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table


def _rows_by_file(
    table: pa.Table, run: int, archives: bool
) -> Iterator[tuple[str, tuple[int, list]]]:
    """One Parquet batch -> ``(file path, (run index, rows))``, one element per file in the batch."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in _plain_times(table).to_pylist():
        grouped[container_path(row[schemas.URI], archives)].append(row)
    for path, rows in grouped.items():
        yield path, (run, rows)


def read_previous(
    pipeline: beam.Pipeline,
    runs: Sequence[PreviousRun],
    table: str,
    *,
    columns: list[str] | None = None,
    label: str,
) -> beam.PCollection:
    """Every previous run's rows of ``table``, keyed by file: ``(path, (run index, [row, ...]))``.

    Runs whose table has no shards contribute nothing (an empty table may
    be written as no file at all).
    """
    parts = []
    for run in runs:
        pattern = table_pattern(run.output, table)
        if not FileSystems.match([pattern], [1])[0].metadata_list:
            continue
        parts.append(
            pipeline
            | f"{label}Read{run.index}" >> ReadFromParquetBatched(pattern, columns=columns)
            | f"{label}ByFile{run.index}"
            >> beam.FlatMap(_rows_by_file, run.index, run.archives and table != schemas.FILES)
        )
    if not parts:
        return pipeline | f"{label}None" >> beam.Create([])
    return tuple(parts) | f"{label}Flatten" >> beam.Flatten()


def _flat(grouped) -> list[tuple[int, dict]]:
    return [(index, row) for index, rows in grouped for row in rows]


class _DecideFn(beam.DoFn):
    """One joined file -> to read, or carried rows; its files row, context and counts."""

    def __init__(
        self,
        policy: CarryPolicy,
        *,
        checksums: bool,
        classify: bool,
        progress_dir: str | None,
    ):
        self._policy = policy
        self._checksums = checksums
        self._classify = classify
        self._progress_dir = progress_dir
        self._latest = len(policy.runs) - 1

    def setup(self) -> None:
        self._tally = Tally()
        self._progress = ProgressFile(self._progress_dir) if self._progress_dir else None

    def process(self, element):
        path, grouped = element
        listed = list(grouped["listed"])
        listing = self._listing(path, listed) if listed else None
        decision = self._policy.decide(
            path,
            listing,
            files=_flat(grouped["files"]),
            hashes=_flat(grouped["hashes"]),
            errors=_flat(grouped["errors"]),
        )
        if decision is None:
            return
        tally = self._tally
        tally.add((*keys.FILES_STATE, decision.state))
        yield TaggedOutput(
            schemas.FILES, incremental.file_row(path, listing, decision, self._policy.run_id)
        )
        run_index = decision.run.index if decision.run is not None else -1
        if self._classify and (
            decision.state != incremental.UNCHANGED or decision.reread or run_index != self._latest
        ):
            yield TaggedOutput(CONTEXT, (path, (decision.state, decision.reread, run_index)))
        if listing is None:
            return
        if not decision.carried:
            if decision.reread:
                tally.add((*keys.FILES_REREAD, decision.reread))
            yield path, listed
            return
        yield from self._carry(path, listed, decision)

    def _listing(self, path: str, listed: list) -> Listing:
        size, mtime_us = first_listing(listed)
        checksum = None
        if self._checksums:
            try:
                checksum = FileSystems.checksum(unescape(path))  # uris are escaped
            except Exception:  # noqa: BLE001 - no checksum: size and time decide alone
                checksum = None
        return Listing(size, mtime_us, checksum)

    def _carry(self, path: str, listed: list, decision: incremental.Decision):
        tally = self._tally
        run_id = decision.run.run_id
        members = incremental.covered(decision.hashes, decision.errors)
        count_listed(tally, listed)
        tally.add((*keys.FILES_CARRIED, run_id))
        if self._policy.archives and is_archive(path):
            tally.add(keys.FILES_ARCHIVES)
            tally.add(keys.FILES_ARCHIVE_OBJECTS, len(members))
        tally.add(keys.OBJECTS_CARRIED, len(members))
        for hashed, failed in members.values():
            for name, outcome in outcomes(hashed, failed, self._policy.algorithms).items():
                tally.add((*keys.UNITS, name, outcome))
        for row in decision.hashes:
            tally.add((*keys.HASHES_ALGORITHM, row[schemas.ALGORITHM]))
            tally.add((*keys.HASHES_CARRIED, run_id))
            yield TaggedOutput(schemas.HASHES, row)
        for row in decision.errors:
            tally.add((*keys.ERRORS_CLASS, row[schemas.ERROR]))
            tally.add((*keys.ERRORS_STAGE, row[schemas.STAGE]))
            tally.add((*keys.ERRORS_CARRIED, run_id))
            yield TaggedOutput(schemas.ERRORS, row)
        if self._progress is not None:
            failed_objects = len({row[schemas.URI] for row in decision.errors})
            # Carried, not hashed: the progress line shows the two apart.
            self._progress.add(errors=failed_objects, carried=len(members))

    def finish_bundle(self):
        if self._progress is not None:
            self._progress.write()
        yield from self._tally.flush()


class CarryForward(beam.PTransform):
    """Joins this run's listing with previous runs and carries what is unchanged.

    In a pipeline, ``listed["files"] | CarryForward(policy)`` takes
    :class:`~photosieve.transforms.listing.ListFiles`' output, and
    ``carried.to_read | ReadListedFiles()`` reads what must be read. With no
    previous run every file is ``new``, and read once however often listed:

    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> from photosieve.hashing import HashPlan
    >>> plan = HashPlan.parse("md5")
    >>> policy = CarryPolicy([], plan.algorithms, incremental.hash_settings(plan),
    ...                      max_pixels=plan.decode.max_pixels, archives=False, run_id="r1")
    >>> listing = [("in/a.jpg", (3, 1_700_000_000)), ("in/a.jpg", (3, 1_700_000_000))]
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     carried = p | beam.Create(listing) | CarryForward(policy)
    ...     states = carried.files | beam.Map(lambda row: (row["uri"], row["state"]))
    ...     _ = assert_that(states, equal_to([("in/a.jpg", "new")]), label="Files")
    ...     to_read = [("in/a.jpg", [(3, 1_700_000_000), (3, 1_700_000_000)])]
    ...     _ = assert_that(carried.to_read, equal_to(to_read), label="ToRead")

    Args:
        policy: the previous runs and this run's settings (see
            :class:`~photosieve.incremental.CarryPolicy`); with no previous
            runs every file is ``new`` and read.
        checksums: ask the filesystem for each listed file's checksum
            (``FileSystems.checksum``: one metadata request per file) and
            require it unchanged too.
        classify: emit the ``context`` output for :class:`ClassifyNewMatches`.
        progress_dir: local progress files (see :mod:`photosieve.transforms.progress`).

    Returns a tuple-like result with outputs ``to_read`` (main), ``hashes``,
    ``errors``, ``files``, ``context`` and ``ledger``.
    """

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The repeat-audit flags: the previous runs to build on."""
        parser.add_argument(
            "-p",
            "--previous",
            nargs="+",
            action=values.ExtendOrReplace,
            metavar="DIR",
            help="An earlier audit's output directory: files with the same size and modification "
            "time are not read, their hashes and errors are carried over and matched again, and "
            "match rows say why they are new (new_reason). Several make a chain, oldest first: the "
            "latest run that saw a file wins. Default: none (read everything).",
        )
        parser.add_argument(
            "--rehash",
            action="store_true",
            help="With --previous: read and hash every file again, still saying which matches are "
            "new. Default: off.",
        )
        parser.add_argument(
            "--checksums",
            action="store_true",
            help="Also record each file's checksum from the filesystem (GCS CRC32C, S3 ETag...; one "
            "metadata request per file) and carry a file only when it is unchanged too. "
            "Default: off (size and modification time decide).",
        )

    def __init__(
        self,
        policy: CarryPolicy,
        *,
        checksums: bool = False,
        classify: bool = False,
        progress_dir: str | None = None,
    ):
        super().__init__()
        self._policy = policy
        self._checksums = checksums
        self._classify = classify
        self._progress_dir = progress_dir

    def expand(self, listed):
        joined = self._with_previous(listed) | "JoinPrevious" >> beam.CoGroupByKey()
        fn = _DecideFn(
            self._policy,
            checksums=self._checksums,
            classify=self._classify,
            progress_dir=self._progress_dir,
        )
        return joined | "DecideFiles" >> beam.ParDo(fn).with_outputs(
            schemas.HASHES, schemas.ERRORS, schemas.FILES, CONTEXT, LEDGER, main=TO_READ
        )

    def _with_previous(self, listed) -> dict:
        """The listing and the previous runs' ``files``, ``hashes`` and ``errors``, by file."""
        pipeline, runs = listed.pipeline, self._policy.runs
        return {
            "listed": listed,
            "files": read_previous(pipeline, runs, schemas.FILES, label="PreviousFiles"),
            "hashes": read_previous(pipeline, runs, schemas.HASHES, label="PreviousHashes"),
            "errors": read_previous(pipeline, runs, schemas.ERRORS, label="PreviousErrors"),
        }

    def display_data(self):
        return {
            "previous": ", ".join(run.output for run in self._policy.runs),
            "checksums": self._checksums,
            "rehash": self._policy.rehash,
        }
