"""Match hashes against known-hash lists, in one of two join strategies.

Transforms:

* :class:`MatchHashes`: ``hashes``-table row dicts in; a dict of outputs:
  ``matches`` (``matches``-table row dicts) and ``ledger`` (counts).

Both strategies read each list once inside the pipeline (any Beam
filesystem), find every (query hash, list hash) pair within the list's
threshold, and hand those *hits* to the same resolution step, so their
match tables are identical (tested):

* ``side-input`` (default): the lists are a side input; each worker process
  builds the photosieve indexes (:func:`photosieve.index.build_index`) once,
  shared by its threads through :class:`apache_beam.utils.shared.Shared`, and
  probes them with batches of query hashes. Fast; every worker holds every
  list (about 150 bytes per PDQ hash).
* ``shuffle``: for lists too big to copy to every worker. Both sides emit
  multi-index bucket keys (a hash cut into ``m`` chunks; by the pigeonhole
  principle two hashes within ``t`` bits agree on some chunk up to
  ``t // m`` bits, so each query emits its chunks and their neighbours within
  that many flipped bits, each list hash its chunks), a ``CoGroupByKey``
  joins them, each candidate pair is verified with the full distance and
  kept only in the group of the *first* chunk that brought it together, so
  no pair is reported twice. Digests join on the whole digest. Costs one
  shuffled element per probe key: for PDQ at 31 bits, 16 chunks and 272 keys
  per query hash. Euclidean (``gradient``) lists are not supported here.

Resolution, keyed by (object, frame, algorithm): for each list hash keep
the closest of the object's hashes (dihedral orientations, the as-stored
hash of EXIF-rotated photos, robust query variants); if any of them hits a
``suppress`` list, the hits on ``match`` lists are written with status
``suppressed`` and the names of the suppressing lists, and the benign hits
with status ``suppress``.
PDQ hashes below the quality cutoff are stored but never matched.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import AsList
from apache_beam.utils import shared

from photosieve import algorithms, schemas
from photosieve.errors import ConfigError
from photosieve.hashes.pdq import PDQ_QUALITY_THRESHOLD
from photosieve.index import build_index
from photosieve.lists import ListRole, ListSpec, local_open, read_list
from photosieve.lists.hash_list import IDS, LABELS
from photosieve.transforms.ledger import LEDGER, Tally

__all__ = [
    "SHUFFLE",
    "SIDE_INPUT",
    "STRATEGIES",
    "KnownList",
    "ListInfo",
    "MatchHashes",
    "open_stored",
    "read_known_list",
    "shuffle_geometry",
    "spec_fields",
]

SIDE_INPUT = "side-input"
SHUFFLE = "shuffle"
STRATEGIES = (SIDE_INPUT, SHUFFLE)
# Query hashes per index probe: large enough to amortise numpy's per-call
# cost, small enough to keep a batch's candidate arrays in cache.
DEFAULT_BATCH_SIZE = 512
# Shuffle-geometry cost model (microseconds): one shuffled element on the
# local runners (measured: ~35 us), one candidate pair verified in Python.
SHUFFLE_KEY_US = 35.0
SHUFFLE_PAIR_US = 0.5
# Widest chunk considered for shuffle keys (bits); keys are Python ints.
MAX_SHUFFLE_CHUNK_BITS = 32
# Hit keys have a frame; digests have none.
_NO_FRAME = -1


class KnownList(NamedTuple):
    """One list as read inside the pipeline: what matching needs, picklable.

    (:class:`photosieve.lists.HashList` holds a ``MappingProxyType``, which
    does not pickle, so it cannot travel between Beam steps as it is.)

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


