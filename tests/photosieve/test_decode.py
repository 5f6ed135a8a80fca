"""Tests for photosieve.decode: formats, modes, EXIF, frames, fast path, typed errors.

Images are generated here with Pillow/numpy, except the python-threatexchange
reference images under tests/data/pdq-reference (BSD, see its LICENSE), whose
expected PDQ hashes pin the mode conversion. pdqhash (Meta's C++ PDQ) is the
hash oracle.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import struct
import subprocess
import sys
import warnings
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from photosieve import decode as decode_module
from photosieve.decode import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    DecodedImage,
    DecodeOptions,
    decode,
    decode_frames,
    image_to_rgb,
)
from photosieve.errors import ConfigError, DecodeError, FailureReason
from tests import multiframe_samples

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "pdq-reference"
DEFAULTS = DecodeOptions()
EXACT = DecodeOptions(mode="exact")
# PDQ's match threshold (ThreatExchange pdq_utils: 31 of 256 bits); agreement
# checks below are far tighter, control checks must exceed it.
PDQ_MATCH = 31
HAS_AVIF = decode_module._native_avif() or importlib.util.find_spec("pillow_avif") is not None
HAS_HEIF = importlib.util.find_spec("pillow_heif") is not None
needs_avif = pytest.mark.skipif(not HAS_AVIF, reason="no AVIF decoder")


# ---------------------------------------------------------------- helpers


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like RGB picture: smooth colour waves, a dozen blurred shapes.

    The shapes give PDQ strong, asymmetric features (quality 93-100, every
    rotation or flip 80+ bits away), so small decode differences move few bits.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    channels = []
    for _ in range(3):
        freqs = rng.uniform(0.5, 3.0, size=(3, 2))
        phases = rng.uniform(0, 2 * np.pi, size=3)
        channels.append(
            sum(np.sin(2 * np.pi * (fx * x + fy * y) + p) for (fx, fy), p in zip(freqs, phases))
        )
    stack = np.stack(channels, axis=-1)
    stack = (stack - stack.min()) / (stack.max() - stack.min()) * 160 + 40
    image = Image.fromarray(stack.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.uniform(-0.1, 0.9, 2) * (width, height)
        w, h = rng.uniform(0.1, 0.4, 2) * (width, height)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x0, y0, x0 + w, y0 + h], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(max(width, height) / 200))


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def pdq(pixels: np.ndarray) -> tuple[int, int]:
    """(hash as int with the reference bit order, quality) from Meta's C++ PDQ."""
    bits, quality = pdqhash.compute(pixels)
    return int("".join(map(str, bits)), 2), quality


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def decode_error(data: bytes, options: DecodeOptions = DEFAULTS) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(data, options)
    return info.value


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares width x height but whose data is tiny."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def assert_contract(frame: DecodedImage) -> None:
    assert isinstance(frame, DecodedImage)
    assert frame.pixels.dtype == np.uint8
    assert frame.pixels.ndim == 3 and frame.pixels.shape[2] == 3
    assert frame.pixels.shape[0] >= 1 and frame.pixels.shape[1] >= 1
    assert frame.pixels.flags.c_contiguous
    assert frame.n_frames is None or 0 <= frame.frame < frame.n_frames
    assert 0 < frame.scale <= 1.0


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return photo(160, 120)


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "quick"},
        {"mode": "FAST"},
        {"max_pixels": 0},
        {"max_pixels": 1.5},
        {"max_frames": 0},
        {"fast_min_side": 0},
        {"fast_min_side": True},
        {"exif_transpose": 1},
        {"all_frames": "yes"},
    ],
)
def test_bad_options_raise_config_error_naming_the_value(kwargs):
    with pytest.raises(ConfigError) as info:
        DecodeOptions(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(info.value)


def test_default_max_pixels_is_the_largest_pillow_honours_without_global_changes():
    # Pillow raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS in
    # Image.open; the default is chosen to be exactly that (see decode.py).
    assert DEFAULT_MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS


# ---------------------------------------------------------------- formats


LOSSLESS = [
    ("PNG", {}),
    ("TIFF", {}),
    ("TIFF", {"compression": "tiff_lzw"}),
    ("BMP", {}),
    ("WEBP", {"lossless": True}),
]


@pytest.mark.parametrize(("fmt", "params"), LOSSLESS)
def test_lossless_formats_decode_to_the_exact_pixels(picture, fmt, params):
    [frame] = decode(encode(picture, fmt, **params), EXACT)
    assert_contract(frame)
    assert frame.format == fmt
    assert frame.source_mode == "RGB"
    assert frame.source_size == (160, 120)
    assert (frame.frame, frame.n_frames, frame.scale, frame.exif_transposed) == (0, None, 1.0, False)
    np.testing.assert_array_equal(frame.pixels, np.asarray(picture))


@pytest.mark.parametrize(
    ("fmt", "bits"),
    [
        ("JPEG", 8),
        ("WEBP", 10),
        ("GIF", 16),  # 256-colour palette
        pytest.param("AVIF", 8, marks=needs_avif),
    ],
)
def test_lossy_formats_decode_close_to_the_source(picture, fmt, bits):
    [frame] = decode(encode(picture, fmt), EXACT)
    assert_contract(frame)
    assert frame.format == fmt
    assert frame.pixels.shape == (120, 160, 3)
    assert distance(pdq(frame.pixels)[0], pdq(np.asarray(picture))[0]) <= bits


def test_pixels_are_read_only_and_accepted_by_pdqhash(picture):
    [frame] = decode(encode(picture, "PNG"))
    assert not frame.pixels.flags.writeable  # a view of Pillow's bytes, no extra copy
    assert pdq(frame.pixels)[1] >= 80


def test_formats_outside_the_allowlist_are_not_opened(picture):
    # Pillow can read TGA, but TGA has no signature: with every Pillow plugin
    # enabled random bytes may "open" as TGA. photosieve only opens SUPPORTED_FORMATS.
    assert decode_error(encode(picture, "TGA")).reason is FailureReason.NOT_AN_IMAGE


# ---------------------------------------------------------------- modes


def test_image_to_rgb_clips_16_bit_and_float_like_convert_rgb():
    values16 = np.array([[0, 1, 255, 256, 1000, 65535]], dtype=np.uint16)
    expected16 = [0, 1, 255, 255, 255, 255]
    for mode in ("I;16", "I;16B"):
        image = Image.frombytes(
            mode, (6, 1), values16.astype("<u2" if mode == "I;16" else ">u2").tobytes()
        )
        rgb = image_to_rgb(image)
        assert rgb.shape == (1, 6, 3)
        assert rgb[0, :, 0].tolist() == expected16 and (rgb[..., 0] == rgb[..., 2]).all()
    as_i = image_to_rgb(Image.fromarray(np.array([[-5, 0, 255, 256, 70000]], dtype=np.int32)))
    assert as_i[0, :, 1].tolist() == [0, 0, 255, 255, 255]
    as_f = image_to_rgb(
        Image.fromarray(np.array([[-5.0, 0.4, 1.0, 254.0, 300.0]], dtype=np.float32))
    )
    assert as_f[0, :, 1].tolist() == [0, 0, 1, 254, 255]


def test_image_to_rgb_drops_alpha_without_compositing():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., :3] = (200, 100, 50)  # colour stored under alpha 0 stays as stored
    rgb = image_to_rgb(Image.fromarray(rgba, "RGBA"))
    assert (rgb == (200, 100, 50)).all()


