"""The command line of the Beam jobs (``audit``, ``scan``, ``match``): flags, parsed once.

* Flags come in parent parsers the subcommands combine (weather-tools
  style): :func:`output_parser`, :func:`hash_parser`, :func:`list_parser`,
  :func:`previous_parser`. Other arguments pass to Beam when Beam has such a
  pipeline option; anything else is a usage error with a "did you mean"
  hint (:mod:`photosieve.pipelines.beam_options`). Numeric values are
  range-checked by argparse (:mod:`photosieve.pipelines.values`).
* ``--config configs/NAME.yaml`` profiles (:mod:`photosieve.pipelines.profiles`):
  :func:`parse` applies a profile's settings as defaults, so flags on the
  command line override them.
* :func:`parse` returns the flags and Beam's arguments;
  :func:`photosieve.pipelines.configure.run_config` turns them into the one
  :class:`~photosieve.run_config.RunConfig` the job is built from.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from photosieve.archives import DEFAULT_MAX_ARCHIVE_BYTES
from photosieve.errors import ConfigError
from photosieve.hashes.pdq import PDQ_QUALITY_MAX, PDQ_QUALITY_THRESHOLD
from photosieve.run_config import OUTPUT_MODES, SIDE_INPUT, STRATEGIES
from photosieve.cli import values
from photosieve.pipelines import beam_options, profiles
from photosieve.cli.hash_flags import add_hash_arguments
from photosieve.pipelines.mode_options import add_mode_arguments

__all__ = [
    "DEFAULT_RUNNER",
    "hash_parser",
    "list_parser",
    "output_parser",
    "parse",
    "previous_parser",
]

# Without --runner, photosieve runs on the FnApiRunner: the engine Beam's
# DirectRunner uses, named directly because the DirectRunner (Beam >= 2.61)
# first tries to download and start the Prism runner, and only falls back to
# the FnApiRunner when that fails (offline, after a network timeout).
DEFAULT_RUNNER = "FnApiRunner"


class _ExtendOrReplace(argparse.Action):
    """``action="extend"`` whose first use on the command line replaces a profile's list."""

    def __call__(self, parser, namespace, values, option_string=None):
        replaced = namespace.__dict__.setdefault("_replaced_lists", set())
        current = [] if self.dest not in replaced else list(getattr(namespace, self.dest) or [])
        replaced.add(self.dest)
        setattr(namespace, self.dest, current + list(values))


def output_parser() -> argparse.ArgumentParser:
    """Flags of every job: output, profile, run id, shards, progress."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-o", "--output", help="Output directory (any Beam filesystem). Required.")
    parser.add_argument(
        "-c",
        "--config",
        metavar="YAML",
        help="Profile with defaults for these flags and Beam options under 'pipeline_options' "
        "(see configs/). Flags on the command line override it. Default: none.",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace the tables and summary of a previous run in --output. Default: refuse.",
    )
    parser.add_argument(
        "--run-id", help="Identifier written on every row. Default: UTC start time + random suffix."
    )
    parser.add_argument(
        "--num-shards",
        type=values.at_least(0),
        default=0,
        help="Parquet files per table; 0 lets the runner choose (recommended). Default: 0.",
    )
    parser.add_argument(
        "--output-mode",
        choices=OUTPUT_MODES,
        default="private",
        help="private: a local --output is created readable by you only (directories 0700, "
        "files 0600: the tables say which paths matched which list); shared: as your umask "
        "says. Object stores keep their own access rules. Default: private.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="Show Apache Beam's own logs from INFO up, with its import-time and worker start-up "
        "messages. Default: only its warnings, without those messages.",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Log objects done of total, rate and errors while a local (DirectRunner) run works. Default: on.",
    )
    return parser


def hash_parser() -> argparse.ArgumentParser:
    """Flags of the jobs that read and hash objects (``audit``, ``scan``)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "-i",
        "--input",
        nargs="+",
        action=_ExtendOrReplace,
        metavar="GLOB",
        help="Files, directories (read recursively) or glob patterns on any Beam filesystem "
        "(gs://, s3://, hdfs:// with the matching extras); repeatable. Required.",
    )
    add_hash_arguments(parser)
    parser.add_argument(
        "--archives",
        action="store_true",
        help="Hash the members of .zip/.tar/.tar.gz files (as archive!/member) instead of the "
        "archive file. Default: off.",
    )
    parser.add_argument(
        "--max-archive-bytes",
        type=values.at_least(1),
        default=DEFAULT_MAX_ARCHIVE_BYTES,
        help="With --archives: bytes one archive may inflate to in all; later members are "
        f"archive_limit errors. Default: {DEFAULT_MAX_ARCHIVE_BYTES}.",
    )
    return parser


