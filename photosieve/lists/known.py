r"""A list as matching needs it on the workers: its hashes, ids and labels, picklable.

:class:`~photosieve.lists.HashList` holds a ``MappingProxyType``, which does
not pickle, so it cannot travel between Beam steps as it is: a
:class:`KnownList` keeps what matching needs, and a :class:`ListInfo` the
small facts every step may need (a side input).

>>> import io
>>> from photosieve.lists import ListSpec, read_list
>>> spec = ListSpec("known.txt", thresholds={"pdq": 20})
>>> stored = b"pdq " + b"0f" * 32 + b"\n"
>>> hash_list = read_list(spec.path, open_fn=lambda path, mode: io.BytesIO(stored))
>>> known = known_list(spec, hash_list)
>>> list_info(known).sizes, known.thresholds
({'pdq': 1}, {'pdq': 20.0})
"""

from __future__ import annotations

from typing import NamedTuple

from photosieve.errors import ConfigError
from photosieve.lists.hash_list import IDS, LABELS, HashList
from photosieve.lists.spec import ListSpec

__all__ = ["KnownList", "ListInfo", "check_version", "known_list", "list_info", "without"]


class KnownList(NamedTuple):
    """One list as read inside the pipeline: what matching needs, picklable.

    Attributes:
        name, version, role: from the spec and the file.
        thresholds: algorithm -> threshold, for the algorithms it holds.
        groups: algorithm -> (hashes ``uint8 [n, nbytes]``, ids and labels
            table parallel to them).
    """

    name: str
    version: str
    role: str
    thresholds: dict
    groups: dict


class ListInfo(NamedTuple):
    """The small facts about one list that every step may need (a side input)."""

    name: str
    version: str
    role: str
    thresholds: dict
    sizes: dict


def check_version(spec: ListSpec, version: str, expected_version: str | None) -> None:
    """Raise ConfigError when a worker reads another version of the list than the launcher checked."""
    if expected_version is not None and version != expected_version:
        raise ConfigError(
            f"list {spec.name} ({spec.path}) changed while the run started: version "
            f"{version[:12]}..., checked {expected_version[:12]}..."
        )


def known_list(
    spec: ListSpec, hash_list: HashList, expected_version: str | None = None
) -> KnownList:
    """The :class:`KnownList` of ``hash_list``, read from ``spec``'s file.

    Raises:
        ConfigError: the file's version differs from ``expected_version``
            (the list changed since the launcher checked it).
    """
    check_version(spec, hash_list.version, expected_version)
    groups = {
        name: (group.hashes, group.metadata.select([IDS, LABELS]))
        for name, group in sorted(hash_list.groups.items())
    }
    return KnownList(
        name=spec.name,
        version=hash_list.version,
        role=spec.role.value,
        thresholds={name: float(spec.threshold(name)) for name in groups},
        groups=groups,
    )


def list_info(known: KnownList) -> ListInfo:
    """The list's name, version, role, thresholds and hash count per algorithm."""
    sizes = {name: len(hashes) for name, (hashes, _) in known.groups.items()}
    return ListInfo(known.name, known.version, known.role, known.thresholds, sizes)


def without(known: KnownList, algorithms: frozenset[str]) -> KnownList:
    """The list without the groups of ``algorithms`` (matched elsewhere, e.g. by a matching mode)."""
    return known._replace(
        thresholds={a: t for a, t in known.thresholds.items() if a not in algorithms},
        groups={a: g for a, g in known.groups.items() if a not in algorithms},
    )
