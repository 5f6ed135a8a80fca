"""pHash, dHash and aHash against imagehash 4.3, the oracle they must equal bit for bit.

Images are generated: noise, and the degenerate kinds where pHash's bits are
decided by float rounding (flat, constant rows or columns, two grey levels,
one pixel). scipy, which imagehash needs for pHash, is a test dependency only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photosieve.hashes import ahash, dhash, phash
from photosieve.hashes.value import HashValue

imagehash = pytest.importorskip("imagehash")
fftpack = pytest.importorskip("scipy.fftpack")

DATA = Path(__file__).resolve().parents[2] / "data" / "pdq-reference" / "images"

# (our module, imagehash's function)
ALGORITHMS = {
    "phash": (phash, imagehash.phash),
    "dhash": (dhash, imagehash.dhash),
    "ahash": (ahash, imagehash.average_hash),
}
KINDS = ("noise", "flat", "rows", "cols", "two_level", "few_levels", "ramp", "one_pixel", "stripe")


def make_image(kind: str, height: int, width: int, seed: int) -> np.ndarray:
    """An H x W x 3 uint8 image of the given kind; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        img = rng.integers(0, 256, (height, width, 3))
    elif kind == "flat":
        img = np.broadcast_to(rng.integers(0, 256, 3), (height, width, 3))
    elif kind == "rows":  # each row one colour: columns of the DCT input are constant
        img = np.broadcast_to(rng.integers(0, 256, (height, 1, 3)), (height, width, 3))
    elif kind == "cols":
        img = np.broadcast_to(rng.integers(0, 256, (1, width, 3)), (height, width, 3))
    elif kind == "two_level":
        levels = rng.integers(0, 256, (2, 3))
        img = levels[(rng.random((height, width)) < rng.random()).astype(int)]
    elif kind == "few_levels":
        levels = rng.integers(0, 256, (3, 3))
        img = levels[rng.integers(0, 3, (height, width))]
    elif kind == "ramp":
        y, x = np.mgrid[0:height, 0:width]
        img = np.stack(
            [(x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), x * 0], axis=2
        )
    elif kind == "one_pixel":
        img = rng.integers(0, 256, (1, 1, 3))
    elif kind == "stripe":  # a bright vertical band in a flat field: symmetric, many zeros
        img = np.zeros((height, width, 3), dtype=np.int64)
        img[:, width // 3 : max(width // 3 + 1, 2 * width // 3)] = 255
    else:
        raise AssertionError(kind)
    return np.ascontiguousarray(img, dtype=np.uint8)


images = st.builds(
    make_image,
    st.sampled_from(KINDS),
    st.integers(1, 90),
    st.integers(1, 90),
    st.integers(0, 2**32 - 1),
)


def ours(name: str, rgb: np.ndarray) -> HashValue:
    return ALGORITHMS[name][0].compute(rgb).hash


def theirs(name: str, image: Image.Image) -> str:
    return str(ALGORITHMS[name][1](image))


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rgb=images)
def test_equals_imagehash_on_generated_images(name, rgb):
    expected = theirs(name, Image.fromarray(rgb))
    got = ours(name, rgb)
    assert got.to_hex() == expected
    assert got.bits == bytes.fromhex(expected)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (32, 32), (31, 33), (64, 48), (200, 3)])
def test_equals_imagehash_on_degenerate_grid(name, kind, shape):
    for seed in range(3):
        rgb = make_image(kind, *shape, seed)
        assert ours(name, rgb).to_hex() == theirs(name, Image.fromarray(rgb)), (kind, shape, seed)


# Modes where imagehash on the original image equals imagehash on its RGB
# conversion (measured on Pillow 12). Not here: YCbCr (see below), LAB and La
# (Pillow cannot convert them to RGB / to L).
SAME_AFTER_RGB = (
    "1",
    "L",
    "LA",
    "P",
    "PA",
    "RGBA",
    "RGBa",
    "RGBX",
    "CMYK",
    "HSV",
    "I",
    "I;16",
    "F",
)


