"""The shipped profiles in configs/: they parse, and every Beam option in them is one Beam knows."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from photosieve.pipelines import audit

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
CONFIGS = sorted(CONFIG_DIR.glob("*.yaml"))


def _beam_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    pending = list(PipelineOptions.__subclasses__())
    while pending:
        options_class = pending.pop()
        pending += options_class.__subclasses__()
        try:
            options_class._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass  # an option two classes both declare
    return parser


def test_the_profiles_the_readme_names_are_shipped():
    assert {path.stem for path in CONFIGS} >= {"local", "portable", "dataflow", "flink", "spark"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_profile_parses_and_uses_only_known_beam_options(path):
    _, pipeline_args = audit.parse_args(["-c", str(path), "-i", "x", "-l", "a.txt", "-o", "out"])
    known, unknown = _beam_parser().parse_known_args(pipeline_args)
    assert unknown == [], f"{path.name}: options Beam does not know: {unknown}"
    assert known.runner


def test_local_profile_is_one_worker_process_per_core():
    _, pipeline_args = audit.parse_args(
        ["-c", str(CONFIG_DIR / "local.yaml"), "-i", "x", "-l", "a.txt", "-o", "out"]
    )
    options = PipelineOptions(pipeline_args).get_all_options()
    assert (options["runner"], options["direct_running_mode"], options["direct_num_workers"]) == (
        "FnApiRunner",
        "multi_processing",
        0,
    )
