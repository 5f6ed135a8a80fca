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
The geometry ``(m, b)``, the candidate rule and the cost model are shared
with the shuffle join and live in :mod:`photosieve.index.geometry`. The
geometry is chosen at build time for a hint threshold by
:func:`~photosieve.index.geometry.choose_geometry` (with
:data:`~photosieve.index.geometry.INDEX_COSTS`): among the geometries whose memory fits the budget
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

import logging
import math

import numpy as np

from photosieve.errors import ConfigError
from photosieve.index.geometry import (
    DEFAULT_MAX_BYTES_PER_HASH,
    Geometry,
    Plan,
    choose_geometry,
    chunk_keys,
    estimate,
    flip_masks,
    key_dtype,
)
from photosieve.index.types import (
    BatchMatches,
    Match,
    as_hash_rows,
    as_query_batch,
    single_hash_row,
)

__all__ = ["MultiIndex"]

logger = logging.getLogger(__name__)

# A query batch is sized so that one chunk's step handles about this many
# bucket entries: its temporaries then stay in cache (measured best at 1M
# and 10M PDQ hashes).
CANDIDATES_PER_STEP = 1 << 19
MAX_QUERIES_PER_BATCH = 4096
# Brute force works on [queries, items] tiles of about this many elements.
SCAN_TILE_ELEMENTS = 1 << 20


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
        keys_dtype = key_dtype(b)
        keys = [chunk_keys(words, j, b).astype(keys_dtype) for j in range(m)]
        tables = np.empty((m, (1 << b) + 1), dtype=np.uint32)
        items = np.empty((m, n), dtype=np.uint32)
        neighbour_keys = np.empty((m, n), dtype=keys_dtype)
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

    def hashes_of(self, items: np.ndarray) -> np.ndarray:
        """The indexed hashes of ``items`` as ``uint8 [len(items), nbytes]`` (from the words).

        Lets a caller report the matched hash without keeping its own copy
        of the hashes (a mapped index holds only the words).
        """
        picked = np.take(self._words, np.asarray(items, dtype=np.int64), axis=1)
        rows = np.ascontiguousarray(picked.T.astype(">u8")).view(np.uint8)
        return rows.reshape(-1, self._words.shape[0] * 8)[:, : self.nbytes]

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
            qkeys = np.stack([chunk_keys(qwords[:, lo:hi], j, b) for j in range(m)])
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
                masks = flip_masks(b, f)
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