def make_mode_image(mode: str, height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode in ("I", "I;16", "F"):
        # Values beyond 255 too: both conversions clip them the same way.
        dtype = {"I": np.int32, "I;16": np.uint16, "F": np.float32}[mode]
        high = 300 if mode == "F" else 70000 if mode == "I" else 65536
        return Image.fromarray(rng.integers(0, high, (height, width)).astype(dtype))
    rgba = Image.fromarray(rng.integers(0, 256, (height, width, 4)).astype(np.uint8), "RGBA")
    return rgba.convert(mode)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@settings(max_examples=120, deadline=None)
@given(
    mode=st.sampled_from(SAME_AFTER_RGB),
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_other_modes_converted_to_rgb_equal_imagehash_on_the_original(
    name, mode, height, width, seed
):
    image = make_mode_image(mode, height, width, seed)
    rgb = np.asarray(image.convert("RGB"))
    assert ours(name, rgb).to_hex() == theirs(name, image)


def test_ycbcr_differs_from_imagehash_on_the_original():
    """Documented difference: imagehash's convert("L") of a YCbCr image is its Y
    plane, while the decoder hands us RGB, whose luma is not exactly that Y."""
    differing = 0
    for seed in range(20):
        image = make_mode_image("YCbCr", 40, 50, seed)
        rgb = np.asarray(image.convert("RGB"))
        assert ours("dhash", rgb).to_hex() == theirs("dhash", image.convert("RGB"))
        differing += ours("dhash", rgb).to_hex() != theirs("dhash", image)
    assert differing > 0


REFERENCE_IMAGES = (
    "misc-images/small.jpg",
    "misc-images/wee.jpg",
    "bridge-mods/square-128x128.jpg",
    "reg-test-input/labelme-subset/q0003.jpg",
    "reg-test-input/pen-and-coaster.png",
)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@pytest.mark.parametrize("relpath", REFERENCE_IMAGES)
def test_equals_imagehash_on_reference_photos(name, relpath):
    with Image.open(DATA / relpath) as image:
        image.load()
    rgb = np.asarray(image.convert("RGB"))
    assert ours(name, rgb).to_hex() == theirs(name, image)


@settings(max_examples=100, deadline=None)
@given(rgb=images)
def test_dct_is_bit_identical_to_scipy(rgb):
    """Every coefficient, not just the bits: the strongest check of the port."""
    pixels = np.asarray(
        Image.fromarray(rgb).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    )
    expected = fftpack.dct(fftpack.dct(pixels, axis=0), axis=1)
    got = phash.dct2(phash.dct2(pixels, axis=0), axis=1)
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_flat_image_gives_scipys_exact_zeros():
    # A matrix-product DCT leaves +-1e-13 noise here, which decides 63 of 64 bits.
    pixels = np.full((32, 32), 201, dtype=np.uint8)
    coefficients = phash.dct2(phash.dct2(pixels, axis=0), axis=1)
    assert coefficients[0, 0] == 2 * 32 * 2 * 32 * 201
    assert np.count_nonzero(coefficients) == 1


def test_twiddles_are_the_cosines_up_to_rounding():
    # Sanity check of the table; its exact rounding is checked by the DCT tests.
    # Entries past the 16th are products of two table values, a few ulps off.
    exact = np.cos(2 * np.pi * np.arange(1, 33) / 128)
    assert np.max(np.abs(phash._TWIDDLE - exact)) < 1e-15


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_batch_equals_single(name):
    module = ALGORITHMS[name][0]
    batch = [make_image(kind, 17 + i, 40 - i, i) for i, kind in enumerate(KINDS)]
    assert [r.hash for r in module.compute_batch(batch)] == [module.compute(x).hash for x in batch]
    assert module.compute_batch([]) == []


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((8, 8), dtype=np.uint8),
        np.zeros((8, 8, 4), dtype=np.uint8),
        np.zeros((8, 8, 3), dtype=np.float32),
        np.zeros((0, 8, 3), dtype=np.uint8),
        [[[0, 0, 0]]],
    ],
)
def test_rejects_non_rgb_uint8(name, bad):
    with pytest.raises(ValueError):
        ALGORITHMS[name][0].compute(bad)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_spec_registered(name):
    from photosieve import algorithms

    spec = algorithms.get(name)
    assert (spec.nbytes, spec.metric, spec.needs_pixels) == (8, algorithms.Metric.HAMMING, True)
