"""The gradient hash: pinned values, invariances, separation, validation, batching."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosieve import algorithms
from photosieve.hashes import gradient
from photosieve.hashes.value import HashValue

DATA = Path(__file__).resolve().parents[2] / "data" / "pdq-reference" / "images"
THRESHOLD = gradient.GRADIENT_MATCH_THRESHOLD


def scene(height: int = 240, width: int = 320, variant: int = 0) -> np.ndarray:
    """A deterministic synthetic photo: smooth shading, blocks, stripes, a disc.

    Pure integer/float arithmetic (no RNG, no Pillow drawing), so the pixels
    are the same on every platform and library version. ``variant`` moves
    and recolours everything, giving an unrelated image.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / width, y / height
    phase = 1.7 * variant
    r = 120 + 80 * np.sin(2 * np.pi * (u * (1 + variant) + phase))
    g = 100 + 90 * v + 30 * np.cos(2 * np.pi * 3 * v + phase)
    b = 60 + 120 * u * v
    img = np.stack([r, g, b], axis=2)
    # Blocks and stripes at variant-dependent places.
    bx, by = (0.15 + 0.35 * ((variant * 0.37) % 1)), (0.2 + 0.4 * ((variant * 0.61) % 1))
    block = (u > bx) & (u < bx + 0.3) & (v > by) & (v < by + 0.25)
    img[block] = [230 - 40 * variant % 200, 40, 60 + 50 * variant % 180]
    stripes = (v > 0.75) & (np.floor(u * (12 + 4 * variant)) % 2 == 0)
    img[stripes] *= 0.4
    cx, cy = 0.7 - 0.4 * ((variant * 0.29) % 1), 0.35 + 0.3 * ((variant * 0.53) % 1)
    disc = (u - cx) ** 2 + ((v - cy) * height / width) ** 2 < 0.012
    img[disc] = [250, 250, 200 - 30 * variant % 150]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def h(image: np.ndarray) -> HashValue:
    return gradient.compute(image).hash


def pil_edit(image: np.ndarray, fn) -> np.ndarray:
    return np.asarray(fn(Image.fromarray(image)).convert("RGB"))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


# Pinned on x86-64, numpy 2.4 (OpenBLAS float32 matmul). A change means the
# algorithm changed: every stored gradient hash would have to be recomputed.
GOLDEN_SCENE = (
    "090d0c190409001e08110f1533114c0e2f32530d0b36530e0420130b09050c0a1b051509"
    "5304491353505319085353140816220607082d00130c1d0753090d3a4d42085309530b4a"
    "0e023401020b3c00001831021a1624271b231f530d1e2336260e1a3919191a440b2e1b41"
    "0a2b1b3314151b30200c1b39532d12394e38104526531042235112333f2a133049251139"
)


def test_golden_value_of_the_generated_scene():
    assert h(scene()).to_hex() == GOLDEN_SCENE


def test_spec_is_registered():
    spec = algorithms.get("gradient")
    assert (spec.nbytes, spec.metric, spec.needs_pixels) == (144, algorithms.Metric.EUCLIDEAN, True)
    assert spec.default_threshold == THRESHOLD


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (31, 1), (240, 320), (1000, 7)])
@pytest.mark.parametrize("value", [0, 128, 255])
def test_flat_images_hash_to_zeros(shape, value):
    assert h(np.full(shape + (3,), value, np.uint8)).bits == bytes(144)


