"""``--config`` profiles: a YAML file of flag defaults, with Beam's options under one key.

    # configs/dataflow.yaml (--config dataflow)
    algorithms: pdq,md5
    pipeline_options:
      runner: DataflowRunner
      temp_location: gs://bucket/tmp

Every key but :data:`PIPELINE_OPTIONS_KEY` is a flag's dest (``max_bytes``
for ``--max-bytes``) of the command the profile is given to: an unknown key
is an error naming the known ones, as is a Beam option Beam does not have.
``--config`` takes a path or a shipped profile's name
(:mod:`photosieve.pipelines.profile_names`).
"""

from __future__ import annotations

import argparse
import json

import yaml
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve.errors import ConfigError
from photosieve.pipelines import beam_options, profile_names

__all__ = ["PIPELINE_OPTIONS_KEY", "beam_arguments", "read_profile"]

# Profiles keep Beam's options under this key; every other key is a flag's dest.
PIPELINE_OPTIONS_KEY = "pipeline_options"


def read_profile(path: str, parser: argparse.ArgumentParser) -> tuple[dict, list[str]]:
    """Read a profile (a path or a shipped name): (flag defaults by dest, Beam option arguments)."""
    resolved = profile_names.resolve(path)
    try:
        with FileSystems.open(resolved, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            text = handle.read()
    except Exception as exc:  # OSError, or a filesystem client's own error types
        raise ConfigError(
            f"--config {path}: cannot read the profile: {exc}; {profile_names.names_hint()}"
        ) from exc
    try:
        content = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config {path}: not a YAML profile: {exc}") from exc
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
    return content, beam_arguments(beam_settings)


def beam_arguments(options: dict) -> list[str]:
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


