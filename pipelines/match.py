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
from apache_beam.io.parquetio import ReadFromParquet

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.accounting import check_queries
from photosieve.ledger import Ledger
from photosieve.errors import ConfigError
from photosieve.run_config import RunConfig
from photosieve.pipelines import configure, flags, help_text, preflight, running
from photosieve.transforms.ledger import LEDGER, WriteLedger
from photosieve.transforms.list_matching import MatchLists
from photosieve.transforms.tables import WriteTables

_LOG = logging.getLogger(__name__)

REQUIRED = ("hashes", "list", "output")
# The hashes columns matching reads; the rest stay on disk.
QUERY_COLUMNS = [
    schemas.URI,
    schemas.FRAME,
    # Absent from tables written before videos were hashed: Parquet reading skips it (rows then lack it).
    schemas.FRAME_TIMESTAMP,
    schemas.ALGORITHM,
    schemas.HASH,
    schemas.QUALITY,
    schemas.ORIENTATION,
    schemas.VARIANT,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve match",
        description="Match a stored hashes table against known-hash lists, no decoding; write the "
        "matches table and summary.json (Beam job).",
        parents=[flags.list_parser(), flags.output_parser()],
        **help_text.parser_options("match"),
    )
    parser.add_argument(
        "--hashes",
        metavar="DIR_OR_GLOB",
        help="An earlier run's output directory (its hashes/ table is read), a hashes/ "
        "directory, or a glob of Parquet files. Required.",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The flags as parsed (over the profile), unchecked: (known_args, pipeline_args)."""
    return flags.parse(build_parser(), argv, required=REQUIRED)


def run(argv: list[str] | None = None) -> RunConfig:
    """Parse and check the command line into the run (usage errors exit 2)."""
    return configure.parse_run("match", build_parser(), argv, required=REQUIRED)


def _count_rows(n: int) -> Counter:
    return Counter({keys.HASHES_READ: n})


def pipeline(config: RunConfig) -> int:
    """Preflight, build and run the re-match; return the exit status."""
    context = running.new_context(config)
    try:
        checked = preflight.check_run(config)
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2
    config = checked.applied_to(config)  # the join preflight chose (--strategy auto)

    def build(p: beam.Pipeline, ctx: running.RunContext) -> None:
        hashes = p | "ReadHashes" >> ReadFromParquet(checked.hashes, columns=QUERY_COLUMNS)
        matched = hashes | "MatchLists" >> MatchLists(
            checked.matching,
            run_id=ctx.run_id,
            matched_at_us=ctx.started_us,
            expected_versions=checked.list_versions,
            index_dir=ctx.index_dir,
        )
        counted = (
            hashes | "CountHashRows" >> beam.combiners.Count.Globally() | beam.Map(_count_rows)
        )
        _ = {schemas.MATCHES: matched[schemas.MATCHES]} | "WriteTables" >> WriteTables(
            ctx.output, num_shards=ctx.num_shards
        )
        _ = (counted, matched[LEDGER]) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        return check_queries(ledger, Ledger(ledger).count(keys.HASHES_READ))

    sections = {"lists": checked.lists, "warnings": checked.warnings}
    return running.execute(config, context, build, check=check, extra=sections)


def main(argv: list[str] | None = None) -> int:
    return pipeline(run(argv))


if __name__ == "__main__":  # as `photosieve match`, with its exit (see cli.entry)
    from photosieve.pipelines.cli import entry

    entry(["match", *sys.argv[1:]])
