"""Exact Hamming-threshold search: multi-index hashing with a pigeonring filter.

:class:`MultiIndex` returns **exactly** the indexed hashes within Hamming
distance ``t`` of each query: no misses, no extras. It is built once from a
``uint8 [n, nbytes]`` array (64-bit pHash/dHash/aHash, 256-bit PDQ, any
multiple of 8 bits works) and queried in numpy batches.

How it finds candidates
-----------------------
The first ``m * b`` bits of a hash are cut into ``m`` chunks of ``b`` bits
(bits past ``m * b`` are only used when verifying). For each chunk there is a
bucket table: the list hashes sorted by that chunk's key, with a
``2**b + 1`` offset table, so a probe is two array reads.

*Pigeonhole*: if two hashes differ in at most ``t`` bits, the ``m`` chunk
distances ``d_j`` sum to at most ``t``, so some chunk has ``d_j <= t // m``.
Probing every chunk with every key within ``r = t // m`` flipped bits
therefore finds every true match. For PDQ at ``t = 31`` with 16 chunks of 16
bits that is ``r = 1``: 17 probes per chunk, 272 in all.

*Pigeonring* (Qin & Xiao, "Pigeonring: A Principle for Faster Thresholded
Similarity Search", PVLDB 12(1), 2018): arrange the chunks in a ring. Since
``sum(d_j - t/m) <= 0``, some chunk ``j`` starts a run whose every prefix sum
stays ``<= 0``; in particular ``d_j <= t/m`` *and* ``d_j + d_{j+1} <= 2t/m``.
So a candidate found by probing chunk ``j`` with ``f`` flipped bits can be
dropped unless its chunk ``j + 1`` is within ``2t // m - f`` of the
query's: no true match is lost, because the chunk that starts the good run
passes both tests. Each bucket stores, beside the item numbers, the
neighbouring chunk's key in the same order, so this filter reads contiguous
memory and rejects ~99.7% of PDQ candidates before any full hash is touched.
Survivors are verified by a full popcount (``np.bitwise_count``).

Geometry and cost model
-----------------------
The geometry ``(m, b)`` is chosen at build time for a hint threshold by
:func:`choose_geometry`: among the geometries whose memory fits the budget
(``DEFAULT_MAX_BYTES_PER_HASH``), the one with the lowest estimated query
cost (probes, candidates and survivors, each weighted by a per-element cost
measured with ``benchmarks/bench_index.py``; estimates within 25% count as a
tie, won by the smaller index). At query time the same model
compares the index with a brute-force scan for the actual threshold and runs
the cheaper one, so a large ``t`` (where probes explode) or a tiny list still
costs no more than a scan. For PDQ at ``t = 31``: 16 x 16 bits from about
100k to 10M hashes (the geometry of Meta's matcher), 11 x 22-23 bits beyond
(fewer items per probe, more probes); 32 chunks of 8 bits, which need no
flipped bits at all, are 25x slower at 1M (every probe finds ~4000 items).
See ``benchmarks/README.md`` for the measurements.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> hashes = rng.integers(0, 256, size=(1000, 32), dtype=np.uint8)
>>> index = MultiIndex.build(hashes, threshold=31)
>>> query = hashes[7].copy()
>>> query[0] ^= 0b101  # two bits away
>>> index.query(query, threshold=31)
[Match(item=7, distance=2)]
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from photosieve.errors import ConfigError
from photosieve.index.types import (
    BatchMatches,
    Match,
    as_hash_rows,
    as_query_batch,
    single_hash_row,
)

__all__ = ["MultiIndex", "Geometry", "choose_geometry", "DEFAULT_MAX_BYTES_PER_HASH"]

logger = logging.getLogger(__name__)

BITS_PER_WORD = 64

# Issue 3's memory budget for a 256-bit hash (hash + bucket tables + filters).
DEFAULT_MAX_BYTES_PER_HASH = 150
# Below this many bytes the tables are not worth a budget check: a 16 x 16
# geometry's offset tables alone are 4 MiB whatever the list size.
MIN_BUDGET_BYTES = 1 << 20
# Widest chunk considered: a 2**24-entry offset table is 64 MiB per chunk.
MAX_CHUNK_BITS = 24

# Per-element costs in nanoseconds, one thread, numpy 2.4 on an AMD EPYC
# (Zen 4) core: a least-squares fit to 12 measured geometries at 1M and 10M
# PDQ hashes (benchmarks/bench_index.py --geometries; see benchmarks/README.md).
# The fit is within about +-25% of each measurement; only ratios matter:
# they rank geometries and decide index vs brute force.
COST_PROBE_NS = 27.5  # one bucket lookup (offset reads, per-probe bookkeeping)
COST_MISS_NS = 32.0  # reaching a non-empty bucket whose chunk's entries are out of cache
COST_CANDIDATE_NS = 4.5  # one bucket entry through the pigeonring filter
COST_SURVIVOR_NS = 60.0  # one full-hash popcount verification (random gathers)
COST_SCAN_WORD_NS = 1.5  # one 64-bit word of one list hash in a brute-force scan
# A chunk's item numbers and neighbour keys beyond this size are read from DRAM.
CACHE_BYTES = 16 << 20
# Geometries estimated within this factor of the cheapest are a tie (the
# model's error); the smallest index wins it. At 10M PDQ hashes this picks
# 16 x 16 (measured 6.6k q/s, 128 B/hash) over 11 x 22 (6.2k q/s, 138 B/hash).
TIE_FACTOR = 1.25

# A query batch is sized so that one chunk's step handles about this many
# bucket entries: its temporaries then stay in cache (measured best at 1M
# and 10M PDQ hashes).
CANDIDATES_PER_STEP = 1 << 19
MAX_QUERIES_PER_BATCH = 4096
# Brute force works on [queries, items] tiles of about this many elements.
SCAN_TILE_ELEMENTS = 1 << 20


@dataclass(frozen=True)
class Geometry:
    """How hashes are cut into chunks.

    Attributes:
        chunks: ``m``, the number of chunks (each with its bucket table).
        chunk_bits: ``b``, bits per chunk; chunk ``j`` is bits
            ``[j*b, (j+1)*b)`` counted from the first hex digit.
    """

    chunks: int
    chunk_bits: int

    def radii(self, threshold: int) -> tuple[int, int]:
        """(probe radius per chunk, pigeonring radius for a chunk and its neighbour)."""
        return threshold // self.chunks, (2 * threshold) // self.chunks

    def table_bytes(self) -> int:
        return self.chunks * ((1 << self.chunk_bits) + 1) * 4

    def entry_bytes(self) -> int:
        """Bytes per list hash for item numbers (uint32) and neighbour keys."""
        return self.chunks * (4 + _key_dtype(self.chunk_bits).itemsize)


@dataclass(frozen=True)
class Plan:
    """What a query at one threshold will do, with the model's estimates (per query)."""

    method: str  # "index" or "scan"
    probes: float
    candidates: float
    survivors: float
    index_ns: float
    scan_ns: float


