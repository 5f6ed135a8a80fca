"""``photosieve configs`` (pipelines.configs_cli): the shipped profiles, parsed from stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from photosieve.pipelines import cli, profile_names

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def test_configs_lists_every_shipped_profile_with_its_first_comment_line(capsys, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["configs"]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("  "):
            name, _, what = line.strip().partition(" ")
            rows[name] = what.strip()
    assert set(rows) == {path.stem for path in CONFIG_DIR.glob("*.yaml")}
    for name, what in rows.items():
        first = next(
            line for line in (CONFIG_DIR / f"{name}.yaml").read_text().splitlines()
            if line.strip("# ")
        )
        assert what == first.lstrip("#").strip(), name


def test_configs_name_prints_the_profile_to_copy(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["configs", "weekly"]) == 0
    printed = capsys.readouterr().out
    assert yaml.safe_load(printed) == yaml.safe_load((CONFIG_DIR / "weekly.yaml").read_text())


def test_configs_with_an_unknown_name_is_a_usage_error_listing_the_names(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["configs", "wekly"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no shipped profile 'wekly'" in err
    assert all(name in err for name in profile_names.shipped())
