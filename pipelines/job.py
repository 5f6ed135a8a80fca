"""What the photosieve Beam jobs (``audit``, ``scan``, ``match``) share.

* Flags, in parent parsers the subcommands combine (weather-tools style):
  :func:`output_parser`, :func:`hash_parser`. Other flags pass to Beam
  when Beam has such a pipeline option; anything else is a usage error with
  a "did you mean" hint (:mod:`photosieve.pipelines.beam_options`). Numeric values are
  range-checked by argparse (:mod:`photosieve.pipelines.values`).
* ``--config configs/NAME.yaml`` profiles: :func:`parse` applies a profile's
  settings as defaults, so flags on the command line override them.
* Preflight before any work starts: inputs that match nothing, an output
  directory that already holds a run or cannot be written (:func:`prepare_output`).
* Running: :func:`execute` runs the pipeline (with live progress on local
  runners) under a private umask, then turns the ledger into ``summary.json``
  with the accounting check, and returns the exit status. ``summary.json``
  is written last and whole: a directory without one is an incomplete run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import apache_beam as beam
import numpy as np
import PIL
import pyarrow as pa
import yaml
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms import environments

import photosieve
from photosieve import algorithms, schemas
from photosieve.archives import DEFAULT_MAX_ARCHIVE_BYTES
from photosieve.errors import ConfigError, ListFormatError
from photosieve.hashes.pdq import PDQ_QUALITY_MAX, PDQ_QUALITY_THRESHOLD
from photosieve.hashing import HashPlan
from photosieve.listing import Entry, list_pattern, normalise, pop_skip_examples
from photosieve.listing import is_local as is_local_path
from photosieve.lists import ListRole, ListSpec, load_list_specs, read_lists
from photosieve.lists.spec import spec_fields
from photosieve.names import escape
from photosieve.report import SUMMARY_FILE
from photosieve.pipelines import beam_options, quiet, redaction, values
from photosieve.pipelines.hash_options import add_hash_arguments, decode_options
from photosieve.pipelines.mode_options import add_mode_arguments, plan_for_mode
from photosieve.transforms.ledger import LEDGER_FILE
from photosieve.transforms.known_lists import open_stored
from photosieve.transforms.matching import SHUFFLE, SIDE_INPUT, STRATEGIES
from photosieve.transforms.progress import ProgressMonitor

__all__ = [
    "OUTPUT_MODES",
    "RunContext",
    "check_accounting",
    "check_writable",
    "execute",
    "expand_inputs",
    "hash_parser",
    "hash_plan",
    "output_parser",
    "output_umask",
    "parse",
    "prepare_output",
]

_LOG = logging.getLogger(__name__)

# Profiles keep Beam's options under this key; every other key is a flag's dest.
PIPELINE_OPTIONS_KEY = "pipeline_options"
_LOCAL_RUNNERS = ("DirectRunner", "SwitchingDirectRunner", "FnApiRunner")
# Without --runner, photosieve runs on the FnApiRunner: the engine Beam's
# DirectRunner uses, named directly because the DirectRunner (Beam >= 2.61)
# first tries to download and start the Prism runner, and only falls back to
# the FnApiRunner when that fails (offline, after a network timeout).
DEFAULT_RUNNER = "FnApiRunner"
_GLOB_CHARS = set("*?[")
# The file prepare_output writes and deletes to see that the output is writable.
_PROBE_PREFIX = ".photosieve-write-probe-"
# Its size: an empty file can often still be made on a full disk, 64 KiB not.
_PROBE_BYTES = 64 * 1024
# summary.json is first written under this name and renamed (locally), so a
# reader never sees half of one: a summary.json is the mark of a finished run.
_PARTIAL_SUFFIX = ".partial"
# --output-mode private: outputs say which paths matched which list, so by
# default only their owner may read them (directories 0700, files 0600).
PRIVATE_UMASK = 0o077
OUTPUT_MODES = ("private", "shared")


@dataclass(frozen=True)
class RunContext:
    """Per-run values every pipeline builder needs.

    Attributes:
        command: ``audit``, ``scan`` or ``match``.
        run_id: written on every row and in the summary.
        started_us: the run's start, microseconds since the epoch (UTC).
        output: the output directory.
        num_shards: Parquet files per table (0: the runner decides).
        progress_dir: local directory for live progress files, or None.
    """

    command: str
    run_id: str
    started_us: int
    output: str
    num_shards: int = 0
    progress_dir: str | None = None


# -- flags -------------------------------------------------------------------------


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



def _profile(path: str, parser: argparse.ArgumentParser) -> tuple[dict, list[str]]:
    """Read a profile: (flag defaults by dest, Beam option arguments)."""
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            content = yaml.safe_load(handle.read()) or {}
    except Exception as exc:  # OSError, YAMLError, or a filesystem client's own error types
        raise ConfigError(f"--config {path}: cannot read the profile: {exc}") from exc
    if not isinstance(content, dict):
        raise ConfigError(
            f"--config {path}: expected a mapping of settings, got {type(content).__name__}"
        )
    beam_settings = content.pop(PIPELINE_OPTIONS_KEY, None) or {}
    if not isinstance(beam_settings, dict):
        raise ConfigError(f"--config {path}: '{PIPELINE_OPTIONS_KEY}' must be a mapping")
    beam_names = set(beam_options.option_names())
    for name in map(str, beam_settings):
        if f"--{name}" not in beam_names:
            raise ConfigError(
                f"--config {path}: '{PIPELINE_OPTIONS_KEY}' has {name!r}, which is not a Beam "
                f"pipeline option{beam_options.did_you_mean(name, [n[2:] for n in beam_names])}"
            )
    dests = {action.dest for action in parser._actions} - {"help", "config"}
    unknown = sorted(set(content) - dests)
    if unknown:
        raise ConfigError(
            f"--config {path}: unknown setting(s) {', '.join(unknown)}; this command's settings are "
            f"{', '.join(sorted(dests))}; Beam options go under '{PIPELINE_OPTIONS_KEY}'"
        )
    return content, _beam_arguments(beam_settings)


def _beam_arguments(options: dict) -> list[str]:
    """``{"runner": "X", "save_main_session": True}`` -> ``["--runner=X", "--save_main_session"]``."""
    arguments = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        if value is True:
            arguments.append(f"--{name}")
        elif isinstance(value, (list, tuple)):
            arguments += [f"--{name}={item}" for item in value]
        elif isinstance(value, dict):
            arguments.append(f"--{name}={json.dumps(value)}")
        else:
            arguments.append(f"--{name}={value}")
    return arguments


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
            defaults, profile_beam = _profile(config_path, parser)
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


def hash_plan(args: argparse.Namespace) -> HashPlan:
    """The HashPlan the hash flags and ``--match-mode`` describe (ConfigError names the bad option)."""
    plan = HashPlan.parse(args.algorithms, decode_options(args))
    mode = getattr(args, "match_mode", None)
    return plan if mode is None else plan_for_mode(plan, mode)


_NAMED_PATH = re.compile(r"^([A-Za-z0-9_.-]+)=(.+)$")


def list_specs(args: argparse.Namespace) -> list[ListSpec]:
    """The run's lists from ``--list``/``--suppress-list``/``--threshold`` (or the profile).

    Raises:
        ConfigError: a malformed entry or threshold, a threshold beyond the
            algorithm's largest distance, or duplicate names (named in the message).
    """
    entries: list[dict] = []
    for role, given in (
        (ListRole.MATCH, args.list or []),
        (ListRole.SUPPRESS, args.suppress_list or []),
    ):
        for entry in given:
            if isinstance(entry, dict):
                fields = {"role": role.value, **entry}
            else:
                named = _NAMED_PATH.match(entry)
                fields = (
                    {"path": named.group(2), "name": named.group(1)} if named else {"path": entry}
                )
                fields["role"] = role.value
            entries.append(fields)
    overrides: dict[str | None, dict[str, float]] = {}
    for text in args.threshold or []:
        try:
            name, algorithm, value = values.parse_threshold(text)
        except ConfigError as exc:
            raise ConfigError(f"--threshold {exc}") from None
        overrides.setdefault(name, {})[algorithm] = value
    specs = load_list_specs(entries)
    for spec in specs:  # a profile's per-list thresholds (the flag's are checked by argparse)
        for algorithm, value in spec.thresholds.items():
            top = values.max_distance(algorithm)
            if value > top:
                raise ConfigError(
                    f"list {spec.name}: the {algorithm} threshold must be from 0 to {top:g}, "
                    f"got {value:g}"
                )
    names = {spec.name for spec in specs}
    unknown = sorted(name for name in overrides if name is not None and name not in names)
    if unknown:
        raise ConfigError(
            f"--threshold names unknown list(s) {', '.join(unknown)}; lists: {', '.join(sorted(names))}"
        )
    return [
        ListSpec(
            **{
                **spec_fields(spec),
                "thresholds": {
                    **spec.thresholds,
                    **overrides.get(None, {}),
                    **overrides.get(spec.name, {}),
                },
                "max_bytes": getattr(args, "max_list_bytes", None),
            }
        )
        for spec in specs
    ]


def check_lists(
    specs: Sequence[ListSpec], *, strict: bool, plan_algorithms: Sequence[str] | None, strategy: str
) -> list[dict]:
    """Read every list before any work starts; return their summaries for summary.json.

    Raises:
        ConfigError: unreadable lists (not a regular file, over --max-list-bytes,
            not readable as their format), bad lines in strict mode (the first
            20 problems of all lists and the count), or lists the strategy cannot join.
    """
    try:
        hash_lists = read_lists(specs, strict=strict, open_fn=open_stored)
    except ListFormatError as exc:
        if exc.whole_file:  # one line, no --lenient-lists hint
            raise ConfigError(f"--list: {exc.problems[0]}") from exc
        raise ConfigError(
            f"--list: {exc}\n(pass --lenient-lists to skip bad lines and count them)"
        ) from exc
    summaries = []
    for spec, hash_list in zip(specs, hash_lists):
        for algorithm in hash_list.algorithms:
            if plan_algorithms is not None and algorithm not in plan_algorithms:
                _LOG.warning(
                    "list %s holds %s hashes, which this run does not compute (--algorithms); "
                    "they will not be matched",
                    spec.name,
                    algorithm,
                )
            metric = algorithms.get(algorithm).metric
            if strategy == SHUFFLE and metric is algorithms.Metric.EUCLIDEAN:
                raise ConfigError(
                    f"list {spec.name} holds {algorithm} hashes ({metric.value} distance), which "
                    f"--strategy {SHUFFLE} cannot join; use --strategy {SIDE_INPUT}"
                )
        summary = hash_list.summary()
        summary.update(
            role=spec.role.value, thresholds={a: spec.threshold(a) for a in hash_list.algorithms}
        )
        summaries.append(summary)
    return summaries


# -- preflight ---------------------------------------------------------------------


def expand_inputs(inputs: Sequence[str], *, count: bool) -> tuple[list[str], int | None]:
    """Turn inputs into glob patterns, check each matches something; return (patterns, total).

    Local inputs are made absolute and normalised first (``ph``, ``./ph/``
    and ``/abs/ph`` are one pattern, listed once; a repeat is dropped with a
    note), so every object has one uri whatever the spelling, and a repeat
    audit given another spelling finds last week's files. A directory, or
    any path ending in ``/``, means everything below it (``DIR/**``). Local
    patterns are listed by :mod:`photosieve.listing`: a FIFO or broken link
    counts as a match (a counted skip), it is not a missing input. With
    ``count`` the full listing is counted (local runs, for progress);
    otherwise one match per pattern is enough to know it is not empty.

    Raises:
        ConfigError: an input that matches nothing, naming it.
    """
    patterns: list[str] = []
    givens: list[str] = []
    for given in inputs:
        pattern = normalise(given)
        if given.endswith("/") or (not _GLOB_CHARS & set(given) and _is_dir(given)):
            pattern = FileSystems.join(pattern.rstrip("/") or "/", "**")
        if pattern in patterns:
            _LOG.info(
                "--input %s is %s again: listed once",
                escape(given),
                escape(givens[patterns.index(pattern)]),
            )
            continue
        patterns.append(pattern)
        givens.append(given)
    uris: set[str] = set()
    empty = []
    remote = [(g, p) for g, p in zip(givens, patterns) if not is_local_path(p)]
    for given, pattern in zip(givens, patterns):
        if not is_local_path(pattern):
            continue
        found = False
        for entry in list_pattern(pattern):
            found = True
            if not count:
                break
            if isinstance(entry, Entry):
                uris.add(entry.uri)
        if not found:
            empty.append(given)
    if remote:
        results = FileSystems.match([p for _, p in remote], None if count else [1] * len(remote))
        for (given, _), result in zip(remote, results):
            if not result.metadata_list:
                empty.append(given)
            uris.update(m.path for m in result.metadata_list)
    if empty:
        raise ConfigError(f"--input {' '.join(escape(e) for e in empty)}: matches no files")
    return patterns, len(uris) if count else None


def _is_dir(path: str) -> bool:
    return is_local_path(path) and os.path.isdir(path)


def _exists(pattern: str) -> list[str]:
    return [m.path for m in FileSystems.match([pattern])[0].metadata_list]


def prepare_output(output: str, *, overwrite: bool, mode: str = "private") -> None:
    """Refuse an output directory holding a run, or with ``overwrite`` delete that run; probe it.

    Only photosieve's own files are touched: the tables' shards, the ledger
    and ``summary.json``; anything else in the directory stays. Tables
    without a ``summary.json`` are a run that did not finish (the summary
    is written last): refused the same way, and said so. Then the directory
    is created and a probe file written and deleted through Beam's
    filesystem, so an output that cannot be written (a file, a read-only
    directory, a missing bucket) fails here, before any hashing. With
    ``mode`` ``private`` a new local directory is made 0700 (see
    :func:`output_umask`).

    Raises:
        ConfigError: the directory holds a run and ``overwrite`` is False,
            or it cannot be written.
    """
    try:
        summary = _exists(FileSystems.join(output, SUMMARY_FILE))
        found = summary + _exists(FileSystems.join(output, LEDGER_FILE))
        for table in schemas.TABLES:
            found += _exists(FileSystems.join(output, table, "**"))
    except Exception as exc:  # no filesystem for the scheme, or a client's own error types
        raise ConfigError(f"--output {output} cannot be used: {exc}") from exc
    if found and not overwrite:
        what = "a run" if summary else f"an incomplete run (no {SUMMARY_FILE})"
        raise ConfigError(
            f"--output {output} already holds {what} ({len(found)} files, e.g. {found[0]}); "
            "choose another directory or pass --overwrite to replace it"
        )
    if found:
        _LOG.info("--overwrite: deleting %d files of the previous run in %s", len(found), output)
        FileSystems.delete(found)
    with output_umask(output, mode):
        check_writable(output)


def check_writable(output: str) -> None:
    """Create ``output`` and write and delete a probe file in it (ConfigError when that fails)."""
    try:
        if is_local_path(output):
            if os.path.exists(output) and not os.path.isdir(output):
                raise ConfigError(f"--output {output} is not a directory")
            os.makedirs(output, exist_ok=True)
        else:
            # Object stores have no directories; others (hdfs) refuse an existing one: the
            # probe below says whether a failure here matters.
            with contextlib.suppress(Exception):
                FileSystems.mkdirs(output)
        probe = FileSystems.join(output, f"{_PROBE_PREFIX}{secrets.token_hex(4)}")
        with FileSystems.create(probe, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(bytes(_PROBE_BYTES))
        FileSystems.delete([probe])
    except ConfigError:
        raise
    except Exception as exc:  # OSError, BeamIOError, or a filesystem client's own error types
        raise ConfigError(f"--output {output} cannot be written: {exc}") from exc


# -- running -----------------------------------------------------------------------


def new_context(command: str, args: argparse.Namespace, pipeline_args: list[str]) -> RunContext:
    started = datetime.now(timezone.utc)
    run_id = args.run_id or f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    return RunContext(
        command=command,
        run_id=run_id,
        started_us=int(started.timestamp() * 1_000_000),
        output=args.output,
        num_shards=args.num_shards,
    )


def is_local(pipeline_args: list[str]) -> bool:
    """True for the DirectRunner (in-process or multi-processing on this machine)."""
    runner = PipelineOptions(pipeline_args).view_as(StandardOptions).runner or DEFAULT_RUNNER
    return runner.rsplit(".", 1)[-1] in _LOCAL_RUNNERS


def execute(
    context: RunContext,
    known_args: argparse.Namespace,
    pipeline_args: list[str],
    build: Callable[[beam.Pipeline, RunContext], None],
    *,
    check: Callable[[dict], list[str]],
    total: int | None = None,
    extra: dict | Callable[[dict], dict] | None = None,
) -> int:
    """Run a built pipeline, write ``summary.json``, return the exit status.

    Args:
        context: the run's values (``progress_dir`` is set here for local runs).
        known_args, pipeline_args: from :func:`parse`.
        build: adds the job's steps to the pipeline, including a
            :class:`~transforms.ledger.WriteLedger` into ``context.output``.
        check: returns the accounting problems found in the ledger (empty
            when every object is accounted for).
        total: objects expected, for progress lines (None: no progress lines).
        extra: more sections for summary.json (e.g. ``lists``), or a function
            of the ledger returning them (sections that need the counts).

    Returns:
        0 when the run finished and balanced, 1 otherwise.
    """
    quiet.install(verbose=known_args.verbose)
    options = PipelineOptions(pipeline_args)
    runner = _local_runner(options, verbose=known_args.verbose)
    progress_dir = None
    if known_args.progress and total is not None and is_local(pipeline_args):
        progress_dir = tempfile.mkdtemp(prefix="photosieve-progress-")
        context = replace(context, progress_dir=progress_dir)
    clock = time.monotonic()
    try:
        with output_umask(context.output, known_args.output_mode):
            pipeline = beam.Pipeline(runner=runner, options=options)
            build(pipeline, context)
            if progress_dir:
                with ProgressMonitor(progress_dir, total=total) as monitor:
                    state = pipeline.run().wait_until_finish()
                    _LOG.info("progress: %s", monitor.line())
            else:
                state = pipeline.run().wait_until_finish()
            wall = time.monotonic() - clock
            if state not in (PipelineState.DONE, None):
                _LOG.error(
                    "the pipeline ended in state %s; the run in %s is incomplete (no %s)",
                    state,
                    context.output,
                    SUMMARY_FILE,
                )
                return 1
            ledger = _take_ledger(context.output)
            skipped = pop_skip_examples(ledger)
            problems = check(ledger)
            summary = build_summary(context, known_args, pipeline_args, ledger, problems, wall)
            summary["skipped"] = skipped  # example uris per kind; counts.skipped has the counts
            summary.update((extra(ledger) if callable(extra) else extra) or {})
            write_json(FileSystems.join(context.output, SUMMARY_FILE), summary)
    except Exception as exc:  # noqa: BLE001  (any failure: reported, and no summary)
        # A failed run must not look finished: summary.json, its mark, is written last.
        _LOG.error(
            "the run failed (%s: %s); the output %s is incomplete (no %s)",
            type(exc).__name__,
            exc,
            context.output,
            SUMMARY_FILE,
            exc_info=known_args.verbose,
        )
        return 1
    finally:
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    _log_summary(summary)
    if problems:
        for problem in problems:
            _LOG.error("accounting: %s", problem)
        return 1
    return 0


@contextlib.contextmanager
def output_umask(output: str, mode: str):
    """With ``private``, the umask 077 while the run writes a local output (workers inherit it).

    The SDK worker processes of the local multi-process runner are started
    during the run, by this process, and inherit its umask; so do the
    directories Beam's file sinks create. The umask is per process (a
    program calling photosieve creates private files meanwhile too); the
    previous one is restored after the run.
    """
    if mode != "private" or not is_local_path(output):
        yield
        return
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _local_runner(options: PipelineOptions, *, verbose: bool = False):
    """The FnApiRunner set up as Beam's DirectRunner sets it up, or None for other runners.

    Named directly (``--runner=FnApiRunner``), Beam builds it without the
    pipeline options, so SDK worker processes would not see options such as
    ``--default_sdk_harness_log_level``; the DirectRunner hands them over in
    the provision info, and so does this (same four calls as
    ``apache_beam/runners/direct/direct_runner.py``), with only the options
    that differ from their defaults: all of them include dests such as
    ``pipeline_type_check`` that each worker cannot parse back and warns
    about. Unless ``verbose``, multi-process workers start through
    :mod:`photosieve.pipelines.sdk_worker` (without their start-up noise).
    """
    runner = options.view_as(StandardOptions).runner or DEFAULT_RUNNER
    if runner.rsplit(".", 1)[-1] != "FnApiRunner":
        return None
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options(drop_default=True))
    provision = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    runner_class = fn_runner.FnApiRunner if verbose else _QuietWorkersRunner
    return runner_class(provision_info=fn_runner.ExtendedProvisionInfo(provision))


# The SDK worker command Beam's FnApiRunner uses in multi_processing mode, and ours.
_BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"
_QUIET_WORKER_MODULE = "photosieve.pipelines.sdk_worker"


class _QuietWorkersRunner(fn_runner.FnApiRunner):
    """The FnApiRunner, starting multi-process SDK workers as ``python -m photosieve.pipelines.sdk_worker``.

    ``run_pipeline`` sets the subprocess environment from
    ``--direct_running_mode`` with a fixed command; this swaps the module
    of that command as it is set, and nothing else.
    """

    @property
    def _default_environment(self):
        return self.__dict__["_photosieve_environment"]

    @_default_environment.setter
    def _default_environment(self, environment):
        if isinstance(environment, environments.SubprocessSDKEnvironment):
            command = environment.command_string
            if command.endswith(f" -m {_BEAM_WORKER_MODULE}"):
                environment = environments.SubprocessSDKEnvironment.from_command_string(
                    command.removesuffix(_BEAM_WORKER_MODULE) + _QUIET_WORKER_MODULE
                )
        self.__dict__["_photosieve_environment"] = environment


def _take_ledger(output: str) -> dict:
    """Read the ledger the pipeline wrote, then delete it (summary.json supersedes it)."""
    path = FileSystems.join(output, LEDGER_FILE)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        ledger = json.loads(handle.read().decode("utf-8") or "{}")
    FileSystems.delete([path])
    return ledger


def write_json(path: str, content: dict) -> None:
    """Write ``content`` at ``path`` in one step: a reader sees all of it or nothing.

    Locally through a temporary name and a rename (atomic on POSIX); on
    object stores an object appears only when its upload completes.
    """
    data = (json.dumps(content, indent=2, sort_keys=False) + "\n").encode("utf-8")
    target = path
    if is_local_path(path):
        target = f"{path}{_PARTIAL_SUFFIX}-{secrets.token_hex(4)}"
    try:
        with FileSystems.create(
            target, mime_type="application/json", compression_type=CompressionTypes.UNCOMPRESSED
        ) as out:
            out.write(data)
        if target != path:
            FileSystems.rename([target], [path])  # os.rename: replaces atomically
    except BaseException:
        if target != path and FileSystems.exists(target):
            FileSystems.delete([target])
        raise


def check_accounting(ledger: dict, algorithms: Sequence[str], *, all_frames: bool) -> list[str]:
    """Problems with the rule "every object ends in hashes or errors, per algorithm".

    Returns an empty list when every entry the listing produced was read,
    carried or skipped for a counted reason (listed = read + carried +
    skipped, a file matched by overlapping globs counted once per match),
    every object read reached the hashing step once, and each of its
    requested algorithms is in exactly one of the ``hashes`` and ``errors``
    tables (an animated image may have both, for different frames, only
    when all frames were hashed). Objects a repeat audit carried from a
    previous run, unread, count with their carried rows.
    """
    objects = ledger.get("objects", {})
    read, hashed = objects.get("read", 0), objects.get("hashed", 0)
    carried = objects.get("carried", 0)
    problems = []
    files = ledger.get("files", {})
    listed = ledger.get("listing", {}).get("entries", 0)
    skipped = sum(ledger.get("skipped", {}).get("listing", {}).values())
    arrived = files.get("listed", 0) + files.get("relisted", 0)
    if listed != arrived + skipped:
        problems.append(
            f"{listed} entries listed but {arrived} files read or carried and {skipped} skipped"
        )
    if read != hashed:
        problems.append(f"{read} objects read but {hashed} hashed")
    units = ledger.get("units", {})
    for name in algorithms:
        outcome = units.get(name, {})
        accounted = sum(outcome.values())
        if accounted != hashed + carried:
            problems.append(f"{name}: {accounted} outcomes for {hashed + carried} objects")
        for bad in ("missing", "unexpected") + (() if all_frames else ("partial",)):
            if outcome.get(bad):
                problems.append(f"{name}: {outcome[bad]} objects {bad}")
    for name in sorted(set(units) - set(algorithms)):
        problems.append(
            f"{name}: not requested but reported for {sum(units[name].values())} objects"
        )
    return problems


def check_queries(ledger: dict, hash_rows: int) -> list[str]:
    """Problems with the rule "every stored hash row is queried or skipped for a reason"."""
    queried = sum(n for reasons in ledger.get("queries", {}).values() for n in reasons.values())
    return (
        [] if queried == hash_rows else [f"{hash_rows} hash rows but {queried} queried or skipped"]
    )


def build_summary(
    context: RunContext,
    known_args: argparse.Namespace,
    pipeline_args: list[str],
    ledger: dict,
    problems: list[str],
    wall_seconds: float,
) -> dict:
    """summary.json: counts, the accounting verdict, wall time, options and versions."""
    tables = {
        schemas.HASHES: sum(ledger.get("hashes", {}).get("algorithm", {}).values()),
        schemas.ERRORS: sum(ledger.get("errors", {}).get("class", {}).values()),
        schemas.MATCHES: sum(ledger.get("matches", {}).get("status", {}).values()),
    }
    if "state" in ledger.get("files", {}):  # jobs that write the files table
        tables[schemas.FILES] = sum(ledger["files"]["state"].values())
    started = datetime.fromtimestamp(context.started_us / 1e6, timezone.utc)
    return {
        "command": context.command,
        "run_id": context.run_id,
        "started_at": started.isoformat(),
        "wall_seconds": round(wall_seconds, 3),
        "output": _scrubbed(context.output),
        "accounting": {"balanced": not problems, "problems": problems},
        "tables": tables,
        "counts": ledger,
        "options": {name: _scrubbed(v) for name, v in sorted(vars(known_args).items())},
        "pipeline_options": _redacted(pipeline_args),
        "versions": library_versions(),
    }


def library_versions() -> dict[str, str]:
    """The versions of photosieve and what it runs on, as summary.json records them."""
    return {
        "photosieve": photosieve.__version__,
        "apache_beam": beam.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
    }


def _redacted(pipeline_args: list[str]) -> list[str]:
    """Beam options with credentials hidden (see :func:`photosieve.pipelines.beam_options.redacted`)."""
    return beam_options.redacted(pipeline_args)


def _scrubbed(value):
    """A flag's value with passwords in URLs hidden (``--list https://user:pass@host/l.csv``)."""
    if isinstance(value, str):
        return redaction.redact_url_password(value)
    if isinstance(value, (list, tuple)):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value


def _log_summary(summary: dict) -> None:
    tables = ", ".join(f"{count} {name}" for name, count in summary["tables"].items())
    verdict = "balanced" if summary["accounting"]["balanced"] else "NOT balanced"
    _LOG.info(
        "%s %s finished in %.1f s: %s rows; accounting %s; summary in %s",
        summary["command"],
        summary["run_id"],
        summary["wall_seconds"],
        tables,
        verdict,
        FileSystems.join(summary["output"], SUMMARY_FILE),
    )
