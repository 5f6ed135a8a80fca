"""Preflight: everything a run names is checked before any work starts.

Inputs that match nothing, an output that holds a run or cannot be written,
lists that cannot be read or matched, previous runs that are not audits:
each is a :class:`~photosieve.errors.ConfigError` naming the flag, and the
run exits 2 before hashing anything. :func:`check_run` does them all, in
that order, and returns a :class:`Checked` with what was found: the input
patterns (and the object count, for progress), each list's summary (every
list read once here), and the previous runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.incremental import PreviousRun
from photosieve.listing import Entry, list_pattern, normalise
from photosieve.listing import is_local as is_local_path
from photosieve.names import escape
from photosieve.pipelines.list_preflight import (
    check_lists,
    check_video_lists,
    resolve_strategy,
    with_budget_thresholds,
)
from photosieve.pipelines.running import is_local, output_umask
from photosieve.pipelines.summary_file import read_run_summary
from photosieve.robust import modes as match_modes
from photosieve.robust.budget import query_hashes_per_image
from photosieve.run_config import Matching, RunConfig
from photosieve.summary import SUMMARY_FILE
from photosieve.transforms.incremental import table_pattern
from photosieve.transforms.ledger import LEDGER_FILE
from photosieve.transforms.tables import PARQUET_SUFFIX

__all__ = [
    "Checked",
    "check_run",
    "check_stored_hashes",
    "check_writable",
    "expand_inputs",
    "hashes_pattern",
    "load_previous",
    "prepare_output",
    "within",
]

_LOG = logging.getLogger(__name__)

_GLOB_CHARS = set("*?[")
# The file prepare_output writes and deletes to see that the output is writable.
_PROBE_PREFIX = ".photosieve-write-probe-"
# Its size: an empty file can often still be made on a full disk, 64 KiB not.
_PROBE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Checked:
    """What preflight found, for building the pipeline and its summary.

    Attributes:
        patterns: the input glob patterns (``audit``, ``scan``).
        total: objects the inputs hold (local runs with progress), else None.
        hashes: the stored hashes' Parquet glob (``match``).
        lists: each list's summary, in the order of the run's lists.
        previous: the previous runs, oldest first.
        warnings: what did not stop the run but the user should know (an empty list).
        matching: the run's matching with each list's PDQ threshold from its
            false-match budget and the join resolved (``--strategy auto``
            decided, with its reason): what the pipeline matches with.
    """

    patterns: tuple[str, ...] = ()
    total: int | None = None
    hashes: str | None = None
    lists: tuple[dict, ...] = ()
    previous: tuple[PreviousRun, ...] = ()
    warnings: tuple[str, ...] = ()
    matching: Matching | None = None

    def applied_to(self, config: RunConfig) -> RunConfig:
        """``config`` with the matching preflight resolved: what the pipeline runs and
        ``summary.json`` records (``settings.strategy`` is the join that ran, not ``auto``)."""
        if self.matching is None:
            return config
        return dataclasses.replace(config, matching=self.matching)

    @property
    def list_versions(self) -> dict[str, str]:
        """List name -> the version preflight read (workers refuse a list that changed since)."""
        return {summary["name"]: summary["version"] for summary in self.lists}


def check_run(config: RunConfig) -> Checked:
    """Every check of the run, in order: inputs, stored hashes, lists, previous runs, output.

    Raises:
        ConfigError: the first problem found, naming the flag.
    """
    patterns: tuple[str, ...] = ()
    total = hashes = None
    if config.inputs is not None:
        # Counting lists every object once more: only worth it for the progress lines.
        count = config.progress and is_local(list(config.pipeline_args))
        found, total = expand_inputs(config.inputs.patterns, count=count)
        patterns = tuple(found)
    if config.stored_hashes:
        hashes = hashes_pattern(config.stored_hashes)
        if config.match_mode is not None:
            check_stored_hashes(config.stored_hashes, config.match_mode)
        if within(hashes, config.output.path):
            raise ConfigError(
                f"--output {config.output.path} holds the --hashes input; choose another"
            )
    summaries: tuple[dict, ...] = ()
    warnings: list[str] = []
    matching = config.matching
    if matching is not None:
        plan = config.plan
        plan_algorithms = query_hashes = None
        if plan is not None:
            plan_algorithms = plan.algorithms
            query_hashes = query_hashes_per_image(
                plan.query_expansion, dihedral=plan.pdq_dihedral, as_stored=plan.pdq_as_stored
            )
        read: list = []
        summaries = tuple(
            check_lists(
                matching, plan_algorithms, warnings, query_hashes=query_hashes, lists_read=read
            )
        )
        matching = with_budget_thresholds(matching, summaries)
        matching, _ = resolve_strategy(matching, [hash_list for hash_list, _ in read], warnings)
        summaries += tuple(check_video_lists(matching, plan_algorithms, warnings))
    previous = tuple(load_previous(list(config.previous.outputs), config.output.path))
    prepare_output(
        config.output.path, overwrite=config.output.overwrite, mode=config.output.mode
    )
    return Checked(patterns, total, hashes, summaries, previous, tuple(warnings), matching)


def expand_inputs(inputs: Sequence[str], *, count: bool) -> tuple[list[str], int | None]:
    """Turn inputs into glob patterns, check each matches something; return (patterns, total).

    Local inputs are made absolute and normalised first (``ph``, ``./ph/``
    and ``/abs/ph`` are one pattern, listed once; a repeat is dropped with a
    note), so every object has one uri whatever the spelling, and a repeat
    audit given another spelling finds last week's files. A directory, or
    any path ending in ``/``, means everything below it (``DIR/**``). Local
    patterns are listed by :mod:`photosieve.listing`: a FIFO or broken link
    counts as a match (a counted skip), it is not a missing input. With
    ``count`` the full listing is counted (local runs, for progress);
    otherwise one match per pattern is enough to know it is not empty.

    Raises:
        ConfigError: an input that matches nothing, naming it.
    """
    patterns: list[str] = []
    givens: list[str] = []
    for given in inputs:
        pattern = normalise(given)
        if given.endswith("/") or (not _GLOB_CHARS & set(given) and _is_dir(given)):
            pattern = FileSystems.join(pattern.rstrip("/") or "/", "**")
        if pattern in patterns:
            _LOG.info(
                "--input %s is %s again: listed once",
                escape(given),
                escape(givens[patterns.index(pattern)]),
            )
            continue
        patterns.append(pattern)
        givens.append(given)
    uris: set[str] = set()
    empty = []
    remote = [(g, p) for g, p in zip(givens, patterns) if not is_local_path(p)]
    for given, pattern in zip(givens, patterns):
        if not is_local_path(pattern):
            continue
        found = False
        for entry in list_pattern(pattern):
            found = True
            if not count:
                break
            if isinstance(entry, Entry):
                uris.add(entry.uri)
        if not found:
            empty.append(given)
    if remote:
        results = FileSystems.match([p for _, p in remote], None if count else [1] * len(remote))
        for (given, _), result in zip(remote, results):
            if not result.metadata_list:
                empty.append(given)
            uris.update(m.path for m in result.metadata_list)
    if empty:
        raise ConfigError(f"--input {' '.join(escape(e) for e in empty)}: matches no files")
    return patterns, len(uris) if count else None


def _is_dir(path: str) -> bool:
    return is_local_path(path) and os.path.isdir(path)


def _exists(pattern: str) -> list[str]:
    return [m.path for m in FileSystems.match([pattern])[0].metadata_list]


def prepare_output(output: str, *, overwrite: bool, mode: str = "private") -> None:
    """Refuse an output directory holding a run, or with ``overwrite`` delete that run; probe it.

    Only photosieve's own files are touched: the tables' shards, the ledger
    and ``summary.json``; anything else in the directory stays. Tables
    without a ``summary.json`` are a run that did not finish (the summary
    is written last): refused the same way, and said so. Then the directory
    is created and a probe file written and deleted through Beam's
    filesystem, so an output that cannot be written (a file, a read-only
    directory, a missing bucket) fails here, before any hashing. With
    ``mode`` ``private`` a new local directory is made 0700 (see
    :func:`output_umask`).

    Raises:
        ConfigError: the directory holds a run and ``overwrite`` is False,
            or it cannot be written.
    """
    try:
        summary = _exists(FileSystems.join(output, SUMMARY_FILE))
        found = summary + _exists(FileSystems.join(output, LEDGER_FILE))
        for table in schemas.TABLES:
            found += _exists(FileSystems.join(output, table, "**"))
    except Exception as exc:  # no filesystem for the scheme, or a client's own error types
        raise ConfigError(f"--output {output} cannot be used: {exc}") from exc
    if found and not overwrite:
        what = "a run" if summary else f"an incomplete run (no {SUMMARY_FILE})"
        raise ConfigError(
            f"--output {output} already holds {what} ({len(found)} files, e.g. {found[0]}); "
            "choose another directory or pass --overwrite to replace it"
        )
    if found:
        _LOG.info("--overwrite: deleting %d files of the previous run in %s", len(found), output)
        FileSystems.delete(found)
    with output_umask(output, mode):
        check_writable(output)


def check_writable(output: str) -> None:
    """Create ``output`` and write and delete a probe file in it (ConfigError when that fails)."""
    try:
        if is_local_path(output):
            if os.path.exists(output) and not os.path.isdir(output):
                raise ConfigError(f"--output {output} is not a directory")
            os.makedirs(output, exist_ok=True)
        else:
            # Object stores have no directories; others (hdfs) refuse an existing one: the
            # probe below says whether a failure here matters.
            with contextlib.suppress(Exception):
                FileSystems.mkdirs(output)
        probe = FileSystems.join(output, f"{_PROBE_PREFIX}{secrets.token_hex(4)}")
        with FileSystems.create(probe, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(bytes(_PROBE_BYTES))
        FileSystems.delete([probe])
    except ConfigError:
        raise
    except Exception as exc:  # OSError, BeamIOError, or a filesystem client's own error types
        raise ConfigError(f"--output {output} cannot be written: {exc}") from exc


def hashes_pattern(given: str) -> str:
    """The Parquet glob of a stored hashes table, from a run directory, a table directory or a glob.

    Raises:
        ConfigError: nothing matches.
    """
    if set("*?[") & set(given):
        candidates = [given]
    else:
        base = given.rstrip("/")
        candidates = [
            FileSystems.join(base, schemas.HASHES, f"*{PARQUET_SUFFIX}"),
            FileSystems.join(base, f"*{PARQUET_SUFFIX}"),
        ]
    for pattern in candidates:
        if FileSystems.match([pattern], [1])[0].metadata_list:
            return pattern
    raise ConfigError(f"--hashes {given}: no Parquet files (looked for {', '.join(candidates)})")


def within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies under it (--overwrite there deletes the input).

    Both are normalised as inputs are (:func:`photosieve.listing.normalise`:
    local paths absolute, ``.``/``..``/``//`` folded), so no spelling slips
    past; a local path and another filesystem's uri are never within each other.
    """
    path, directory = normalise(path), normalise(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def load_previous(outputs: list[str], output: str) -> list[PreviousRun]:
    """Read the previous runs' summaries and check their tables, oldest first.

    Raises:
        ConfigError: a directory that is not an earlier audit with a files
            table, or one the --output would overwrite or lies inside.
    """
    runs = []
    for index, given in enumerate(outputs):
        if within(given, output):
            raise ConfigError(f"--previous {given} is (inside) the --output; choose another output")
        if within(output, given):
            raise ConfigError(
                f"--output {output} is inside --previous {given}: this run's tables would mix "
                "with that run's; choose another output"
            )
        try:
            summary = read_run_summary(given)
        except ConfigError as exc:
            raise ConfigError(f"--previous {given}: {exc}") from exc
        run = PreviousRun.from_summary(index, given, summary)
        files = table_pattern(given, schemas.FILES)
        if not FileSystems.match([files], [1])[0].metadata_list:
            raise ConfigError(f"--previous {given}: no {schemas.FILES} table ({files})")
        runs.append(run)
    return runs


def check_stored_hashes(hashes: str, mode: str) -> None:
    """Refuse to re-match stored hashes in ``mode`` when their run did not hash for it.

    The run's ``summary.json`` (beside its ``hashes/`` table) says with
    which options it ran; a run without the mode's query expansion lacks
    the hashes the mode's threshold is calibrated with. When no summary is
    found (a glob of Parquet files), the check is left to the user, with a
    warning.

    Raises:
        ConfigError: the stored run hashed without ``mode``'s query hashes.
    """
    base = hashes.rstrip("/")
    parent = base.rsplit("/", 1)[0] if "/" in base else "."
    candidates = [] if set("*?[") & set(hashes) else [base, parent]
    for directory in candidates:
        if not FileSystems.match([FileSystems.join(directory, SUMMARY_FILE)], [1])[0].metadata_list:
            continue
        stored = read_run_summary(directory).settings.match_mode
        configs = match_modes.CONFIGS
        if stored not in configs or configs[stored].expansion != configs[mode].expansion:
            raise ConfigError(
                f"--hashes {hashes}: that run hashed "
                + ("without --match-mode" if stored is None else f"for --match-mode {stored}")
                + f", not with the query hashes --match-mode {mode} needs; hash again with "
                f"`photosieve audit --match-mode {mode}` (or match without --match-mode)"
            )
        return
    _LOG.warning(
        "--hashes %s: no summary.json says how these hashes were made; --match-mode %s needs "
        "them hashed with the same mode (photosieve audit --match-mode %s)",
        hashes,
        mode,
        mode,
    )
