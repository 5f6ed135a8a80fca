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
from photosieve.accounting import check_accounting
from photosieve.errors import ConfigError
from photosieve.run_config import RunConfig
from photosieve.pipelines import configure, flags, help_text, preflight, running
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.ledger import WriteLedger
from photosieve.transforms.reading import ReadImages
from photosieve.transforms.tables import WriteTables

_LOG = logging.getLogger(__name__)

REQUIRED = ("input", "output")


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="photosieve scan",
        description="Hash every object the inputs match, no matching; write the hashes and errors "
        "tables and summary.json (Beam job).",
        parents=[flags.hash_parser(), flags.output_parser()],
        **help_text.parser_options("scan"),
    )


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The flags as parsed (over the profile), unchecked: (known_args, pipeline_args)."""
    return flags.parse(build_parser(), argv, required=REQUIRED)


def run(argv: list[str] | None = None) -> RunConfig:
    """Parse and check the command line into the run (usage errors exit 2)."""
    return configure.parse_run("scan", build_parser(), argv, required=REQUIRED)


def hash_archive(
    pipeline: beam.Pipeline,
    patterns: tuple[str, ...],
    config: RunConfig,
    context: running.RunContext,
):
    """Read and hash every object: (HashImages result, ledgers)."""
    inputs = config.inputs
    read = pipeline | "ReadImages" >> ReadImages(
        list(patterns),
        max_bytes=inputs.max_bytes,
        archives=inputs.archives,
        max_archive_bytes=inputs.max_archive_bytes,
    )
    hashed = read.objects | "HashImages" >> HashImages(
        config.plan, run_id=context.run_id, progress_dir=context.progress_dir
    )
    return hashed, [read.ledger, hashed.ledger]


def pipeline(config: RunConfig) -> int:
    """Preflight, build and run the scan; return the exit status."""
    context = running.new_context(config)
    try:
        checked = preflight.check_run(config)
    except ConfigError as exc:
        _LOG.error("%s", exc)
        return 2
    plan = config.plan

    def build(p: beam.Pipeline, ctx: running.RunContext) -> None:
        hashed, ledgers = hash_archive(p, checked.patterns, config, ctx)
        tables = {schemas.HASHES: hashed.hashes, schemas.ERRORS: hashed.errors}
        _ = tables | "WriteTables" >> WriteTables(ctx.output, num_shards=ctx.num_shards)
        _ = tuple(ledgers) | "WriteLedger" >> WriteLedger(ctx.output)

    def check(ledger: dict) -> list[str]:
        return check_accounting(ledger, plan.algorithms, all_frames=plan.decode.all_frames)

    return running.execute(config, context, build, check=check, total=checked.total)


def main(argv: list[str] | None = None) -> int:
    return pipeline(run(argv))


if __name__ == "__main__":  # as `photosieve scan`, with its exit (see cli.entry)
    from photosieve.pipelines.cli import entry

    entry(["scan", *sys.argv[1:]])
