"""``--strategy auto``: side input while the lists' indexes fit a worker machine, the shuffle join beyond.

The side-input join builds each list's index once per run into a file that
every SDK worker process memory-maps (:mod:`photosieve.index.mapped`): the
processes of one machine share one copy in the page cache, and one worker
reads the list and builds the file. The fastest join, as long as the
mapped file and that one build fit beside what the workers need for
decoding. The shuffle join (:mod:`photosieve.transforms.shuffle_join`)
holds no index at all, at the price of shuffling a few hundred bucket keys
per query hash. :func:`choose_strategy` decides between them once, at
preflight, where the lists have been read and their sizes are known.

The size of a list is estimated from the index's own model, so that it
follows the index when the index changes: a Hamming list's geometry is the
one :func:`~photosieve.index.geometry.choose_geometry` picks for its size
and threshold, and the arrays are those
:meth:`~photosieve.index.multi_index.MultiIndex.build` allocates (hash words,
offset tables, item numbers, neighbour keys); exact and Euclidean indexes
hold their rows and 8 bytes per hash; the ids and labels come beside them.
That is what the mapped file holds (within a few percent).

Rules, in order: an explicit ``side-input`` or ``shuffle`` is obeyed; a
matching mode or a Euclidean (gradient) list can only be joined by side
input, so it gets side input even over the budget (with a warning saying
so); otherwise side input when the estimate fits the budget, shuffle beyond.

>>> sizes = [ListSize("known", "pdq", 1_000_000, 31)]
>>> choice = choose_strategy(AUTO, sizes, budget_bytes=DEFAULT_SIDE_INPUT_BUDGET)
>>> choice.strategy, choice.estimated_bytes < DEFAULT_SIDE_INPUT_BUDGET
('side-input', True)
>>> choose_strategy(AUTO, sizes, budget_bytes=64 << 20).strategy
'shuffle'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.index.geometry import BITS_PER_WORD, choose_geometry, key_dtype

__all__ = [
    "AUTO",
    "CHOICES",
    "DEFAULT_SIDE_INPUT_BUDGET",
    "SHUFFLE",
    "SIDE_INPUT",
    "STRATEGIES",
    "Choice",
    "ListSize",
    "choose_strategy",
    "format_bytes",
    "index_bytes",
]

# How lists are joined with the hashes: every worker holds the list indexes
# (side input), or bucket keys meet in a CoGroupByKey (shuffle).
SIDE_INPUT = "side-input"
SHUFFLE = "shuffle"
# The joins a pipeline can run (what MatchHashes accepts).
STRATEGIES = (SIDE_INPUT, SHUFFLE)
# Resolved to one of STRATEGIES at preflight, by choose_strategy.
AUTO = "auto"
# What --strategy takes.
CHOICES = (AUTO, SIDE_INPUT, SHUFFLE)

# The list bytes (as estimated here: the mapped index files' size) a worker machine may hold
# before auto picks the shuffle join. The files are mapped, so a machine holds them once in
# its page cache, whatever its SDK processes (each adds ~10 MB of private memory: benchmarks/
# README.md, "Mapped index: memory per process"); one process per list reads the list and
# builds the file, once per run, peaking at ~3.3-3.8x the estimate (bench_strategy
# --worker-memory). configs/dataflow.yaml's n2-standard-8 (32 GiB, 8 SDK processes hashing
# at up to ~1.5 GiB each: "Hostile inputs") leaves ~20 GiB: 2 GiB of files keeps the mapped
# copy and one build (~7.5 GiB) well inside it, and takes a 10M-hash PDQ list (~1.6 GB). On a
# 3.75 GiB-per-vCPU n1-standard-1 worker, set it to 512M.
DEFAULT_SIDE_INPUT_BUDGET = 2 << 30
# Bytes per hash of a sorted key and a row number (ExactIndex) or a norm (EuclideanIndex).
_EXACT_BYTES_PER_HASH = 16
_EUCLIDEAN_BYTES_PER_HASH = 8


@dataclass(frozen=True)
class ListSize:
    """One (list, algorithm) group as a worker will hold it.

    Attributes:
        list_name: the list's name (for the reason).
        algorithm: the group's algorithm.
        hashes: distinct hashes of the group.
        threshold: the threshold the index is built for (picks a Hamming geometry).
        metadata_bytes: the ids and labels kept beside the hashes (Arrow bytes).
    """

    list_name: str
    algorithm: str
    hashes: int
    threshold: float
    metadata_bytes: int = 0

    def worker_bytes(self) -> int:
        """The group's bytes in one worker: the list's hashes and metadata, and its index."""
        spec = algorithms.get(self.algorithm)
        index = index_bytes(self.algorithm, self.hashes, self.threshold)
        # MultiIndex copies the hashes into words; the other indexes keep the list's rows.
        own_rows = spec.metric is algorithms.Metric.HAMMING
        hashes = self.hashes * spec.nbytes if own_rows else 0
        return index + hashes + self.metadata_bytes


@dataclass(frozen=True)
class Choice:
    """What :func:`choose_strategy` decided, and why.

    Attributes:
        strategy: :data:`SIDE_INPUT` or :data:`SHUFFLE`.
        reason: one sentence for the log, the closing lines and ``summary.json``.
        estimated_bytes: the lists' estimated bytes in one worker.
        budget_bytes: the budget they were compared with.
        warning: set when side input was forced over the budget.
    """

    strategy: str
    reason: str
    estimated_bytes: int
    budget_bytes: int
    warning: str | None = None


def index_bytes(algorithm: str, hashes: int, threshold: float) -> int:
    """Bytes of the index ``build_index(algorithm, ...)`` makes over ``hashes`` distinct hashes.

    Equal to the built index's ``nbytes_used()`` (tests hold it to that).
    """
    spec = algorithms.get(algorithm)
    n = int(hashes)
    if spec.metric is algorithms.Metric.EUCLIDEAN:
        return n * (spec.nbytes + _EUCLIDEAN_BYTES_PER_HASH)
    if spec.metric is not algorithms.Metric.HAMMING:
        return n * (spec.nbytes + _EXACT_BYTES_PER_HASH)
    nbits = spec.nbytes * 8
    words = n * -(-nbits // BITS_PER_WORD) * 8
    geometry = choose_geometry(n, nbits, math.floor(threshold)) if n else None
    if geometry is None:  # a scan: the words only
        return words
    m, b = geometry.chunks, geometry.chunk_bits
    return words + geometry.table_bytes() + m * n * (4 + key_dtype(b).itemsize)


def choose_strategy(
    requested: str,
    sizes: Sequence[ListSize],
    budget_bytes: int,
    *,
    match_mode: str | None = None,
) -> Choice:
    """The join for ``requested`` (:data:`AUTO` or a join) given the run's list groups.

    Args:
        requested: the ``--strategy`` given.
        sizes: every (list, algorithm) group the workers would hold.
        budget_bytes: the most bytes of index files one worker machine may map (``--side-input-budget``).
        match_mode: the ``--match-mode``, or None.

    Raises:
        ConfigError: an unknown strategy or a budget below one byte.
    """
    if requested not in CHOICES:
        raise ConfigError(f"--strategy must be one of {', '.join(CHOICES)}, got {requested!r}")
    if budget_bytes < 1:
        raise ConfigError(f"--side-input-budget must be at least 1 byte, got {budget_bytes}")
    estimated = sum(size.worker_bytes() for size in sizes)
    need = _side_input_only(sizes, match_mode)
    fits = estimated <= budget_bytes
    size_text = f"the lists need ~{format_bytes(estimated)} per worker machine"
    budget_text = f"--side-input-budget {format_bytes(budget_bytes)}"
    if requested != AUTO:
        reason = f"--strategy {requested} given ({size_text}; {budget_text})"
        return Choice(requested, reason, estimated, budget_bytes)
    if need is not None:
        reason = f"auto: {need} needs side input ({size_text}; {budget_text})"
        warning = None
        if not fits:
            warning = (
                f"--strategy auto: {size_text}, over {budget_text}, but {need} can only be "
                f"joined by side input, so every worker holds them; raise the budget if the "
                "workers have the memory, or give them more (a larger machine type)"
            )
        return Choice(SIDE_INPUT, reason, estimated, budget_bytes, warning)
    if fits:
        reason = f"auto: {size_text}, within {budget_text}"
        return Choice(SIDE_INPUT, reason, estimated, budget_bytes)
    reason = f"auto: {size_text}, over {budget_text}"
    return Choice(SHUFFLE, reason, estimated, budget_bytes)


def _side_input_only(sizes: Sequence[ListSize], match_mode: str | None) -> str | None:
    """What forces the side-input join (a mode, a Euclidean list), or None."""
    if match_mode is not None:
        return f"--match-mode {match_mode}"
    for size in sizes:
        metric = algorithms.get(size.algorithm).metric
        if metric is algorithms.Metric.EUCLIDEAN:
            return f"list {size.list_name}'s {size.algorithm} hashes ({metric.value} distance)"
    return None


def format_bytes(count: float) -> str:
    """``1073741824`` -> ``1.0 GiB`` (binary units, as --side-input-budget reads them).

    >>> format_bytes(1536), format_bytes(1 << 30), format_bytes(12)
    ('1.5 KiB', '1.0 GiB', '12 B')
    """
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
