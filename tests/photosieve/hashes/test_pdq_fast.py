"""The fast PDQ buffer: PDQ's full-resolution filter applied to reduced pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photosieve.hashes import pdq, pdq_fast


@pytest.mark.parametrize("full, factor", [(5, 1), (64, 1), (129, 1), (500, 1), (3024, 8), (1001, 3), (4032, 4)])
def test_weights_are_the_box_filters_averaging_weights(full, factor):
    reduced = -(-full // factor)
    weights = pdq_fast.axis_weights(full, reduced, factor).astype(np.float64)
    assert weights.shape == (64, reduced)
    assert np.all(weights >= 0)
    # Each output is an average of averages: its weights sum to one.
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 7), (48, 64), (64, 64), (131, 257), (375, 500)])
def test_unreduced_buffer_equals_the_exact_filter_up_to_round_off(shape):
    image = np.random.default_rng(shape[0]).integers(0, 256, shape + (3,), dtype=np.uint8)
    # The exact path skips the blur for 64x64 input; compare with the blurred one.
    exact = pdq.buffer64(image, dihedral=True)
    fast = pdq_fast.buffer64(image, shape)
    np.testing.assert_allclose(fast, exact, atol=0.02)


def test_reduced_buffer_approximates_full_resolution_buffer():
    rng = np.random.default_rng(0)
    coarse = Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).resize((1200, 800), Image.BICUBIC)
    full = np.asarray(coarse)
    reduced = np.asarray(coarse.reduce(4))
    exact = pdq.buffer64(full)
    fast = pdq_fast.buffer64(reduced, full.shape[:2])
    assert np.abs(fast - exact).max() < 1.5  # grey levels, of 0..255
    naive = pdq.buffer64(reduced)  # PDQ's own coarser window on the small image
    assert np.abs(fast - exact).mean() < np.abs(naive - exact).mean()


def test_too_small_is_none():
    assert pdq_fast.buffer64(np.zeros((4, 9, 3), np.uint8), (4, 9)) is None
