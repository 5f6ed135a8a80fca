"""Hashes rows to matches rows, Beam-free: what both join strategies share.

Both strategies of :class:`~photosieve.transforms.matching.MatchHashes`
decide the same way which ``hashes`` rows are queried (:func:`query_outcome`),
find every (query hash, list hash) pair within the list's threshold as a
:class:`Hit` (the side-input strategy with :class:`KnownIndexes`, the shuffle
join with :mod:`photosieve.bucket_join`), and hand the hits of one
(object, frame, algorithm) to :func:`resolve`, so their match tables are
identical.

Resolution: for each list hash keep the closest of the object's hashes
(dihedral orientations, the as-stored hash of EXIF-rotated photos, robust
query variants); if any of them hits a ``suppress`` list, the hits on
``match`` lists are written with status ``suppressed`` and the names of the
suppressing lists, and the benign hits with status ``suppress``. PDQ hashes
below the quality cutoff are stored but never matched.

>>> import numpy as np, pyarrow as pa
>>> from photosieve.lists.known import KnownList, list_info
>>> ids = pa.table({"ids": [["k1"]], "labels": [["case-1"]]})
>>> known = KnownList("known", "v1", "match", {"pdq": 31.0},
...                   {"pdq": (np.full((1, 32), 0x0F, np.uint8), ids)})
>>> row = {"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": "0f" * 31 + "0e", "quality": 90}
>>> [(key, hit.distance) for key, hit in KnownIndexes([known]).probe("pdq", [row])]
[(('a.jpg', 0, 'pdq'), 1.0)]
>>> hits = [hit for _, hit in KnownIndexes([known]).probe("pdq", [row])]
>>> [(r["uri"], r["status"], r["entry_ids"]) for r in resolve(
...     ("a.jpg", 0, "pdq"), hits, [list_info(known)], run_id="r1", matched_at_us=0)]
[('a.jpg', 'match', ['k1'])]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from photosieve import algorithms, schemas
from photosieve.index import HashIndex, build_index
from photosieve.lists import ListRole
from photosieve.lists.hash_list import IDS, LABELS
from photosieve.lists.known import KnownList, ListInfo

__all__ = [
    "NO_FRAME",
    "PROBED",
    "Hit",
    "KnownIndexes",
    "ListIndex",
    "hit_key",
    "match_status",
    "query_outcome",
    "resolve",
]

# Hit keys have a frame; digests have none.
NO_FRAME = -1
# The query outcome of a hash that is looked up (the others say why not).
PROBED = "probed"


class Hit(NamedTuple):
    """One (query hash, list hash) pair within the list's threshold, with the list hash's entries."""

    query_hash: str
    orientation: str | None
    variant: str | None
    quality: int | None
    list_name: str
    item: int
    distance: float
    matched_hash: str
    entry_ids: list
    labels: list
    # Videos: the query frame's timestamp (seconds), carried into the match row.
    timestamp: float | None = None


def query_outcome(row: dict, quality_cutoff: int, listed: bool) -> str:
    """``probed``, or why a hashes row is not queried: ``low_quality``, ``no_list`` (none holds its algorithm)."""
    if row[schemas.ALGORITHM] == "pdq" and (row.get(schemas.QUALITY) or 0) < quality_cutoff:
        return "low_quality"
    if not listed:
        return "no_list"
    return PROBED


def hit_key(row: dict) -> tuple[str, int, str]:
    """(uri, frame or ``NO_FRAME``, algorithm): the hits resolved together."""
    frame = row.get(schemas.FRAME)
    return row[schemas.URI], NO_FRAME if frame is None else frame, row[schemas.ALGORITHM]


def query_hit(
    row: dict,
    list_name: str,
    item: int,
    distance: float,
    matched_hash: str,
    entry_ids: list,
    labels: list,
) -> Hit:
    """The :class:`Hit` of the hashes ``row`` on ``item`` of list ``list_name``."""
    return Hit(
        row[schemas.HASH],
        row.get(schemas.ORIENTATION),
        row.get(schemas.VARIANT),
        row.get(schemas.QUALITY),
        list_name,
        item,
        float(distance),
        matched_hash,
        entry_ids,
        labels,
        row.get(schemas.FRAME_TIMESTAMP),
    )


class ListIndex(NamedTuple):
    """One (list, algorithm) index with what a hit reports: the list hash's ids and labels."""

    name: str
    threshold: float
    index: HashIndex
    entries: pa.Table