ALL_MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "I;16", "I;16B",
             "I", "F", "CMYK", "YCbCr", "LAB", "HSV"]  # fmt: skip


@pytest.mark.parametrize("mode", ALL_MODES)
def test_image_to_rgb_handles_every_mode_as_convert_rgb_does(picture, mode):
    image = picture.convert(mode)
    rgb = image_to_rgb(image)
    assert rgb.dtype == np.uint8 and rgb.shape == (120, 160, 3) and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, np.asarray(image.convert("RGB")))


def test_image_to_rgb_unconvertible_mode_is_unsupported_format(picture):
    with pytest.raises(DecodeError) as info:
        image_to_rgb(picture.convert("RGBA").convert("La"))
    assert info.value.reason is FailureReason.UNSUPPORTED_FORMAT
    assert "La" in info.value.message


def pytx_expectations() -> list[dict[str, str]]:
    with open(REFERENCE / "expected" / "expected_hashes.csv", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["source"] == "pytx-pdqhash"]


def test_python_threatexchange_reference_hashes_are_reproduced_exactly():
    # python-threatexchange hashes Image.open(...).convert("RGB") at full
    # resolution with pdqhash; LA.png and I16.png pin the LA and I;16 conversion.
    rows = pytx_expectations()
    images = {Path(row["image"]).name for row in rows}
    assert {"LA.png", "I16.png", "rgb.jpeg"} <= images
    for row in rows:
        [frame] = decode((REFERENCE / row["image"]).read_bytes(), EXACT)
        value, quality = pdq(frame.pixels)
        assert f"{value:064x}" == row["expected_hash"], row["image"]
        if row["expected_quality"]:
            assert quality == int(row["expected_quality"]), row["image"]


def test_reference_i16_is_stored_as_16_bit():
    [frame] = decode((REFERENCE / "images/python-threatexchange/I16.png").read_bytes(), EXACT)
    assert frame.source_mode == "I;16"  # so the test above really exercises I;16 clipping


# Upstream misc-images/modes recipe (Image.open(original).convert(mode).save(...)),
# stored in a format that keeps the mode so the stored-mode decode path runs.
STORED_MODES = [("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGBA", "PNG"),
                ("I;16", "PNG"), ("I;16B", "TIFF"), ("I", "TIFF"), ("F", "TIFF"), ("CMYK", "JPEG"),
                ("CMYK", "TIFF"), ("LAB", "TIFF"), ("L", "JPEG")]  # fmt: skip


@pytest.fixture(scope="module")
def bridge() -> Image.Image:
    image = Image.open(REFERENCE / "images/reg-test-input/dih/bridge-1-original.jpg")
    image.load()
    return image


@pytest.mark.parametrize(("mode", "fmt"), STORED_MODES)
def test_one_picture_in_every_stored_mode_hashes_alike(bridge, mode, fmt):
    # Upstream's 13 mode files hash within 2 bits of the original (measured on
    # the full set); regenerated here they also agree within 2 bits in exact
    # mode. Fast mode adds up to 4 bits.
    original = pdq(np.asarray(bridge.convert("RGB")))[0]
    data = encode(bridge.convert(mode), fmt)
    [exact] = decode(data, EXACT)
    assert exact.source_mode == mode
    assert distance(pdq(exact.pixels)[0], original) <= 4
    [fast] = decode(data)
    assert distance(pdq(fast.pixels)[0], original) <= 8


# ---------------------------------------------------------------- EXIF


def with_orientation(image: Image.Image, fmt: str, orientation: int, **params) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif, **params)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_imageops_exif_transpose(picture, orientation):
    data = with_orientation(picture, "JPEG", orientation)
    [frame] = decode(data, EXACT)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    np.testing.assert_array_equal(frame.pixels, np.asarray(expected))
    assert frame.exif_transposed is (orientation != 1)
    assert frame.source_size == (160, 120)
    assert frame.pixels.shape == ((160, 120, 3) if orientation >= 5 else (120, 160, 3))


