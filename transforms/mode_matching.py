"""Match hashes against known-hash lists in a calibrated matching mode (``--match-mode``).

Transforms:

* :class:`MatchInMode`: ``hashes``-table row dicts in; a dict of outputs:
  ``matches`` (``matches``-table row dicts) and ``ledger`` (counts), like
  :class:`~transforms.matching.MatchHashes`, which it runs for the
  algorithms the mode does not cover (md5...).

A mode (:data:`photosieve.robust.modes.CONFIGS`) decides which of a frame's
PDQ hashes take part (the plain one, its rotations and mirrors, the border,
region, rotation and uncrop variants), which list entries they may pair with
(windows of lists built from images), a second opinion, and a threshold
calibrated for all of it: far above PDQ's customary 31 bits. The steps:

1. ``KeyByFrame``: each PDQ row the mode uses, and each row of its second
   algorithm, keyed by (object, frame); every row is counted as probed or
   skipped for a reason (``low_quality``, ``not_in_mode``, ``no_list``,
   ``second_opinion``), so the run's accounting still balances.
2. ``GroupByFrame``: a frame's PDQ hashes and second opinions together.
3. ``MatchFrames``: batches of frames against every list's
   :class:`~photosieve.robust.matcher.ModeMatcher`, built once per worker
   process (the lists are a side input, shared by the process's threads);
   per (frame, list, listed image) the best pair, then suppression as in
   ``MatchHashes``: any match on a ``suppress`` list makes the frame's
   matches on the other lists ``suppressed``.

Rows cite one listed image each (``entry_ids`` holds its id), the query
hash's variant and orientation, the list entry's variant (``list_variant``),
the score and second distance, and the mode's configuration for that list
(``match_mode``): ``robust`` is matched as ``robust-windows`` against lists
built from images with windows.

What each step does per row (which rows take part, the compact rows, each
list's configuration, the match row) is Beam-free, in
:mod:`photosieve.robust.matcher`; the steps here route, group and count.

Only the side-input strategy: at the modes' thresholds the shuffle
strategy's bucket keys would cover most of the list for every query hash
(see :func:`shuffle_refusal`), and the lists the modes are calibrated for
(up to ~10,000 images, about one false match per query image at 1e-4 per
pair) fit on every worker.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam
from apache_beam.pvalue import AsList
from apache_beam.utils import shared

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.hashes.pdq import PDQ_QUALITY_THRESHOLD
from photosieve.lists import HashList, ListSpec
from photosieve.lists.entries import ItemEntries
from photosieve.robust.frame_matches import match_frames
from photosieve.robust.matcher import (
    TAKE_PART,
    FrameQuery,
    ModeList,
    ModeMatcher,
    list_config,
    query_reason,
    query_row,
)
from photosieve.robust.modes import CONFIGS, MatchConfig, mode_algorithms
from photosieve.lists.known import check_version
from photosieve.transforms.known_lists import open_stored
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.matching import DEFAULT_BATCH_SIZE, SIDE_INPUT, MatchHashes, count_match

__all__ = [
    "MatchInMode",
    "read_list_config",
    "read_mode_list",
    "shuffle_refusal",
]

# Frames per ModeMatcher.match call: ~77 query hashes each, so a batch probes
# a few thousand hashes at once (numpy's per-call cost amortised, the scan's
# tiles full) and stays small in memory.
DEFAULT_FRAME_BATCH = 64
_MODE = 0
_OTHER = 1


def shuffle_refusal(mode: str) -> str:
    """Why ``--strategy shuffle`` cannot run ``mode`` (the message users see)."""
    threshold = CONFIGS[mode].threshold
    return (
        f"--match-mode {mode} needs --strategy {SIDE_INPUT}: at its threshold ({threshold:g} of "
        "256 bits) the shuffle strategy's bucket keys match most of a list for every query hash "
        "(verified one pair at a time, more work than scanning the list), and the lists the "
        "modes are calibrated for (up to ~10,000 images) fit on every worker"
    )


def read_mode_list(
    spec: ListSpec, mode: str, *, strict: bool, expected_version: str | None = None
) -> ModeList:
    """Read one list through Beam's filesystems and index its PDQ hashes for ``mode``.

    Raises:
        ConfigError: the list changed since the launcher checked it, or the
            mode cannot match it (:func:`~photosieve.robust.matcher.list_config`).
    """
    hash_list, entries, config = read_list_config(spec, mode, strict=strict)
    check_version(spec, hash_list.version, expected_version)
    matcher = None if config is None else ModeMatcher.from_list(config, hash_list, entries)
    return ModeList(spec.name, hash_list.version, spec.role.value, matcher)


def read_list_config(
    spec: ListSpec, mode: str, *, strict: bool
) -> tuple[HashList, dict[str, ItemEntries], MatchConfig | None]:
    """Read one list through Beam's filesystems; (list, entries, the mode's configuration for it).

    The configuration is None when the list has no PDQ hashes (the mode
    leaves it to ``MatchHashes``); see :func:`~photosieve.robust.matcher.list_config`.

    Raises:
        ConfigError: the mode cannot match the list (named).
    """
    hash_list, entries = spec.read_entries(strict=strict, open_fn=open_stored)
    config = list_config(mode, hash_list, entries, threshold=spec.thresholds.get("pdq"))
    return hash_list, entries, config


def _read_mode_spec(
    spec: ListSpec, mode: str, *, strict: bool, expected_versions: dict[str, str]
) -> ModeList:
    return read_mode_list(
        spec, mode, strict=strict, expected_version=expected_versions.get(spec.name)
    )


def _has_pdq(known: ModeList) -> bool:
    return known.matcher is not None


def _partition(row: dict, n: int, algorithms: frozenset[str]) -> int:
    return _MODE if row[schemas.ALGORITHM] in algorithms else _OTHER


class _KeyByFrameFn(beam.DoFn):
    """hashes rows -> ((uri, frame), compact row) for the rows the mode uses; every row counted."""

    def __init__(self, mode: str, quality_cutoff: int):
        self._config = CONFIGS[mode]
        self._quality_cutoff = quality_cutoff

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, row: dict, has_pdq: list[bool]):
        reason = query_reason(
            self._config, row, quality_cutoff=self._quality_cutoff, any_list=any(has_pdq)
        )
        self._tally.add((*keys.QUERIES, reason, row[schemas.ALGORITHM]))
        if reason in TAKE_PART:
            yield (row[schemas.URI], row.get(schemas.FRAME)), query_row(row)

    def finish_bundle(self):
        yield from self._tally.flush()


class _Matchers:
    """Every list's ModeMatcher, built once per worker process (they come built: pickled)."""

    def __init__(self, known: list[ModeList]):
        self.lists = sorted(known, key=lambda k: k.name)


