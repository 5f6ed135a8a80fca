"""Match frames against one list in a matching mode, through an index: what the pipelines run.

:func:`photosieve.robust.modes.match` is the rule, written out by brute force
for one frame and one list. :class:`ModeMatcher` applies the same rule to
batches of frames with an exact index (:func:`photosieve.index.build_index`),
and reports what a match row needs (the listed image's id and labels, the
query hash's quality). The pipeline tests compare the two.

How the rule maps onto the index:

* Every query PDQ hash the mode uses (:func:`~photosieve.robust.modes.uses`)
  is looked up at the mode's threshold: with a second opinion, every pair
  that can score within it has ``d_pdq <= score <= threshold``.
* ``window ...`` entries of a list built from images pair only with upright
  query hashes that are not uncrop hypotheses (any orientation with
  ``windows_dihedral``). So the list gets two indexes: all its hashes, probed
  by those query hashes, and the hashes that have a non-window entry, probed
  by the others (the rotated, mirrored and uncrop hashes, ~70 of a frame's
  ~77). A list built from images holds ~76 windows per image and ~1-3 other
  hashes, so this split does ~11x less work than probing everything with
  everything, and drops nothing the rule keeps.
* At the modes' thresholds (83-100 of 256 bits) a multi-index would probe
  more buckets than a scan reads hashes: :class:`~photosieve.index.MultiIndex`
  then scans (its cost model decides per query batch), exactly.
* Each hit is expanded to the list entries (lines) carrying that hash, the
  window rule and the second opinion are applied per entry, and the best
  pair per (frame, listed image) is kept by
  :meth:`~photosieve.robust.modes.RobustMatch.rank`.

Around the matcher, what ``photosieve.transforms.mode_matching`` does per
row, kept here so that the Beam step only routes and counts:
:func:`query_reason` (which ``hashes`` rows take part, the ledger's reason for
each), :func:`query_row` and :meth:`FrameQuery.from_rows` (a frame's rows,
small to shuffle), :func:`list_config` (the mode's configuration for a list as
read) and :func:`match_row` (a ``matches``-table row of one pair).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from photosieve import algorithms, schemas
from photosieve.errors import ConfigError
from photosieve.index import HashIndex, build_index
from photosieve.lists.entries import NO_ID, ItemEntries
from photosieve.lists.from_images import has_windows
from photosieve.lists.hash_list import HashList
from photosieve.robust.expansion import UNCROP, WINDOW
from photosieve.robust.modes import MatchConfig, RobustMatch, config_for_list, uses

__all__ = [
    "TAKE_PART",
    "FrameQuery",
    "ModeList",
    "ModeMatch",
    "ModeMatcher",
    "QueryHash",
    "list_config",
    "match_row",
    "query_reason",
    "query_row",
    "window_eligible",
]

# The reasons of query_reason for rows that take part: PDQ hashes looked up,
# and second-opinion hashes carried along to confirm pairs.
TAKE_PART = ("probed", "second_opinion")

_UPRIGHT = ("", "original")


@dataclass(frozen=True)
class QueryHash:
    """One PDQ hash of a frame, as the ``hashes`` table stores it.

    Attributes:
        bits: the 32 hash bytes.
        variant: ``""`` (the whole frame) or e.g. ``"uncrop x,y,w,h"``.
        orientation: ``""``, or for dihedral hashes ``"original"``, ``"rotate90"``...
        quality: PDQ quality of the hash.
    """

    bits: bytes
    variant: str = ""
    orientation: str = ""
    quality: int | None = None


@dataclass(frozen=True)
class FrameQuery:
    """What one frame brings to matching.

    Attributes:
        pdq: its PDQ hashes (plain and extra), whichever the mode uses.
        second: second-opinion hashes by (variant, orientation), of the
            mode's second algorithm (empty without one).
        timestamp: the frame's time in a video (seconds), None for images.
    """

    pdq: tuple[QueryHash, ...]
    second: Mapping[tuple[str, str], bytes] = field(default_factory=dict)
    timestamp: float | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> FrameQuery:
        """From a frame's :func:`query_row` tuples: PDQ hashes query, others are second opinions."""
        pdq, second, timestamp = [], {}, None
        for algorithm, hex_hash, variant, orientation, quality, frame_time in rows:
            if frame_time is not None:
                timestamp = frame_time
            if algorithm == "pdq":
                pdq.append(QueryHash(bytes.fromhex(hex_hash), variant, orientation, quality))
            else:
                second[(variant, orientation)] = bytes.fromhex(hex_hash)
        return cls(tuple(pdq), second, timestamp)


