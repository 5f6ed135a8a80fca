"""``--strategy auto``: the size model against real indexes, and the choice's rules."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.index import build_index
from photosieve.strategy import (
    AUTO,
    SHUFFLE,
    SIDE_INPUT,
    ListSize,
    choose_strategy,
    index_bytes,
)

MiB = 1 << 20


@pytest.mark.parametrize(
    ("algorithm", "n", "threshold"),
    [
        ("pdq", 0, 31),
        ("pdq", 50, 31),  # tiny: no tables, a scan over the words
        ("pdq", 20_000, 31),
        ("pdq", 150_000, 31),
        ("pdq", 150_000, 16),  # another threshold, another geometry
        ("phash", 30_000, 10),
        ("md5", 5_000, 0),
        ("sha256", 5_000, 0),
        ("gradient", 2_000, 0.1),
    ],
)
def test_the_estimate_is_the_built_index_s_bytes(algorithm, n, threshold):
    nbytes = algorithms.get(algorithm).nbytes
    hashes = np.random.default_rng(n).integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    index = build_index(algorithm, hashes, threshold=threshold)
    assert index_bytes(algorithm, n, threshold) == index.nbytes_used()


def test_a_worker_holds_the_list_s_hashes_and_metadata_beside_a_hamming_index():
    size = ListSize("k", "pdq", 10_000, 31, metadata_bytes=12_345)
    assert size.worker_bytes() == index_bytes("pdq", 10_000, 31) + 10_000 * 32 + 12_345
    # Exact and Euclidean indexes keep the list's own rows: counted once.
    digests = ListSize("k", "md5", 10_000, 0, metadata_bytes=7)
    assert digests.worker_bytes() == index_bytes("md5", 10_000, 0) + 7


def test_side_input_within_the_budget_shuffle_beyond():
    sizes = [ListSize("k", "pdq", 1_000_000, 31)]
    estimated = sizes[0].worker_bytes()
    within = choose_strategy(AUTO, sizes, estimated)
    over = choose_strategy(AUTO, sizes, estimated - 1)
    assert (within.strategy, over.strategy) == (SIDE_INPUT, SHUFFLE)
    assert within.estimated_bytes == over.estimated_bytes == estimated
    assert "within --side-input-budget" in within.reason and "over" in over.reason
    assert within.warning is None and over.warning is None
    # ~150 bytes of index and 32 of hash per PDQ hash at 1M: the figure.
    assert 140 < estimated / 1_000_000 < 200


def test_several_lists_add_up():
    one = [ListSize("a", "pdq", 400_000, 31)]
    two = [*one, ListSize("b", "pdq", 400_000, 31), ListSize("b", "md5", 400_000, 0)]
    budget = one[0].worker_bytes() + 1
    assert choose_strategy(AUTO, one, budget).strategy == SIDE_INPUT
    assert choose_strategy(AUTO, two, budget).strategy == SHUFFLE


def test_the_choice_is_monotone_in_list_size():
    budget = 64 * MiB
    choices = [
        choose_strategy(AUTO, [ListSize("k", "pdq", n, 31)], budget)
        for n in (0, 10, 1_000, 10_000, 100_000, 200_000, 300_000, 400_000, 1_000_000, 10**7)
    ]
    estimates = [choice.estimated_bytes for choice in choices]
    assert estimates == sorted(estimates)
    strategies = [choice.strategy for choice in choices]
    first_shuffle = strategies.index(SHUFFLE)
    assert 0 < first_shuffle and set(strategies[first_shuffle:]) == {SHUFFLE}


def test_a_match_mode_forces_side_input_with_a_warning_when_over_budget():
    sizes = [ListSize("k", "pdq", 1_000_000, 31)]
    over = choose_strategy(AUTO, sizes, 1 * MiB, match_mode="robust")
    assert over.strategy == SIDE_INPUT and "--match-mode robust" in over.reason
    assert "over --side-input-budget" in over.warning and "only be joined by side input" in over.warning
    within = choose_strategy(AUTO, sizes, 1 << 40, match_mode="robust")
    assert within.strategy == SIDE_INPUT and within.warning is None


def test_a_euclidean_list_forces_side_input():
    sizes = [ListSize("k", "pdq", 1_000_000, 31), ListSize("g", "gradient", 10, 0.1)]
    choice = choose_strategy(AUTO, sizes, 1 * MiB)
    assert choice.strategy == SIDE_INPUT
    assert "list g's gradient hashes" in choice.reason and choice.warning is not None


@pytest.mark.parametrize("requested", [SIDE_INPUT, SHUFFLE])
@pytest.mark.parametrize("budget", [1, 1 << 40])
def test_an_explicit_strategy_is_obeyed(requested, budget):
    choice = choose_strategy(requested, [ListSize("k", "pdq", 100_000, 31)], budget)
    assert choice.strategy == requested and choice.warning is None
    assert choice.reason.startswith(f"--strategy {requested} given")


@pytest.mark.parametrize(
    ("requested", "budget", "message"),
    [("fast", 1, "--strategy must be one of auto"), (AUTO, 0, "--side-input-budget must be at least")],
)
def test_bad_values_are_config_errors(requested, budget, message):
    with pytest.raises(ConfigError, match=message):
        choose_strategy(requested, [], budget)
