"""``photosieve match``: match stored hashes against known-hash lists, without decoding.

    photosieve match --hashes gs://bucket/audits/2026-11 --list ncmec=gs://lists/ncmec.csv.gz \\
        --suppress-list benign.txt --output gs://bucket/audits/2026-11-rematch

Reads the ``hashes`` table of an earlier ``scan`` or ``audit`` (Parquet,
any Beam filesystem) and writes a ``matches`` table and ``summary.json``:
the way to re-check an archive when a list is updated, at the cost of
reading hashes instead of images. Every stored hash row is queried or
skipped for a counted reason (low PDQ quality, no list of its algorithm);
the exit status is 1 if that does not balance, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import ReadFromParquet

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.listing import normalise
from photosieve.lists import ListSpec
from photosieve.pipelines import job, mode_options
from photosieve.transforms.ledger import LEDGER, WriteLedger
from photosieve.transforms.matching import SIDE_INPUT, MatchHashes
from photosieve.transforms.mode_matching import MatchInMode, shuffle_refusal
from photosieve.transforms.tables import PARQUET_SUFFIX, WriteTables

_LOG = logging.getLogger(__name__)

# The hashes columns matching reads; the rest stay on disk.
QUERY_COLUMNS = [
    schemas.URI,
    schemas.FRAME,
    schemas.ALGORITHM,
    schemas.HASH,
    schemas.QUALITY,
    schemas.ORIENTATION,
    schemas.VARIANT,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve match",
        description="Match a stored hashes table against known-hash lists (Apache Beam); "
        "write the matches table.",
        parents=[job.list_parser(), job.output_parser()],
    )
    parser.add_argument(
        "--hashes",
        metavar="DIR_OR_GLOB",
        help="An earlier run's output directory (its hashes/ table is read), a hashes/ "
        "directory, or a glob of Parquet files. Required.",
    )
    return parser


def run(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Parse and validate the command line; return (known_args, pipeline_args)."""
    parser = build_parser()
    known, pipeline_args = job.parse(parser, argv, required=("hashes", "list", "output"))
    try:
        job.list_specs(known)
    except ConfigError as exc:
        parser.error(str(exc))
    return known, pipeline_args


def hashes_pattern(given: str) -> str:
    """The Parquet glob of a stored hashes table, from a run directory, a table directory or a glob.

    Raises:
        ConfigError: nothing matches.
    """
    if set("*?[") & set(given):
        candidates = [given]
    else:
        base = given.rstrip("/")
        candidates = [
            FileSystems.join(base, schemas.HASHES, f"*{PARQUET_SUFFIX}"),
            FileSystems.join(base, f"*{PARQUET_SUFFIX}"),
        ]
    for pattern in candidates:
        if FileSystems.match([pattern], [1])[0].metadata_list:
            return pattern
    raise ConfigError(f"--hashes {given}: no Parquet files (looked for {', '.join(candidates)})")


def match_stage(
    hashes: beam.PCollection,
    specs: list[ListSpec],
    args: argparse.Namespace,
    context: job.RunContext,
    versions: dict[str, str],
) -> tuple[beam.PCollection, beam.PCollection]:
    """The steps ``match`` and ``audit`` share: (matches rows, ledger)."""
    options = {
        "run_id": context.run_id,
        "matched_at_us": context.started_us,
        "strategy": args.strategy,
        "quality_cutoff": args.quality_cutoff,
        "strict_lists": not args.lenient_lists,
        "expected_versions": versions,
    }
    if args.match_mode is not None:
        matched = hashes | "MatchInMode" >> MatchInMode(specs, args.match_mode, **options)
    else:
        matched = hashes | "MatchHashes" >> MatchHashes(specs, **options)
    return matched[schemas.MATCHES], matched[LEDGER]


def preflight_lists(
    args: argparse.Namespace, plan_algorithms
) -> tuple[list[ListSpec], list[dict], dict]:
    """(specs, list summaries, versions): every list read and checked before any work starts.

    With ``--match-mode``, each list's summary also records the mode's
    configuration and threshold for it (:func:`photosieve.pipelines.mode_options.preflight`).
    """
    specs = job.list_specs(args)
    if args.match_mode is not None and args.strategy != SIDE_INPUT:
        raise ConfigError(shuffle_refusal(args.match_mode))  # before reading any list
    summaries = job.check_lists(
        specs,
        strict=not args.lenient_lists,
        plan_algorithms=plan_algorithms,
        strategy=args.strategy,
    )
    if args.match_mode is not None:
        mode_options.preflight(
            specs,
            summaries,
            args.match_mode,
            strict=not args.lenient_lists,
        )
    return specs, summaries, {s["name"]: s["version"] for s in summaries}


def within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies under it (--overwrite there deletes the input).

    Both are normalised as inputs are (:func:`photosieve.listing.normalise`:
    local paths absolute, ``.``/``..``/``//`` folded), so no spelling slips
    past; a local path and another filesystem's uri are never within each other.
    """
    path, directory = normalise(path), normalise(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _count_rows(n: int) -> Counter:
    return Counter({("hashes", "read"): n})


def pipeline(known_args: argparse.Namespace, pipeline_args: list[str]) -> int:
    """Preflight, build and run the re-match; return the exit status."""
    context = job.new_context("match", known_args, pipeline_args)
    try:
        pattern = hashes_pattern(known_args.hashes)
        if known_args.match_mode is not None:
            mode_options.check_stored_hashes(known_args.hashes, known_args.match_mode)
        if within(pattern, known_args.output):
            raise ConfigError(
                f"--output {known_args.output} holds the --hashes input; choose another"
            )
        specs, summaries, versions = preflight_lists(known_args, None)
        job.prepare_output(
            known_args.output, overwrite=known_args.overwrite, mode=known_args.output_mode
        )
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2

    def build(p: beam.Pipeline, ctx: job.RunContext) -> None:
        hashes = p | "ReadHashes" >> ReadFromParquet(pattern, columns=QUERY_COLUMNS)
        matches, ledger = match_stage(hashes, specs, known_args, ctx, versions)
        counted = (
            hashes | "CountHashRows" >> beam.combiners.Count.Globally() | beam.Map(_count_rows)
        )
        _ = {schemas.MATCHES: matches} | "WriteTables" >> WriteTables(
            ctx.output, num_shards=ctx.num_shards
        )
        _ = (counted, ledger) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        return job.check_queries(ledger, ledger.get("hashes", {}).get("read", 0))

    return job.execute(
        context, known_args, pipeline_args, build, check=check, extra={"lists": summaries}
    )


def main(argv: list[str] | None = None) -> int:
    known_args, pipeline_args = run(argv)
    return pipeline(known_args, pipeline_args)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
