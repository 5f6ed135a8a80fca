"""Runs a transforms module's docstring examples, and checks every public PTransform has one.

The examples are the transforms' documentation (``>>>`` lines a reader can
paste); running them here keeps them true. Each builds its input with
``beam.Create`` or a temporary folder, and checks its output with
``assert_that`` or by reading what it wrote.
"""

from __future__ import annotations

import doctest
import inspect
from types import ModuleType

import apache_beam as beam

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def check(module: ModuleType) -> None:
    transforms = [
        name
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, beam.PTransform)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    ]
    assert transforms, f"no public PTransform in {module.__name__}"
    without = [name for name in transforms if ">>>" not in (vars(module)[name].__doc__ or "")]
    assert not without, f"PTransforms without a docstring example: {without}"
    result = doctest.testmod(module, optionflags=OPTIONS, report=True)
    assert result.attempted > 0 and result.failed == 0, result
