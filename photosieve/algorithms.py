"""The registry of hash algorithms: sizes, distance metrics, default thresholds.

Every other module (list readers, index, schemas, CLI) asks this registry
instead of retyping a length or a threshold. Spec numbers themselves live in
the algorithm's own module (``photosieve.hashes.pdq.PDQ_BITS``...) and are
imported here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from photosieve.errors import ConfigError


class Metric(enum.Enum):
    HAMMING = "hamming"  # popcount of XOR over the packed bits
    EUCLIDEAN = "euclidean"  # L2 over the bytes read as unsigned integers
    EXACT = "exact"  # equal or not (cryptographic digests)


@dataclass(frozen=True)
class AlgorithmSpec:
    """What every consumer needs to know about one algorithm.

    Attributes:
        name: canonical lowercase name, as stored in Parquet and list files.
        nbytes: length of the packed hash.
        metric: how two hashes of this algorithm are compared.
        default_threshold: the distance at or below which two hashes match,
            unless a list or flag says otherwise. See each module for why.
        needs_pixels: False for digests of the raw bytes.
        version: the implementation's version. Bump it with any change that
            alters an output bit for some input (a different filter, rounding,
            a decoder fix): incremental audits (``audit --previous``) carry
            stored hashes forward only when their version equals this one,
            and re-hash the objects otherwise.
    """

    name: str
    nbytes: int
    metric: Metric
    default_threshold: float
    needs_pixels: bool = True
    version: int = 1

    @property
    def nbits(self) -> int:
        return self.nbytes * 8

    @property
    def hex_len(self) -> int:
        return self.nbytes * 2


_REGISTRY: dict[str, AlgorithmSpec] = {}


def register(spec: AlgorithmSpec) -> AlgorithmSpec:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> AlgorithmSpec:
    """Return the spec for ``name`` (case-insensitive), or raise ConfigError."""
    _load_builtin()
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown hash algorithm {name!r}; known: {known}") from None


def names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def _load_builtin() -> None:
    # Imported lazily: the hash modules import this registry to register themselves.
    if not _REGISTRY:
        import photosieve.hashes  # noqa: F401  (registers every built-in algorithm)