def query_row(row: Mapping) -> tuple:
    """What matching needs of a ``hashes`` row, small to shuffle.

    (algorithm, hex hash, variant, orientation, quality, timestamp), with
    ``""`` for a null variant or orientation and None for an image's
    timestamp; :meth:`FrameQuery.from_rows` reads it back.
    """
    return (
        row[schemas.ALGORITHM],
        row[schemas.HASH],
        row.get(schemas.VARIANT) or "",
        row.get(schemas.ORIENTATION) or "",
        row.get(schemas.QUALITY),
        row.get(schemas.FRAME_TIMESTAMP),
    )


def query_reason(config: MatchConfig, row: Mapping, *, quality_cutoff: int, any_list: bool) -> str:
    """Whether a ``hashes`` row of the mode's algorithms takes part, as the ledger counts it.

    Every row gets one reason, so the run's accounting balances. Rows that
    take part (:data:`TAKE_PART`): ``probed`` (a PDQ hash the mode looks up)
    and ``second_opinion`` (a hash of the mode's second algorithm). The
    others: ``low_quality`` (below ``quality_cutoff``), ``not_in_mode`` (a
    variant or orientation the mode leaves out, :func:`~photosieve.robust.modes.uses`)
    and ``no_list`` (``any_list`` false: no list has PDQ hashes).
    """
    if row[schemas.ALGORITHM] != "pdq":
        return "second_opinion"
    if (row.get(schemas.QUALITY) or 0) < quality_cutoff:
        return "low_quality"
    if not uses(config, row.get(schemas.VARIANT) or "", row.get(schemas.ORIENTATION) or ""):
        return "not_in_mode"
    return "probed" if any_list else "no_list"


@dataclass(frozen=True)
class ModeMatch:
    """The best pair of one frame with one listed image, and what its match row cites.

    Attributes:
        match: the pair as the reference matcher reports it (``id`` is
            ``""`` for an entry without an id).
        entry_id: the listed image's id, or None when the list has none
            (then the listed hash itself is what was matched).
        labels: the labels of the list line(s) of that pair.
        quality: the query hash's PDQ quality.
    """

    match: RobustMatch
    entry_id: str | None
    labels: tuple[str, ...]
    quality: int | None

    @property
    def key(self) -> str:
        """What identifies the listed image: its id, else its hash."""
        return self.entry_id if self.entry_id is not None else "#" + self.match.list_hash


class ModeList(NamedTuple):
    """One list as the mode matches it: what rows cite, and its matcher (None: no PDQ hashes).

    Attributes:
        name, version, role: as in ``photosieve.transforms.matching.KnownList``.
        matcher: the indexed list with the mode's configuration for it
            (``matcher.config``), or None.
    """

    name: str
    version: str
    role: str
    matcher: ModeMatcher | None


