"""``--config NAME``: the shipped profiles by name, from any folder.

The profiles in the repository's ``configs/`` install as package data
(``photosieve.configs``), so ``--config local`` works wherever photosieve is
installed, not only inside a checkout. :func:`resolve` turns what the user
typed into the file to read:

* an existing file (or a ``scheme://`` path) is read as given: a path
  always wins over a shipped name;
* ``local``, ``local.yaml`` or ``configs/local.yaml`` that is not a file
  here is the shipped ``local.yaml`` (so the README's commands run from
  any folder);
* any other bare name is an error that lists the shipped names.

Beam-free, so ``photosieve configs`` starts fast.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from pathlib import PurePath

from photosieve.errors import ConfigError

__all__ = ["SHIPPED_PACKAGE", "describe", "names_hint", "resolve", "shipped"]

_LOG = logging.getLogger(__name__)

# Where the shipped profiles are installed (pyproject.toml maps configs/ to it).
SHIPPED_PACKAGE = "photosieve.configs"
_SUFFIXES = (".yaml", ".yml")
# The folder name the README's `--config configs/NAME.yaml` spells.
_FOLDER = "configs"


def shipped() -> dict[str, str]:
    """The shipped profiles: name (file stem) -> path of the installed file, sorted by name."""
    folder = importlib.resources.files(SHIPPED_PACKAGE)
    found = {
        PurePath(entry.name).stem: str(entry)
        for entry in folder.iterdir()
        if entry.name.endswith(_SUFFIXES) and entry.is_file()
    }
    return dict(sorted(found.items()))


def describe(path: str) -> str:
    """The first comment line of a profile (what it is for), without the ``#``."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text = line.strip()
            if text.startswith("#") and text.lstrip("#").strip():
                return text.lstrip("#").strip()
    return ""


def _shipped_name(value: str) -> str | None:
    """The shipped name ``value`` spells (``local``, ``local.yaml``, ``configs/local.yaml``)."""
    path = PurePath(value)
    if path.suffix in _SUFFIXES:
        if len(path.parts) == 1 or (len(path.parts) == 2 and path.parts[0] == _FOLDER):
            return path.stem
        return None
    return value if len(path.parts) == 1 and not path.suffix else None


def resolve(value: str) -> str:
    """The profile file ``--config value`` means (see the module doc).

    Raises:
        ConfigError: ``value`` is a bare name that no shipped profile has.
    """
    if "://" in value or os.path.exists(value):
        return value
    name = _shipped_name(value)
    profiles = shipped()
    if name in profiles:
        if name != value:
            _LOG.info("--config %s: not a file here; using the shipped profile %r", value, name)
        return profiles[name]
    if name == value:  # a bare word, not a path: the user meant a shipped name
        raise ConfigError(
            f"--config {value}: no such profile (not a file, not a shipped name); "
            f"{names_hint(profiles)}"
        )
    return value  # a path that is not there: reading it says so, with the hint


def names_hint(profiles: dict[str, str] | None = None) -> str:
    """``shipped profiles: a, b, c ('photosieve configs' describes them)``."""
    names = ", ".join(profiles if profiles is not None else shipped())
    return f"shipped profiles: {names} ('photosieve configs' describes them)"
