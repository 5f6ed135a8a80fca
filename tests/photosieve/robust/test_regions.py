"""Tests for photosieve.robust.regions: borders, embedded regions and in-place rotations."""

from __future__ import annotations

import doctest
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from photosieve.robust import regions
from photosieve.robust.regions import Box

IMAGES = "tests/data/pdq-reference/images"


@pytest.fixture(scope="module")
def photo(pdq_reference_dir) -> np.ndarray:
    """A real photo (BSD-licensed PDQ reference image), 400 x 251."""
    with Image.open(pdq_reference_dir / "images" / "bridge-mods" / "aaa-orig.jpg") as image:
        return np.asarray(image.convert("RGB").resize((400, 251), Image.Resampling.BICUBIC))


@pytest.fixture(scope="module")
def photos(pdq_reference_dir) -> list[np.ndarray]:
    """Several real photos (256 x 256 LabelMe subset and the bridge)."""
    folder = pdq_reference_dir / "images" / "reg-test-input" / "labelme-subset"
    out = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            out.append(np.asarray(image.convert("RGB")))
    return out


def jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def pad(pixels: np.ndarray, top: int, bottom: int, left: int, right: int, colour) -> np.ndarray:
    h, w = pixels.shape[:2]
    out = np.empty((h + top + bottom, w + left + right, 3), dtype=np.uint8)
    out[:] = colour
    out[top : top + h, left : left + w] = pixels
    return out


