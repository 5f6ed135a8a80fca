"""``photosieve audit``: hash an archive and match it against known-hash lists, in one Beam job.

    photosieve audit --input 'gs://bucket/photos/**' --list ncmec=gs://lists/ncmec.csv.gz \\
        --suppress-list benign=gs://lists/stock.txt --output gs://bucket/audits/2026-11 \\
        --config configs/dataflow.yaml

Writes the ``hashes``, ``errors`` and ``matches`` tables and ``summary.json``
(see the README). Every list is read and checked before any work starts
(bad lines fail the run unless ``--lenient-lists``); every object the inputs
match ends in exactly one of ``hashes`` or ``errors`` per algorithm, and
every hash is matched or skipped for a counted reason: the exit status is 1
when that does not balance, 2 for usage errors. Unknown flags are Beam
pipeline options (``--runner``, ``--temp_location``, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys

import apache_beam as beam

from photosieve import schemas
from photosieve.errors import ConfigError
from pipelines import job, match, scan
from transforms.ledger import WriteLedger
from transforms.tables import WriteTables

_LOG = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve audit",
        description="Hash every object the inputs match and match the hashes against known-hash "
        "lists (Apache Beam); write the hashes, errors and matches tables.",
        parents=[job.hash_parser(), job.list_parser(), job.output_parser()],
    )
    parser.add_argument(
        "--dihedral",
        action="store_true",
        help="Also hash the seven rotations and mirror images of each image with PDQ, so rotated "
        "or flipped copies match (8x the PDQ rows and probes). Default: off.",
    )
    return parser


def run(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Parse and validate the command line; return (known_args, pipeline_args)."""
    parser = build_parser()
    known, pipeline_args = job.parse(parser, argv, required=("input", "list", "output"))
    if known.dihedral:
        names = [n.strip() for n in known.algorithms.split(",")]
        known.algorithms = ",".join("pdq-dihedral" if n == "pdq" else n for n in names)
        if "pdq-dihedral" not in known.algorithms.split(","):
            parser.error("--dihedral needs pdq among --algorithms")
    try:
        job.hash_plan(known)
        job.list_specs(known)
    except ConfigError as exc:
        parser.error(str(exc))
    return known, pipeline_args


def pipeline(known_args: argparse.Namespace, pipeline_args: list[str]) -> int:
    """Preflight, build and run the audit; return the exit status."""
    plan = job.hash_plan(known_args)
    context = job.new_context("audit", known_args, pipeline_args)
    try:
        # Counting lists every object once more: only worth it for the progress lines.
        count = known_args.progress and job.is_local(pipeline_args)
        patterns, total = job.expand_inputs(known_args.input, count=count)
        specs, summaries, versions = match.preflight_lists(known_args, plan.algorithms)
        job.prepare_output(known_args.output, overwrite=known_args.overwrite)
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2

    def build(p: beam.Pipeline, ctx: job.RunContext) -> None:
        hashed, ledgers = scan.hash_archive(p, patterns, plan, known_args, ctx)
        matches, match_ledger = match.match_stage(hashed.hashes, specs, known_args, ctx, versions)
        tables = {
            schemas.HASHES: hashed.hashes,
            schemas.ERRORS: hashed.errors,
            schemas.MATCHES: matches,
        }
        _ = tables | "WriteTables" >> WriteTables(ctx.output, num_shards=ctx.num_shards)
        _ = (*ledgers, match_ledger) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        hash_rows = sum(ledger.get("hashes", {}).get("algorithm", {}).values())
        return job.check_accounting(
            ledger, plan.algorithms, all_frames=plan.decode.all_frames
        ) + job.check_queries(ledger, hash_rows)

    return job.execute(
        context,
        known_args,
        pipeline_args,
        build,
        check=check,
        total=total,
        extra={"lists": summaries},
    )


def main(argv: list[str] | None = None) -> int:
    known_args, pipeline_args = run(argv)
    return pipeline(known_args, pipeline_args)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
