"""dhash: one bit per pair of horizontal neighbours, set when the right one is strictly brighter.

Agreement with imagehash is in test_imagehash_compat; here, the bit layout and the edge cases.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from photosieve.hashes import dhash


def test_docstring_example():
    result = doctest.testmod(dhash)
    assert result.failed == 0 and result.attempted > 0


def test_bits_are_row_major_most_significant_first():
    thumbnail = np.zeros((1, 8, 9), np.uint8)
    thumbnail[0, 0, 1] = 1  # first pair of the first row
    thumbnail[0, 7, 8] = 1  # last pair of the last row
    assert dhash.hash_thumbnails(thumbnail).tobytes().hex() == "8000000000000001"


def test_equal_or_darker_right_neighbours_give_zero_bits_without_overflow():
    falling = np.tile(np.arange(255, 0, -28, dtype=np.uint8)[:9], (1, 8, 1))
    assert dhash.hash_thumbnails(falling).tobytes() == bytes(8)
    flat = np.full((1, 8, 9), 7, np.uint8)
    assert dhash.hash_thumbnails(flat).tobytes() == bytes(8)
    extremes = np.zeros((1, 8, 9), np.uint8)
    extremes[0, :, 0] = 255  # 255 then 0: a uint8 difference would wrap to 1
    assert dhash.hash_thumbnails(extremes).tobytes() == bytes(8)


@pytest.mark.parametrize("shape", [(8, 9), (1, 8, 8), (1, 9, 8)])
def test_thumbnails_of_another_shape_are_refused(shape):
    with pytest.raises(ValueError, match=r"expected \(B, 8, 9\) thumbnails"):
        dhash.hash_thumbnails(np.zeros(shape, np.uint8))


def test_a_mirrored_ramp_flips_every_bit():
    ramp = np.tile(np.arange(0, 250, 10, dtype=np.uint8)[None, :, None], (10, 1, 3))
    rising, falling = dhash.compute(ramp).hash, dhash.compute(ramp[:, ::-1].copy()).hash
    assert str(rising) == "f" * 16 and str(falling) == "0" * 16 and rising - falling == 64


def test_an_empty_batch_gives_no_results():
    assert dhash.compute_batch([]) == []
