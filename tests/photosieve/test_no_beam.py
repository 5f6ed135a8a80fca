"""The core is Beam-free: importing every module of ``photosieve/`` must not import Beam.

``photosieve.transforms`` and ``photosieve.pipelines`` share the namespace but
not the folder (pyproject.toml maps them from ``transforms/`` and
``pipelines/``): they wrap Beam and are left out by name.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import photosieve

_BEAM_LAYERS = ("photosieve.transforms", "photosieve.pipelines")
_CORE_FOLDER = Path(__file__).resolve().parents[2] / "photosieve"


def _core_modules() -> list[str]:
    modules = [
        info.name
        for info in pkgutil.walk_packages([str(_CORE_FOLDER)], prefix="photosieve.")
        if not info.name.startswith(_BEAM_LAYERS)
    ]
    return ["photosieve", *modules]


def test_the_walk_finds_the_whole_core():
    modules = _core_modules()
    files = [p for p in _CORE_FOLDER.rglob("*.py") if p.name != "__init__.py"]
    assert len(modules) >= len(files) > 40
    assert {"photosieve.names", "photosieve.archives.tar_members", "photosieve.lists.source"} <= set(
        modules
    )
    assert Path(photosieve.__file__).resolve().parent == _CORE_FOLDER


def test_no_core_module_imports_apache_beam():
    # One fresh interpreter per check: a module imported by the test runner must not hide one.
    code = (
        "import importlib, sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "    if any(m.split('.')[0] == 'apache_beam' for m in sys.modules):\n"
        "        sys.exit('imports apache_beam: ' + name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
