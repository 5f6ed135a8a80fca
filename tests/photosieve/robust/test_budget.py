"""Thresholds from a false-match budget (photosieve.robust.budget): pinned, monotone, honest fall-back."""

from __future__ import annotations

import pytest

from photosieve.errors import ConfigError
from photosieve.robust.budget import (
    DEFAULT_BUDGET,
    FALLBACK_MARGIN,
    Curve,
    choose_threshold,
    parse_budget,
    query_hashes_per_image,
)
from photosieve.robust.modes import CONFIGS

# 1e10 comparisons: none below 20, then 10x more per distance.
COUNTS = [0] * 20 + [10**k for k in range(0, 10)] + [0] * (257 - 30)
CURVE = Curve(tuple(COUNTS), 10**10 + 10**9)


def test_the_rate_and_its_bound():
    assert CURVE.within(19) == 0 and CURVE.within(20) == 1 and CURVE.within(22) == 111
    assert CURVE.rate(22) == pytest.approx(111 / CURVE.comparisons)
    assert CURVE.rate_bound(19) == pytest.approx(4 / CURVE.comparisons)  # nothing counted: ~3/N
    assert CURVE.rate_bound(22) > CURVE.rate(22)
    assert CURVE.strictest(31) == 19 and CURVE.strictest(10) == 10
    assert CURVE.strictest(31, margin=FALLBACK_MARGIN) == 19 - FALLBACK_MARGIN


def test_the_threshold_is_pinned_for_a_curve_a_budget_and_a_list():
    # 1 query hash x 10 listed hashes = 10 comparisons: a rate <= 1e-6 / 10 = 1e-7, i.e. about
    # 1,100 of 1.1e10 comparisons: <= 22 counts 111 (bound ~1.3e-8), <= 23 counts 1,111 (~1.1e-7).
    choice = choose_threshold(CURVE, budget=1e-6, query_hashes=1, list_hashes=10, cap=31)
    assert (choice.threshold, choice.supported, choice.comparisons_per_image) == (22, True, 10)
    assert choice.expected_per_image <= 1e-6 and "largest distance <= 31" in choice.derivation
    assert choice.expected_for(1000) == pytest.approx(choice.expected_per_image * 1000)


def test_never_above_the_cap():
    choice = choose_threshold(CURVE, budget=1.0, query_hashes=1, list_hashes=1, cap=24)
    assert choice.threshold == 24 and choice.supported


@pytest.mark.parametrize("query_hashes", [1, 8, 77])
def test_monotone_in_the_budget_and_the_list_size(query_hashes):
    def threshold(budget, hashes):
        return choose_threshold(
            CURVE, budget=budget, query_hashes=query_hashes, list_hashes=hashes, cap=40
        ).threshold

    budgets = [1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 1.0]
    sizes = [1, 100, 10_000, 1_000_000, 10_000_000]
    for size in sizes:
        by_budget = [threshold(b, size) for b in budgets]
        assert by_budget == sorted(by_budget), (size, by_budget)  # more budget: never stricter
    for budget in budgets:
        by_size = [threshold(budget, s) for s in sizes]
        assert by_size == sorted(by_size, reverse=True), (budget, by_size)  # bigger: never looser


def test_a_budget_the_curve_cannot_support_falls_back_to_the_strictest_measured_point():
    # 10M listed hashes x 77 query hashes: needs a rate < 1.3e-15, the curve resolves ~3.6e-10.
    choice = choose_threshold(
        CURVE, budget=DEFAULT_BUDGET, query_hashes=77, list_hashes=10_000_000, cap=85
    )
    # the strictest measured point: FALLBACK_MARGIN bits below the first counted distance (20)
    assert not choice.supported and choice.threshold == 19 - FALLBACK_MARGIN
    assert choice.expected_per_image > DEFAULT_BUDGET  # said, not hidden
    assert "finer than the curve resolves" in choice.derivation
    everywhere = Curve((1,) * 257, 257)  # false comparisons at every distance
    assert choose_threshold(everywhere, budget=1e-9, query_hashes=1, list_hashes=1, cap=31).threshold == 0


def test_an_empty_list_costs_nothing():
    choice = choose_threshold(CURVE, budget=1e-9, query_hashes=8, list_hashes=0, cap=31)
    assert choice.threshold == 31 and choice.expected_per_image == 0


def test_query_hashes_per_image_follow_the_plan():
    assert query_hashes_per_image(None, dihedral=False, as_stored=True) == 2
    assert query_hashes_per_image(None, dihedral=True, as_stored=True) == 8
    robust = CONFIGS["robust"].expansion
    assert query_hashes_per_image(robust, dihedral=True, as_stored=True) == 4 * 8 + len(robust.uncrop) * (
        8 if robust.uncrop_dihedral else 1
    )


@pytest.mark.parametrize("bad", ["lots", 0, -1e-6, float("nan"), float("inf")])
def test_a_bad_budget_is_refused(bad):
    with pytest.raises(ConfigError):
        parse_budget(bad)
    assert parse_budget("1e-6") == 1e-6


def test_a_curve_must_be_consistent():
    with pytest.raises(ConfigError):
        Curve((5, 5), 3)
    with pytest.raises(ConfigError):
        Curve.from_json({"comparisons": 3})
    assert Curve.from_json({"counts": [0, 1], "comparisons": 10}).rate(1) == 0.1
