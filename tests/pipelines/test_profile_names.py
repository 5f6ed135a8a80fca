"""--config NAME (pipelines.profile_names): shipped profiles from any folder, a path always wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosieve.errors import ConfigError
from photosieve.pipelines import profile_names

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def test_every_profile_in_configs_is_shipped_by_name():
    shipped = profile_names.shipped()
    assert set(shipped) == {path.stem for path in CONFIG_DIR.glob("*.yaml")}
    assert {"local", "weekly", "dataflow"} <= set(shipped)
    for name, path in shipped.items():
        assert Path(path).read_bytes() == (CONFIG_DIR / f"{name}.yaml").read_bytes()


@pytest.mark.parametrize("spelling", ["local", "local.yaml", "configs/local.yaml"])
def test_a_shipped_name_resolves_from_any_folder(spelling, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = profile_names.resolve(spelling)
    assert Path(resolved).read_bytes() == (CONFIG_DIR / "local.yaml").read_bytes()


@pytest.mark.parametrize("spelling", ["local", "local.yaml", "configs/local.yaml"])
def test_an_existing_file_wins_over_the_shipped_name(spelling, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / spelling).write_text("algorithms: md5\n")
    assert profile_names.resolve(spelling) == spelling


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        profile_names.resolve("lcoal")
    message = str(error.value)
    assert "--config lcoal: no such profile" in message
    assert all(name in message for name in profile_names.shipped())
    assert "photosieve configs" in message


@pytest.mark.parametrize(
    "value", ["my/own.yaml", "gs://bucket/weekly.yaml", "elsewhere/local.yaml"]
)
def test_paths_that_are_not_shipped_names_are_left_as_given(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert profile_names.resolve(value) == value


def test_each_shipped_profile_says_what_it_is_for_in_its_first_comment_line():
    for name, path in profile_names.shipped().items():
        line = profile_names.describe(path)
        assert line and not line.startswith("#"), name
        assert len(line) <= 100, name


def test_describe_skips_blank_comment_lines(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("#\n#   \n# What it is for.\n# More.\nalgorithms: md5\n")
    assert profile_names.describe(str(profile)) == "What it is for."
