"""``photosieve audit``: hash an archive and match it against known-hash lists, in one Beam job.

    photosieve audit --input 'gs://bucket/photos/**' --list ncmec=gs://lists/ncmec.csv.gz \\
        --suppress-list benign=gs://lists/stock.txt --output gs://bucket/audits/2026-11 \\
        --config configs/dataflow.yaml

Writes the ``hashes``, ``errors``, ``matches`` and ``files`` tables and
``summary.json`` (see the README). Every list is read and checked before any
work starts (bad lines fail the run unless ``--lenient-lists``); every object
the inputs match ends in exactly one of ``hashes`` or ``errors`` per
algorithm, and every hash is matched or skipped for a counted reason: the
exit status is 1 when that does not balance, 2 for usage errors. Other flags
must be Beam pipeline options (``--runner``, ``--temp_location``, ...).

Repeat audits: ``--previous DIR`` (last week's output) reads only the files
that are new or changed since, carries the other files' hashes and errors
over, matches everything against the current lists, and says on each match
row why it is new (``new_reason``); see :mod:`photosieve.incremental`.
"""

from __future__ import annotations

import argparse
import logging
import sys

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve import incremental, schemas
from photosieve import ledger as keys
from photosieve.ledger import Ledger
from photosieve.accounting import check_accounting, check_queries
from photosieve.errors import ConfigError
from photosieve.incremental import CarryPolicy, MatchClassifier, PreviousRun
from photosieve.run_config import RunConfig
from photosieve.summary import LIST_BUDGET
from photosieve.pipelines import configure, flags, help_text, preflight, running
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.incremental import CONTEXT, TO_READ, CarryForward, table_pattern
from photosieve.transforms.ledger import LEDGER, WriteLedger
from photosieve.transforms.list_matching import MatchLists
from photosieve.transforms.listing import ListFiles
from photosieve.transforms.new_matches import ClassifyNewMatches
from photosieve.transforms.reading import ReadListedFiles
from photosieve.transforms.tables import WriteTables

_LOG = logging.getLogger(__name__)

# Gone files named in summary.json (all of them are in the files table).
GONE_EXAMPLES = 20
# Library versions whose change may move decoded pixels: a change is logged
# and recorded, not acted on (see the README's "Weekly audits").
_DECODING_LIBRARIES = ("pillow", "numpy")