class KnownIndexes:
    """Every (list, algorithm) index of a run (the side-input strategy), built once per worker process.

    Built from :class:`KnownList` objects (each index built here), or from mapped
    index files (:meth:`from_mapped`, nothing built or copied). Both answer
    the same way: the hashes reported come from the index itself. Read-only
    after construction, so the threads of a worker share one.
    """

    def __init__(self, known_lists: Iterable[KnownList] = (), *, mapped: Iterable = ()):
        self.by_algorithm: dict[str, list[ListIndex]] = defaultdict(list)
        self._mapped = list(mapped)  # keeps the maps open while the indexes are in use
        for known in known_lists:
            for name, (hashes, metadata) in known.groups.items():
                threshold = known.thresholds[name]
                index = build_index(name, hashes, threshold=threshold)
                self.by_algorithm[name].append(ListIndex(known.name, threshold, index, metadata))
        for listed in self._mapped:
            for name, (index, table) in listed.groups.items():
                threshold = listed.thresholds[name]
                self.by_algorithm[name].append(ListIndex(listed.name, threshold, index, table))
        for indexes in self.by_algorithm.values():
            indexes.sort(key=lambda listed: listed.name)  # the same hit order on every runner

    @classmethod
    def from_mapped(cls, mapped_lists: Iterable) -> KnownIndexes:
        """The indexes of lists opened with :func:`photosieve.index.mapped.open_index_file`."""
        return cls(mapped=mapped_lists)

    def probe(self, algorithm: str, rows: list[dict]) -> Iterator[tuple[tuple, Hit]]:
        """(hit key, hit) of every list hash within threshold of a hash of ``rows`` (all of ``algorithm``)."""
        nbytes = algorithms.get(algorithm).nbytes
        packed = np.frombuffer(
            b"".join(bytes.fromhex(r[schemas.HASH]) for r in rows), dtype=np.uint8
        )
        packed = packed.reshape(len(rows), nbytes)
        for listed in self.by_algorithm[algorithm]:
            found = listed.index.query_batch(packed, threshold=listed.threshold)
            if not len(found):
                continue
            matched = listed.index.hashes_of(found.item)
            ids = listed.entries.column(IDS).take(pa.array(found.item)).to_pylist()
            labels = listed.entries.column(LABELS).take(pa.array(found.item)).to_pylist()
            for n, (q, item, distance) in enumerate(
                zip(found.query.tolist(), found.item.tolist(), found.distance.tolist())
            ):
                row = rows[q]
                hit = query_hit(
                    row, listed.name, item, distance, matched[n].tobytes().hex(), ids[n], labels[n]
                )
                yield hit_key(row), hit


def match_status(role: str, suppressors: list[str]) -> tuple[str, list[str] | None]:
    """(status, suppressed_by) of a match on a list with ``role``, given the suppress lists the query matched."""
    if role == ListRole.SUPPRESS.value:
        return schemas.STATUS_SUPPRESS, None
    if suppressors:
        return schemas.STATUS_SUPPRESSED, suppressors
    return schemas.STATUS_MATCH, None


def _order(hit: Hit) -> tuple:
    """Closest first; ties broken by variant, orientation, hash, so every runner picks the same."""
    return hit.distance, hit.variant or "", hit.orientation or "", hit.query_hash


def resolve(
    key: tuple[str, int, str],
    hits: Iterable[Hit],
    infos: Iterable[ListInfo],
    *,
    run_id: str,
    matched_at_us: int,
) -> Iterator[dict]:
    """The ``matches`` rows of one (uri, frame, algorithm)'s hits: best orientation, suppression."""
    lists = {info.name: info for info in infos}
    uri, frame, algorithm = key
    best: dict[tuple[str, int], Hit] = {}
    for hit in hits:
        entry = (hit.list_name, hit.item)
        current = best.get(entry)
        if current is None or _order(hit) < _order(current):
            best[entry] = hit
    suppressors = sorted({name for name, _ in best if lists[name].role == ListRole.SUPPRESS.value})
    for (name, _), hit in sorted(best.items()):
        info = lists[name]
        status, suppressed_by = match_status(info.role, suppressors)
        yield {
            schemas.URI: uri,
            schemas.FRAME: None if frame == NO_FRAME else frame,
            schemas.FRAME_TIMESTAMP: hit.timestamp,
            schemas.ALGORITHM: algorithm,
            schemas.QUERY_HASH: hit.query_hash,
            schemas.ORIENTATION: hit.orientation,
            schemas.VARIANT: hit.variant,
            schemas.QUALITY: hit.quality,
            schemas.LIST_NAME: name,
            schemas.LIST_VERSION: info.version,
            schemas.LIST_ROLE: info.role,
            schemas.ENTRY_IDS: hit.entry_ids,
            schemas.LABELS: hit.labels,
            schemas.MATCHED_HASH: hit.matched_hash,
            schemas.DISTANCE: hit.distance,
            schemas.THRESHOLD: info.thresholds[algorithm],
            schemas.STATUS: status,
            schemas.SUPPRESSED_BY: suppressed_by,
            schemas.RUN_ID: run_id,
            schemas.MATCHED_AT: matched_at_us,
        }
