"""PDQ must give pdqhash's bits and quality for any RGB uint8 array."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from photosieve.hashes import pdq
from tests.conftest import PDQ_REFERENCE_DIR
from tests.photosieve.hashes.pdq_oracle import oracle, oracle_dihedral

REFERENCE_IMAGES = sorted(
    p for p in (PDQ_REFERENCE_DIR / "images").rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
)


def _ours(image: np.ndarray) -> tuple[str, int]:
    result = pdq.compute(image)
    return result.hash.to_hex(), result.quality


def _ours_dihedral(image: np.ndarray) -> tuple[list[str], int]:
    results = pdq.compute_dihedral(image)
    return [r.hash.to_hex() for r in results], results[0].quality


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.mark.parametrize("path", REFERENCE_IMAGES, ids=lambda p: p.name)
def test_reference_images_match_pdqhash_exactly(path):
    image = np.asarray(Image.open(path).convert("RGB"))
    assert _ours(image) == oracle(image)
    assert _ours_dihedral(image) == oracle_dihedral(image)


# Sizes around the edge cases: below the 5 px minimum, the 64x64 no-blur
# shortcut, window-size steps at multiples of 128, odd and power-of-two sizes.
SIDES = st.one_of(
    st.integers(1, 12),
    st.sampled_from([63, 64, 65, 127, 128, 129, 255, 256, 257, 384, 512]),
    st.integers(13, 300),
)


@st.composite
def rgb_images(draw):
    shape = (draw(SIDES), draw(SIDES), 3)
    kind = draw(st.sampled_from(["noise", "constant", "two_level", "ramp", "sparse"]))
    if kind == "noise":
        seed = draw(st.integers(0, 2**32 - 1))
        return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    if kind == "constant":
        return np.full(shape, draw(st.integers(0, 255)), dtype=np.uint8)
    if kind == "two_level":
        image = np.full(shape, draw(st.integers(0, 255)), dtype=np.uint8)
        cut = draw(st.integers(0, shape[1]))
        image[:, cut:] = draw(st.integers(0, 255))
        return image
    if kind == "ramp":
        ramp = np.linspace(0, draw(st.integers(1, 255)), shape[0] * shape[1]).reshape(shape[:2])
        return np.repeat(ramp[:, :, None], 3, axis=2).astype(np.uint8)
    image = np.zeros(shape, dtype=np.uint8)
    count = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image[rng.integers(0, shape[0], count), rng.integers(0, shape[1], count)] = 255
    return image


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rgb_images())
def test_any_array_matches_pdqhash(image):
    assert _ours(image) == oracle(image)
    assert _ours_dihedral(image) == oracle_dihedral(image)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=40).map(lambda s: s[:2] + (3,))))
def test_arbitrary_arrays_match_pdqhash(image):
    # Hypothesis' own array strategy finds structured corner cases (all-equal
    # runs, single outliers) that hand-written generators miss.
    assert _ours(image) == oracle(image)
    assert _ours_dihedral(image) == oracle_dihedral(image)


def test_below_minimum_size_gives_zero_hash_and_quality():
    result = pdq.compute(np.full((4, 100, 3), 200, dtype=np.uint8))
    assert result.hash.bits == bytes(pdq.PDQ_BYTES)
    assert result.quality == 0


def test_64x64_input_skips_the_blur_but_dihedral_path_does_not():
    # The reference hashes 64x64 luma directly (pre-downsampled video frames)
    # but its dihedral entry point always blurs (window 1: float round-off
    # only); both quirks are reproduced, and both paths agree with pdqhash.
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(pdq.buffer64(image), pdq.luma(image))
    assert not np.array_equal(pdq.buffer64(image, dihedral=True), pdq.luma(image))
    assert _ours(image) == oracle(image)
    assert _ours_dihedral(image) == oracle_dihedral(image)


def test_hash_buffers_equals_compute_on_64x64_luma():
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(5)]
    hashes, quality = pdq.hash_buffers(np.stack([pdq.luma(im) for im in images]))
    for image, h, q in zip(images, hashes, quality):
        assert (h.tobytes().hex(), int(q)) == oracle(image)


def test_batch_equals_single_and_keeps_order():
    rng = np.random.default_rng(3)
    images = [
        rng.integers(0, 256, (rng.integers(1, 90), rng.integers(1, 90), 3), dtype=np.uint8) for _ in range(12)
    ]
    batch = pdq.compute_batch(images)
    assert [r.hash for r in batch] == [pdq.compute(im).hash for im in images]
    dihedral = pdq.compute_batch(images, dihedral=True)
    assert [[r.hash for r in rs] for rs in dihedral] == [[r.hash for r in pdq.compute_dihedral(im)] for im in images]


def test_dihedral_names_say_what_was_done_to_the_image():
    # The hash of a rotated copy is (nearly: the blur is not exactly symmetric)
    # the dihedral hash of the same name computed from the original.
    path = PDQ_REFERENCE_DIR / "images/reg-test-input/dih/bridge-1-original.jpg"
    image = Image.open(path).convert("RGB")
    transposes = {
        "rotate90": Image.Transpose.ROTATE_90,  # counter-clockwise
        "rotate180": Image.Transpose.ROTATE_180,
        "rotate270": Image.Transpose.ROTATE_270,
        "flipx": Image.Transpose.FLIP_TOP_BOTTOM,  # mirrored about the x axis
        "flipy": Image.Transpose.FLIP_LEFT_RIGHT,
        "flip_plus1": Image.Transpose.TRANSPOSE,
        "flip_minus1": Image.Transpose.TRANSVERSE,
    }
    dihedral = {r.orientation: r.hash for r in pdq.compute_dihedral(np.asarray(image))}
    for name, transpose in transposes.items():
        copy_hash = pdq.compute(np.asarray(image.transpose(transpose))).hash
        assert copy_hash - dihedral[name] <= 8, name
        assert copy_hash - dihedral["original"] > 64, name


@pytest.mark.parametrize(
    "bad", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 3), np.float32), [[1]]]
)
def test_rejects_arrays_that_are_not_rgb_uint8(bad):
    with pytest.raises(ValueError):
        pdq.compute(bad)


def test_hex_layout_matches_reference_bit_order():
    # First hex digit = DCT row 15, columns 15..12 (Hash256::format).
    dct = np.zeros((1, 16, 16), dtype=np.float32)
    dct[0, 15, 15] = 10.0  # only this coefficient is above the median (0)
    assert pdq.bits_from_dct(dct)[0].tobytes().hex() == "8" + "0" * 63
    dct = np.zeros((1, 16, 16), dtype=np.float32)
    dct[0, 0, 0] = 10.0
    assert pdq.bits_from_dct(dct)[0].tobytes().hex() == "0" * 63 + "1"


# -- large images: strips -----------------------------------------------------


def _traced_peak(function, *args):
    """(result, peak bytes numpy allocated meanwhile): numpy's buffers are traced."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = function(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", [(301, 257), (97, 1009), (1001, 80)])