def open_stored(path: str, mode: str = "rb"):
    """A list file's bytes as stored (its version hashes them: no transparent gunzip).

    Local paths go through :func:`photosieve.lists.local_open`, which refuses
    FIFOs, devices and directories before opening: Beam's local filesystem
    would block on a FIFO for ever, or read ``/dev/zero`` until memory ends.
    """
    if FileSystems.get_scheme(path) is None:
        return local_open(path, mode)
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def match_status(role: str, suppressors: list[str]) -> tuple[str, list[str] | None]:
    """(status, suppressed_by) of a match on a list with ``role``, given the suppress lists the query matched."""
    if role == ListRole.SUPPRESS.value:
        return schemas.STATUS_SUPPRESS, None
    if suppressors:
        return schemas.STATUS_SUPPRESSED, suppressors
    return schemas.STATUS_MATCH, None


def check_version(spec: ListSpec, version: str, expected_version: str | None) -> None:
    """Raise ConfigError when a worker reads another version of the list than the launcher checked."""
    if expected_version is not None and version != expected_version:
        raise ConfigError(
            f"list {spec.name} ({spec.path}) changed while the run started: version "
            f"{version[:12]}..., checked {expected_version[:12]}..."
        )


def read_known_list(
    spec: ListSpec, *, strict: bool, expected_version: str | None = None
) -> KnownList:
    """Read one list through Beam's filesystems into a :class:`KnownList`.

    Raises:
        ConfigError: the file's version differs from ``expected_version``
            (the list changed since the launcher checked it).
    """
    hash_list = read_list(
        spec.path,
        name=spec.name,
        algorithm=spec.algorithm,
        strict=strict,
        open_fn=open_stored,
        format=spec.format,
        max_bytes=spec.max_bytes,
    )
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


def spec_fields(spec: ListSpec) -> dict:
    """A ListSpec as plain values: ListSpec itself holds a MappingProxyType, which does not pickle.

    Every field, so a field added to ListSpec reaches the workers without an edit here
    (``dataclasses.asdict`` would deep-copy the mapping proxy, which fails).
    """
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    return {**fields, "role": spec.role.value, "thresholds": dict(spec.thresholds)}


def _read_spec(fields: dict, *, strict: bool, expected_versions: dict[str, str]) -> KnownList:
    spec = ListSpec(**fields)
    return read_known_list(spec, strict=strict, expected_version=expected_versions.get(spec.name))


def _without(known: KnownList, algorithms_: frozenset[str]) -> KnownList:
    """The list without the groups of ``algorithms_`` (matched elsewhere, e.g. by a matching mode)."""
    return known._replace(
        thresholds={a: t for a, t in known.thresholds.items() if a not in algorithms_},
        groups={a: g for a, g in known.groups.items() if a not in algorithms_},
    )


class _Hit(NamedTuple):
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


class ListInfo(NamedTuple):
    """The small facts about one list that every step may need (a side input)."""

    name: str
    version: str
    role: str
    thresholds: dict
    sizes: dict


def list_info(known: KnownList) -> ListInfo:
    sizes = {name: len(hashes) for name, (hashes, _) in known.groups.items()}
    return ListInfo(known.name, known.version, known.role, known.thresholds, sizes)


def _skip_reason(row: dict, quality_cutoff: int) -> str | None:
    """Why a hashes row is not queried, or None."""
    if row[schemas.ALGORITHM] == "pdq" and (row.get(schemas.QUALITY) or 0) < quality_cutoff:
        return "low_quality"
    return None


def _hit_key(row: dict) -> tuple[str, int, str]:
    frame = row.get(schemas.FRAME)
    return row[schemas.URI], _NO_FRAME if frame is None else frame, row[schemas.ALGORITHM]


# -- side-input strategy -------------------------------------------------------------


class _Indexes:
    """Every (list, algorithm) index of a run, built once per worker process."""

    def __init__(self, known_lists: Iterable[KnownList]):
        self.by_algorithm: dict[str, list[tuple[KnownList, object]]] = defaultdict(list)
        for known in sorted(known_lists, key=lambda k: k.name):
            for name, (hashes, _) in known.groups.items():
                index = build_index(name, hashes, threshold=known.thresholds[name])
                self.by_algorithm[name].append((known, index))


