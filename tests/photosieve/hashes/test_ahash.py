"""ahash: one bit per thumbnail pixel strictly above the mean, row-major, most significant first.

Agreement with imagehash is in test_imagehash_compat; here, the bit layout and the edge cases.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from photosieve.hashes import ahash


def test_docstring_example():
    result = doctest.testmod(ahash)
    assert result.failed == 0 and result.attempted > 0


def test_bits_are_row_major_most_significant_first():
    thumbnail = np.zeros((1, 8, 8), np.uint8)
    thumbnail[0, 0, 0] = 200  # first pixel: the top bit of the first byte
    thumbnail[0, 7, 7] = 200  # last pixel: the low bit of the last byte
    assert ahash.hash_thumbnails(thumbnail).tobytes().hex() == "8000000000000001"


def test_a_pixel_equal_to_the_mean_is_not_above_it():
    flat = np.full((1, 8, 8), 128, np.uint8)
    assert ahash.hash_thumbnails(flat).tobytes() == bytes(8)
    halves = np.zeros((1, 8, 8), np.uint8)
    halves[0, :, 4:] = 100  # mean 50: exactly half the pixels above it
    assert ahash.hash_thumbnails(halves).tobytes().hex() == "0f" * 8


def test_each_thumbnail_of_a_batch_is_hashed_on_its_own():
    batch = np.zeros((2, 8, 8), np.uint8)
    batch[0, 0] = 255
    batch[1, 7] = 255
    rows = ahash.hash_thumbnails(batch)
    assert [row.tobytes().hex() for row in rows] == ["ff" + "00" * 7, "00" * 7 + "ff"]


@pytest.mark.parametrize("shape", [(8, 8), (1, 8, 9), (1, 9, 8), (2, 8, 8, 1)])
def test_thumbnails_of_another_shape_are_refused(shape):
    with pytest.raises(ValueError, match=r"expected \(B, 8, 8\) thumbnails"):
        ahash.hash_thumbnails(np.zeros(shape, np.uint8))


def test_an_empty_batch_gives_no_results():
    assert ahash.compute_batch([]) == []


def test_results_are_ahash_values_of_eight_bytes():
    image = np.random.default_rng(3).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    result = ahash.compute(image)
    assert result.hash.algorithm == "ahash" and len(result.hash.bits) == ahash.AHASH_BYTES
    assert (result.quality, result.orientation, result.variant) == (None, "", "")
