"""The command line of the Beam jobs (``audit``, ``scan``, ``match``): flags, parsed once.

* Each transform owns the flags it needs (weather-tools style: an
  ``add_arguments(parser)`` beside its constructor): ``WriteTables`` the
  output's, ``ReadImages`` the inputs', ``HashImages`` the hash plan's,
  ``CarryForward`` the previous runs', ``MatchLists`` the lists'. The parent
  parsers here (:func:`output_parser`, :func:`hash_parser`,
  :func:`list_parser`, :func:`previous_parser`) combine them per command,
  with the few flags of the job itself (``--config``, ``--run-id``,
  ``--verbose``, ``--progress``). Other arguments pass to Beam when Beam has
  such a pipeline option; anything else is a usage error with a "did you
  mean" hint (:mod:`photosieve.pipelines.beam_options`). Numeric values are
  range-checked by argparse (:mod:`photosieve.cli.values`).
* ``--config NAME`` (a shipped profile) or ``--config PATH.yaml`` profiles
  (:mod:`photosieve.pipelines.profiles`, :mod:`photosieve.pipelines.profile_names`):
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

from photosieve.cli import values
from photosieve.errors import ConfigError
from photosieve.pipelines import beam_options, profiles
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.incremental import CarryForward
from photosieve.transforms.list_matching import MatchLists
from photosieve.transforms.reading import ReadImages
from photosieve.transforms.tables import WriteTables

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


def output_parser() -> argparse.ArgumentParser:
    """Flags of every job: the output (:class:`WriteTables`'s), profile, run id, logs, progress."""
    parser = argparse.ArgumentParser(add_help=False)
    WriteTables.add_arguments(parser)
    parser.add_argument(
        "-c",
        "--config",
        metavar="NAME_OR_YAML",
        help="A shipped profile by name (local, dataflow...: 'photosieve configs' lists them) or "
        "a YAML file of your own: defaults for these flags, and Beam options under "
        "'pipeline_options'. Flags on the command line override it. Default: none.",
    )
    parser.add_argument(
        "--run-id", help="Identifier written on every row. Default: UTC start time + random suffix."
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
        help="Show progress while a local run works: a bar when stderr is a terminal, a log line "
        "every 10 s otherwise (objects done of total, rate, errors). Default: on.",
    )
    return parser


def hash_parser() -> argparse.ArgumentParser:
    """Flags of the jobs that read and hash objects (``audit``, ``scan``)."""
    parser = argparse.ArgumentParser(add_help=False)
    ReadImages.add_arguments(parser)
    HashImages.add_arguments(parser)
    return parser


def previous_parser() -> argparse.ArgumentParser:
    """Flags of repeat audits (:class:`CarryForward`'s): the previous runs to build on."""
    parser = argparse.ArgumentParser(add_help=False)
    CarryForward.add_arguments(parser)
    return parser


def list_parser() -> argparse.ArgumentParser:
    """Flags of the jobs that match (``audit``, ``match``): :class:`MatchLists`'s."""
    parser = argparse.ArgumentParser(add_help=False)
    MatchLists.add_arguments(parser)
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
    vars(known).pop(values.REPLACED_KEY, None)
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