def list_config(
    mode: str,
    hash_list: HashList,
    entries: Mapping[str, ItemEntries],
    *,
    threshold: float | None = None,
) -> MatchConfig | None:
    """The configuration ``mode`` uses for a list as read, or None when it has no PDQ hashes.

    :func:`~photosieve.robust.modes.config_for_list`, told what the list
    holds: windows, other algorithms. A list without PDQ hashes is left to
    plain matching. ``threshold`` (the list's own ``pdq`` one) may only lower
    the mode's.

    Raises:
        ConfigError: the mode cannot match the list (named).
    """
    if "pdq" not in hash_list.groups:
        return None
    try:
        return config_for_list(
            mode,
            has_windows=has_windows(entries["pdq"].variants),
            second_algorithms=[a for a in hash_list.algorithms if a != "pdq"],
            threshold=threshold,
        )
    except ConfigError as exc:
        raise ConfigError(f"list {hash_list.name}: {exc}") from exc


def match_row(
    listed: ModeList,
    found: ModeMatch,
    *,
    uri: str,
    frame: int | None,
    status: str,
    suppressed_by: list[str] | None,
    run_id: str,
    matched_at_us: int,
    timestamp: float | None = None,
) -> dict:
    """The ``matches``-table row of one pair: one listed image, the query hash, the mode's config.

    ``entry_ids`` holds the listed image's id (empty when the list has
    none); ``match_mode`` is the configuration used for this list (``robust``
    is matched as ``robust-windows`` against lists with windows).
    """
    config = listed.matcher.config
    m = found.match
    return {
        schemas.URI: uri,
        schemas.FRAME: frame,
        schemas.FRAME_TIMESTAMP: timestamp,
        schemas.ALGORITHM: "pdq",
        schemas.QUERY_HASH: m.query_hash,
        schemas.ORIENTATION: m.query_orientation or None,
        schemas.VARIANT: m.query_variant or None,
        schemas.QUALITY: found.quality,
        schemas.LIST_NAME: listed.name,
        schemas.LIST_VERSION: listed.version,
        schemas.LIST_ROLE: listed.role,
        schemas.ENTRY_IDS: [] if found.entry_id is None else [found.entry_id],
        schemas.LABELS: list(found.labels),
        schemas.MATCHED_HASH: m.list_hash,
        schemas.DISTANCE: float(m.distance),
        schemas.THRESHOLD: float(config.threshold),
        schemas.STATUS: status,
        schemas.SUPPRESSED_BY: suppressed_by,
        schemas.RUN_ID: run_id,
        schemas.MATCHED_AT: matched_at_us,
        schemas.MATCH_MODE: config.name,
        schemas.LIST_VARIANT: m.list_variant or None,
        schemas.SCORE: m.score,
        schemas.SECOND_DISTANCE: m.second_distance,
    }


def window_eligible(config: MatchConfig, variant: str, orientation: str) -> bool:
    """May a query hash of this variant and orientation pair with ``window ...`` list entries?"""
    if variant.startswith(UNCROP + " "):
        return False
    return orientation in _UPRIGHT or config.windows_dihedral


