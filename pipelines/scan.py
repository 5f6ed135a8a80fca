"""``photosieve scan``: hash an archive into the ``hashes`` and ``errors`` tables.

    photosieve scan --input 'gs://bucket/photos/**' --output gs://bucket/audits/2026-11 \\
        --config configs/dataflow.yaml --algorithms pdq,md5

Every object the inputs match ends in exactly one of ``hashes`` or
``errors`` for each algorithm; ``summary.json`` checks it and the exit
status is 1 when it does not balance (2 for usage errors, before any work).
Other flags must be Beam pipeline options (``--runner``, ``--temp_location``...).
Re-match the stored hashes later, without decoding, with ``photosieve match``.
"""

from __future__ import annotations

import argparse
import logging
import sys

import apache_beam as beam

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan
from photosieve.pipelines import job
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.ledger import WriteLedger
from photosieve.transforms.reading import ReadImages
from photosieve.transforms.tables import WriteTables

_LOG = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="photosieve scan",
        description="Hash every object the inputs match (Apache Beam); write the hashes and errors tables.",
        parents=[job.hash_parser(), job.output_parser()],
    )


def run(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Parse and validate the command line; return (known_args, pipeline_args)."""
    parser = build_parser()
    known, pipeline_args = job.parse(parser, argv, required=("input", "output"))
    try:
        job.hash_plan(known)
    except ConfigError as exc:
        parser.error(str(exc))
    return known, pipeline_args


def hash_archive(
    pipeline: beam.Pipeline, patterns: list[str], plan: HashPlan, args, context: job.RunContext
):
    """The steps ``scan`` and ``audit`` share: read, hash; return (HashImages result, ledgers)."""
    read = pipeline | "ReadImages" >> ReadImages(
        patterns,
        max_bytes=args.max_bytes,
        archives=args.archives,
        max_archive_bytes=args.max_archive_bytes,
    )
    hashed = read.objects | "HashImages" >> HashImages(
        plan, run_id=context.run_id, progress_dir=context.progress_dir
    )
    return hashed, [read.ledger, hashed.ledger]


def pipeline(known_args: argparse.Namespace, pipeline_args: list[str]) -> int:
    """Preflight, build and run the scan; return the exit status."""
    plan = job.hash_plan(known_args)
    context = job.new_context("scan", known_args, pipeline_args)
    try:
        # Counting lists every object once more: only worth it for the progress lines.
        count = known_args.progress and job.is_local(pipeline_args)
        patterns, total = job.expand_inputs(known_args.input, count=count)
        job.prepare_output(
            known_args.output, overwrite=known_args.overwrite, mode=known_args.output_mode
        )
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2

    def build(p: beam.Pipeline, ctx: job.RunContext) -> None:
        hashed, ledgers = hash_archive(p, patterns, plan, known_args, ctx)
        tables = {schemas.HASHES: hashed.hashes, schemas.ERRORS: hashed.errors}
        _ = tables | "WriteTables" >> WriteTables(ctx.output, num_shards=ctx.num_shards)
        _ = tuple(ledgers) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        return job.check_accounting(ledger, plan.algorithms, all_frames=plan.decode.all_frames)

    return job.execute(context, known_args, pipeline_args, build, check=check, total=total)


def main(argv: list[str] | None = None) -> int:
    known_args, pipeline_args = run(argv)
    return pipeline(known_args, pipeline_args)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
