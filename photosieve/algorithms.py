"""The registry of the built-in hash algorithms: sizes, distance metrics, default thresholds.

Every other module (list readers, index, schemas, CLI) asks this registry
instead of retyping a length or a threshold. The specs themselves are each
algorithm's ``SPEC`` (:class:`~photosieve.algorithm_spec.AlgorithmSpec`,
re-exported here with :class:`Metric` for callers), listed once, in order,
in ``photosieve.hashes.BUILTIN``; see that package for adding an algorithm.

Importing this module imports no hash module: the tuple is read on the first
lookup, so modules the hash modules import (``photosieve.hashes.value``) can
import this one at the top.
"""

from __future__ import annotations

from photosieve.algorithm_spec import AlgorithmSpec, Metric, Registry, lookup

__all__ = ["AlgorithmSpec", "Metric", "builtin", "choice", "choices", "get", "names"]

_BUILTIN: Registry | None = None
# Stored name -> spec of the built-in registry, filled on first use; get() reads it.
_REGISTRY: dict[str, AlgorithmSpec] = {}


def builtin() -> Registry:
    """The registry of ``photosieve.hashes.BUILTIN``, built on first use."""
    global _BUILTIN
    if _BUILTIN is None:
        from photosieve.hashes import BUILTIN  # the tuple; not at the top (see above)

        registry = Registry(BUILTIN)
        _REGISTRY.clear()
        _REGISTRY.update(registry.by_name)
        _BUILTIN = registry
    return _BUILTIN


def get(name: str) -> AlgorithmSpec:
    """Return the spec for stored name ``name`` (case-insensitive), or raise ConfigError."""
    builtin()
    return lookup(_REGISTRY, name)


def names() -> list[str]:
    """The stored names of the built-in algorithms, sorted."""
    builtin()
    return sorted(_REGISTRY)


def choices() -> tuple[str, ...]:
    """Every name the CLI and configs accept, in ``BUILTIN``'s order."""
    return builtin().choices


def choice(cli_name: str) -> AlgorithmSpec:
    """The spec a CLI name asks for (``pdq-dihedral``: a dihedral ``pdq``), or ConfigError."""
    return builtin().choice(cli_name)
