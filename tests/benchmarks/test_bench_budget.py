"""bench_budget's thresholds are the ones an audit would choose (generated curves only)."""

from __future__ import annotations

from benchmarks import bench_budget
from benchmarks import bench_robustness as robustness
from photosieve.robust.budget import FALLBACK_MARGIN, Curve

# None counted below 60 of 1e10 comparisons, then 10x more per distance.
CURVE = Curve(tuple([0] * 60 + [10**k for k in range(9)] + [0] * 188), 2 * 10**9)


def test_list_sizes_count_every_hash_a_list_holds_per_image():
    hash_only = [m for m in robustness.MODES if m.list_options is None]
    built = [m for m in robustness.MODES if m.list_options is not None]
    assert hash_only and all(bench_budget.list_hashes_per_image(m) == 1 for m in hash_only)
    assert built and all(bench_budget.list_hashes_per_image(m) > 70 for m in built)


def test_each_mode_gets_its_audits_threshold_and_a_combined_score_a_pdq_cap():
    chosen = bench_budget.budget_thresholds(CURVE, 1e-6, 10_000_000)
    for mode in robustness.MODES:
        t, supported = chosen[mode.name]
        # far beyond what 2e9 comparisons resolve: the fall-back, below the first count
        assert (t, supported) == (min(mode.config.threshold, 59 - FALLBACK_MARGIN), False)
        run = bench_budget.budgeted(mode, t)
        if mode.config.combines:  # the score's threshold stays; PDQ is capped
            assert (run.config.threshold, run.config.max_pdq) == (mode.config.threshold, t)
        else:
            assert (run.config.threshold, run.config.max_pdq) == (t, None)
        assert run.config.pdq_radius == t
    loose = bench_budget.budget_thresholds(CURVE, 1e9, 1)
    assert all(t <= m.config.threshold for m in robustness.MODES for t, _ in [loose[m.name]])