class _ProbeIndexesFn(beam.DoFn):
    """Batches of hashes rows -> ((uri, frame, algorithm), _Hit) with the lists as a side input."""

    def __init__(self, shared_handle: shared.Shared, quality_cutoff: int):
        self._shared = shared_handle
        self._quality_cutoff = quality_cutoff

    def setup(self) -> None:
        self._tally = Tally()
        self._indexes = None  # a strong reference keeps the shared indexes alive

    def process(self, rows: list[dict], known_lists: list[KnownList]):
        tag = ";".join(sorted(f"{k.name}@{k.version}" for k in known_lists))
        self._indexes = indexes = self._shared.acquire(lambda: _Indexes(known_lists), tag=tag)
        by_algorithm: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            algorithm = row[schemas.ALGORITHM]
            reason = _skip_reason(row, self._quality_cutoff)
            if reason is None and algorithm not in indexes.by_algorithm:
                reason = "no_list"
            if reason is not None:
                self._tally.add(("queries", reason, algorithm))
                continue
            self._tally.add(("queries", "probed", algorithm))
            by_algorithm[algorithm].append(row)
        for algorithm, queries in by_algorithm.items():
            nbytes = algorithms.get(algorithm).nbytes
            packed = np.frombuffer(
                b"".join(bytes.fromhex(r[schemas.HASH]) for r in queries), dtype=np.uint8
            )
            packed = packed.reshape(len(queries), nbytes)
            for known, index in indexes.by_algorithm[algorithm]:
                hashes, metadata = known.groups[algorithm]
                found = index.query_batch(packed, threshold=known.thresholds[algorithm])
                for q, item, distance in zip(
                    found.query.tolist(), found.item.tolist(), found.distance.tolist()
                ):
                    row = queries[q]
                    hit = _Hit(
                        row[schemas.HASH],
                        row.get(schemas.ORIENTATION),
                        row.get(schemas.VARIANT),
                        row.get(schemas.QUALITY),
                        known.name,
                        item,
                        float(distance),
                        hashes[item].tobytes().hex(),
                        metadata.column(IDS)[item].as_py(),
                        metadata.column(LABELS)[item].as_py(),
                    )
                    yield _hit_key(row), hit

    def finish_bundle(self):
        yield from self._tally.flush()


# -- shuffle strategy ----------------------------------------------------------------


class Geometry(NamedTuple):
    """Shuffle bucket geometry: ``chunks`` chunks of ``chunk_bits`` bits, probed within ``radius``."""

    chunks: int
    chunk_bits: int
    radius: int


def _ball(bits: int, radius: int) -> int:
    return sum(math.comb(bits, f) for f in range(radius + 1))


@lru_cache(maxsize=256)
def shuffle_geometry(nbits: int, threshold: float, n: int) -> Geometry:
    """The chunking with the lowest estimated shuffle cost for ``n`` list hashes.

    Cost per query hash = shuffled probe keys x ``SHUFFLE_KEY_US`` + expected
    candidate pairs (keys x n / 2**bits) x ``SHUFFLE_PAIR_US``. Exact for any
    choice: the chunks cover ``chunks * chunk_bits <= nbits`` bits, and the
    chunk distances over them sum to at most the full distance.
    """
    t = math.floor(threshold)
    best: tuple[float, Geometry] | None = None
    for chunks in range(1, nbits + 1):
        bits = nbits // chunks
        if bits > MAX_SHUFFLE_CHUNK_BITS:
            continue
        radius = t // chunks
        if radius >= bits:
            break  # every key of a chunk would be probed
        keys = chunks * _ball(bits, radius)
        cost = keys * SHUFFLE_KEY_US + keys * (n / 2.0**bits) * SHUFFLE_PAIR_US
        if best is None or cost < best[0]:
            best = (cost, Geometry(chunks, bits, radius))
    if best is None:
        raise ConfigError(f"no shuffle geometry for {nbits}-bit hashes at threshold {threshold}")
    return best[1]


