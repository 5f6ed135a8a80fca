"""The spec type, and Registry: the lookups over any ordered tuple of specs."""

from __future__ import annotations

import ast
import dataclasses
import pickle
from pathlib import Path

import pytest

from photosieve.algorithm_spec import AlgorithmSpec, Metric, Registry
from photosieve.errors import ConfigError

_CORE = Path(__file__).resolve().parents[2] / "photosieve"


def test_a_spec_is_asked_for_by_its_name_unless_it_says_otherwise():
    plain = AlgorithmSpec("toy", 3, Metric.HAMMING, 2)
    assert (plain.cli_name, plain.dihedral, plain.nbits, plain.hex_len) == ("toy", False, 24, 6)
    wide = dataclasses.replace(plain, cli_name="toy-dihedral", dihedral=True)
    assert (wide.name, wide.cli_name) == ("toy", "toy-dihedral")
    assert pickle.loads(pickle.dumps(wide)) == wide


def test_a_registry_rejects_a_tuple_that_cannot_be_one():
    toy = AlgorithmSpec("toy", 1, Metric.HAMMING, 2)
    with pytest.raises(ValueError, match="two algorithm specs"):
        Registry((toy, toy))
    with pytest.raises(ValueError, match="which no spec defines"):
        Registry((dataclasses.replace(toy, cli_name="toy-dihedral", dihedral=True),))
    with pytest.raises(ValueError, match="disagrees"):
        Registry((toy, dataclasses.replace(toy, cli_name="toy-wide", nbytes=2)))
    with pytest.raises(ValueError, match="lowercase"):
        Registry((AlgorithmSpec("Toy", 1, Metric.HAMMING, 2),))


def test_a_registry_keeps_its_tuples_order_and_sorts_its_names():
    specs = [AlgorithmSpec(n, 1, Metric.HAMMING, 2) for n in ("zeta", "alpha", "mid")]
    registry = Registry(specs)
    assert registry.choices == ("zeta", "alpha", "mid")
    assert registry.names() == ["alpha", "mid", "zeta"]
    assert registry.get("ALPHA") is specs[1] and registry.choice(" Mid ") is specs[2]


def test_a_registrys_unknown_names_are_config_errors_naming_the_known_ones():
    registry = Registry(AlgorithmSpec(n, 1, Metric.EXACT, 0, needs_pixels=False) for n in "ba")
    with pytest.raises(ConfigError, match="unknown hash algorithm 'c'; known: a, b"):
        registry.get("c")
    with pytest.raises(ConfigError, match="unknown algorithm 'c'; choose from b, a"):
        registry.choice("c")


def test_the_spec_type_imports_nothing_of_photosieve_but_its_errors():
    ours = {m for m in imported_modules(_CORE / "algorithm_spec.py") if m.startswith("photosieve")}
    assert ours <= {"photosieve.errors", "photosieve.errors.ConfigError"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found
