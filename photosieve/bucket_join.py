"""The shuffle join's bucket keys and their verification, Beam-free.

For lists too big to copy to every worker, both sides emit multi-index
bucket keys from the geometry of the in-memory index
(:mod:`photosieve.index.geometry`, priced with ``SHUFFLE_COSTS``): each
list hash one key per chunk (:func:`list_bucket_entries`), each query hash
its chunks' keys within the probe radius (:func:`query_bucket_keys`). A join
on the key (``CoGroupByKey`` in
:mod:`photosieve.transforms.shuffle_join`) brings candidate pairs together;
:func:`verify_bucket` keeps those within the threshold, each reported only by
the first chunk of which it is a candidate, so no pair is reported twice.
Digests join on the whole digest. Euclidean (``gradient``) lists are not
supported here.

A key is ``(list, algorithm, chunk, chunk key)``:

>>> from photosieve.index.geometry import Geometry
>>> geometry = Geometry(2, 4)  # 8-bit hashes, at threshold 1: radius 0
>>> list(_keys(0xA5, 8, geometry, (0,)))
[(0, 10), (1, 5)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from functools import lru_cache

from photosieve import algorithms, schemas
from photosieve.errors import ConfigError
from photosieve.index.geometry import SHUFFLE_COSTS, Geometry, choose_geometry
from photosieve.lists.hash_list import IDS, LABELS
from photosieve.lists.known import KnownList, ListInfo
from photosieve.matches import NO_FRAME, PROBED, Hit, hit_key, query_outcome

__all__ = [
    "bucket_geometry",
    "list_bucket_entries",
    "list_geometries",
    "query_bucket_keys",
    "verify_bucket",
]


@lru_cache(maxsize=256)
def bucket_geometry(nbits: int, threshold: float, n: int) -> Geometry:
    """The geometry with the lowest estimated shuffle cost for ``n`` list hashes.

    Exact for any choice. An empty list still needs a geometry for the
    queries' keys (they then meet no list hash).
    """
    t = math.floor(threshold)
    geometry = choose_geometry(max(n, 1), nbits, t, costs=SHUFFLE_COSTS, max_bytes_per_hash=None)
    if geometry is None:
        raise ConfigError(f"no shuffle geometry for {nbits}-bit hashes at threshold {threshold}")
    return geometry


def list_geometries(
    infos: Iterable[ListInfo], algorithm: str
) -> Iterator[tuple[str, float, Geometry | None]]:
    """(list name, threshold, geometry or None for exact digests) of each list holding ``algorithm``.

    Raises:
        ConfigError: ``algorithm`` has a Euclidean metric.
    """
    spec = algorithms.get(algorithm)
    for info in sorted(infos):
        if algorithm not in info.sizes:
            continue
        name, threshold = info.name, info.thresholds[algorithm]
        if spec.metric is algorithms.Metric.EXACT:
            yield name, threshold, None
        elif spec.metric is algorithms.Metric.HAMMING:
            yield name, threshold, bucket_geometry(spec.nbits, threshold, info.sizes[algorithm])
        else:
            raise ConfigError(
                f"list {name}: {algorithm} ({spec.metric.value} distance) cannot be matched with "
                f"the shuffle strategy; use --strategy side-input"
            )


def _keys(value: int, nbits: int, geometry: Geometry, masks: tuple[int, ...]):
    """(chunk, key XOR mask) for every chunk and mask: the buckets a hash reaches."""
    for j, key in enumerate(geometry.keys(value, nbits)):
        for mask in masks:
            yield j, key ^ mask


def list_bucket_entries(known: KnownList, infos: list[ListInfo]) -> Iterator[tuple[tuple, tuple]]:
    """A list's hashes, once per bucket key: ((list, algorithm, chunk, key), (item, bytes, ids, labels))."""
    for algorithm, (hashes, metadata) in known.groups.items():
        nbits = algorithms.get(algorithm).nbits
        geometry = next(g for name, _, g in list_geometries(infos, algorithm) if name == known.name)
        ids = metadata.column(IDS).to_pylist()
        labels = metadata.column(LABELS).to_pylist()
        for item, row in enumerate(hashes):
            bits = row.tobytes()
            payload = (item, bits, ids[item], labels[item])
            if geometry is None:
                yield (known.name, algorithm, NO_FRAME, bits), payload
                continue
            for j, key in _keys(int.from_bytes(bits, "big"), nbits, geometry, (0,)):
                yield (known.name, algorithm, j, key), payload


def query_bucket_keys(
    row: dict, infos: list[ListInfo], quality_cutoff: int
) -> tuple[str, list[tuple[tuple, tuple]]]:
    """(query outcome, [((list, algorithm, chunk, probe key), query)]) of one hashes row.

    The query is (hit key, hash, orientation, variant, quality, frame timestamp); keys only when probed.
    """
    algorithm = row[schemas.ALGORITHM]
    listed = any(algorithm in info.sizes for info in infos)
    outcome = query_outcome(row, quality_cutoff, listed)
    if outcome != PROBED:
        return outcome, []
    bits = bytes.fromhex(row[schemas.HASH])
    query = (
        hit_key(row),
        row[schemas.HASH],
        row.get(schemas.ORIENTATION),
        row.get(schemas.VARIANT),
        row.get(schemas.QUALITY),
        row.get(schemas.FRAME_TIMESTAMP),
    )
    nbits = len(bits) * 8
    value = int.from_bytes(bits, "big")
    keys = []
    for name, threshold, geometry in list_geometries(infos, algorithm):
        if geometry is None:
            keys.append(((name, algorithm, NO_FRAME, bits), query))
            continue
        masks = geometry.probe_masks(math.floor(threshold))
        keys.extend(
            ((name, algorithm, j, key), query) for j, key in _keys(value, nbits, geometry, masks)
        )
    return outcome, keys


def verify_bucket(element, infos: list[ListInfo]) -> Iterator[tuple[tuple, Hit]]:
    """One joined bucket -> (hit key, hit) of the pairs within threshold first brought together by this chunk."""
    (name, algorithm, chunk, _), grouped = element
    queries, entries = list(grouped["queries"]), list(grouped["lists"])
    if not queries or not entries:
        return
    threshold, geometry = next((t, g) for n, t, g in list_geometries(infos, algorithm) if n == name)
    nbits = algorithms.get(algorithm).nbits
    t = math.floor(threshold)
    for key, query_hex, orientation, variant, quality, timestamp in queries:
        query = int(query_hex, 16)
        query_keys = geometry.keys(query, nbits) if geometry is not None else None
        for item, bits, entry_ids, labels in entries:
            value = int.from_bytes(bits, "big")
            distance = 0 if geometry is None else (query ^ value).bit_count()
            if distance > threshold:
                continue
            if geometry is not None and (
                geometry.first_candidate(query_keys, geometry.keys(value, nbits), t) != chunk
            ):
                continue
            hit = Hit(
                query_hex,
                orientation,
                variant,
                quality,
                name,
                item,
                float(distance),
                bits.hex(),
                entry_ids,
                labels,
                timestamp,
            )
            yield key, hit
