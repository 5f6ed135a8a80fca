"""``summary.json``: the one record of a finished run, as one declared value.

Every run ends by writing ``OUTPUT/summary.json`` (a directory without one
is an incomplete run); repeat audits, ``match --match-mode`` and the report
read it back. :class:`Summary` is its schema: the writer builds one and
calls :meth:`Summary.to_json`, every reader calls :func:`read_summary` (or
:meth:`Summary.from_json`) and uses its typed fields. Nothing reads a
command-line flag's name back out of a summary: what later runs need of
this one is in :class:`RunSettings` (``settings``), under names of its own;
``options`` records the command line as given, for people only.

Summaries written before ``settings`` existed are read through the flag
names they recorded, in one place (:meth:`RunSettings.from_legacy_options`),
so last week's audit still serves as ``--previous``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import IO, Any

from photosieve.errors import ConfigError

__all__ = ["LIST_BUDGET", "LIST_MATCH_MODE", "SUMMARY_FILE", "Accounting", "RunSettings", "Summary", "read_summary"]

SUMMARY_FILE = "summary.json"
# A list summary's key for the matching mode's configuration for that list (absent without one).
LIST_MATCH_MODE = "match_mode"
# A list summary's key for how its PDQ threshold came from the false-match budget.
LIST_BUDGET = "false_match_budget"


@dataclass(frozen=True)
class Accounting:
    """The verdict of the run's accounting check: balanced, or the problems found."""

    balanced: bool = True
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSettings:
    """What later runs need to know of how this run read, hashed and matched.

    Attributes:
        archives: archive members were read as objects (``archive!/member``).
        quality_cutoff: PDQ hashes below this quality were not matched.
        match_mode: the matching mode the run hashed and matched for, or None.
        strategy: how lists were joined (``side-input`` or ``shuffle``): the
            join that ran, also when ``--strategy auto`` chose it.
        dihedral: PDQ was also computed for the seven rotations/mirrors.
        strategy_reason: why that join (``auto``'s estimate and budget, a
            mode that needs side input, or the flag given); None in
            summaries written before it was recorded.
    """

    archives: bool = False
    quality_cutoff: int | None = None
    match_mode: str | None = None
    strategy: str | None = None
    dihedral: bool = False
    strategy_reason: str | None = None

    @classmethod
    def from_legacy_options(cls, options: Mapping[str, Any]) -> RunSettings:
        """From the ``options`` (flag values) of a summary written before ``settings`` existed."""
        algorithms = str(options.get("algorithms") or "").split(",")
        return cls(
            archives=bool(options.get("archives", False)),
            quality_cutoff=options.get("quality_cutoff"),
            match_mode=options.get("match_mode"),
            strategy=options.get("strategy"),
            dihedral=bool(options.get("dihedral")) or "pdq-dihedral" in algorithms,
        )


