"""What one hash algorithm is: its spec type, and the lookups built from a tuple of specs.

Each hash module defines its own ``SPEC = AlgorithmSpec(...)``: sizes,
metric, default threshold, version, CLI name and compute function, next to
the numbers they come from. This module is the type those modules import,
so it imports no hash module (not even lazily): the hash modules depend on
it, never the other way. :mod:`photosieve.algorithms` is the registry of the
built-in specs; :class:`Registry` here is the same lookup over any tuple,
for tests and for tools that bring their own algorithms.

>>> spec = AlgorithmSpec("toy", 2, Metric.HAMMING, 3)
>>> spec.cli_name, spec.hex_len, spec.nbits
('toy', 4, 16)
>>> Registry((spec,)).get("TOY") is spec
True
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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
        compute: how the hasher computes it. With ``needs_pixels``:
            ``compute(images) -> list``, one entry per H x W x 3 uint8 RGB
            array, a HashResult (eight of them, in a list, for a ``dihedral``
            spec); may raise ValueError for an image it cannot hash (too
            small), which becomes a ``too_small`` failure. Without:
            ``compute(data: bytes) -> HashResult``. A module-level function,
            so specs pickle (by reference) and compare equal after.
        cli_name: the name ``--algorithms`` and configs accept; defaults to
            ``name``. A second spec with the same ``name`` and another
            ``cli_name`` is another way to ask for the same stored hashes
            (``pdq-dihedral`` stores ``pdq`` hashes).
        dihedral: asking for ``cli_name`` stores hashes of all eight
            orientations (rotations and mirrors) of each image. The hasher
            implements this for PDQ only.
    """

    name: str
    nbytes: int
    metric: Metric
    default_threshold: float
    needs_pixels: bool = True
    version: int = 1
    compute: Callable[..., Any] | None = field(default=None, repr=False)
    cli_name: str = ""
    dihedral: bool = False

    def __post_init__(self) -> None:
        if not self.cli_name:
            object.__setattr__(self, "cli_name", self.name)

    @property
    def nbits(self) -> int:
        return self.nbytes * 8

    @property
    def hex_len(self) -> int:
        return self.nbytes * 2


class Registry:
    """Lookups over an ordered tuple of specs: by stored name, by CLI name, in order.

    The tuple's order is the order of ``choices`` (the CLI's list) and of
    the algorithms in a hash plan. A stored name is served by the spec whose
    ``cli_name`` is that name; other specs with the same name (a dihedral
    form) must agree with it on everything a stored hash depends on.

    Raises:
        ValueError: a CLI name twice, a name not lowercase, a variant
            without its plain spec or disagreeing with it. These are
            programming errors in the tuple, not user input.
    """

    def __init__(self, specs: Iterable[AlgorithmSpec]):
        self.specs: tuple[AlgorithmSpec, ...] = tuple(specs)
        self._by_name: dict[str, AlgorithmSpec] = {}
        self._by_choice: dict[str, AlgorithmSpec] = {}
        for spec in self.specs:
            if spec.cli_name in self._by_choice:
                raise ValueError(f"two algorithm specs are named {spec.cli_name!r}")
            if spec.name != spec.name.lower() or spec.cli_name != spec.cli_name.lower():
                raise ValueError(f"algorithm names are lowercase: {spec.cli_name!r}")
            self._by_choice[spec.cli_name] = spec
            if spec.cli_name == spec.name:
                self._by_name[spec.name] = spec
        for spec in self.specs:
            plain = self._by_name.get(spec.name)
            what = f"{spec.cli_name!r} stores {spec.name!r} hashes"
            if plain is None:
                raise ValueError(f"{what}, which no spec defines")
            if _stored_form(spec) != _stored_form(plain):
                raise ValueError(f"{what} and disagrees with {spec.name!r} on what they are")

    def get(self, name: str) -> AlgorithmSpec:
        """The spec of stored name ``name`` (case-insensitive), or raise ConfigError."""
        return lookup(self._by_name, name)

    def names(self) -> list[str]:
        """The stored names, sorted."""
        return sorted(self._by_name)

    @property
    def by_name(self) -> dict[str, AlgorithmSpec]:
        """Stored name -> spec (a copy)."""
        return dict(self._by_name)

    @property
    def choices(self) -> tuple[str, ...]:
        """Every CLI name, in the tuple's order."""
        return tuple(self._by_choice)

    def choice(self, cli_name: str) -> AlgorithmSpec:
        """The spec a CLI name asks for (case-insensitive), or raise ConfigError."""
        try:
            return self._by_choice[cli_name.strip().lower()]
        except KeyError:
            raise ConfigError(
                f"unknown algorithm {cli_name!r}; choose from {', '.join(self.choices)}"
            ) from None


def lookup(by_name: dict[str, AlgorithmSpec], name: str) -> AlgorithmSpec:
    """``by_name[name.lower()]``, or a ConfigError that names the known algorithms."""
    try:
        return by_name[name.lower()]
    except KeyError:
        known = ", ".join(sorted(by_name))
        raise ConfigError(f"unknown hash algorithm {name!r}; known: {known}") from None


def _stored_form(spec: AlgorithmSpec) -> tuple:
    """What a stored hash's meaning depends on (not how it is asked for or computed)."""
    return (spec.name, spec.nbytes, spec.metric, spec.default_threshold, spec.needs_pixels,
            spec.version)