def previous_parser() -> argparse.ArgumentParser:
    """Flags of repeat audits: the previous runs to build on."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "-p",
        "--previous",
        nargs="+",
        action=_ExtendOrReplace,
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
    return parser


def list_parser() -> argparse.ArgumentParser:
    """Flags of the jobs that match (``audit``, ``match``)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "-l",
        "--list",
        nargs="+",
        action=_ExtendOrReplace,
        metavar="[NAME=]FILE",
        help="Known-hash list to report matches against (any format photosieve reads, .gz too, "
        "any Beam filesystem); NAME defaults to the file name; repeatable. In a profile, entries "
        "may also be mappings: {path, name, role, thresholds, algorithm, format}. Required.",
    )
    parser.add_argument(
        "-s",
        "--suppress-list",
        nargs="+",
        action=_ExtendOrReplace,
        metavar="[NAME=]FILE",
        help="Known-benign list: a hash within its threshold is not reported as a match against "
        "the other lists; the suppression is recorded. Default: none.",
    )
    parser.add_argument(
        "-t",
        "--threshold",
        nargs="+",
        action=_ExtendOrReplace,
        type=values.threshold,
        metavar="[LIST:]ALG=N",
        help="Match distance for an algorithm, for every list or for one list (pdq=24, "
        "ncmec:phash=10). Default: each algorithm's calibrated threshold (pdq 31).",
    )
    parser.add_argument(
        "--quality-cutoff",
        type=values.int_range(0, PDQ_QUALITY_MAX),
        default=PDQ_QUALITY_THRESHOLD,
        help="PDQ hashes below this quality are stored but not matched: flat or blurry images "
        f"collide with each other. Default: {PDQ_QUALITY_THRESHOLD}.",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=SIDE_INPUT,
        help="side-input: every worker builds the list indexes once (fast); shuffle: join bucket "
        f"keys with a CoGroupByKey, for lists too big to copy to every worker. Default: {SIDE_INPUT}.",
    )
    parser.add_argument(
        "--lenient-lists",
        action="store_true",
        help="Skip and count bad list lines instead of failing before any work. Default: strict.",
    )
    values.add_max_list_bytes(parser)
    add_mode_arguments(parser)
    return parser


def parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, *, required: Sequence[str] = ()
) -> tuple[argparse.Namespace, list[str]]:
    """Parse flags over a profile's defaults; return (known_args, pipeline_args).

    Beam options come from the profile first and the command line second, so
    the command line wins (argparse keeps the last value). Anything that is
    neither a flag of ``parser`` nor a Beam pipeline option is a usage
    error with the closest flag as a hint: passed on, Beam would only warn
    and run with its defaults.

    Raises:
        SystemExit: usage errors (argparse's exit status 2), naming the flag.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("-c", "--config")
    config_path = pre.parse_known_args(argv)[0].config
    profile_beam: list[str] = []
    if config_path:
        try:
            defaults, profile_beam = profiles.read_profile(config_path, parser)
            defaults = values.check_defaults(parser, defaults)
        except ConfigError as exc:
            parser.error(str(exc))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"--config {config_path}: {exc}")
        parser.set_defaults(**defaults)
    known, pipeline_args = parser.parse_known_args(argv)
    vars(known).pop("_replaced_lists", None)
    pipeline_args = profile_beam + pipeline_args
    _refuse_unknown(parser, pipeline_args)
    if PipelineOptions(pipeline_args).view_as(StandardOptions).runner is None:
        pipeline_args.insert(0, f"--runner={DEFAULT_RUNNER}")
    for dest in required:
        if not getattr(known, dest, None):
            flag = "--" + dest.replace("_", "-")
            parser.error(f"{flag} is required (on the command line or in the --config profile)")
    return known, pipeline_args


def _flag_names(parser: argparse.ArgumentParser) -> list[str]:
    """The ``--flags`` of ``parser`` and of Beam, for "did you mean" hints."""
    own = [s for action in parser._actions for s in action.option_strings]
    return own + beam_options.option_names()


def _refuse_unknown(parser: argparse.ArgumentParser, pipeline_args: Sequence[str]) -> None:
    """Exit 2 (argparse's usage error) for arguments neither ``parser`` nor Beam knows."""
    unknown, bad_value = beam_options.unknown_arguments(pipeline_args)
    if bad_value:
        parser.error(f"Beam pipeline option: {bad_value}")
    if not unknown:
        return
    names = _flag_names(parser)
    flags = [item for item in unknown if item.startswith("-")]
    # A bare word after an unknown flag is most likely its value: name the flag only.
    described = [f"{flag}{beam_options.did_you_mean(flag, names)}" for flag in flags] or [
        repr(item) for item in unknown
    ]
    parser.error(
        "unrecognized arguments (neither photosieve flags nor Beam pipeline options): "
        + ", ".join(described)
    )