class _MatchFramesFn(beam.DoFn):
    """Batches of ((uri, frame), rows) -> matches rows: best pair per listed image, suppression."""

    def __init__(self, shared_handle: shared.Shared, run_id: str, matched_at_us: int):
        self._shared = shared_handle
        self._run_id = run_id
        self._matched_at_us = matched_at_us

    def setup(self) -> None:
        self._tally = Tally()
        self._matchers = None  # a strong reference keeps the shared matchers alive

    def process(self, batch: list, known: list[ModeList]):
        tag = ";".join(sorted(f"{k.name}@{k.version}" for k in known))
        self._matchers = matchers = self._shared.acquire(lambda: _Matchers(known), tag=tag)
        frame_keys = [key for key, _ in batch]
        frames = [FrameQuery.from_rows(rows) for _, rows in batch]
        for row in match_frames(
            matchers.lists,
            frame_keys,
            frames,
            run_id=self._run_id,
            matched_at_us=self._matched_at_us,
        ):
            count_match(self._tally, row)
            yield row

    def finish_bundle(self):
        yield from self._tally.flush()


class MatchInMode(beam.PTransform):
    r"""Matches ``hashes`` rows against known-hash lists in a matching mode (module docstring).

    Example: one frame's PDQ hash, one bit from a listed one (real rows come
    from :class:`~photosieve.transforms.hashing.HashImages`, with the mode's
    query expansion)::

        >>> import pathlib, tempfile
        >>> known = pathlib.Path(tempfile.mkdtemp(), "known.csv")
        >>> _ = known.write_text("hash,algorithm,id,labels\n" + "f0" * 32 + ",pdq,img7,case-7\n")
        >>> row = {"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": "f1" + "f0" * 31,
        ...        "quality": 100, "orientation": "original"}
        >>> with beam.Pipeline() as p:
        ...     matched = p | beam.Create([row]) | MatchInMode(
        ...         [ListSpec(str(known), name="known")], "pdq-dihedral", run_id="r1",
        ...         matched_at_us=0)
        ...     _ = matched["matches"] | beam.Map(lambda r: print(
        ...         r["uri"], r["list_name"], r["entry_ids"], r["distance"], r["match_mode"]))
        a.jpg known ['img7'] 1.0 pdq-dihedral

    The ``hashes`` rows must come from a :class:`~photosieve.hashing.HashPlan`
    with the mode's query expansion (``photosieve.robust.modes.plan_for_mode``):
    without its extra hashes the mode finds only what their absence allows.

    Args:
        lists: the lists, with names and roles. PDQ is matched at the
            mode's threshold, or at a list's own ``pdq`` threshold when it is
            lower (stricter); other algorithms as in ``MatchHashes``.
        mode: a name in :data:`photosieve.robust.modes.CONFIGS`.
        run_id, matched_at_us, quality_cutoff, strict_lists,
            expected_versions, batch_size: as in
            :class:`~transforms.matching.MatchHashes`.
        strategy: only ``side-input`` (see :func:`shuffle_refusal`).
        frame_batch: frames per matcher call. Default: ``DEFAULT_FRAME_BATCH``.

    Raises:
        ConfigError: unknown mode, or the shuffle strategy.

    Returns a dict: ``matches`` and ``ledger``, as ``MatchHashes``.

    See also: :class:`photosieve.transforms.matching.MatchHashes` (no mode),
    :func:`photosieve.robust.modes.match` (the rule, by brute force).
    """

    def __init__(
        self,
        lists: Sequence[ListSpec],
        mode: str,
        *,
        run_id: str,
        matched_at_us: int,
        strategy: str = SIDE_INPUT,
        quality_cutoff: int = PDQ_QUALITY_THRESHOLD,
        strict_lists: bool = True,
        expected_versions: dict[str, str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        frame_batch: int = DEFAULT_FRAME_BATCH,
        index_dir: str | None = None,
    ):
        super().__init__()
        if mode not in CONFIGS:
            raise ConfigError(f"unknown matching mode {mode!r}; choose from {', '.join(CONFIGS)}")
        if strategy != SIDE_INPUT:
            raise ConfigError(shuffle_refusal(mode))
        self._mode = mode
        self._algorithms = mode_algorithms(mode)
        self._lists = list(lists)
        self._run_id = run_id
        self._matched_at_us = matched_at_us
        self._strict = strict_lists
        self._expected = dict(expected_versions or {})
        self._frame_batch = frame_batch
        self._others = MatchHashes(
            lists,
            run_id=run_id,
            matched_at_us=matched_at_us,
            strategy=strategy,
            quality_cutoff=quality_cutoff,
            strict_lists=strict_lists,
            expected_versions=expected_versions,
            skip_algorithms=sorted(self._algorithms),
            batch_size=batch_size,
            index_dir=index_dir,
        )
        self._quality_cutoff = quality_cutoff

    def expand(self, hashes):
        split = beam.Partition(_partition, 2, self._algorithms)
        mode_rows, other_rows = hashes | "SplitByMode" >> split
        others = other_rows | "MatchOtherAlgorithms" >> self._others
        keyed, matched = self._match_frames(mode_rows, self._read_lists(hashes.pipeline))
        matches = (others[schemas.MATCHES], matched[schemas.MATCHES]) | "FlattenMatches" >> (
            beam.Flatten()
        )
        ledger = (keyed[LEDGER], matched[LEDGER], others[LEDGER]) | "FlattenModeLedgers" >> (
            beam.Flatten()
        )
        return {schemas.MATCHES: matches, LEDGER: ledger}

    def _read_lists(self, pipeline):
        """Every list as a :class:`ModeList`, read and indexed once (a side input)."""
        return (
            pipeline
            | "CreateModeListSpecs" >> beam.Create(self._lists)
            | "ReadModeLists"
            >> beam.Map(
                _read_mode_spec, self._mode, strict=self._strict, expected_versions=self._expected
            )
        )

    def _match_frames(self, mode_rows, known):
        """(keyed rows with their ledger, matches with theirs): the mode's rows grouped by frame."""
        has_pdq = AsList(known | "DescribeModeLists" >> beam.Map(_has_pdq))
        keyed = mode_rows | "KeyByFrame" >> beam.ParDo(
            _KeyByFrameFn(self._mode, self._quality_cutoff), has_pdq
        ).with_outputs(LEDGER, main="keyed")
        matcher_fn = _MatchFramesFn(shared.Shared(), self._run_id, self._matched_at_us)
        matched = (
            keyed.keyed
            | "GroupByFrame" >> beam.GroupByKey()
            | "BatchFrames"
            >> beam.BatchElements(min_batch_size=1, max_batch_size=self._frame_batch)
            | "MatchFrames"
            >> beam.ParDo(matcher_fn, AsList(known)).with_outputs(LEDGER, main=schemas.MATCHES)
        )
        return keyed, matched

    def display_data(self):
        return {
            "lists": ", ".join(f"{s.name} ({s.role.value})" for s in self._lists),
            "match_mode": self._mode,
            "threshold": CONFIGS[self._mode].threshold,
        }