@pytest.mark.parametrize(
    ("fmt", "params"), [("PNG", {}), ("WEBP", {"lossless": True}), ("TIFF", {})]
)
def test_exif_orientation_is_read_from_every_container(picture, fmt, params):
    [frame] = decode(with_orientation(picture, fmt, 6, **params), EXACT)
    assert frame.exif_transposed
    assert frame.source_size == (160, 120)
    np.testing.assert_array_equal(
        frame.pixels, np.asarray(picture.transpose(Image.Transpose.ROTATE_270))
    )


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
@pytest.mark.parametrize("orientation", [3, 6, 7])
def test_exif_transpose_can_be_switched_off(picture, fmt, orientation):
    # Pillow 12's TIFF plugin applies the orientation itself while loading;
    # decode undoes it when asked for the stored pixels.
    data = with_orientation(picture, fmt, orientation)
    [frame] = decode(data, DecodeOptions(mode="exact", exif_transpose=False))
    assert not frame.exif_transposed
    assert frame.source_size == (160, 120)
    np.testing.assert_array_equal(frame.pixels, np.asarray(picture))
    [fast] = decode(data, DecodeOptions(exif_transpose=False, fast_min_side=60))
    assert fast.pixels.shape == (60, 80, 3) and fast.source_size == (160, 120)


@pytest.mark.parametrize("orientation", [0, 9, 255])
def test_invalid_orientation_values_are_ignored(picture, orientation):
    [frame] = decode(with_orientation(picture, "PNG", orientation), EXACT)
    assert not frame.exif_transposed
    np.testing.assert_array_equal(frame.pixels, np.asarray(picture))


INVERSE = {  # stored = upright.transpose(INVERSE[o]) makes the tag o bring it back upright
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_camera_style_rotated_photos_hash_like_the_upright_one(orientation):
    # What a camera writes: sensor-oriented pixels plus the tag that uprights them.
    # (Upstream's exif-rotn/ set is four separate shots, not one photo: after
    # transposition they are all upright but differ by 106-138 bits, so it
    # cannot serve for this check.)
    upright = photo(640, 480, seed=3)
    method = INVERSE[orientation]
    stored = upright if method is None else upright.transpose(method)
    data = with_orientation(stored, "JPEG", orientation, quality=95)
    reference = pdq(np.asarray(upright))[0]
    for mode in ("exact", "fast"):
        [frame] = decode(data, DecodeOptions(mode=mode))
        assert frame.pixels.shape[:2] == (
            480 // round(1 / frame.scale),
            640 // round(1 / frame.scale),
        )
        assert distance(pdq(frame.pixels)[0], reference) <= 6, mode
    if orientation != 1:  # control: the stored pixels alone would not match
        [raw] = decode(data, DecodeOptions(exif_transpose=False))
        assert distance(pdq(raw.pixels)[0], reference) > PDQ_MATCH


# ---------------------------------------------------------------- fast path


@pytest.mark.parametrize(
    ("size", "min_side", "shape", "scale"),
    [
        ((2048, 1536), 256, (384, 512), 1 / 4),  # 1/8 would give 192
        ((1536, 2048), 256, (512, 384), 1 / 4),  # portrait: the same rule on the shorter side
        ((1200, 900), 32, (38, 50), 1 / 24),  # DCT 1/8, then reduce(3) on the rest
        ((800, 600), 256, (300, 400), 1 / 2),
        ((300, 200), 256, (200, 300), 1.0),
    ],
)
def test_fast_jpeg_uses_dct_scaling_as_far_as_min_side_allows(size, min_side, shape, scale):
    data = encode(photo(*size), "JPEG")
    [frame] = decode(data, DecodeOptions(fast_min_side=min_side))
    assert frame.pixels.shape == (*shape, 3)
    assert frame.scale == pytest.approx(scale)
    assert frame.source_size == size
    assert min(frame.pixels.shape[:2]) >= min(min_side, *size)


def test_fast_jpeg_stays_close_to_exact(bridge):
    data = (REFERENCE / "images/reg-test-input/dih/bridge-1-original.jpg").read_bytes()
    [exact] = decode(data, EXACT)
    [fast] = decode(data)
    assert fast.scale == 0.5 and fast.pixels.shape == (502, 800, 3)
    assert distance(pdq(fast.pixels)[0], pdq(exact.pixels)[0]) <= 4  # measured: 2


@pytest.mark.parametrize(
    ("size", "min_side", "shape", "factor"),
    [
        ((1000, 800), 256, (267, 334), 3),  # ceil(800 / 3) = 267; / 4 would give 200
        ((700, 511), 256, (256, 350), 2),  # ceil(511 / 2) = 256 still counts
        ((300, 255), 256, (255, 300), 1),
        ((90, 60), 1, (1, 2), 60),  # min_side 1: down to one pixel, never zero
    ],
)
def test_fast_other_formats_reduce_by_the_largest_integer_factor(size, min_side, shape, factor):
    [frame] = decode(encode(photo(*size), "PNG"), DecodeOptions(fast_min_side=min_side))
    assert frame.pixels.shape == (*shape, 3)
    assert frame.scale == pytest.approx(1 / factor)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "1"])
def test_fast_reduce_equals_convert_rgb_then_reduce(mode):
    # Reducing must not change what the references' convert("RGB") yields:
    # grey is reduced before conversion (identical, 3x less work), alpha and
    # palettes after (reduce would premultiply / average indices).
    source = photo(600, 520, seed=5).convert(mode)
    if mode == "RGBA":
        source.putalpha(Image.linear_gradient("L").resize((600, 520)))
    data = encode(source, "PNG")
    [frame] = decode(data)
    expected = Image.open(io.BytesIO(data)).convert("RGB").reduce(2)
    np.testing.assert_array_equal(frame.pixels, np.asarray(expected))


@given(
    short=st.integers(min_value=1, max_value=100_000),
    min_side=st.integers(min_value=1, max_value=5_000),
    dct=st.booleans(),
)
def test_reduction_factor_is_the_largest_that_keeps_min_side(short, min_side, dct):
    allowed = decode_module._DCT_FACTORS if dct else ()
    k = decode_module._reduction_factor(short, min_side, allowed)
    candidates = allowed or range(1, short + 1)
    assert k in candidates or k == 1
    keeps = [c for c in candidates if math.ceil(short / c) >= min_side and c <= short]
    assert k == max(keeps, default=1)


