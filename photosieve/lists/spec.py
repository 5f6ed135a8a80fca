"""Several lists at once: each with a name, a role and its own thresholds.

A run matches against any number of lists. Each :class:`ListSpec` says where
the file is, what to call it, and per algorithm how close a hash must be.
Its role is either

* ``match``: matches are reported, or
* ``suppress``: a known-benign list (stock photos, logos, memes). A query
  hash within its threshold of a suppress list is *not* reported as a match
  against the other lists; the pipeline records the suppression instead,
  citing the list and its version, so nothing disappears silently.

Specs come from a profile's ``lists:`` section or from code::

    lists:
      - {name: ncmec, path: gs://bucket/ncmec.csv.gz, thresholds: {pdq: 31}}
      - {name: benign, path: benign.txt, role: suppress, thresholds: {pdq: 20}}
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from photosieve import algorithms
from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists.hash_list import HashList
from photosieve.lists.entries import ItemEntries, read_list_entries
from photosieve.lists.read import FORMATS, default_name, read_list
from photosieve.lists.source import OpenFn, parse_byte_size
from photosieve.robust.budget import parse_budget


class ListRole(enum.Enum):
    MATCH = "match"
    SUPPRESS = "suppress"


@dataclass(frozen=True)
class ListSpec:
    """One list of a run.

    Attributes:
        path: the file (local, ``gs://``, ``s3://``).
        name: unique within the run; default: the file name without extensions.
        role: :class:`ListRole`.
        thresholds: algorithm -> maximum distance for this list; algorithms
            not named use their default (``photosieve.algorithms``).
        algorithm: read every hash of the file as this algorithm.
        format: force a format instead of sniffing (see ``FORMATS``).
        max_bytes: the most content the file may hold or inflate to; None:
            :data:`~photosieve.lists.source.DEFAULT_MAX_LIST_BYTES`. Set
            for the run (``--max-list-bytes``), carried to every worker.
        false_match_budget: expected false matches per scanned image this
            list may cost (its PDQ threshold is chosen from it); None: the
            run's ``--false-match-budget``.
    """

    path: str
    name: str = ""
    role: ListRole = ListRole.MATCH
    thresholds: Mapping[str, float] = field(default_factory=dict, hash=False)
    algorithm: str | None = None
    format: str | None = None
    max_bytes: int | None = None
    false_match_budget: float | None = None

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("a list needs a path")
        object.__setattr__(self, "name", self.name or default_name(self.path))
        role = self.role
        if not isinstance(role, ListRole):
            try:
                role = ListRole(str(role).lower())
            except ValueError:
                raise ConfigError(
                    f"list {self.name!r}: role must be 'match' or 'suppress', got {self.role!r}"
                ) from None
        object.__setattr__(self, "role", role)
        thresholds = {}
        for algorithm, value in dict(self.thresholds).items():
            spec = algorithms.get(algorithm)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigError(
                    f"list {self.name!r}: {spec.name} threshold must be a number >= 0,"
                    f" got {value!r}"
                )
            thresholds[spec.name] = value
        object.__setattr__(self, "thresholds", thresholds)  # a plain dict: it pickles
        if self.algorithm is not None:
            object.__setattr__(self, "algorithm", algorithms.get(self.algorithm).name)
        if self.max_bytes is not None:
            object.__setattr__(self, "max_bytes", parse_byte_size(self.max_bytes))
        if self.false_match_budget is not None:
            budget = parse_budget(self.false_match_budget, f"list {self.name!r}: false_match_budget")
            object.__setattr__(self, "false_match_budget", budget)
        if self.format is not None and self.format not in FORMATS:
            raise ConfigError(
                f"list {self.name!r}: unknown format {self.format!r}; known: {', '.join(FORMATS)}"
            )

    def threshold(self, algorithm: str) -> float:
        """This list's threshold for ``algorithm`` (its own, or the algorithm's default)."""
        spec = algorithms.get(algorithm)
        return self.thresholds.get(spec.name, spec.default_threshold)

    def read(self, *, strict: bool = True, open_fn: OpenFn | None = None) -> HashList:
        """Read the file this spec names, as it says (name, algorithm, format, byte limit)."""
        return read_list(self.path, strict=strict, open_fn=open_fn, **self._reading())

    def read_entries(
        self, *, strict: bool = True, open_fn: OpenFn | None = None
    ) -> tuple[HashList, dict[str, ItemEntries]]:
        """:meth:`read`, with each hash's entries paired per algorithm (matching modes need them)."""
        return read_list_entries(self.path, strict=strict, open_fn=open_fn, **self._reading())

    def _reading(self) -> dict:
        """What the list readers take from the spec: the one place its fields become arguments."""
        return {
            "name": self.name,
            "algorithm": self.algorithm,
            "format": self.format,
            "max_bytes": self.max_bytes,
        }

    @classmethod
    def from_dict(cls, config: Mapping) -> ListSpec:
        """From a profile entry; unknown keys are errors (a typo must not pass silently)."""
        known = {"path", "name", "role", "thresholds", "algorithm", "format", "false_match_budget"}
        unknown = set(config) - known
        if unknown:
            raise ConfigError(
                f"list entry {dict(config)!r}: unknown keys {sorted(unknown)};"
                f" known: {sorted(known)}"
            )
        return cls(**dict(config))


def load_list_specs(entries: Iterable[Mapping | str]) -> list[ListSpec]:
    """Specs from profile entries (dicts, or bare paths); names must be unique."""
    specs = [
        ListSpec(path=entry) if isinstance(entry, str) else ListSpec.from_dict(entry)
        for entry in entries
    ]
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(
                f"two lists are named {spec.name!r} ({seen[spec.name]} and {spec.path}); name them"
            )
        seen[spec.name] = spec.path
    return specs


def read_lists(
    specs: Iterable[ListSpec], *, strict: bool = True, open_fn: OpenFn | None = None
) -> list[HashList]:
    """Read every list. In strict mode, fail once with the problems of all lists together."""
    hash_lists = [spec.read(strict=False, open_fn=open_fn) for spec in specs]
    _refuse_problems(hash_lists, strict)
    return hash_lists


def read_lists_entries(
    specs: Iterable[ListSpec], *, strict: bool = True, open_fn: OpenFn | None = None
) -> list[tuple[HashList, dict[str, ItemEntries]]]:
    """:func:`read_lists`, each list with its entries (:meth:`ListSpec.read_entries`)."""
    read = [spec.read_entries(strict=False, open_fn=open_fn) for spec in specs]
    _refuse_problems([hash_list for hash_list, _ in read], strict)
    return read


def _refuse_problems(hash_lists: list[HashList], strict: bool) -> None:
    problems = [problem for hash_list in hash_lists for problem in hash_list.problems]
    if strict and problems:
        raise ListFormatError(problems)