@lru_cache(maxsize=64)
def _flips(bits: int, radius: int) -> tuple[int, ...]:
    """Every mask of ``bits`` bits with at most ``radius`` bits set."""
    return tuple(
        sum(1 << i for i in combo)
        for f in range(radius + 1)
        for combo in itertools.combinations(range(bits), f)
    )


def _chunks(value: int, nbits: int, geometry: Geometry) -> list[int]:
    mask = (1 << geometry.chunk_bits) - 1
    return [
        (value >> (nbits - (j + 1) * geometry.chunk_bits)) & mask for j in range(geometry.chunks)
    ]


def _geometries(
    infos: Iterable[ListInfo], algorithm: str
) -> Iterator[tuple[str, float, Geometry | None]]:
    """(list name, threshold, geometry or None for exact digests) of each list holding ``algorithm``."""
    spec = algorithms.get(algorithm)
    for info in sorted(infos):
        if algorithm not in info.sizes:
            continue
        name, threshold = info.name, info.thresholds[algorithm]
        if spec.metric is algorithms.Metric.EXACT:
            yield name, threshold, None
        elif spec.metric is algorithms.Metric.HAMMING:
            yield name, threshold, shuffle_geometry(spec.nbits, threshold, info.sizes[algorithm])
        else:
            raise ConfigError(
                f"list {name}: {algorithm} ({spec.metric.value} distance) cannot be matched with "
                f"the shuffle strategy; use --strategy {SIDE_INPUT}"
            )


def _list_bucket_entries(known: KnownList, infos: list[ListInfo]) -> Iterator[tuple[tuple, tuple]]:
    """A list's hashes, once per bucket key: ((list, algorithm, chunk, key), (item, bytes, ids, labels))."""
    for algorithm, (hashes, metadata) in known.groups.items():
        nbits = algorithms.get(algorithm).nbits
        geometry = next(g for name, _, g in _geometries(infos, algorithm) if name == known.name)
        ids = metadata.column(IDS).to_pylist()
        labels = metadata.column(LABELS).to_pylist()
        for item, row in enumerate(hashes):
            bits = row.tobytes()
            payload = (item, bits, ids[item], labels[item])
            if geometry is None:
                yield (known.name, algorithm, _NO_FRAME, bits), payload
                continue
            for j, key in enumerate(_chunks(int.from_bytes(bits, "big"), nbits, geometry)):
                yield (known.name, algorithm, j, key), payload


class _QueryBucketKeysFn(beam.DoFn):
    """hashes rows -> ((list, algorithm, chunk, probe key), query) for every list of the algorithm."""

    def __init__(self, quality_cutoff: int):
        self._quality_cutoff = quality_cutoff

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, row: dict, infos: list[ListInfo]):
        algorithm = row[schemas.ALGORITHM]
        reason = _skip_reason(row, self._quality_cutoff)
        targets = list(_geometries(infos, algorithm)) if reason is None else []
        if reason is None and not targets:
            reason = "no_list"
        if reason is not None:
            self._tally.add(("queries", reason, algorithm))
            return
        self._tally.add(("queries", "probed", algorithm))
        bits = bytes.fromhex(row[schemas.HASH])
        query = (
            _hit_key(row),
            row[schemas.HASH],
            row.get(schemas.ORIENTATION),
            row.get(schemas.VARIANT),
            row.get(schemas.QUALITY),
        )
        nbits = len(bits) * 8
        value = int.from_bytes(bits, "big")
        for name, _, geometry in targets:
            if geometry is None:
                yield (name, algorithm, _NO_FRAME, bits), query
                continue
            flips = _flips(geometry.chunk_bits, geometry.radius)
            for j, key in enumerate(_chunks(value, nbits, geometry)):
                for mask in flips:
                    yield (name, algorithm, j, key ^ mask), query

    def finish_bundle(self):
        yield from self._tally.flush()