# ---------------------------------------------------------------- frames


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]


def animation(fmt: str, size: tuple[int, int] = (48, 32), colours=COLOURS) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in colours]
    params = {"lossless": True} if fmt == "WEBP" else {}
    if fmt in ("GIF", "WEBP", "PNG"):
        params["duration"] = 100
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], **params)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG", "TIFF"])
def test_animations_give_the_first_frame_unless_all_are_asked_for(fmt):
    data = animation(fmt)
    [first] = decode(data)
    assert (first.frame, first.n_frames) == (0, None)  # not counted: that walks the file
    assert tuple(first.pixels[0, 0]) == COLOURS[0]
    frames = decode(data, DecodeOptions(all_frames=True))
    assert [f.frame for f in frames] == list(range(len(COLOURS)))
    for frame, colour in zip(frames, COLOURS):
        assert_contract(frame)
        assert frame.n_frames == len(COLOURS)
        assert (frame.pixels == colour).all(), (fmt, frame.frame)


@pytest.mark.parametrize("fmt", ["GIF", "PNG"])
def test_a_cut_animation_still_gives_its_first_frame(fmt):
    data = animation(fmt, size=(64, 64))
    cut = data[: int(len(data) * 0.75)]
    [first] = decode(cut)
    assert tuple(first.pixels[0, 0]) == COLOURS[0]
    # With all_frames the whole object fails: a partial list would look complete.
    assert decode_error(cut, DecodeOptions(all_frames=True)).reason is FailureReason.TRUNCATED


def test_max_frames_caps_all_frames():
    frames = decode(animation("GIF"), DecodeOptions(all_frames=True, max_frames=2))
    assert [(f.frame, f.n_frames) for f in frames] == [(0, None), (1, None)]


def test_all_frames_share_the_pixel_budget():
    # 100x100 frames, 25,000-pixel budget: two fit, the third would not.
    data, options = animation("GIF", size=(100, 100)), DecodeOptions(all_frames=True, max_pixels=25_000)
    result = decode_frames(data, options)
    assert [f.frame for f in result.frames] == [0, 1]
    assert (result.stop.frame, result.stop.reason) == (2, FailureReason.OVER_BUDGET)
    assert "25000" in result.stop.message and "frames 0-1 decoded" in result.stop.message
    assert decode_error(data, options).reason is FailureReason.OVER_BUDGET  # strict form


