"""The package installs one import namespace, ``photosieve``, with every package folder in it."""

from __future__ import annotations

import importlib
import importlib.resources
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where each installed package's folder is in the repository (the layout keeps
# transforms/, pipelines/ and configs/ at the top; they install under photosieve).
_FOLDERS = {"photosieve": ROOT / "photosieve", "photosieve.transforms": ROOT / "transforms",
            "photosieve.pipelines": ROOT / "pipelines", "photosieve.configs": ROOT / "configs"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _package_folders() -> set[str]:
    found = set()
    for name, folder in _FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((name, *relative)))
    return found


def test_every_package_folder_is_installed_and_nothing_else_at_the_top():
    packages = set(_setuptools()["packages"])
    assert packages == _package_folders()
    assert {name.split(".")[0] for name in packages} == {"photosieve"}


def test_the_top_level_folders_are_mapped_into_the_namespace():
    mapping = _setuptools()["package-dir"]
    assert mapping == {
        "photosieve.transforms": "transforms",
        "photosieve.pipelines": "pipelines",
        "photosieve.configs": "configs",
    }
    for name in mapping:
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().parent == ROOT / mapping[name]


def test_the_command_is_in_the_namespace():
    script = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["photosieve"]
    module, _, function = script.partition(":")
    assert module.startswith("photosieve.")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_shipped_profiles_are_package_data():
    """configs/*.yaml install with the package, so --config NAME works outside a checkout."""
    patterns = _setuptools()["package-data"]["photosieve.configs"]
    profiles = sorted(path.name for path in (ROOT / "configs").glob("*.yaml"))
    assert profiles
    assert all(any(Path(name).match(pattern) for pattern in patterns) for name in profiles)
    installed = importlib.resources.files("photosieve.configs")
    assert sorted(e.name for e in installed.iterdir() if e.name.endswith(".yaml")) == profiles