def _verify_bucket(element, infos: list[ListInfo]) -> Iterator[tuple[tuple, _Hit]]:
    """One joined bucket -> the hits first brought together by this chunk."""
    (name, algorithm, chunk, _), grouped = element
    queries, entries = list(grouped["queries"]), list(grouped["lists"])
    if not queries or not entries:
        return
    threshold, geometry = next((t, g) for n, t, g in _geometries(infos, algorithm) if n == name)
    nbits = algorithms.get(algorithm).nbits
    for key, query_hex, orientation, variant, quality in queries:
        query = int(query_hex, 16)
        query_chunks = _chunks(query, nbits, geometry) if geometry is not None else None
        for item, bits, entry_ids, labels in entries:
            value = int.from_bytes(bits, "big")
            distance = 0 if geometry is None else (query ^ value).bit_count()
            if distance > threshold:
                continue
            if geometry is not None:
                # Report the pair only from the first chunk within the probe radius.
                first = next(
                    j
                    for j, (a, b) in enumerate(zip(query_chunks, _chunks(value, nbits, geometry)))
                    if (a ^ b).bit_count() <= geometry.radius
                )
                if first != chunk:
                    continue
            yield (
                key,
                _Hit(
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
                ),
            )


# -- resolution (both strategies) ----------------------------------------------------


class _ResolveMatchesFn(beam.DoFn):
    """((uri, frame, algorithm), hits) -> matches rows: best orientation, suppression."""

    def __init__(self, run_id: str, matched_at_us: int):
        self._run_id = run_id
        self._matched_at_us = matched_at_us

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, element, infos: list[ListInfo]):
        lists = {info.name: info for info in infos}
        (uri, frame, algorithm), hits = element
        best: dict[tuple[str, int], _Hit] = {}
        for hit in hits:
            key = (hit.list_name, hit.item)
            current = best.get(key)
            if current is None or _order(hit) < _order(current):
                best[key] = hit
        suppressors = sorted(
            {name for name, _ in best if lists[name].role == ListRole.SUPPRESS.value}
        )
        for (name, _), hit in sorted(best.items()):
            info = lists[name]
            status, suppressed_by = match_status(info.role, suppressors)
            self._tally.add(("matches", "status", status))
            self._tally.add(("matches", "list", name, status))
            for label in hit.labels:
                self._tally.add(("matches", "label", name, label))
            yield {
                schemas.URI: uri,
                schemas.FRAME: None if frame == _NO_FRAME else frame,
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
                schemas.RUN_ID: self._run_id,
                schemas.MATCHED_AT: self._matched_at_us,
            }

    def finish_bundle(self):
        yield from self._tally.flush()


def _order(hit: _Hit) -> tuple:
    """Closest first; ties broken by variant, orientation, hash, so every runner picks the same."""
    return hit.distance, hit.variant or "", hit.orientation or "", hit.query_hash