def screenshot(pixels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """The photo in an app-like canvas: title bar, side panel with menu lines; and where it is."""
    h, w = pixels.shape[:2]
    canvas = Image.new("RGB", (int(w * 1.5), int(h * 1.6)), (236, 238, 241))
    draw = ImageDraw.Draw(canvas)
    bar = canvas.height // 12
    draw.rectangle((0, 0, canvas.width, bar), fill=(40, 40, 48))
    draw.rectangle((0, bar, canvas.width // 5, canvas.height), fill=(250, 250, 250))
    for i in range(5):
        y = bar + (i + 1) * canvas.height // 9
        draw.line((10, y, canvas.width // 6, y), fill=(90, 90, 90), width=3)
    left = canvas.width // 5 + int(rng.integers(10, canvas.width - canvas.width // 5 - w))
    top = bar + int(rng.integers(10, canvas.height - bar - h))
    canvas.paste(Image.fromarray(pixels), (left, top))
    return np.asarray(canvas), Box(left, top, left + w, top + h)


def assert_close(found: Box | None, expected: Box, tolerance: int) -> None:
    assert found is not None, "nothing found"
    for name in ("left", "top", "right", "bottom"):
        assert abs(getattr(found, name) - getattr(expected, name)) <= tolerance, (found, expected)


# -- Box ------------------------------------------------------------------------------


def test_box_scaled_crop_and_label():
    box = Box(10, 20, 30, 60)
    assert (box.width, box.height) == (20, 40)
    assert box.scaled(2, 100, 100) == Box(20, 40, 60, 100)
    assert box.crop(np.zeros((80, 50, 3), np.uint8)).shape == (40, 20, 3)
    assert box.label(100, 200) == "0.100,0.100,0.200,0.200"


def test_rejects_non_rgb_input():
    with pytest.raises(ValueError, match="H x W x 3"):
        regions.find_borders(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        regions.find_region(np.zeros((10, 10, 3), np.float32))


# -- borders ----------------------------------------------------------------------------


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (37, 180, 90)])
def test_find_borders_exact_on_flat_padding(photo, colour):
    padded = pad(photo, 25, 25, 40, 40, colour)
    assert regions.find_borders(padded) == Box(40, 25, 440, 276)


def test_find_borders_uneven_and_nested_frames(photo):
    inner = pad(photo, 10, 0, 0, 30, (255, 255, 255))  # a mat on two sides
    framed = pad(inner, 12, 12, 12, 12, (20, 20, 20))  # in a dark frame
    assert regions.find_borders(framed) == Box(12, 22, 412, 273)


def test_find_borders_survives_jpeg(photo):
    padded = jpeg(pad(photo, 30, 30, 0, 0, (0, 0, 0)), 30)  # letterbox, then a strong JPEG
    assert_close(regions.find_borders(padded), Box(0, 30, 400, 281), tolerance=3)


def test_find_borders_on_a_real_letterboxed_sample(pdq_reference_dir):
    path = pdq_reference_dir / "images" / "python-threatexchange" / "letterboxed_sample-b.jpg"
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    box = regions.find_borders(pixels)
    assert box is not None
    # Something was stripped, and what is left is most of the picture.
    assert box.width * box.height < 0.97 * pixels.shape[0] * pixels.shape[1]
    assert box.width * box.height > 0.3 * pixels.shape[0] * pixels.shape[1]


def test_find_borders_strips_only_uniform_strips(photos, photo):
    assert regions.find_borders(photo) is None
    # Some LabelMe images were padded to 256 x 256 with flat grey: those
    # strips go, and nothing textured does.
    found = 0
    for pixels in photos:
        box = regions.find_borders(pixels)
        if box is None:
            continue
        found += 1
        lines = [
            *pixels[: box.top],
            *pixels[box.bottom :],
            *pixels[:, : box.left].transpose(1, 0, 2),
        ]
        lines += [*pixels[:, box.right :].transpose(1, 0, 2)]
        for line in lines:  # every stripped row or column is one flat colour (bar a corner)
            off = np.abs(line.astype(int) - np.median(line, axis=0)).max(axis=1) > 16
            assert off.mean() <= 0.05
    assert found >= 1


def test_find_borders_ignores_thin_strips(photo):
    assert regions.find_borders(pad(photo, 2, 0, 0, 0, (0, 0, 0))) is None  # 2 of 253 rows < 1.5%


def test_find_borders_none_on_flat_image():
    assert regions.find_borders(np.full((100, 120, 3), 128, np.uint8)) is None


def test_find_borders_on_large_image_maps_back_to_input_coordinates(photo):
    big = np.asarray(Image.fromarray(photo).resize((1600, 1004), Image.Resampling.BICUBIC))
    padded = pad(big, 100, 100, 0, 0, (0, 0, 0))  # 1600 wide: worked on at 1/4
    assert_close(regions.find_borders(padded), Box(0, 100, 1600, 1104), tolerance=4)


# -- region --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_region_in_screenshot(photo, seed):
    canvas, truth = screenshot(photo, np.random.default_rng(seed))
    assert_close(regions.find_region(canvas), truth, tolerance=2)


def test_find_region_in_jpeg_screenshot(photo):
    canvas, truth = screenshot(photo, np.random.default_rng(3))
    assert_close(regions.find_region(jpeg(canvas, 60)), truth, tolerance=3)


def test_find_region_under_caption_bar(photo):
    h, w = photo.shape[:2]
    meme = Image.new("RGB", (w, h + 60), (255, 255, 255))
    meme.paste(Image.fromarray(photo), (0, 60))
    draw = ImageDraw.Draw(meme)
    for x in range(30, w - 60, 50):  # a line of "words"
        draw.line((x, 30, x + 35, 30), fill=(0, 0, 0), width=9)
    assert_close(regions.find_region(np.asarray(meme)), Box(0, 60, w, h + 60), tolerance=2)


def test_find_region_none_on_photos(photos, photo):
    found = [regions.find_region(p) for p in [photo, *photos]]
    # A photo's own flat band can look like a canvas: 5 of 80 public photos
    # (REGION_EDGE_INSIDE). These 8 have two such (a flat grey LabelMe pad).
    assert sum(box is not None for box in found) <= 2


def test_find_region_none_when_region_is_tiny(photo):
    icon = np.asarray(Image.fromarray(photo).resize((40, 25)))
    canvas = np.full((400, 400, 3), 240, np.uint8)
    canvas[100:125, 100:140] = icon
    assert regions.find_region(canvas) is None  # < REGION_MIN_AREA of the canvas


# -- rotation --------------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [5.0, -5.0, 2.5, 12.0])
def test_find_rotation_measures_the_angle(photo, degrees):
    rotated = Image.fromarray(photo).rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=False
    )
    found = regions.find_rotation(np.asarray(rotated))
    assert found is not None
    assert found.degrees == pytest.approx(degrees, abs=0.2)
    assert found.fill == (0, 0, 0)


def test_find_rotation_with_white_fill_and_jpeg(photo):
    rotated = Image.fromarray(photo).rotate(
        -4, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255)
    )
    found = regions.find_rotation(jpeg(np.asarray(rotated), 70))
    assert found is not None and found.degrees == pytest.approx(-4, abs=0.3)


def test_find_rotation_none_on_photos_and_borders(photos, photo):
    for pixels in [photo, *photos, pad(photo, 20, 20, 20, 20, (0, 0, 0))]:
        assert regions.find_rotation(pixels) is None


def test_rotation_inner_share():
    rotation = regions.Rotation(5.0, (0, 0, 0), 1.0)
    share = rotation.inner_share(400, 300)
    # The centred box of that share, rotated by 5 degrees, fits in the canvas.
    t = np.radians(5)
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * share * 200, sy * share * 150
            assert abs(x * np.cos(t) - y * np.sin(t)) <= 200 + 1e-6
            assert abs(x * np.sin(t) + y * np.cos(t)) <= 150 + 1e-6
    assert 0.85 < share < 0.95


def test_the_module_docstring_example_runs():
    result = doctest.testmod(regions)
    assert result.attempted > 0
    assert result.failed == 0