def test_thousands_of_frames_are_counted_but_not_all_decoded():
    tiles = []
    for i in range(2000):
        tile = Image.new("P", (8, 8), i % 200)
        tile.putpixel((i % 8, i // 8 % 8), 255)  # identical frames would be merged
        tiles.append(tile)
    data = encode(tiles[0], "GIF", save_all=True, append_images=tiles[1:], duration=10)
    [first] = decode(data)
    assert first.n_frames is None
    result = decode_frames(data, DecodeOptions(all_frames=True))
    assert len(result.frames) == DEFAULT_MAX_FRAMES
    assert (result.stop.frame, result.stop.reason) == (DEFAULT_MAX_FRAMES, FailureReason.FRAMES_CUT_OFF)


def test_mpo_frames_decode_in_fast_mode():
    # Camera JPEGs with a multi-picture index open as MPO. Pillow keeps the
    # first frame's draft scale for later frames, so all_frames must not draft.
    main, preview = photo(800, 600), photo(400, 300, seed=1)
    data = encode(main, "MPO", save_all=True, append_images=[preview])
    [first] = decode(data)
    assert (first.format, first.n_frames, first.scale, first.pixels.shape) == (
        "MPO",
        None,
        0.5,
        (300, 400, 3),
    )
    frames = decode(data, DecodeOptions(all_frames=True))
    assert [f.pixels.shape for f in frames] == [(300, 400, 3), (300, 400, 3)]
    assert [f.source_size for f in frames] == [(800, 600), (400, 300)]
    assert distance(pdq(frames[1].pixels)[0], pdq(np.asarray(preview))[0]) <= 8


# ---------------------------------------------------------------- frame limits


def _forbid_frame_count(monkeypatch, plugin_class) -> list[int]:
    """Make ``n_frames`` raise and record every frame ``_seek`` is asked for."""
    sought = []
    real_seek = plugin_class._seek

    def counting_seek(self, frame, *args, **kwargs):
        sought.append(frame)
        return real_seek(self, frame, *args, **kwargs)

    def no_count(self):
        raise AssertionError("n_frames read")

    monkeypatch.setattr(plugin_class, "_seek", counting_seek)
    monkeypatch.setattr(plugin_class, "n_frames", property(no_count))
    return sought


def test_first_frame_of_a_many_page_tiff_reads_no_later_page(monkeypatch):
    # Counting pages walks every IFD (quadratic in Pillow: 100k pages took 41 s).
    from PIL import TiffImagePlugin

    sought = _forbid_frame_count(monkeypatch, TiffImagePlugin.TiffImageFile)
    [frame] = decode(multiframe_samples.many_page_tiff(5000))
    assert (frame.frame, frame.n_frames, frame.pixels.shape) == (0, None, (8, 8, 3))
    assert sought == [0]


def test_first_frame_of_a_gif_reads_no_later_frame(monkeypatch):
    from PIL import GifImagePlugin

    sought = _forbid_frame_count(monkeypatch, GifImagePlugin.GifImageFile)
    [frame] = decode(animation("GIF"))
    assert tuple(frame.pixels[0, 0]) == COLOURS[0]
    assert sought == [0]


def test_all_frames_seek_no_further_than_max_frames_and_one(monkeypatch):
    from PIL import TiffImagePlugin

    sought = _forbid_frame_count(monkeypatch, TiffImagePlugin.TiffImageFile)
    result = decode_frames(
        multiframe_samples.many_page_tiff(5000), DecodeOptions(all_frames=True, max_frames=10)
    )
    assert [f.frame for f in result.frames] == list(range(10))
    assert max(sought) == 10  # frame 10 looked at (it exists: a cut-off), none beyond
    assert (result.stop.frame, result.stop.reason) == (10, FailureReason.FRAMES_CUT_OFF)
    assert "max_frames is 10" in result.stop.message


@pytest.mark.parametrize(
    "make", [multiframe_samples.cut_gif, multiframe_samples.tiff_with_bad_page], ids=["gif", "tiff"]
)
def test_a_damaged_later_frame_does_not_fail_frame_0(make):
    data = make()
    [first] = decode(data)
    assert first.frame == 0
    # All frames: frame 0 is kept, frame 1 ends reading with its own error.
    result = decode_frames(data, DecodeOptions(all_frames=True))
    assert [f.frame for f in result.frames] == [0]
    assert (result.stop.frame, result.stop.reason) == (1, FailureReason.TRUNCATED)
    assert result.stop.message.startswith(f"{first.format} frame 1")
    assert "reading stopped here" in result.stop.message
    np.testing.assert_array_equal(result.frames[0].pixels, first.pixels)


def test_frames_before_a_bad_one_are_kept_in_order():
    # Frame 3 of 5 declares more pixels than the limit allows: frames 0-2 come back.
    frames = [Image.new("RGB", (40, 40), c) for c in COLOURS[:3]] + [
        Image.new("RGB", (400, 400), c) for c in COLOURS[3:]
    ]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    result = decode_frames(data, DecodeOptions(all_frames=True, max_pixels=100_000))
    assert [tuple(f.pixels[0, 0]) for f in result.frames] == COLOURS[:3]
    assert (result.stop.frame, result.stop.reason) == (3, FailureReason.DECOMPRESSION_BOMB)
    assert [f.n_frames for f in result.frames] == [None] * 3


def test_reading_to_the_end_counts_the_frames():
    result = decode_frames(animation("PNG"), DecodeOptions(all_frames=True))
    assert result.stop is None
    assert [f.n_frames for f in result.frames] == [len(COLOURS)] * len(COLOURS)


def test_cpu_budget_stops_between_frames(monkeypatch):
    clock = iter(range(0, 1000, 7))  # every reading of the CPU clock: 7 s later
    monkeypatch.setattr(decode_module.time, "thread_time", lambda: next(clock))
    result = decode_frames(animation("GIF"), DecodeOptions(all_frames=True, max_cpu_seconds=10))
    assert [f.frame for f in result.frames] == [0, 1]
    assert (result.stop.frame, result.stop.reason) == (2, FailureReason.OVER_BUDGET)
    assert "over the budget of 10 s" in result.stop.message


@pytest.mark.parametrize("value", [0, -1.0, "5", True, float("nan")])
def test_cpu_budget_must_be_positive(value):
    with pytest.raises(ConfigError, match="max_cpu_seconds"):
        DecodeOptions(max_cpu_seconds=value)


# ---------------------------------------------------------------- warnings


def test_plugin_warnings_are_counted_not_shown():
    # The bad second IFD makes Pillow's TIFF plugin warn "Corrupt EXIF data".
    counts = Counter()
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        decode_frames(multiframe_samples.tiff_with_bad_page(), DecodeOptions(all_frames=True), counts)
        with pytest.raises(DecodeError):  # the strict form: discarded, not shown either
            decode(multiframe_samples.tiff_with_bad_page(), DecodeOptions(all_frames=True))
    assert shown == []
    assert counts["UserWarning"] >= 1


def test_warnings_outside_decoding_are_shown_as_before():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        decode(animation("GIF"))
        warnings.warn("not from the decoder", UserWarning)
    assert [str(w.message) for w in shown] == ["not from the decoder"]
    assert decode_module._show_or_count not in (warnings.showwarning,)
    assert decode_module._WARN_FILTER not in warnings.filters


def test_warnings_are_counted_per_thread():
    # 100 MP headers warn (DecompressionBombWarning) in every thread; stills do not.
    bomb, still = png_with_header(10_000, 10_000), encode(Image.new("RGB", (64, 64)), "PNG")

    def run(i):
        counts = Counter()
        data = bomb if i % 2 else still
        try:
            decode_frames(data, DEFAULTS, counts)
        except DecodeError:
            pass
        return i % 2, counts

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(40)))
    for warned, counts in results:
        assert counts == ({"DecompressionBombWarning": 1} if warned else {})
    assert warnings.showwarning is not decode_module._show_or_count
    assert decode_module._WARN_FILTER not in warnings.filters


def test_decoder_warnings_never_reach_stderr(tmp_path):
    # A real process, with Python's default filters, where stderr would show them.
    (tmp_path / "bad.tif").write_bytes(multiframe_samples.tiff_with_bad_page())
    (tmp_path / "bomb.png").write_bytes(png_with_header(10_000, 10_000))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from photosieve.decode import DecodeOptions, decode_frames\n"
        "from photosieve.errors import DecodeError\n"
        "for path in sorted(Path(sys.argv[1]).iterdir()):\n"
        "    try:\n"
        "        decode_frames(path.read_bytes(), DecodeOptions(all_frames=True))\n"
        "    except DecodeError:\n"
        "        pass\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")


# ---------------------------------------------------------------- errors


