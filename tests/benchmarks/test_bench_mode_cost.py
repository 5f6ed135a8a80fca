"""bench_mode_cost: the plans it times are the audit's, and its stage split adds up (generated images only)."""

from __future__ import annotations

import cProfile
import pstats

import numpy as np

from benchmarks import bench_mode_cost
from photosieve.robust import expansion, regions
from tests.transforms import samples


def test_every_mode_plan_adds_query_hashes_to_plain_pdq():
    plans = bench_mode_cost.plans()
    assert plans[bench_mode_cost.PLAIN].query_expansion is None
    for mode in bench_mode_cost.MODES:
        assert plans[mode].query_expansion is not None and "pdq" in plans[mode].algorithms


def _profiled_items(n: int) -> list[tuple[str, bytes]]:
    return [(f"{i}.png", samples.encode(samples.picture(i, (200, 150)), "PNG")) for i in range(n)]


def test_a_modes_stages_are_found_and_shares_add_up_to_one():
    items = _profiled_items(3)
    shares = bench_mode_cost.profile_pass(bench_mode_cost.plans()["robust"], items)
    assert {"decode", "borders", "region", "variant products"} <= set(shares)
    assert abs(sum(shares.values()) - 1) < 1e-9
    assert all(0 <= share <= 1 for share in shares.values())


def test_a_stage_counts_only_its_own_functions():
    profiler = cProfile.Profile()
    picture = np.asarray(samples.picture(1, (160, 120)).convert("RGB"))
    profiler.runcall(regions.find_borders, picture)
    shares = bench_mode_cost.stage_shares(pstats.Stats(profiler), total=1e9)
    assert set(shares) == {"borders", "rest"}  # find_region, products...: not called
    profiler = cProfile.Profile()
    profiler.runcall(expansion.query_hashes, picture, None, expansion.QueryExpansion(dihedral=True))
    assert "region" in bench_mode_cost.stage_shares(pstats.Stats(profiler), total=1e9)


def test_tables_show_ratios_to_plain_pdq():
    timings = {"pdq": 0.2, "robust": 1.0}
    table = bench_mode_cost.hashing_table(timings, 100)
    assert table[2] == "| pdq | 2.00 | 1.0 |" and table[3] == "| robust | 10.00 | 5.0 |"
    stages = bench_mode_cost.stages_table(
        {"pdq": {"decode": 0.9, "rest": 0.1}, "robust": {"decode": 0.2, "region": 0.5, "rest": 0.3}},
        timings,
        100,
    )
    assert "| region | - | 50% (5.00 ms) |" in stages