@dataclass(frozen=True)
class Summary:
    """The content of ``summary.json``; see the README's "summary.json" for each section.

    Attributes:
        command: ``audit``, ``scan`` or ``match``.
        run_id: written on every row of the run.
        started_at: ISO 8601, UTC.
        wall_seconds: the pipeline's wall time.
        output: the output directory (passwords in URLs redacted).
        accounting: :class:`Accounting`.
        tables: rows written per table.
        counts: the run's ledger, nested (see ``photosieve.transforms.ledger``).
        settings: :class:`RunSettings`, for later runs.
        options: the command line's flags as given (redacted), for people.
        pipeline_options: Beam's options (credentials redacted).
        versions: photosieve's and its libraries' versions.
        skipped: example uris of listing skips, per kind.
        lists: one summary per list (name, path, version, counts, thresholds...);
            None for a job without lists (``scan``).
        previous: the previous runs' output directories, oldest first (audits only).
        hash_settings: per algorithm, what decides its bits (repeat audits
            carry hashes only between equal settings).
        hash_limits: the limits that decide which objects fail.
        incremental: what a repeat audit carried, read and found new.
        warnings: what the user should know that did not stop the run (an
            empty list), also shown in the closing lines.
    """

    command: str
    run_id: str
    started_at: str = ""
    wall_seconds: float = 0.0
    output: str = ""
    accounting: Accounting = field(default_factory=Accounting)
    tables: Mapping[str, int] = field(default_factory=dict)
    counts: Mapping[str, Any] = field(default_factory=dict)
    settings: RunSettings = field(default_factory=RunSettings)
    options: Mapping[str, Any] = field(default_factory=dict)
    pipeline_options: tuple[str, ...] = ()
    versions: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, list[str]] = field(default_factory=dict)
    lists: tuple[Mapping[str, Any], ...] | None = None
    previous: tuple[str, ...] | None = None
    hash_settings: Mapping[str, Any] | None = None
    hash_limits: Mapping[str, Any] | None = None
    incremental: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The JSON object written to ``summary.json`` (sections absent for this job left out)."""
        content = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in _OPTIONAL and value is None:
                continue
            if isinstance(value, (Accounting, RunSettings)):
                value = asdict(value)
            content[item.name] = _plain(value)
        return content

    @classmethod
    def from_json(cls, content: Any, where: str = SUMMARY_FILE) -> Summary:
        """Read the content of a ``summary.json``.

        Raises:
            ConfigError: not a JSON object, or a section of the wrong type (named).
        """
        if not isinstance(content, Mapping):
            raise ConfigError(f"{where}: expected a JSON object, got {type(content).__name__}")
        for name, kind in _TYPES.items():
            if content.get(name) is not None and not isinstance(content[name], kind):
                raise ConfigError(
                    f"{where}: '{name}' should be {kind.__name__ if isinstance(kind, type) else 'a number'}"
                    f", got {type(content[name]).__name__}"
                )
        if "command" not in content:
            raise ConfigError(f"{where}: no 'command': not a photosieve summary")
        accounting = content.get("accounting") or {}
        settings = content.get("settings")
        previous = content.get("previous")
        if isinstance(previous, (str, Mapping)):  # early summaries held one previous run
            previous = [previous]
        lists = content.get("lists")
        return cls(
            command=str(content["command"]),
            run_id=str(content.get("run_id")),
            started_at=str(content.get("started_at", "")),
            wall_seconds=float(content.get("wall_seconds") or 0.0),
            output=str(content.get("output", "")),
            accounting=Accounting(
                bool(accounting.get("balanced", False)), tuple(accounting.get("problems") or ())
            ),
            tables=dict(content.get("tables") or {}),
            counts=dict(content.get("counts") or {}),
            settings=(
                RunSettings(**{k: v for k, v in settings.items() if k in _SETTINGS_FIELDS})
                if isinstance(settings, Mapping)
                else RunSettings.from_legacy_options(content.get("options") or {})
            ),
            options=dict(content.get("options") or {}),
            pipeline_options=tuple(content.get("pipeline_options") or ()),
            versions=dict(content.get("versions") or {}),
            skipped=dict(content.get("skipped") or {}),
            lists=None if lists is None else tuple(lists),
            previous=(
                None
                if previous is None
                else tuple(p["output"] if isinstance(p, Mapping) else str(p) for p in previous)
            ),
            hash_settings=content.get("hash_settings"),
            hash_limits=content.get("hash_limits"),
            incremental=content.get("incremental"),
            warnings=tuple(str(w) for w in content.get("warnings") or ()),
        )

    @property
    def list_entries(self) -> dict[str, Mapping[str, Any]]:
        """The list summaries by name."""
        return {entry["name"]: entry for entry in self.lists or () if "name" in entry}


_OPTIONAL = {"lists", "previous", "hash_settings", "hash_limits", "incremental"}
_SETTINGS_FIELDS = {item.name for item in fields(RunSettings)}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "command": str,
    "wall_seconds": (int, float),
    "accounting": Mapping,
    "tables": Mapping,
    "counts": Mapping,
    "settings": Mapping,
    "options": Mapping,
    "pipeline_options": list,
    "versions": Mapping,
    "skipped": Mapping,
    "lists": list,
    "hash_settings": Mapping,
    "hash_limits": Mapping,
    "incremental": Mapping,
    "warnings": list,
}


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and mappings as dicts: what json.dumps writes and reads back."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def read_summary(directory: str, open_fn: Callable[[str], IO[bytes]], join=None) -> Summary:
    """The summary of the run in ``directory``, read through ``open_fn`` (any filesystem).

    Args:
        directory: a run's output directory.
        open_fn: opens a path for reading bytes (``open(path, "rb")``, or
            Beam's ``FileSystems.open``).
        join: joins a directory and a file name (default: with ``/``).

    Raises:
        ConfigError: no readable summary, not JSON, or not a summary (named).
    """
    path = join(directory, SUMMARY_FILE) if join else f"{directory.rstrip('/')}/{SUMMARY_FILE}"
    try:
        with open_fn(path) as handle:
            content = json.loads(handle.read().decode("utf-8"))
    except Exception as exc:  # OSError, JSONDecodeError, or a filesystem client's own errors
        raise ConfigError(f"no readable {SUMMARY_FILE} in {directory} ({exc})") from exc
    return Summary.from_json(content, path)