def test_zero_bytes_is_empty():
    assert decode_error(b"").reason is FailureReason.EMPTY


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is a text file\n" * 20,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        b"BM this starts like a bitmap but is text",
        b"\xff",
    ],
    ids=["text", "pdf", "svg", "random", "bm-text", "one-byte"],
)
def test_non_images_are_not_an_image(data):
    assert decode_error(data).reason is FailureReason.NOT_AN_IMAGE


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("BMP", {}),
        pytest.param("AVIF", {}, marks=needs_avif),
    ],
)
def test_every_cut_of_a_file_is_truncated(picture, fmt, params):
    data = encode(picture, fmt, **params)
    # A PNG missing only its 12-byte IEND chunk still holds the whole image.
    end = len(data) - 12 if fmt == "PNG" else len(data)
    for cut in range(20, end, max(1, end // 150)):  # signatures need up to 18 bytes
        error = decode_error(data[:cut])
        assert error.reason is FailureReason.TRUNCATED, (cut, error.message)
        assert fmt in error.message


def test_broken_data_stream_is_corrupt(picture):
    data = bytearray(encode(picture, "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 20 : start + 60] = bytes(b ^ 0xFF for b in data[start + 20 : start + 60])
    error = decode_error(bytes(data))
    assert error.reason is FailureReason.CORRUPT
    assert "PNG 160x120" in error.message


def test_broken_header_is_corrupt(picture):
    data = bytearray(encode(picture, "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 9] = 0  # zero colour components
    error = decode_error(bytes(data))
    assert error.reason is FailureReason.CORRUPT
    assert "JPEG" in error.message


@pytest.mark.skipif(HAS_HEIF, reason="pillow-heif is installed")
def test_heic_without_pillow_heif_names_the_extra():
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    error = decode_error(data)
    assert error.reason is FailureReason.UNSUPPORTED_FORMAT
    assert "photosieve[heif]" in error.message


@pytest.mark.parametrize(
    "data",
    [b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), b"\xff\x0a" + bytes(64), b"8BPS" + bytes(64)],
    ids=["jpeg2000", "jpegxl", "psd"],
)
def test_recognised_but_undecoded_formats_are_unsupported(data):
    assert decode_error(data).reason is FailureReason.UNSUPPORTED_FORMAT


def test_declared_size_is_checked_before_decoding():
    # The IDAT holds 64 bytes: if the decoder ran, this would be TRUNCATED.
    data = png_with_header(1000, 1000)
    error = decode_error(data, DecodeOptions(max_pixels=999_999))
    assert error.reason is FailureReason.DECOMPRESSION_BOMB
    assert "1000x1000" in error.message and "999999" in error.message
    assert decode_error(data, DecodeOptions(max_pixels=1_000_000)).reason is FailureReason.TRUNCATED


def test_pillows_own_bomb_error_is_mapped():
    # 900 Mpx is beyond 2x Pillow's global limit: Image.open itself refuses,
    # whatever max_pixels says.
    error = decode_error(png_with_header(30_000, 30_000), DecodeOptions(max_pixels=10**12))
    assert error.reason is FailureReason.DECOMPRESSION_BOMB


def test_pillows_bomb_warning_is_counted_even_when_configured_as_an_error():
    # 100 MP: between 1x and 2x Pillow's limit, so Image.open warns. The decoder
    # counts its warnings whatever the filters say; the 64-byte IDAT then fails.
    counts = Counter()
    with warnings.catch_warnings():  # single-threaded test: safe here
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(DecodeError) as info:
            decode_frames(png_with_header(10_000, 10_000), DEFAULTS, counts)
    assert info.value.reason is FailureReason.TRUNCATED
    assert counts == {"DecompressionBombWarning": 1}


def test_pillow_global_limit_is_left_alone(picture):
    before = Image.MAX_IMAGE_PIXELS
    decode_error(encode(picture, "PNG"), DecodeOptions(max_pixels=10))
    decode(encode(picture, "PNG"), DecodeOptions(max_pixels=10**12))
    assert Image.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (OSError("broken data stream"), FailureReason.CORRUPT),
        (OSError("image file is truncated"), FailureReason.TRUNCATED),
        (SyntaxError("broken PNG file"), FailureReason.CORRUPT),
        (ValueError("bad"), FailureReason.CORRUPT),
        (struct.error("unpack requires a buffer"), FailureReason.CORRUPT),
        (EOFError(), FailureReason.TRUNCATED),
        (MemoryError(), FailureReason.DECOMPRESSION_BOMB),
        (IndexError("list index out of range"), FailureReason.CORRUPT),
        (KeyError("mode"), FailureReason.CORRUPT),
        (TypeError("bad"), FailureReason.CORRUPT),
        (ZeroDivisionError(), FailureReason.CORRUPT),
        (Image.DecompressionBombError("too big"), FailureReason.DECOMPRESSION_BOMB),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
@pytest.mark.parametrize("stage", ["open", "load"])
def test_every_pillow_exception_becomes_a_decode_error(
    monkeypatch, picture, exception, reason, stage
):
    data = encode(picture, "BMP")  # a complete file, so only the exception decides

    def fail(*args, **kwargs):
        raise exception

    if stage == "open":
        monkeypatch.setattr(Image, "open", fail)
    else:
        monkeypatch.setattr(type(Image.open(io.BytesIO(data))), "load", fail)
    error = decode_error(data)
    assert error.reason is reason
    assert "BMP" in error.message


# ---------------------------------------------------------------- robustness


def _seed_files() -> list[bytes]:
    small = photo(24, 16, seed=11)
    frames = [photo(16, 16, seed=s) for s in (12, 13, 14)]
    return [
        encode(small, "JPEG"),
        encode(small, "PNG"),
        encode(small.convert("P"), "PNG"),
        encode(small, "GIF"),
        encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        encode(small, "WEBP"),
        encode(small, "TIFF"),
        encode(small, "BMP"),
    ]


SEEDS = _seed_files()
# Mutated headers may declare huge canvases; a small budget keeps each example fast.
FUZZ_OPTIONS = [
    DecodeOptions(max_pixels=1_000_000),
    DecodeOptions(max_pixels=1_000_000, mode="exact", all_frames=True),
]


@st.composite
def mutated_files(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        kind = draw(st.sampled_from(["set", "delete", "insert", "truncate"]))
        if kind == "set":
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=16))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[position + 1 :]
        if not data:
            break
    return bytes(data)


def _decode_or_typed_error(data: bytes, options: DecodeOptions) -> None:
    try:
        frames = decode(data, options)
    except DecodeError as error:
        assert isinstance(error.reason, FailureReason)
        assert len(error.message) < 500
        return
    assert frames
    for frame in frames:
        assert_contract(frame)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_files(), which=st.integers(min_value=0, max_value=1))
def test_mutated_files_decode_or_raise_decode_error(data, which):
    _decode_or_typed_error(data, FUZZ_OPTIONS[which])


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes_decode_or_raise_decode_error(data):
    _decode_or_typed_error(data, FUZZ_OPTIONS[0])


def test_concurrent_decodes_agree_with_sequential_ones():
    # Beam runs DoFns in threads; decode keeps no shared mutable state.
    inputs = [
        encode(photo(300 + 10 * i, 260, seed=i), fmt)
        for i, fmt in enumerate(["JPEG", "PNG", "WEBP", "GIF"] * 3)
    ]
    expected = [decode(data)[0].pixels for data in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda data: decode(data)[0].pixels, inputs * 2))
    for got, want in zip(results, expected * 2):
        np.testing.assert_array_equal(got, want)


def test_decode_does_not_import_apache_beam():
    code = "import sys, photosieve.decode; sys.exit('apache_beam' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -- luma output (fast-mode PDQ) --------------------------------------------------


@pytest.mark.parametrize("fmt, mode", [("JPEG", "RGB"), ("JPEG", "L"), ("PNG", "RGBA"), ("PNG", "P"), ("WEBP", "RGB")])
def test_luma_output_is_pdq_luma_rounded(fmt, mode):
    from photosieve.hashes import pdq

    rng = np.random.default_rng(3)
    base = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).resize((640, 480), Image.BICUBIC)
    image = base.convert(mode)
    buf = io.BytesIO()
    image.save(buf, fmt, quality=95) if fmt != "PNG" else image.save(buf, fmt)
    data = buf.getvalue()
    rgb = decode(data, DecodeOptions(mode="fast"))[0]
    luma = decode(data, DecodeOptions(mode="fast", luma=True))[0]
    assert luma.pixels.shape == rgb.pixels.shape[:2] and luma.pixels.dtype == np.uint8
    assert (luma.scale, luma.source_size) == (rgb.scale, rgb.source_size)
    difference = np.abs(luma.pixels.astype(np.float32) - pdq.luma(np.ascontiguousarray(rgb.pixels)))
    # JPEG's Y channel vs luma of the decoded RGB: rounding and colour clipping.
    assert difference.mean() < 0.6 and difference.max() <= 8


def test_luma_draft_reduces_jpegs_like_rgb():
    rng = np.random.default_rng(4)
    image = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).resize((2048, 1536), Image.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    luma = decode(buf.getvalue(), DecodeOptions(mode="fast", fast_min_side=256, luma=True))[0]
    assert luma.pixels.shape == (384, 512) and luma.scale == 0.25


def test_large_images_leave_pillow_in_strips_with_the_same_pixels(monkeypatch):
    import tracemalloc

    picture = photo(640, 480)
    whole_rgb = image_to_rgb(picture)
    whole_luma = decode_module.image_to_luma(picture)
    monkeypatch.setattr(decode_module, "_ARRAY_STRIP_PIXELS", 10_000)  # strips of 15 rows
    tracemalloc.start()
    try:
        rgb = image_to_rgb(picture)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(rgb, whole_rgb)
    np.testing.assert_array_equal(decode_module.image_to_luma(picture), whole_luma)
    assert rgb.flags.c_contiguous and not rgb.flags.writeable
    # Image.tobytes' chunk list and joined copy took 2x the array; strips add little.
    assert peak < 1.2 * rgb.nbytes


def test_bytes_after_a_jpeg_are_not_a_truncated_frame():
    # Cameras append data after the EOI marker; with all frames, the end is the end.
    data = encode(photo(320, 240), "JPEG") + b"trailing vendor data"
    result = decode_frames(data, DecodeOptions(all_frames=True))
    assert [f.frame for f in result.frames] == [0] and result.stop is None
    assert result.frames[0].n_frames == 1


def test_a_gif_cut_after_a_whole_frame_is_truncated_not_complete():
    data = animation("GIF")
    result = decode_frames(data[:-1], DecodeOptions(all_frames=True))  # no trailer
    assert len(result.frames) == len(COLOURS)
    assert (result.stop.frame, result.stop.reason) == (len(COLOURS), FailureReason.TRUNCATED)


# ------------------------------------------- memory of decoders that hold more


def _webp(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    photo(width, height).save(buffer, "WEBP", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_a_webp_is_refused_before_load_when_its_decoder_would_exceed_the_memory_bound(
    monkeypatch, mode
):
    # libwebp holds 16 bytes/pixel while loading (two RGBA canvases, two copies
    # in Pillow), 4x an RGB frame: at the default limit, a 1.7 KB animated WebP
    # declaring 13376x13376 took 2.8 GB in fast mode and was hashed. Scaled
    # down: 100x100 = 10,000 pixels, and the limit at which they fit exactly.
    from PIL import WebPImagePlugin

    data = _webp(100, 100)
    fits = 10_000 * 16 // 4 if mode == "fast" else -(-10_000 * (16 + 3) // 7)
    [frame] = decode(data, DecodeOptions(mode=mode, max_pixels=fits))
    assert frame.source_size == (100, 100)

    loads = []
    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", lambda self: loads.append(1))
    with pytest.raises(DecodeError) as caught:
        decode(data, DecodeOptions(mode=mode, max_pixels=fits - 1))
    assert caught.value.reason is FailureReason.DECOMPRESSION_BOMB
    assert "16 bytes/pixel" in caught.value.message and f"{mode} mode" in caught.value.message
    assert loads == []  # refused from the header, nothing allocated


def test_the_webp_memory_bound_holds_with_all_frames():
    frames = [photo(60, 50, seed) for seed in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    options = DecodeOptions(all_frames=True, max_pixels=60 * 50 * 4 - 1)
    with pytest.raises(DecodeError) as caught:
        decode_frames(buffer.getvalue(), options)
    assert caught.value.reason is FailureReason.DECOMPRESSION_BOMB
    result = decode_frames(
        buffer.getvalue(), DecodeOptions(all_frames=True, max_pixels=60 * 50 * 12)
    )
    assert len(result.frames) == 3 and result.stop is None


@pytest.mark.parametrize("luma", [False, True])
@pytest.mark.parametrize("source_mode", ["P", "RGBA", "I;16", "CMYK", "1"])
def test_fast_mode_converts_modes_it_cannot_reduce_first_strip_by_strip(
    monkeypatch, source_mode, luma
):
    # convert("RGB") of a whole P canvas held 4 bytes/pixel next to its 1: a
    # GIF declaring 13376x13376 took 0.7 GB in fast mode. Strips of whole
    # reduction blocks give the same bytes as the full-size conversion.
    rgb = photo(997, 613, seed=3)
    source = {
        "P": rgb.quantize(200),
        "RGBA": Image.merge("RGBA", (*rgb.split(), rgb.convert("L"))),
        "I;16": Image.fromarray((np.asarray(rgb.convert("L"), dtype=np.uint16) * 3)),
        "CMYK": rgb.convert("CMYK"),
        "1": rgb.convert("1"),
    }[source_mode]
    data = encode(source, "TIFF" if source_mode in ("I;16", "CMYK") else "PNG")
    target = "L" if luma else "RGB"
    options = DecodeOptions(fast_min_side=64, luma=luma)
    whole = decode(data, options)[0]
    with Image.open(io.BytesIO(data)) as reference:
        expected = np.asarray(reference.convert(target).reduce(9))  # 613 // 64 = 9
    np.testing.assert_array_equal(whole.pixels, expected)

    converted = []
    convert = Image.Image.convert

    def spy(self, mode=None, *args, **kwargs):
        converted.append(self.width * self.height)
        return convert(self, mode, *args, **kwargs)

    monkeypatch.setattr(decode_module, "_ARRAY_STRIP_PIXELS", 20_000)  # strips of 18 rows
    monkeypatch.setattr(Image.Image, "convert", spy)
    stripped = decode(data, options)[0]
    np.testing.assert_array_equal(stripped.pixels, expected)
    assert stripped.scale == whole.scale == 1 / 9
    assert converted and max(converted) <= 20_000 + 997 * 9


@pytest.mark.parametrize("source_mode", ["P", "RGBA", "LA"])
def test_exact_mode_converts_large_images_strip_by_strip(monkeypatch, source_mode):
    rgb = photo(640, 480, seed=5)
    source = rgb.quantize(100) if source_mode == "P" else rgb.convert(source_mode)
    expected = np.asarray(source.convert("RGB"))
    converted = []
    convert = Image.Image.convert

    def spy(self, mode=None, *args, **kwargs):
        converted.append(self.width * self.height)
        return convert(self, mode, *args, **kwargs)

    monkeypatch.setattr(decode_module, "_ARRAY_STRIP_PIXELS", 10_000)
    monkeypatch.setattr(Image.Image, "convert", spy)
    np.testing.assert_array_equal(image_to_rgb(source), expected)
    assert converted and max(converted) <= 10_000


@needs_avif
def test_an_avif_is_refused_before_load_over_the_memory_bound():
    buffer = io.BytesIO()
    photo(64, 48).save(buffer, "AVIF", speed=10)
    fits = 64 * 48 * 14 // 4  # 14 bytes/pixel held, 4 allowed per max_pixels pixel
    assert decode(buffer.getvalue(), DecodeOptions(max_pixels=fits))[0].source_size == (64, 48)
    with pytest.raises(DecodeError) as caught:
        decode(buffer.getvalue(), DecodeOptions(max_pixels=fits - 1))
    assert caught.value.reason is FailureReason.DECOMPRESSION_BOMB
    assert "AVIF" in caught.value.message and "14 bytes/pixel" in caught.value.message


@pytest.mark.parametrize("method", list(decode_module._TRANSPOSE_FOR_ORIENTATION.values()))
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_large_images_are_transposed_strip_by_strip_with_the_same_pixels(monkeypatch, method, mode):
    # Exact mode turned an EXIF-rotated photo as a whole: a 4 bytes/pixel copy
    # beside the frame and the array, 11 bytes/pixel at the pixel limit.
    picture = photo(203, 117, seed=7).quantize(64)  # P: converted by strips as well
    expected = np.asarray(picture.transpose(method).convert(mode))
    sizes = []
    transpose = Image.Image.transpose

    def spy(self, how):
        sizes.append(self.width * self.height)
        return transpose(self, how)

    monkeypatch.setattr(decode_module, "_ARRAY_STRIP_PIXELS", 2_000)
    monkeypatch.setattr(Image.Image, "transpose", spy)
    pixels = decode_module._as_array(picture, mode, method)
    np.testing.assert_array_equal(pixels, expected)
    assert pixels.flags.c_contiguous and not pixels.flags.writeable
    assert sizes and max(sizes) <= 2_000 + 203


def test_exact_mode_applies_exif_orientation_without_a_full_size_turned_copy(monkeypatch):
    data = with_orientation(photo(320, 240, seed=8), "JPEG", 6)
    whole = decode(data, EXACT)[0]
    assert whole.exif_transposed and whole.pixels.shape == (320, 240, 3)
    sizes = []
    transpose = Image.Image.transpose

    def spy(self, how):
        sizes.append(self.width * self.height)
        return transpose(self, how)

    monkeypatch.setattr(decode_module, "_ARRAY_STRIP_PIXELS", 5_000)
    monkeypatch.setattr(Image.Image, "transpose", spy)
    np.testing.assert_array_equal(decode(data, EXACT)[0].pixels, whole.pixels)
    assert sizes and max(sizes) <= 5_000 + 320