def _second_distances(algorithm: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances of two uint8 [m, nbytes] arrays, as modes.second_distance."""
    if algorithms.get(algorithm).metric is algorithms.Metric.EUCLIDEAN:
        d = a.astype(np.int64) - b.astype(np.int64)
        return np.sqrt(np.einsum("ij,ij->i", d, d))
    return np.bitwise_count(a ^ b).sum(axis=1).astype(np.float64)


class ModeMatcher:
    """One list, indexed for one matching mode.

    Read-only after construction and picklable (numpy arrays, tuples and
    :class:`~photosieve.index.MultiIndex`), so a Beam worker builds it once
    and shares it between threads.

    Args:
        config: the mode's configuration for this list
            (:func:`~photosieve.robust.modes.config_for_list`).
        hashes: uint8 ``[n, 32]``, the list's distinct PDQ hashes.
        entries: the entries of each hash (:mod:`photosieve.lists.entries`).
        second: with a second opinion: uint8 ``[n_entries, nbytes]``, each
            entry's second hash (the listed image's hash of the same
            variant), and bool ``[n_entries]``, which entries have one.

    Raises:
        ConfigError: shapes that do not fit, or a second opinion missing.
    """

    def __init__(
        self,
        config: MatchConfig,
        hashes: np.ndarray,
        entries: ItemEntries,
        second: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        if hashes.shape[0] != entries.items:
            raise ConfigError(f"{hashes.shape[0]} hashes but entries for {entries.items}")
        if (config.second_opinion is None) != (second is None):
            raise ConfigError(
                f"mode {config.name!r}: second-opinion hashes are needed exactly when the "
                "mode has a second opinion"
            )
        self.config = config
        self._hashes = np.ascontiguousarray(hashes, dtype=np.uint8)
        self._entries = entries
        self._entry_item = entries.item_of_entries()
        window_variant = np.array(
            [v.startswith(WINDOW + " ") for v in entries.variants], dtype=bool
        )
        self._is_window = (
            window_variant[entries.variant_codes] if entries.variants else np.zeros(0, dtype=bool)
        )
        self._second = second
        threshold = config.pdq_radius  # the radius queries use: picks the index's geometry
        self._all = build_index("pdq", self._hashes, threshold=threshold)
        plain_items = np.unique(self._entry_item[~self._is_window])
        if plain_items.size == entries.items:
            self._plain_items = None  # no window-only hash: one index serves every query
            self._plain: HashIndex = self._all
        else:
            self._plain_items = plain_items
            self._plain = build_index("pdq", self._hashes[plain_items], threshold=threshold)

    @classmethod
    def from_list(
        cls, config: MatchConfig, hash_list: HashList, entries: Mapping[str, ItemEntries]
    ) -> ModeMatcher:
        """From a list read by :func:`photosieve.lists.entries.read_list_entries`.

        A list without PDQ hashes gives a matcher that matches nothing.
        Second-opinion hashes are found by (id, variant); when a file holds
        the same (id, variant) twice, the later line wins.
        """
        if "pdq" in hash_list.groups:
            hashes, pdq_entries = hash_list.groups["pdq"].hashes, entries["pdq"]
        else:
            hashes, pdq_entries = np.zeros((0, 32), np.uint8), _no_entries()
        second = None
        opinion = config.second_opinion
        if opinion is not None:
            nbytes = algorithms.get(opinion.algorithm).nbytes
            values = np.zeros((len(pdq_entries), nbytes), dtype=np.uint8)
            present = np.zeros(len(pdq_entries), dtype=bool)
            if opinion.algorithm in hash_list.groups:
                by_key = _by_id_and_variant(
                    hash_list.groups[opinion.algorithm].hashes, entries[opinion.algorithm]
                )
                for e in range(len(pdq_entries)):
                    image = pdq_entries.id_of(e)
                    if image is None:
                        continue
                    found = by_key.get((image, pdq_entries.variants[pdq_entries.variant_codes[e]]))
                    if found is not None:
                        values[e], present[e] = found, True
            second = (values, present)
        return cls(config, hashes, pdq_entries, second)

    def __len__(self) -> int:
        """Entries (list lines) with a PDQ hash."""
        return len(self._entries)

    @property
    def seconds(self) -> int:
        """Entries with a second-opinion hash (0 without a second opinion)."""
        return 0 if self._second is None else int(self._second[1].sum())

    def match(self, frames: Sequence[FrameQuery]) -> list[list[ModeMatch]]:
        """Per frame, its best pair with each listed image within the threshold, best first."""
        config = self.config
        rows = [
            (f, q)
            for f, frame in enumerate(frames)
            for q in frame.pdq
            if uses(config, q.variant, q.orientation)
        ]
        out: list[list[ModeMatch]] = [[] for _ in frames]
        if not rows or len(self._hashes) == 0:
            return out
        bits = np.frombuffer(b"".join(q.bits for _, q in rows), dtype=np.uint8).reshape(-1, 32)
        eligible = np.array([window_eligible(config, q.variant, q.orientation) for _, q in rows])
        query, entry, distance = self._pairs(bits, eligible)
        score, second = self._scores(rows, frames, query, entry, distance)
        keep = np.flatnonzero(score <= config.threshold)
        best: dict[tuple[int, str], ModeMatch] = {}
        entries = self._entries
        for i in keep.tolist():
            f, q = rows[query[i]]
            e = int(entry[i])
            variant = entries.variants[entries.variant_codes[e]]
            image = entries.id_of(e)
            found = ModeMatch(
                RobustMatch(
                    "" if image is None else image,
                    float(score[i]),
                    int(distance[i]),
                    q.variant,
                    q.orientation,
                    variant,
                    None if second is None else float(second[i]),
                    q.bits.hex(),
                    self._hashes[self._entry_item[e]].tobytes().hex(),
                ),
                image,
                entries.labels[entries.label_codes[e]],
                q.quality,
            )
            key = (f, found.key)
            current = best.get(key)
            if current is None or found.match.rank() < current.match.rank():
                best[key] = found
        for (f, _), found in best.items():
            out[f].append(found)
        for matches in out:
            matches.sort(key=lambda m: (m.match.score, m.key))
        return out

    def _pairs(
        self, bits: np.ndarray, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query row, entry, PDQ distance) of every pair the window rule allows within the threshold."""
        threshold = self.config.pdq_radius
        parts = []
        for index, rows, items in (
            (self._all, np.flatnonzero(eligible), None),
            (self._plain, np.flatnonzero(~eligible), self._plain_items),
        ):
            if rows.size == 0:
                continue
            found = index.query_batch(bits[rows], threshold=threshold)
            item = found.item if items is None else items[found.item]
            parts.append((rows[found.query], item, found.distance.astype(np.int64)))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        query, item, distance = (np.concatenate(p) for p in zip(*parts))
        # Each hit stands for every entry (line) carrying that hash.
        offsets = self._entries.offsets
        counts = offsets[item + 1] - offsets[item]
        query, distance = np.repeat(query, counts), np.repeat(distance, counts)
        starts = np.repeat(offsets[item] - np.cumsum(counts) + counts, counts)
        entry = np.arange(int(counts.sum()), dtype=np.int64) + starts
        allowed = ~self._is_window[entry] | eligible[query]
        return query[allowed], entry[allowed], distance[allowed]

    def _scores(self, rows, frames, query, entry, distance):
        """(score, second distance or None) per pair; pairs a second opinion cannot confirm score inf."""
        opinion = self.config.second_opinion
        if opinion is None or self._second is None:
            return distance.astype(np.float64), None
        values, present = self._second
        nbytes = values.shape[1]
        asked = np.zeros((len(rows), nbytes), dtype=np.uint8)
        has = np.zeros(len(rows), dtype=bool)
        for r, (f, q) in enumerate(rows):
            found = frames[f].second.get((q.variant, q.orientation))
            if found is not None:
                asked[r], has[r] = np.frombuffer(found, np.uint8), True
        second = _second_distances(opinion.algorithm, asked[query], values[entry])
        score = np.asarray(opinion.score(distance, second), dtype=np.float64)
        score = np.where(has[query] & present[entry], score, np.inf)
        return score, second


def _no_entries() -> ItemEntries:
    none = np.zeros(0, dtype=np.int32)
    return ItemEntries(np.zeros(1, np.int64), none, none, none, np.zeros(0, np.int64), (), (), ())


def _by_id_and_variant(
    hashes: np.ndarray, entries: ItemEntries
) -> dict[tuple[str, str], np.ndarray]:
    """(id, variant) -> hash row, in file order (a later line replaces an earlier one)."""
    item = entries.item_of_entries()
    out: dict[tuple[str, str], np.ndarray] = {}
    for e in np.argsort(entries.lines, kind="stable").tolist():
        code = int(entries.id_codes[e])
        if code == NO_ID:
            continue
        out[(entries.ids[code], entries.variants[entries.variant_codes[e]])] = hashes[item[e]]
    return out
