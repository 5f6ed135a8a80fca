"""phash: the DCT-II, its input checks, and the median split of the 8x8 lowest frequencies.

Bit-identity with scipy and imagehash is in test_imagehash_compat; here, the parts on their own.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from photosieve.hashes import phash


def test_docstring_example():
    result = doctest.testmod(phash)
    assert result.failed == 0 and result.attempted > 0


def test_dct2_is_the_unnormalised_dct_ii_along_the_axis_asked():
    x = np.random.default_rng(0).normal(size=(3, 32))
    n = np.arange(32)
    basis = 2 * np.cos(np.pi * np.outer(np.arange(32), 2 * n + 1) / 64)
    assert np.allclose(phash.dct2(x), x @ basis.T, atol=1e-9)
    assert np.allclose(phash.dct2(x.T, axis=0), (x @ basis.T).T, atol=1e-9)


def test_dct2_of_a_constant_is_its_dc_term_and_exact_zeros():
    out = phash.dct2(np.full(32, 5.0))
    assert out[0] == 2 * 32 * 5.0 and (out[1:] == 0.0).all()


def test_dct2_supports_only_the_phash_length():
    with pytest.raises(ValueError, match="dct2 supports length 32, got 16"):
        phash.dct2(np.zeros(16))


def test_twiddles_need_a_power_of_two_length():
    assert phash._pocketfft_twiddles(8).shape == (8,)
    with pytest.raises(ValueError, match="DCT length must be a power of two, got 12"):
        phash._pocketfft_twiddles(12)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4), np.uint8), r"needs an H x W x 3 RGB array, got shape \(4, 4\)"),
        (np.zeros((4, 4, 4), np.uint8), r"needs an H x W x 3 RGB array, got shape \(4, 4, 4\)"),
        ([[[0, 0, 0]]], "needs an H x W x 3 RGB array, got shape None"),
        (np.zeros((4, 4, 3), np.float32), "needs uint8 pixels, got float32"),
        (np.zeros((0, 4, 3), np.uint8), r"needs at least one pixel, got shape \(0, 4, 3\)"),
    ],
)
def test_check_rgb_names_what_is_wrong(image, message):
    with pytest.raises(ValueError, match=f"^phash {message}"):
        phash.check_rgb(image, "phash")


def test_grey_thumbnail_has_the_size_asked_width_first():
    image = np.zeros((50, 70, 3), np.uint8)
    assert phash.grey_thumbnail(image, 9, 8, "dhash").shape == (8, 9)


def test_half_the_low_frequencies_are_above_their_median_on_a_textured_image():
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    bits = np.unpackbits(np.frombuffer(phash.compute(image).hash.bits, np.uint8))
    assert bits.sum() == 32  # distinct coefficients: the median splits them 32 / 32


@pytest.mark.parametrize("shape", [(32, 32), (1, 32, 31), (1, 8, 8)])
def test_thumbnails_of_another_shape_are_refused(shape):
    with pytest.raises(ValueError, match=r"expected \(B, 32, 32\) thumbnails"):
        phash.hash_thumbnails(np.zeros(shape, np.uint8))


def test_an_empty_batch_gives_no_results():
    assert phash.compute_batch([]) == []
