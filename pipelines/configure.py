"""Flags in, one :class:`~photosieve.run_config.RunConfig` out: the run, parsed once.

:func:`run_config` is the only place that turns the parsed flags
(``argparse.Namespace``) into the run's value: the hash plan (with
``--dihedral`` and ``--match-mode``'s query hashes), the lists with their
thresholds, the inputs, the output, the previous runs. Everything after it
(preflight, the pipeline, ``summary.json``) takes the value, never the flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Sequence

from photosieve.cli import values
from photosieve.cli.hash_flags import decode_options, video_settings
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan
from photosieve.lists import ListRole, ListSpec, load_list_specs
from photosieve.pipelines import flags, redaction
from photosieve.robust.modes import plan_for_mode
from photosieve.run_config import Inputs, Matching, Output, Previous, RunConfig
from photosieve.video.video_list import VideoListSpec
from photosieve.video.video_match import VideoRule
from photosieve.video.vpdq import VPDQ_DISTANCE_THRESHOLD

__all__ = ["hash_plan", "list_specs", "parse_run", "run_config"]


def run_config(command: str, args: argparse.Namespace, pipeline_args: Sequence[str]) -> RunConfig:
    """The run the flags describe.

    Raises:
        ConfigError: a bad value or combination, naming the flags.
    """
    given = vars(args)
    hashes = command in ("audit", "scan")
    matches = command in ("audit", "match")
    return RunConfig(
        command=command,
        output=Output(
            path=args.output,
            overwrite=args.overwrite,
            mode=args.output_mode,
            num_shards=args.num_shards,
            run_id=args.run_id,
        ),
        pipeline_args=tuple(pipeline_args),
        inputs=_inputs(args) if hashes else None,
        plan=hash_plan(args) if hashes else None,
        matching=_matching(args) if matches else None,
        stored_hashes=given.get("hashes"),
        previous=Previous(tuple(given.get("previous") or ()), rehash=given.get("rehash", False)),
        progress=args.progress,
        verbose=args.verbose,
        flags=tuple(sorted((name, _scrubbed(value)) for name, value in given.items())),
    )


def _inputs(args: argparse.Namespace) -> Inputs:
    return Inputs(
        patterns=tuple(args.input or ()),
        archives=args.archives,
        max_archive_bytes=args.max_archive_bytes,
        max_bytes=args.max_bytes,
        checksums=getattr(args, "checksums", False),
    )


def _matching(args: argparse.Namespace) -> Matching:
    return Matching(
        lists=tuple(list_specs(args)),
        strategy=args.strategy,
        quality_cutoff=args.quality_cutoff,
        strict_lists=not args.lenient_lists,
        match_mode=args.match_mode,
        max_list_bytes=args.max_list_bytes,
        false_match_budget=args.false_match_budget,
        side_input_budget=args.side_input_budget,
        video_lists=video_list_specs(args),
        video_rule=VideoRule(args.quality_cutoff, *getattr(args, "video_share", (80.0, 0.0))),
    )


def video_list_specs(args: argparse.Namespace) -> tuple[VideoListSpec, ...]:
    """The run's video lists from ``--video-list`` (or the profile), with ``--video-distance``."""
    distance = getattr(args, "video_distance", VPDQ_DISTANCE_THRESHOLD)
    max_bytes = getattr(args, "max_list_bytes", None)
    specs = []
    for entry in getattr(args, "video_list", None) or ():
        if isinstance(entry, str):
            spec = dataclasses.replace(VideoListSpec.parse(entry), distance=distance, max_bytes=max_bytes)
        elif isinstance(entry, dict) and set(entry) <= {"path", "name", "distance"}:
            spec = VideoListSpec(**{"distance": distance, "max_bytes": max_bytes, **entry})
        else:
            raise ConfigError(f"video_list entries are NAME=PATH or {{path, name, distance}}, got {entry!r}")
        specs.append(spec)
    return tuple(specs)


def hash_plan(args: argparse.Namespace) -> HashPlan:
    """The HashPlan of the hash flags, ``--dihedral`` and ``--match-mode`` (ConfigError names the bad option)."""
    plan = HashPlan.parse(args.algorithms, decode_options(args), **video_settings(args))
    if getattr(args, "dihedral", False):
        if "pdq" not in plan.algorithms:
            raise ConfigError("--dihedral needs pdq among --algorithms")
        plan = dataclasses.replace(plan, pdq_dihedral=True)
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
        dataclasses.replace(  # __post_init__ checks the thresholds and the byte limit again
            spec,
            thresholds={**spec.thresholds, **overrides.get(None, {}), **overrides.get(spec.name, {})},
            max_bytes=getattr(args, "max_list_bytes", None),
        )
        for spec in specs
    ]


def _scrubbed(value):
    """A flag's value with passwords in URLs hidden (``--list https://user:pass@host/l.csv``)."""
    if isinstance(value, str):
        return redaction.redact_url_password(value)
    if isinstance(value, (list, tuple)):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value




def parse_run(
    command: str,
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    *,
    required: Sequence[str] = (),
) -> RunConfig:
    """Parse ``argv`` with ``parser`` (over its profile) into the run: a usage error (exit 2) otherwise."""
    known, pipeline_args = flags.parse(parser, argv, required=required)
    try:
        return run_config(command, known, pipeline_args)
    except ConfigError as exc:
        parser.error(str(exc))
