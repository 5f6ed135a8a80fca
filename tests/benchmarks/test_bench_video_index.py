"""The video-index benchmark's generators and its agreement check."""

from __future__ import annotations

import numpy as np

from benchmarks import bench_video_index as bench


def test_flip_changes_at_most_the_count_of_bits():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 256, size=(200, 32), dtype=np.uint8)
    counts = rng.integers(0, 9, size=200)
    flipped = bench._flip(bits, counts, rng)
    changed = np.unpackbits(bits ^ flipped, axis=1).sum(axis=1)
    assert (changed <= counts).all() and (changed[counts > 0] > 0).mean() > 0.9
    assert (changed % 2 == counts % 2).all()  # a repeated position cancels in pairs


def test_list_and_copies_have_the_shape_asked_and_the_index_finds_the_copies():
    rng = np.random.default_rng(1)
    listed, pools = bench.synthetic_list(rng, 30, 12, 3)
    assert len(listed) == 30 and listed.frames == 360 and pools.shape == (30, 3, 32)
    copy = bench.copy_of(rng, listed.features[4], 20)
    assert [f.timestamp for f in copy] == [f.timestamp for f in listed.features[4]]
    result = bench.run(40, frames=10, scenes=3, queries=4, seed=2, scan_limit=100)
    assert result["same"] is True and result["recall"] == 1.0 and result["false_matches"] == 0