def _key_dtype(bits: int) -> np.dtype:
    if bits <= 8:
        return np.dtype(np.uint8)
    if bits <= 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def _ball_size(bits: int, radius: int) -> int:
    """Number of keys within ``radius`` flipped bits of a ``bits``-bit key."""
    return sum(math.comb(bits, f) for f in range(min(radius, bits) + 1))


def estimate(geometry: Geometry | None, n: int, nbits: int, threshold: int) -> Plan:
    """Estimated per-query cost of the index and of a scan, for random hashes."""
    words = -(-nbits // BITS_PER_WORD)
    scan_ns = COST_SCAN_WORD_NS * words * n
    if geometry is None or n == 0:
        return Plan("scan", 0.0, 0.0, 0.0, math.inf, scan_ns)
    m, b = geometry.chunks, geometry.chunk_bits
    r1, r2 = geometry.radii(threshold)
    per_key = n / float(1 << b)
    probes = candidates = survivors = 0.0
    for f in range(min(r1, b) + 1):
        probes_f = m * math.comb(b, f)
        probes += probes_f
        candidates += probes_f * per_key
        # A random neighbour chunk is within r2 - f bits with this probability.
        survivors += probes_f * per_key * _ball_size(b, r2 - f) / float(1 << b) if r2 >= f else 0
    # Probes that land in a non-empty bucket of an out-of-cache chunk miss.
    out_of_cache = n * geometry.entry_bytes() / m > CACHE_BYTES
    misses = probes * -math.expm1(-per_key) if out_of_cache else 0.0
    index_ns = (
        COST_PROBE_NS * probes
        + COST_MISS_NS * misses
        + COST_CANDIDATE_NS * candidates
        + COST_SURVIVOR_NS * survivors
    )
    method = "index" if index_ns < scan_ns else "scan"
    return Plan(method, probes, candidates, survivors, index_ns, scan_ns)


def choose_geometry(
    n: int, nbits: int, threshold: int, *, max_bytes_per_hash: float = DEFAULT_MAX_BYTES_PER_HASH
) -> Geometry | None:
    """The cheapest geometry for ``n`` hashes of ``nbits`` at ``threshold`` that fits the budget.

    Among geometries estimated within ``TIE_FACTOR`` of the cheapest, the
    one using the least memory. Returns None when no geometry beats a
    brute-force scan (tiny lists, or thresholds so large that probes explode).
    """
    if n == 0:
        return None
    budget = max(max_bytes_per_hash * n, MIN_BUDGET_BYTES)
    hash_bytes = -(-nbits // BITS_PER_WORD) * 8
    fits: list[tuple[float, int, Geometry]] = []
    for b in range(4, min(MAX_CHUNK_BITS, nbits) + 1):
        for m in range(1, nbits // b + 1):
            geometry = Geometry(m, b)
            size = geometry.table_bytes() + n * (hash_bytes + geometry.entry_bytes())
            if size > budget:
                continue
            plan = estimate(geometry, n, nbits, threshold)
            if plan.method == "index":
                fits.append((plan.index_ns, size, geometry))
    if not fits:
        return None
    cheapest = min(cost for cost, _, _ in fits)
    ties = [
        (size, cost, g.chunks, g.chunk_bits)
        for cost, size, g in fits
        if cost <= cheapest * TIE_FACTOR
    ]
    _, _, m, b = min(ties)
    return Geometry(m, b)


def _to_words(rows: np.ndarray, nwords: int) -> np.ndarray:
    """``uint8 [n, nbytes]`` -> ``uint64 [nwords, n]``: big-endian words, zero-padded.

    Zero padding changes no Hamming distance; column-major storage makes each
    word of every hash contiguous for scans and gathers.
    """
    n, nbytes = rows.shape
    if nbytes != nwords * 8:
        padded = np.zeros((n, nwords * 8), dtype=np.uint8)
        padded[:, :nbytes] = rows
        rows = padded
    big_endian = rows.view(">u8")
    words = np.empty((nwords, n), dtype=np.uint64)
    for w in range(nwords):  # one strided copy per word beats a transpose
        words[w] = big_endian[:, w]
    return words


def _chunk_keys(words: np.ndarray, chunk: int, bits: int) -> np.ndarray:
    """Bits ``[chunk*bits, (chunk+1)*bits)`` of every hash, as uint64 [n]."""
    start = chunk * bits
    w, s = divmod(start, BITS_PER_WORD)
    if s + bits <= BITS_PER_WORD:
        return (words[w] >> np.uint64(BITS_PER_WORD - s - bits)) & np.uint64((1 << bits) - 1)
    head = BITS_PER_WORD - s  # bits taken from word w, the rest from word w + 1
    high = words[w] & np.uint64((1 << head) - 1)
    low = words[w + 1] >> np.uint64(BITS_PER_WORD - (bits - head))
    return (high << np.uint64(bits - head)) | low


@lru_cache(maxsize=64)
def _flip_masks(bits: int, flips: int) -> np.ndarray:
    """Every ``bits``-bit mask with exactly ``flips`` bits set, as int64 (read-only)."""
    masks = np.array(
        [sum(1 << i for i in combo) for combo in itertools.combinations(range(bits), flips)],
        dtype=np.int64,
    )
    masks.setflags(write=False)
    return masks


class MultiIndex:
    """Exact Hamming-threshold index over a fixed array of hashes.

    Build with :meth:`build`; query one hash with :meth:`query` or many (up to
    k hashes per query image) with :meth:`query_batch`. Items are row numbers
    of the array given to ``build``; identical rows are separate items (a
    :class:`~photosieve.lists.HashList` has already merged duplicates).

    The object holds only numpy arrays and ints, pickles through
    ``__getstate__`` and is read-only after ``build``, so one copy can be
    shared by the threads of a Beam worker.
    """

    nbytes: int

    def __init__(
        self,
        *,
        nbytes: int,
        words: np.ndarray,
        geometry: Geometry | None,
        tables: np.ndarray,
        items: np.ndarray,
        neighbour_keys: np.ndarray,
    ) -> None:
        """Assemble from arrays; use :meth:`build` instead."""
        self.nbytes = nbytes
        self._words = words
        self._geometry = geometry
        self._tables = tables
        self._items = items
        self._neighbour_keys = neighbour_keys

    @classmethod
    def build(
        cls,
        hashes: np.ndarray,
        *,
        threshold: int,
        geometry: Geometry | None = None,
        max_bytes_per_hash: float = DEFAULT_MAX_BYTES_PER_HASH,
    ) -> MultiIndex:
        """Index ``hashes`` (``uint8 [n, nbytes]``), tuned for queries at ``threshold``.

        Args:
            hashes: the list's hashes, one per row, big-endian bit order
                (the bytes of the hex string).
            threshold: the Hamming distance queries will mostly use; it only
                picks the geometry, queries at any threshold stay exact.
            geometry: force a geometry (benchmarks, tests) instead of the
                cost model's choice. ``None`` with a tiny list means no
                tables: every query is a scan.
            max_bytes_per_hash: memory budget the chosen geometry must fit.

        Raises:
            ConfigError: bad array shape or dtype, or a geometry that does
                not fit the hash.
        """
        array = np.asarray(hashes)
        if array.ndim != 2:
            raise ConfigError(f"hashes must be uint8 [n, nbytes], got shape {array.shape}")
        nbytes = array.shape[1]
        rows = as_hash_rows(array, nbytes)
        n, nbits = rows.shape[0], nbytes * 8
        if n >= 1 << 32:
            raise ConfigError(f"a MultiIndex holds fewer than 2**32 hashes, got {n}")
        _check_threshold(threshold)
        if geometry is None:
            geometry = choose_geometry(
                n, nbits, int(threshold), max_bytes_per_hash=max_bytes_per_hash
            )
        elif geometry.chunks * geometry.chunk_bits > nbits or not 1 <= geometry.chunk_bits <= 32:
            raise ConfigError(f"{geometry} does not fit a {nbits}-bit hash")
        words = _to_words(rows, -(-nbytes // 8))
        if geometry is None:
            empty32 = np.zeros((0, 0), dtype=np.uint32)
            return cls(
                nbytes=nbytes,
                words=words,
                geometry=None,
                tables=empty32,
                items=empty32,
                neighbour_keys=empty32,
            )
        m, b = geometry.chunks, geometry.chunk_bits
        key_dtype = _key_dtype(b)
        keys = [_chunk_keys(words, j, b).astype(key_dtype) for j in range(m)]
        tables = np.empty((m, (1 << b) + 1), dtype=np.uint32)
        items = np.empty((m, n), dtype=np.uint32)
        neighbour_keys = np.empty((m, n), dtype=key_dtype)
        for j in range(m):
            # Radix sort for keys of <= 16 bits; the order inside a bucket does not matter.
            order = np.argsort(keys[j], kind="stable")
            items[j] = order
            np.take(keys[(j + 1) % m], order, out=neighbour_keys[j])
            tables[j, 0] = 0
            np.cumsum(np.bincount(keys[j], minlength=1 << b), out=tables[j, 1:])
        logger.debug("built %s over %d hashes", geometry, n)
        return cls(
            nbytes=nbytes,
            words=words,
            geometry=geometry,
            tables=tables,
            items=items,
            neighbour_keys=neighbour_keys,
        )

    # -- size and state ------------------------------------------------------

    def __len__(self) -> int:
        return int(self._words.shape[1])

    @property
    def geometry(self) -> Geometry | None:
        return self._geometry

    def nbytes_used(self) -> int:
        """Bytes held by the index's arrays (hashes included)."""
        return int(
            self._words.nbytes
            + self._tables.nbytes
            + self._items.nbytes
            + self._neighbour_keys.nbytes
        )

    def plan(self, threshold: int) -> Plan:
        """What a query at ``threshold`` will do (index or scan) and the model's estimates."""
        return estimate(self._geometry, len(self), self.nbytes * 8, int(threshold))

    def __getstate__(self) -> dict:
        geometry = self._geometry
        return {
            "nbytes": self.nbytes,
            "geometry": None if geometry is None else (geometry.chunks, geometry.chunk_bits),
            "words": self._words,
            "tables": self._tables,
            "items": self._items,
            "neighbour_keys": self._neighbour_keys,
        }

    def __setstate__(self, state: dict) -> None:
        geometry = state["geometry"]
        self.__init__(
            nbytes=state["nbytes"],
            words=state["words"],
            geometry=None if geometry is None else Geometry(*geometry),
            tables=state["tables"],
            items=state["items"],
            neighbour_keys=state["neighbour_keys"],
        )

    def __repr__(self) -> str:
        return f"MultiIndex(n={len(self)}, nbits={self.nbytes * 8}, geometry={self._geometry})"

    # -- queries ---------------------------------------------------------------

    def query(self, h: object, *, threshold: int) -> list[Match]:
        """Every indexed hash within ``threshold`` of ``h``, nearest first.

        Args:
            h: a :class:`~photosieve.hashes.value.HashValue`, ``bytes`` or a
                ``uint8 [nbytes]`` array.
            threshold: maximum Hamming distance (inclusive).
        """
        found = self.query_batch(single_hash_row(h, self.nbytes), threshold=threshold)
        matches = [Match(int(i), int(d)) for i, d in zip(found.item, found.distance)]
        return sorted(matches, key=lambda match: (match.distance, match.item))

    def query_batch(
        self,
        queries: np.ndarray,
        *,
        threshold: int,
        valid: np.ndarray | None = None,
        method: str = "auto",
    ) -> BatchMatches:
        """Every (query, variant, item) with Hamming distance <= ``threshold``.

        Args:
            queries: ``uint8 [q, k, nbytes]`` (k hashes per query image, e.g.
                the 8 dihedral PDQ hashes) or ``uint8 [q, nbytes]``.
            threshold: maximum Hamming distance (inclusive).
            valid: optional bool ``[q, k]``; False marks padding rows.
            method: ``"auto"`` (the cost model picks, see :meth:`plan`),
                ``"index"`` or ``"scan"`` (brute force). All three return the
                same matches; forcing one is for tests and benchmarks.

        Returns:
            The matches, sorted by (query, item, variant); distances int32.
        """
        t = _check_threshold(threshold)
        if method not in ("auto", "index", "scan"):
            raise ConfigError(f"method must be 'auto', 'index' or 'scan', got {method!r}")
        if method == "index" and self._geometry is None and len(self):
            raise ConfigError("this index was built without tables (a scan was cheaper)")
        rows, k, valid_rows = as_query_batch(queries, self.nbytes, valid)
        if valid_rows is not None:
            flat = np.flatnonzero(valid_rows)
            rows = rows[flat]
        if len(self) == 0 or rows.shape[0] == 0:
            return BatchMatches.empty()
        qwords = _to_words(rows, self._words.shape[0])
        if method == "index" or (method == "auto" and self.plan(t).method == "index"):
            qi, item, dist = self._search(qwords, t)
        else:
            qi, item, dist = self._scan(qwords, t)
        if valid_rows is not None:
            qi = flat[qi]
        return BatchMatches.from_flat(qi, item, dist, k)

    def _search(self, qwords: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        geometry = self._geometry
        assert geometry is not None
        m, b = geometry.chunks, geometry.chunk_bits
        plan = self.plan(t)
        # One (chunk, query batch) step should touch ~CANDIDATES_PER_STEP entries.
        per_query_chunk = (plan.candidates + plan.probes) / m
        batch = int(
            min(MAX_QUERIES_PER_BATCH, max(1, CANDIDATES_PER_STEP // max(per_query_chunk, 1)))
        )
        q = qwords.shape[1]
        parts_q, parts_item = [], []
        for lo in range(0, q, batch):
            hi = min(q, lo + batch)
            qkeys = np.stack([_chunk_keys(qwords[:, lo:hi], j, b) for j in range(m)])
            qi, item = self._candidates(qkeys.astype(np.int64), t)
            parts_q.append(qi + lo)
            parts_item.append(item)
        qi = np.concatenate(parts_q)
        item = np.concatenate(parts_item)
        dist = self._distances(qwords, qi, item)
        keep = dist <= t
        qi, item, dist = qi[keep], item[keep], dist[keep]
        # A pair within t can pass through several chunks; report it once.
        pair = qi * len(self) + item
        pair, first = np.unique(pair, return_index=True)
        return qi[first], item[first], dist[first]

    def _candidates(self, qkeys: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Probe every chunk, keep entries passing the pigeonring test; return (query, item).

        Chunk by chunk, so that one step reads one chunk's tables and
        neighbour keys (a few MB) for the whole query batch.
        """
        geometry = self._geometry
        assert geometry is not None
        m, b = geometry.chunks, geometry.chunk_bits
        r1, r2 = geometry.radii(t)
        # The query's key of chunk j + 1, compared with the stored neighbour keys.
        query_neighbours = np.roll(qkeys, -1, axis=0).astype(self._neighbour_keys.dtype)
        parts_q, parts_item = [], []
        for j in range(m):
            table, neighbour_keys = self._tables[j], self._neighbour_keys[j]
            for f in range(min(r1, b) + 1):
                masks = _flip_masks(b, f)
                probes = (qkeys[j][:, None] ^ masks).reshape(-1)  # [q * p], query-major
                # np.take: measurably faster than fancy indexing for 1-D gathers.
                first = np.take(table, probes)
                counts = (np.take(table, probes + 1) - first).astype(np.int64)
                ends = np.cumsum(counts)
                total = int(ends[-1])
                if total == 0:
                    continue
                # Expand every probed bucket [first, first + count) into positions.
                positions = np.arange(total, dtype=np.int64)
                positions -= np.repeat(ends - counts - first, counts)
                wanted = np.repeat(np.repeat(query_neighbours[j], masks.size), counts)
                close = np.bitwise_count(np.take(neighbour_keys, positions) ^ wanted) <= r2 - f
                kept = np.flatnonzero(close)
                probe = np.searchsorted(ends, kept, side="right")
                parts_q.append(probe // masks.size)
                parts_item.append(np.take(self._items[j], np.take(positions, kept)))
        if not parts_q:
            none = np.zeros(0, dtype=np.int64)
            return none, none
        return np.concatenate(parts_q).astype(np.int64), np.concatenate(parts_item).astype(np.int64)

    def _distances(self, qwords: np.ndarray, qi: np.ndarray, item: np.ndarray) -> np.ndarray:
        dist = np.zeros(qi.size, dtype=np.int32)
        for w in range(self._words.shape[0]):
            dist += np.bitwise_count(np.take(self._words[w], item) ^ np.take(qwords[w], qi))
        return dist

    def _scan(self, qwords: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Brute force: every query against every hash, in cache-sized tiles."""
        n = len(self)
        q = qwords.shape[1]
        item_block = max(1, min(n, SCAN_TILE_ELEMENTS))
        query_block = max(1, SCAN_TILE_ELEMENTS // item_block)
        parts_q, parts_item, parts_d = [], [], []
        for q_lo in range(0, q, query_block):
            q_hi = min(q, q_lo + query_block)
            for lo in range(0, n, item_block):
                hi = min(n, lo + item_block)
                dist = np.zeros((q_hi - q_lo, hi - lo), dtype=np.int32)
                for w in range(self._words.shape[0]):
                    dist += np.bitwise_count(
                        self._words[w][None, lo:hi] ^ qwords[w][q_lo:q_hi, None]
                    )
                qq, ii = np.nonzero(dist <= t)
                parts_q.append(qq + q_lo)
                parts_item.append(ii + lo)
                parts_d.append(dist[qq, ii])
        if not parts_q:
            return BatchMatches.empty().query, BatchMatches.empty().item, np.zeros(0, np.int32)
        return (
            np.concatenate(parts_q).astype(np.int64),
            np.concatenate(parts_item).astype(np.int64),
            np.concatenate(parts_d),
        )


def _check_threshold(threshold: float) -> int:
    """Hamming distances are integers: ``d <= t`` iff ``d <= floor(t)``."""
    if threshold is None or not math.isfinite(threshold) or threshold < 0:
        raise ConfigError(f"threshold must be a finite number >= 0, got {threshold!r}")
    return int(math.floor(threshold))