REQUIRED = ("input", "list", "output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve audit",
        description="Hash every object the inputs match and match the hashes against known-hash "
        "lists; write the hashes, errors, matches and files tables and summary.json (Beam job).",
        parents=[
            flags.hash_parser(),
            flags.list_parser(),
            flags.previous_parser(),
            flags.output_parser(),
        ],
        **help_text.parser_options("audit"),
    )
    parser.add_argument(
        "--dihedral",
        action="store_true",
        help="Also hash the seven rotations and mirror images of each image with PDQ, so rotated "
        "or flipped copies match (8x the PDQ rows and probes). Default: off.",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The flags as parsed (over the profile), unchecked: (known_args, pipeline_args)."""
    return flags.parse(build_parser(), argv, required=REQUIRED)


def run(argv: list[str] | None = None) -> RunConfig:
    """Parse and check the command line into the run (usage errors exit 2)."""
    return configure.parse_run("audit", build_parser(), argv, required=REQUIRED)


def _log_previous(runs: list[PreviousRun], policy: CarryPolicy) -> dict[str, dict]:
    """Say which previous runs' hashes cannot be reused, and library changes; return the latter."""
    current = running.library_versions()
    changes = {}
    for run in runs:
        differences = policy.incompatible[run.index]
        if differences:
            _LOG.warning(
                "previous run %s (%s) hashed with other settings, so its files will be read and "
                "hashed again: %s",
                run.run_id,
                run.output,
                "; ".join(f"{name}: {what}" for name, what in differences.items()),
            )
        else:
            _LOG.info("previous run %s (%s): hash settings compatible", run.run_id, run.output)
        moved = {
            name: f"{run.versions.get(name)} -> {current[name]}"
            for name in _DECODING_LIBRARIES
            if run.versions.get(name) not in (None, current[name])
        }
        if moved:
            changes[run.run_id] = moved
            _LOG.warning(
                "previous run %s used other library versions (%s); its hashes are reused (pass "
                "--rehash to hash everything again)",
                run.run_id,
                ", ".join(f"{k} {v}" for k, v in moved.items()),
            )
    return changes


def _gone_examples(output: str, limit: int = GONE_EXAMPLES) -> list[str]:
    """The first ``limit`` gone files (sorted) from the files table just written."""
    gone: list[str] = []
    for metadata in FileSystems.match([table_pattern(output, schemas.FILES)])[0].metadata_list:
        with FileSystems.open(
            metadata.path, compression_type=CompressionTypes.UNCOMPRESSED
        ) as handle:
            # On the calling thread: with pre-buffering, Arrow's I/O threads read the
            # Python file object and, still alive when the interpreter exits, abort it
            # ("terminate called without an active exception", apache/arrow#34314).
            table = pq.read_table(
                handle, columns=[schemas.URI, schemas.STATE], use_threads=False, pre_buffer=False
            )
        states = table.column(schemas.STATE).to_pylist()
        gone += [
            uri
            for uri, state in zip(table.column(schemas.URI).to_pylist(), states)
            if state == incremental.GONE
        ]
    return sorted(gone)[:limit]


def pipeline(config: RunConfig) -> int:
    """Preflight, build and run the audit; return the exit status."""
    plan, matching = config.plan, config.matching
    context = running.new_context(config)
    settings = incremental.hash_settings(plan)
    try:
        checked = preflight.check_run(config)
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2
    config = checked.applied_to(config)  # the join preflight chose (--strategy auto)
    runs = list(checked.previous)
    policy = CarryPolicy(
        runs,
        plan.algorithms,
        settings,
        max_pixels=plan.decode.max_pixels,
        archives=config.inputs.archives,
        run_id=context.run_id,
        rehash=config.previous.rehash,
    )
    library_changes = _log_previous(runs, policy)
    classifier = None
    if runs:
        classifier = MatchClassifier(
            runs,
            {entry["name"]: entry for entry in checked.lists},
            quality_cutoff=matching.quality_cutoff,
            settings=settings,
        )

    def build(p: beam.Pipeline, ctx: running.RunContext) -> None:
        hashed, carried, ledgers = hash_incrementally(p, checked.patterns, config, policy, ctx)
        matched = hashed[schemas.HASHES] | "MatchLists" >> MatchLists(
            checked.matching,
            run_id=ctx.run_id,
            matched_at_us=ctx.started_us,
            expected_versions=checked.list_versions,
            index_dir=ctx.index_dir,
        )
        matches = matched[schemas.MATCHES]
        ledgers.append(matched[LEDGER])
        if classifier is not None:
            classified = {
                schemas.MATCHES: matches,
                CONTEXT: carried[CONTEXT],
            } | "ClassifyNewMatches" >> ClassifyNewMatches(
                classifier, archives=config.inputs.archives
            )
            matches = classified[schemas.MATCHES]
            ledgers.append(classified[LEDGER])
        tables = {**hashed, schemas.MATCHES: matches, schemas.FILES: carried[schemas.FILES]}
        _ = tables | "WriteTables" >> WriteTables(ctx.output, num_shards=ctx.num_shards)
        _ = tuple(ledgers) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        hash_rows = running.table_rows(ledger)[schemas.HASHES]
        return (
            check_accounting(ledger, plan.algorithms, all_frames=plan.decode.all_frames)
            + check_queries(ledger, hash_rows)
            + incremental.check_files(ledger)
        )

    def extra(ledger: dict) -> dict:
        counts = Ledger(ledger)
        hashed = counts.count(keys.OBJECTS_HASHED) + counts.count(keys.OBJECTS_CARRIED)
        sections = {
            "lists": [_with_run_expectation(entry, hashed) for entry in checked.lists],
            "warnings": checked.warnings,
            "previous": tuple(run.output for run in runs),
            "hash_settings": settings,
            "hash_limits": incremental.hash_limits(plan, config.inputs.max_bytes),
        }
        if runs:
            gone = (
                _gone_examples(context.output)
                if Ledger(ledger).count((*keys.FILES_STATE, incremental.GONE))
                else []
            )
            section = incremental.summary_section(ledger, policy, library_changes, gone)
            sections["incremental"] = section
            _LOG.info("%s", incremental.describe(section))
        return sections

    return running.execute(config, context, build, check=check, total=checked.total, extra=extra)


def _with_run_expectation(entry: dict, images: int) -> dict:
    """A list summary with its false-match bound for this run's ``images`` scanned images."""
    budget = entry.get(LIST_BUDGET)
    if not budget or not budget.get("applied"):
        return entry
    expected = budget["expected_per_image"] * images
    return {**entry, LIST_BUDGET: {**budget, "images": images, "expected_this_run": expected}}


def hash_incrementally(
    p: beam.Pipeline,
    patterns: tuple[str, ...],
    config: RunConfig,
    policy: CarryPolicy,
    ctx: running.RunContext,
):
    """List, join with the previous runs, read and hash what must be, carry the rest.

    Returns ``({"hashes": ..., "errors": ...}, CarryForward's outputs, [ledgers])``:
    the tables hold both the rows made now and the carried ones.
    """
    inputs = config.inputs
    listed = p | "ListFiles" >> ListFiles(list(patterns))
    carried = listed["files"] | "CarryForward" >> CarryForward(
        policy,
        checksums=inputs.checksums,
        classify=bool(policy.runs),
        progress_dir=ctx.progress_dir,
    )
    read = carried[TO_READ] | "ReadFiles" >> ReadListedFiles(
        max_bytes=inputs.max_bytes,
        archives=inputs.archives,
        max_archive_bytes=inputs.max_archive_bytes,
    )
    hashed = read.objects | "HashImages" >> HashImages(
        config.plan, run_id=ctx.run_id, progress_dir=ctx.progress_dir
    )
    tables = {
        name: (hashed[name], carried[name]) | f"Flatten{name.capitalize()}" >> beam.Flatten()
        for name in (schemas.HASHES, schemas.ERRORS)
    }
    return tables, carried, [listed[LEDGER], read.ledger, hashed.ledger, carried[LEDGER]]


def main(argv: list[str] | None = None) -> int:
    return pipeline(run(argv))


if __name__ == "__main__":  # as `photosieve audit`, with its exit (see cli.entry)
    from photosieve.pipelines.cli import entry

    entry(["audit", *sys.argv[1:]])
