"""The realistic hash lists of the index benchmark: buffers, sets, extensions, statistics (synthetic images only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks import bench_index
from benchmarks import real_hashes as rh
from photosieve.errors import ConfigError
from photosieve.hashes import pdq_fast
from photosieve.index.geometry import Geometry
from tests.transforms.samples import picture


def _pixels(seed: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    return np.asarray(picture(seed, size), dtype=np.uint8)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every row of a and every row of b."""
    return np.unpackbits(a[:, None, :] ^ b[None, :, :], axis=2).sum(axis=2)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for seed in range(6):
        picture(100 + seed, (128, 96)).save(folder / f"p{seed}.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_a_window_buffer_is_the_fast_pdq_buffer_of_the_cropped_pixels():
    pixels = _pixels(1)
    luma = rh._luma(pixels)
    rows, cols = [(0, 120), (10, 90)], [(0, 160), (37, 141)]
    buffers = rh.window_buffers(luma, rows, cols)
    assert buffers.shape == (4, 64, 64)
    for k, ((r0, r1), (c0, c1)) in enumerate((r, c) for r in rows for c in cols):
        crop = np.ascontiguousarray(pixels[r0:r1, c0:c1])
        expected = pdq_fast.buffer64(crop, crop.shape[:2])
        np.testing.assert_allclose(buffers[k], expected, rtol=1e-4, atol=1e-2)


def test_window_buffers_are_linear_in_the_luma_so_a_mix_of_buffers_is_the_mixed_image():
    a, b = rh._luma(_pixels(2)), rh._luma(_pixels(3))
    rows, cols = [(5, 100)], [(0, 150), (20, 80)]
    mixed = rh.window_buffers(0.3 * a + 0.7 * b, rows, cols)
    parts = 0.3 * rh.window_buffers(a, rows, cols) + 0.7 * rh.window_buffers(b, rows, cols)
    np.testing.assert_allclose(mixed, parts, rtol=1e-4, atol=1e-2)


def test_photo_hashes_are_deterministic_good_quality_and_hold_the_8_orientations():
    image = picture(4, (160, 120))
    first = rh.photo_hashes(image, 11, windows_per_axis=3)
    assert first.dtype == np.uint8 and first.shape[1] == 32
    assert np.array_equal(first, rh.photo_hashes(image, 11, windows_per_axis=3))
    assert not np.array_equal(first, rh.photo_hashes(image, 12, windows_per_axis=3))
    # Every window comes in its 8 orientations: the mirrored image's
    # hashes are (nearly) the same set, not a disjoint one.
    mirrored = rh.photo_hashes(
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 11, windows_per_axis=3
    )
    nearest = _distance(mirrored[:200], first).min(axis=1)
    assert np.median(nearest) <= 8


def test_hashing_keeps_only_quality_50_and_up_8_orientations_per_buffer():
    flat = np.asarray(Image.new("RGB", (160, 120), (90, 90, 90)), dtype=np.uint8)
    buffers = np.stack([pdq_fast.buffer64(p, p.shape[:2]) for p in (flat, _pixels(4), _pixels(5))])
    kept = rh._hash(buffers, dihedral=True)
    assert kept.shape == (16, 32)  # the flat image's 8 are dropped
    plain = rh._hash(buffers[1:], dihedral=False)
    assert np.array_equal(kept[[0, 8]], plain)  # orientation 0 is the plain hash


def test_near_queries_are_within_the_pdq_threshold_of_their_photos_list_hashes():
    image = picture(5, (192, 144))
    listed = rh.photo_hashes(image, 3, windows_per_axis=4)
    near = rh._near_queries(image, 3, 12)
    other = rh._near_queries(picture(6, (192, 144)), 3, 12)
    within = (_distance(near, listed).min(axis=1) <= 31).mean()
    unrelated = (_distance(other, listed).min(axis=1) <= 31).mean()
    # Synthetic scenes are less robust than photos (the benchmark reports
    # the share on the real ones).
    assert within >= 0.6
    assert unrelated <= 0.1


def test_dedupe_keeps_the_first_of_each_distinct_row_in_order():
    rows = np.array([[3] * 32, [1] * 32, [3] * 32, [2] * 32, [1] * 32], dtype=np.uint8)
    assert rh.dedupe(rows)[:, 0].tolist() == [3, 1, 2]
    assert rh.dedupe(rows[:0]).shape == (0, 32)


def test_chunk_sampling_draws_each_chunk_from_that_chunks_values():
    rng = np.random.default_rng(7)
    source = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    source[:, 0:2] = [0xAB, 0xCD]  # chunk 0 is constant
    source[:25, 30:32] = 0  # chunk 15 takes two values, half each
    source[25:, 30:32] = 0xFF
    out = rh.chunk_sampled(source, 4000, seed=1)
    assert out.shape == (4000, 32)
    assert (out[:, 0] == 0xAB).all() and (out[:, 1] == 0xCD).all()
    assert abs((out[:, 30] == 0).mean() - 0.5) < 0.05
    for j in range(16):
        seen = {bytes(r) for r in source[:, 2 * j : 2 * j + 2]}
        assert {bytes(r) for r in out[:, 2 * j : 2 * j + 2]} <= seen
    # Chunks are drawn independently: rows of the output are mostly new.
    assert len({bytes(r) for r in out} & {bytes(r) for r in source}) < 40
    with pytest.raises(ConfigError):
        rh.chunk_sampled(source[:0], 10, seed=1)
    with pytest.raises(ConfigError):
        rh.chunk_sampled(source, 10, seed=1, chunk_bits=12)


def test_chunk_stats_entropy_largest_bucket_and_probe_load():
    rng = np.random.default_rng(8)
    hashes = rng.integers(0, 256, (4096, 32), dtype=np.uint8)
    hashes[:, 0:2] = 0x12  # chunk 0: one value
    hashes[:2048, 2:4] = 0  # chunk 1: two values 1 bit apart, half each
    hashes[2048:, 2:4] = [0, 1]
    stats = rh.chunk_stats(hashes)
    assert len(stats) == 16
    assert stats[0].entropy_bits == 0 and stats[0].largest_share == 1
    assert stats[0].distinct == 1 and stats[0].top_value == "1212"
    # A query's own key holds everything; the 16 neighbours nothing.
    assert stats[0].probe_load == pytest.approx(65536 / 17)
    # Counted as another draw: the own key's count excludes the query's own entry.
    assert stats[1].entropy_bits == pytest.approx(1.0)
    # Own key: 1/2 of the list; the neighbour differing in bit 0: the other 1/2.
    own = 2 * 2048 * 2047 / (4096 * 4095)
    assert stats[1].probe_load == pytest.approx(65536 * (own + 2 * 0.25) / 17)
    assert stats[0].ones_share == pytest.approx(4 / 16)
    # 4096 random values of 65536: nearly all distinct, load near 1.
    assert stats[5].entropy_bits > 11.8 and stats[5].probe_load < 1.2
    with pytest.raises(ConfigError):
        rh.chunk_stats(hashes[:0])


def test_measured_set_splits_the_photos_caches_and_reads_back_the_same(photo_folder, tmp_path):
    kwargs = {
        "cache_dir": tmp_path,
        "held_out_share": 0.34,
        "windows_per_axis": 3,
        "near_per_photo": 4,
        "far_windows_per_axis": 2,
    }
    first = rh.measured_set(photo_folder, **kwargs)
    assert len(list(tmp_path.glob("measured-*.npz"))) == 1
    assert sorted(first.listed + first.held_out) == [f"p{i}.png" for i in range(6)]
    assert len(first.held_out) == 2 and not set(first.listed) & set(first.held_out)
    assert len(first.hashes) == len(rh.dedupe(first.hashes)) == len(first.photo)
    assert first.raw >= len(first.hashes) > 0
    assert len(first.near) == 4 * 4 and len(first.far) > 0
    again = rh.measured_set(photo_folder, **kwargs)
    assert again.seconds == 0.0  # from the cache
    for name in ("hashes", "photo", "near", "far"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert again.listed == first.listed
    # Held-out photos' copies are far from every list hash; listed ones' are near.
    assert np.median(_distance(first.far, first.hashes).min(axis=1)) > 31
    assert np.median(_distance(first.near, first.hashes).min(axis=1)) <= 31


def test_measured_set_rejects_bad_folders_and_shares(tmp_path, photo_folder):
    with pytest.raises(ConfigError, match="does not exist"):
        rh.measured_set(tmp_path / "missing", cache_dir=None)
    picture(1).save(tmp_path / "one.png")
    with pytest.raises(ConfigError, match="at least 2"):
        rh.measured_set(tmp_path, cache_dir=None)
    with pytest.raises(ConfigError, match="held_out_share"):
        rh.measured_set(photo_folder, cache_dir=None, held_out_share=1.0)


def test_blends_are_distinct_good_quality_hashes_unlike_either_photo(photo_folder):
    names = ["p0.png", "p1.png"]
    blends = rh.blend_hashes(photo_folder, names, 300, seed=2, windows_per_axis=3)
    assert len(blends) == 300 and len(rh.dedupe(blends)) == 300
    assert np.array_equal(
        blends, rh.blend_hashes(photo_folder, names, 300, seed=2, windows_per_axis=3)
    )
    with pytest.raises(ConfigError):
        rh.blend_hashes(photo_folder, names[:1], 10, seed=2)


def test_the_benchmarks_candidate_count_is_the_brute_force_count():
    rng = np.random.default_rng(9)
    hashes = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    hashes[:1000, :4] = 0  # skewed chunks 0 and 1
    queries = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    queries[:10, :4] = 0
    geometry = Geometry(16, 16)
    expected = 0
    for j in range(16):
        d = _distance(queries[:, 2 * j : 2 * j + 2], hashes[:, 2 * j : 2 * j + 2])
        expected += int((d <= 1).sum())
    got = bench_index.measured_candidates(hashes, queries, geometry, 31)
    assert got == pytest.approx(expected / 40)


def test_real_queries_mix_near_and_far_in_the_asked_share():
    measured = rh.MeasuredSet(
        hashes=np.zeros((1, 32), np.uint8),
        photo=np.zeros(1, np.int32),
        near=np.full((5, 32), 1, np.uint8),
        far=np.full((50, 32), 2, np.uint8),
        listed=["a"],
        held_out=["b"],
        raw=1,
        seconds=0.0,
    )
    queries, near = bench_index.real_queries(measured, 100, 0.2, seed=1)
    assert near == 20 and queries.shape == (100, 32)
    assert (queries[:, 0] == 1).sum() == 20 and (queries[:, 0] == 2).sum() == 80
    assert not (queries[:20, 0] == 1).all()  # shuffled, not near ones first


def test_unknown_data_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        bench_index.main(["--n", "10", "--data", "random,imaginary"])
    assert "imaginary" in capsys.readouterr().err


def test_best_time_reports_cpu_seconds_apart_from_time_spent_waiting():
    import time

    timing, result = bench_index.best_time(lambda: time.sleep(0.05) or 7, repeats=2)
    assert result == 7
    assert timing.wall >= 0.05
    assert timing.cpu < 0.02  # sleeping, like waiting for a shared core, costs no CPU
