"""One geometry and cost model for Hamming search by chunks: the index and the shuffle join.

Both exact Hamming searches of photosieve cut a hash into chunks and look up
the chunks: :class:`~photosieve.index.multi_index.MultiIndex` in bucket
tables held in memory, the ``shuffle`` strategy of
:class:`~photosieve.transforms.matching.MatchHashes` in the buckets of a
``CoGroupByKey``. They share everything defined here, so that one change
(a chunking, the candidate rule, a cost) reaches both:

*Chunking*: a :class:`Geometry` ``(m, b)`` cuts the first ``m * b`` bits of
a hash into ``m`` chunks of ``b`` bits, chunk ``j`` being bits
``[j*b, (j+1)*b)`` counted from the first hex digit (bits past ``m * b`` are
only used when verifying).

*Candidate rule* (pigeonhole and pigeonring, see
:mod:`photosieve.index.multi_index`): with ``(r1, r2) = geometry.radii(t)``,
a pair within ``t`` bits has some chunk ``j`` with ``d_j <= r1`` and
``d_j + d_{j+1} <= r2`` (chunks in a ring). A query probes each chunk with
every key within ``r1`` flipped bits (:meth:`Geometry.probe_masks`); a pair
is a candidate of chunk ``j`` when both tests hold, and the pair is reported
by the first such chunk (:meth:`Geometry.first_candidate`) or, in the index,
once whatever chunk found it.

*Cost model*: :func:`estimate` counts, per query, the probes, the bucket
entries they reach (candidates) and those passing the pigeonring test
(survivors) for random hashes; a :class:`CostModel` prices them:
:data:`INDEX_COSTS` (numpy, nanoseconds measured with
``benchmarks/bench_index.py``) or :data:`SHUFFLE_COSTS` (one shuffled
element per probe key, one Python verification per candidate pair).
:func:`choose_geometry` picks the cheapest geometry under that pricing.

>>> geometry = choose_geometry(1_000_000, 256, 31)
>>> geometry, geometry.radii(31), geometry.probe_count(31)
(Geometry(chunks=16, chunk_bits=16), (1, 3), 272)
>>> choose_geometry(1_000_000, 256, 31, costs=SHUFFLE_COSTS, max_bytes_per_hash=None)
Geometry(chunks=16, chunk_bits=16)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES_PER_HASH",
    "INDEX_COSTS",
    "SHUFFLE_COSTS",
    "CostModel",
    "Geometry",
    "Plan",
    "ball_size",
    "choose_geometry",
    "chunk_keys",
    "estimate",
    "flip_masks",
]

BITS_PER_WORD = 64

# Issue 3's memory budget for a 256-bit hash (hash + bucket tables + filters).
DEFAULT_MAX_BYTES_PER_HASH = 150
# Below this many bytes the tables are not worth a budget check: a 16 x 16
# geometry's offset tables alone are 4 MiB whatever the list size.
MIN_BUDGET_BYTES = 1 << 20
# A chunk's item numbers and neighbour keys beyond this size are read from DRAM.
CACHE_BYTES = 16 << 20


@dataclass(frozen=True)
class CostModel:
    """Per-element costs (nanoseconds) that price a :class:`Plan`, and the chunks a search can use.

    Only ratios matter: they rank geometries and decide index vs scan.

    Attributes:
        probe_ns: one probed key (a bucket lookup; a shuffled element).
        miss_ns: a probe reaching a non-empty bucket of a chunk out of cache.
        candidate_ns: one bucket entry reached by a probe.
        survivor_ns: one entry passing the pigeonring test, verified in full.
        scan_word_ns: one 64-bit word of one list hash in a brute-force
            scan (``inf``: no scan to fall back on).
        min_chunk_bits, max_chunk_bits: narrowest and widest chunk considered.
        tie_factor: geometries estimated within this factor of the
            cheapest are a tie (the model's error), won by the smallest.
    """

    probe_ns: float
    miss_ns: float
    candidate_ns: float
    survivor_ns: float
    scan_word_ns: float
    min_chunk_bits: int
    max_chunk_bits: int
    tie_factor: float


# The in-memory index: one thread, numpy 2.4 on an AMD EPYC (Zen 4) core; a
# least-squares fit to 12 measured geometries at 1M and 10M PDQ hashes
# (benchmarks/bench_index.py --geometries; see benchmarks/README.md), within
# about +-25% of each measurement. Chunks of 4 to 24 bits: narrower buckets
# hold most of the list, a 2**24-entry offset table is 64 MiB per chunk. The 25% tie goes to the smaller index: at 10M PDQ
# hashes 16 x 16 (measured 6.6k q/s, 128 B/hash) over 11 x 22 (6.2k q/s, 138 B/hash).
INDEX_COSTS = CostModel(
    probe_ns=27.5,  # offset reads, per-probe bookkeeping
    miss_ns=32.0,
    candidate_ns=4.5,  # one bucket entry through the pigeonring filter
    survivor_ns=60.0,  # one full-hash popcount verification (random gathers)
    scan_word_ns=1.5,
    min_chunk_bits=4,
    max_chunk_bits=24,
    tie_factor=1.25,
)
# The shuffle join: one shuffled element on the local runners (measured:
# ~35 us) per probe key, one candidate pair verified in Python (~0.5 us); no
# scan (it would shuffle every list hash to every query) and no tables, so
# chunks of any width up to 32 bits (Python ints) and no tie margin.
SHUFFLE_COSTS = CostModel(
    probe_ns=35_000.0,
    miss_ns=0.0,
    candidate_ns=500.0,
    survivor_ns=0.0,
    scan_word_ns=math.inf,
    min_chunk_bits=1,
    max_chunk_bits=32,
    tie_factor=1.0,
)


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

    def probe_count(self, threshold: int) -> int:
        """Keys a query probes at ``threshold``: every chunk's keys within the probe radius."""
        return self.chunks * ball_size(self.chunk_bits, self.radii(threshold)[0])

    def table_bytes(self) -> int:
        """Bytes of the index's offset tables (``2**b + 1`` uint32 per chunk)."""
        return self.chunks * ((1 << self.chunk_bits) + 1) * 4

    def entry_bytes(self) -> int:
        """Bytes per list hash in the index for item numbers (uint32) and neighbour keys."""
        return self.chunks * (4 + key_dtype(self.chunk_bits).itemsize)

    def keys(self, value: int, nbits: int) -> list[int]:
        """The chunk keys of an ``nbits``-bit hash given as an int (big-endian, as its hex)."""
        b = self.chunk_bits
        mask = (1 << b) - 1
        return [(value >> (nbits - (j + 1) * b)) & mask for j in range(self.chunks)]

    def probe_masks(self, threshold: int) -> tuple[int, ...]:
        """Every mask a query's chunk key is XORed with at ``threshold``, fewest bits first."""
        return _probe_masks(self.chunk_bits, min(self.radii(threshold)[0], self.chunk_bits))

    def first_candidate(
        self, query_keys: Sequence[int], item_keys: Sequence[int], threshold: int
    ) -> int | None:
        """The first chunk of which the pair is a candidate, or None (then it is not within ``threshold``).

        Chunk ``j`` when ``d_j <= r1`` (a probe of chunk ``j`` reaches the
        item) and ``d_j + d_{j+1} <= r2`` (the index's pigeonring filter).
        """
        r1, r2 = self.radii(threshold)
        distances = [(a ^ b).bit_count() for a, b in zip(query_keys, item_keys)]
        m = self.chunks
        for j, d in enumerate(distances):
            if d <= r1 and d + distances[(j + 1) % m] <= r2:
                return j
        return None


@dataclass(frozen=True)
class Plan:
    """What a query at one threshold will do, with the model's estimates (per query)."""

    method: str  # "index" or "scan"
    probes: float
    candidates: float
    survivors: float
    index_ns: float
    scan_ns: float


def key_dtype(bits: int) -> np.dtype:
    """The narrowest unsigned dtype holding a ``bits``-bit chunk key."""
    if bits <= 8:
        return np.dtype(np.uint8)
    if bits <= 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def ball_size(bits: int, radius: int) -> int:
    """Number of keys within ``radius`` flipped bits of a ``bits``-bit key."""
    return sum(math.comb(bits, f) for f in range(min(radius, bits) + 1))


def estimate(
    geometry: Geometry | None,
    n: int,
    nbits: int,
    threshold: int,
    costs: CostModel = INDEX_COSTS,
) -> Plan:
    """Estimated per-query cost of the chunk search and of a scan, for random hashes."""
    words = -(-nbits // BITS_PER_WORD)
    scan_ns = costs.scan_word_ns * words * n
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
        survivors += probes_f * per_key * ball_size(b, r2 - f) / float(1 << b) if r2 >= f else 0
    # Probes that land in a non-empty bucket of an out-of-cache chunk miss.
    out_of_cache = n * geometry.entry_bytes() / m > CACHE_BYTES
    misses = probes * -math.expm1(-per_key) if out_of_cache else 0.0
    index_ns = (
        costs.probe_ns * probes
        + costs.miss_ns * misses
        + costs.candidate_ns * candidates
        + costs.survivor_ns * survivors
    )
    method = "index" if index_ns < scan_ns else "scan"
    return Plan(method, probes, candidates, survivors, index_ns, scan_ns)


@lru_cache(maxsize=256)
def choose_geometry(
    n: int,
    nbits: int,
    threshold: int,
    *,
    costs: CostModel = INDEX_COSTS,
    max_bytes_per_hash: float | None = DEFAULT_MAX_BYTES_PER_HASH,
) -> Geometry | None:
    """The cheapest geometry for ``n`` hashes of ``nbits`` at ``threshold`` under ``costs``.

    Among geometries estimated within ``costs.tie_factor`` of the cheapest,
    the one using the least index memory. With a ``max_bytes_per_hash``
    budget (the in-memory index), only geometries whose index fits it; None
    for no budget (the shuffle join holds no tables). Returns None when no
    geometry beats a brute-force scan (tiny lists, or thresholds so large
    that probes explode), and for an empty list.
    """
    if n == 0:
        return None
    budget = (
        math.inf if max_bytes_per_hash is None else max(max_bytes_per_hash * n, MIN_BUDGET_BYTES)
    )
    hash_bytes = -(-nbits // BITS_PER_WORD) * 8
    fits: list[tuple[float, int, Geometry]] = []
    for b in range(costs.min_chunk_bits, min(costs.max_chunk_bits, nbits) + 1):
        for m in range(1, nbits // b + 1):
            geometry = Geometry(m, b)
            if geometry.radii(threshold)[0] >= b:
                continue  # every key of a chunk probed: a scan with extra steps (or a broadcast)
            size = geometry.table_bytes() + n * (hash_bytes + geometry.entry_bytes())
            if size > budget:
                continue
            plan = estimate(geometry, n, nbits, threshold, costs)
            if plan.method == "index":
                fits.append((plan.index_ns, size, geometry))
    if not fits:
        return None
    cheapest = min(cost for cost, _, _ in fits)
    ties = [
        (size, cost, g.chunks, g.chunk_bits)
        for cost, size, g in fits
        if cost <= cheapest * costs.tie_factor
    ]
    _, _, m, b = min(ties)
    return Geometry(m, b)


def chunk_keys(words: np.ndarray, chunk: int, bits: int) -> np.ndarray:
    """Bits ``[chunk*bits, (chunk+1)*bits)`` of every hash, as uint64 [n] (:meth:`Geometry.keys` in numpy).

    ``words`` is ``uint64 [nwords, n]``: word ``w`` of every hash, big-endian.
    """
    start = chunk * bits
    w, s = divmod(start, BITS_PER_WORD)
    if s + bits <= BITS_PER_WORD:
        return (words[w] >> np.uint64(BITS_PER_WORD - s - bits)) & np.uint64((1 << bits) - 1)
    head = BITS_PER_WORD - s  # bits taken from word w, the rest from word w + 1
    high = words[w] & np.uint64((1 << head) - 1)
    low = words[w + 1] >> np.uint64(BITS_PER_WORD - (bits - head))
    return (high << np.uint64(bits - head)) | low


@lru_cache(maxsize=64)
def flip_masks(bits: int, flips: int) -> np.ndarray:
    """Every ``bits``-bit mask with exactly ``flips`` bits set, as int64 (read-only)."""
    masks = np.array(
        [sum(1 << i for i in combo) for combo in itertools.combinations(range(bits), flips)],
        dtype=np.int64,
    )
    masks.setflags(write=False)
    return masks


@lru_cache(maxsize=64)
def _probe_masks(bits: int, radius: int) -> tuple[int, ...]:
    return tuple(int(mask) for f in range(radius + 1) for mask in flip_masks(bits, f))
