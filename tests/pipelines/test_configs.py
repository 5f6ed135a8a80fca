"""The shipped profiles in configs/: they parse, and every Beam option in them is one Beam knows."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
import yaml
from apache_beam.options.pipeline_options import PipelineOptions

from photosieve.pipelines import audit, match, profile_names, scan

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "configs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
JOBS = {"audit": audit, "scan": scan, "match": match}
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
    assert {path.stem for path in CONFIGS} >= {
        "local",
        "portable",
        "dataflow",
        "flink",
        "spark",
        "weekly",
    }


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


def _readme_commands() -> list[str]:
    """The photosieve Beam job command lines in README.md's shell blocks, continuations joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if len(words) > 1 and words[0].endswith("photosieve") and words[1] in JOBS:
                commands.append(words[1:])
    return commands


def test_every_profile_the_readme_names_resolves_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = set(re.findall(r"(?:--config|-c)[ =]([^\s`'\"]+)", README))
    named = {value for value in named if not re.search(r"[A-Z]{3}", value)}  # not NAME, YAML
    assert {"configs/weekly.yaml", "configs/local.yaml"} <= named
    for value in named:
        assert Path(profile_names.resolve(value)).is_file(), value


def test_every_readme_job_command_with_a_profile_parses_as_written_from_any_folder(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    commands = [words for words in _readme_commands() if "--config" in words or "-c" in words]
    assert len(commands) >= 5
    for words in commands:
        known, pipeline_args = JOBS[words[0]].parse_args(words[1:])
        assert known.output and pipeline_args, words


def test_the_weekly_profile_is_the_one_the_readme_shows():
    shown = re.search(r"```yaml\n# configs/weekly.yaml\n(.*?)```", README, flags=re.S)
    assert shown, "README's Weekly audits section shows configs/weekly.yaml"
    shipped = yaml.safe_load((CONFIG_DIR / "weekly.yaml").read_text())
    assert yaml.safe_load(shown.group(1)) == shipped