class MatchHashes(beam.PTransform):
    """Matches ``hashes`` rows against known-hash lists; see the module docstring.

    Example::

        lists = [ListSpec("gs://bucket/ncmec.csv.gz", name="ncmec"),
                 ListSpec("benign.txt", role="suppress")]
        matched = hashed.hashes | MatchHashes(lists, run_id="r1", matched_at_us=t0)
        matched["matches"] | ...

    Args:
        lists: the lists, with names, roles and thresholds.
        run_id: written on every row.
        matched_at_us: the run's start, microseconds since the epoch (UTC),
            written on every row (the same on every runner and retry).
        strategy: ``side-input`` (default) or ``shuffle``.
        quality_cutoff: PDQ hashes below this quality are not matched.
            Default: ``PDQ_QUALITY_THRESHOLD`` (50).
        strict_lists: fail on bad list lines (True) or skip and count them.
        expected_versions: list name -> version the launcher validated; a
            list whose content changed since fails the run.
        batch_size: query hashes per index probe (side-input strategy).
        skip_algorithms: the lists' hashes of these algorithms are not
            indexed (another transform matches them: see
            :class:`photosieve.transforms.mode_matching.MatchInMode`). Default: none.

    Returns a dict: ``matches`` (row dicts for the ``matches`` table) and
    ``ledger`` (query, match and list counts).

    See also: :class:`photosieve.transforms.hashing.HashImages`, whose ``hashes``
    output is the input here, and ``ReadFromParquet`` over a stored
    ``hashes`` table (``photosieve match``).
    """

    def __init__(
        self,
        lists: Sequence[ListSpec],
        *,
        run_id: str,
        matched_at_us: int,
        strategy: str = SIDE_INPUT,
        quality_cutoff: int = PDQ_QUALITY_THRESHOLD,
        strict_lists: bool = True,
        expected_versions: dict[str, str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        skip_algorithms: Sequence[str] = (),
    ):
        super().__init__()
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        names = [spec.name for spec in lists]
        if len(set(names)) != len(names):
            raise ValueError(f"list names must be unique, got {names}")
        if not 0 <= quality_cutoff <= 100:
            raise ValueError(f"quality_cutoff must be within 0..100, got {quality_cutoff}")
        self._lists = list(lists)
        self._run_id = run_id
        self._matched_at_us = matched_at_us
        self._strategy = strategy
        self._quality_cutoff = quality_cutoff
        self._strict = strict_lists
        self._expected = dict(expected_versions or {})
        self._batch_size = batch_size
        self._skip = frozenset(skip_algorithms)

    def expand(self, hashes):
        known = (
            hashes.pipeline
            | "CreateListSpecs" >> beam.Create([spec_fields(spec) for spec in self._lists])
            | "ReadLists"
            >> beam.Map(_read_spec, strict=self._strict, expected_versions=self._expected)
        )
        if self._skip:
            known = known | "SkipAlgorithms" >> beam.Map(_without, self._skip)
        infos = AsList(known | "DescribeLists" >> beam.Map(list_info))
        if self._strategy == SIDE_INPUT:
            probe = _ProbeIndexesFn(shared.Shared(), self._quality_cutoff)
            probed = (
                hashes
                | "BatchQueries"
                >> beam.BatchElements(min_batch_size=1, max_batch_size=self._batch_size)
                | "ProbeIndexes"
                >> beam.ParDo(probe, AsList(known)).with_outputs(LEDGER, main="hits")
            )
            hits = probed.hits
        else:
            probe = _QueryBucketKeysFn(self._quality_cutoff)
            probed = hashes | "QueryBucketKeys" >> beam.ParDo(probe, infos).with_outputs(
                LEDGER, main="keys"
            )
            listed = known | "ListBucketKeys" >> beam.FlatMap(_list_bucket_entries, infos)
            hits = (
                {"queries": probed.keys, "lists": listed}
                | "JoinBuckets" >> beam.CoGroupByKey()
                | "VerifyCandidates" >> beam.FlatMap(_verify_bucket, infos)
            )
        resolved = (
            hits
            | "GroupHitsByQuery" >> beam.GroupByKey()
            | "ResolveMatches"
            >> beam.ParDo(_ResolveMatchesFn(self._run_id, self._matched_at_us), infos).with_outputs(
                LEDGER, main=schemas.MATCHES
            )
        )
        ledger = (probed[LEDGER], resolved[LEDGER]) | "FlattenMatchLedgers" >> beam.Flatten()
        return {schemas.MATCHES: resolved[schemas.MATCHES], LEDGER: ledger}

    def display_data(self):
        return {
            "lists": ", ".join(f"{s.name} ({s.role.value})" for s in self._lists),
            "strategy": self._strategy,
            "quality_cutoff": self._quality_cutoff,
        }