@pytest.mark.parametrize(
    "edit",
    [
        lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.BICUBIC),
        lambda im: im.resize((im.width // 4, im.height // 4), Image.Resampling.LANCZOS),
        lambda im: im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.Resampling.BILINEAR),
        lambda im: jpeg(im, 50),
        lambda im: jpeg(im, 20),
        lambda im: im.resize((im.width * 4 // 5, im.height), Image.Resampling.BICUBIC),  # squeeze
        lambda im: im.point(lambda p: int(p * 0.8)),  # darker
        lambda im: im.convert("L"),
    ],
    ids=["half", "quarter", "150%", "jpeg50", "jpeg20", "squeeze80", "darker", "grey"],
)
def test_mild_edits_stay_well_within_the_threshold(edit):
    original = scene()
    assert h(original) - h(pil_edit(original, edit)) < THRESHOLD / 2


def test_contrast_scaling_is_nearly_free():
    original = scene().astype(np.float64)
    lower = np.rint(64 + 0.5 * original).astype(np.uint8)  # halve contrast around 64
    assert h(scene()) - h(lower) < THRESHOLD / 4


@pytest.mark.parametrize("variant", [1, 2, 3, 4])
def test_different_scenes_are_beyond_the_threshold(variant):
    assert h(scene()) - h(scene(variant=variant)) > THRESHOLD


def test_noise_images_match_each_other():
    # Documented limitation: pixel-level noise averages out in the 32 x 32
    # normalised image and what remains is spread evenly over the cells, so
    # two unrelated white-noise images are close, as they look. Random
    # textures in general sit near the threshold; photos do not (see the
    # calibration benchmark).
    rng = np.random.default_rng(7)
    a, b = (rng.integers(0, 256, (200, 200, 3), dtype=np.uint8) for _ in range(2))
    assert h(a) - h(b) < THRESHOLD


def test_rotation_by_90_degrees_is_not_matched():
    # Documented limitation: the grid is not rotation invariant.
    original = scene()
    assert h(original) - h(np.ascontiguousarray(np.rot90(original))) > THRESHOLD


BRIDGE_EDITS = (
    "blur-a-little.jpg",
    "high-contrast.jpg",
    "high-saturation.jpg",
    "shrink-a-lot.jpg",
    "sharpen-a-lot.jpg",
)


def _open(relpath: str) -> np.ndarray:
    with Image.open(DATA / relpath) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("edited", BRIDGE_EDITS)
def test_reference_photo_edits_match_and_other_photos_do_not(edited):
    original = h(_open("bridge-mods/aaa-orig.jpg"))
    assert original - h(_open(f"bridge-mods/{edited}")) <= THRESHOLD
    assert original - h(_open("reg-test-input/pen-and-coaster.png")) > THRESHOLD


def test_batch_equals_single():
    images = [scene(), scene(17, 23, 2), np.zeros((5, 5, 3), np.uint8), scene(400, 90, 3)]
    assert [r.hash for r in gradient.compute_batch(images)] == [h(x) for x in images]
    assert gradient.compute_batch([]) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((8, 8), dtype=np.uint8),
        np.zeros((8, 8, 4), dtype=np.uint8),
        np.zeros((8, 8, 3), dtype=np.float64),
        np.zeros((8, 0, 3), dtype=np.uint8),
        [[[1, 2, 3]]],
    ],
)
def test_rejects_non_rgb_uint8(bad):
    with pytest.raises(ValueError):
        gradient.compute(bad)


def test_hash_normalised_checks_its_shape():
    with pytest.raises(ValueError):
        gradient.hash_normalised(np.zeros((1, 30, 30), np.float32))


def test_area_resampling_is_the_exact_block_mean():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    luma = image.astype(np.float64) @ gradient.LUMA_WEIGHTS.astype(np.float64)
    blocks = luma.reshape(32, 2, 32, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(gradient.normalised_luma(image), blocks, rtol=0, atol=1e-3)


def test_large_images_are_resampled_in_chunks_consistently():
    # More rows than one resampling chunk: same result as the mean over blocks.
    image = np.repeat(np.repeat(scene(80, 64), 20, axis=0), 2, axis=1)  # 1600 x 128
    small = gradient.normalised_luma(scene(80, 64))
    np.testing.assert_allclose(gradient.normalised_luma(image), small, rtol=0, atol=1e-2)