def test_strips_give_the_same_bits_as_one_pass(monkeypatch, shape):
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    whole_luma, whole = pdq.luma(image), pdq.buffer64(image)
    whole_dihedral = pdq.buffer64(image, dihedral=True)
    monkeypatch.setattr(pdq, "_STRIP_VALUES", 4096)  # every image here is "large"
    assert np.array_equal(pdq.luma(image), whole_luma)
    assert np.array_equal(pdq.buffer64(image), whole)
    assert np.array_equal(pdq.buffer64(image, dihedral=True), whole_dihedral)
    luma = pdq.luma(image)
    assert np.array_equal(pdq.downsample(luma), whole)
    assert np.array_equal(luma, whole_luma)  # the public downsample leaves its input alone
    assert _ours(image) == oracle(image)


def test_large_images_need_about_one_float32_plane(monkeypatch):
    # Scaled down: with 64K-value strips a 1000x1000 image is "large". Whole-image
    # passes peaked at 36 bytes/pixel (float64 planes of luma, then 2x-wide sums).
    monkeypatch.setattr(pdq, "_STRIP_VALUES", 1 << 16)
    image = np.random.default_rng(1).integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    _, peak = _traced_peak(pdq.buffer64, image)
    assert peak < 6 * image.shape[0] * image.shape[1]  # the float32 luma plane (4) and strips
