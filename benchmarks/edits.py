"""Deterministic edited copies of an image: the edits a known image goes through online.

:data:`EDITS` maps a stable name to ``edit(image, rng) -> image``: the input
is a PIL RGB image, the output a new PIL RGB image (greyscale edits come
back as RGB with equal channels, as a decoder would hand them over). An
edit's random choices (crop offset, overlay position, noise) come only from
``rng``, so a seeded ``numpy.random.Generator`` reproduces the same copy::

    rng = np.random.default_rng(seed)
    edited = EDITS["crop_offcentre_85"](image, rng)

:func:`apply_all` derives one generator per (seed, edit name), so adding an
edit does not change the copies of the others.

Only Pillow and numpy are used, no codec but Pillow's libjpeg, so the copies
are the same on every machine with the same Pillow.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

__all__ = ["EDITS", "EXTRA_EDITS", "Edit", "apply_all", "chain"]


def _jpeg(quality: int) -> Edit:
    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            return decoded.convert("RGB")

    return edit


def _rescale(percent: int) -> Edit:
    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        size = (max(1, round(width * percent / 100)), max(1, round(height * percent / 100)))
        return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=None)

    return edit


def _squeeze(percent: int) -> Edit:
    """Width scaled to ``percent``, height kept: a changed aspect ratio."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        return image.resize(
            (max(1, round(width * percent / 100)), height), Image.Resampling.BICUBIC
        )

    return edit


def _crop(percent: int, centred: bool) -> Edit:
    """Keep ``percent`` of each side; off-centre crops take a random offset."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        w, h = max(1, round(width * percent / 100)), max(1, round(height * percent / 100))
        if centred:
            left, top = (width - w) // 2, (height - h) // 2
        else:
            left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        return image.crop((left, top, left + w, top + h))

    return edit


def _pad(percent: int) -> Edit:
    """A border of ``percent`` of each side, in a random flat colour (letterboxing)."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        dx, dy = round(width * percent / 100), round(height * percent / 100)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        return ImageOps.expand(image, border=(dx, dy, dx, dy), fill=colour)

    return edit


def _transpose(method: Image.Transpose) -> Edit:
    return lambda image, rng: image.transpose(method)


def _rotate(degrees: float) -> Edit:
    """Rotation in place (same canvas, black corners), as a quick photo fix does."""
    return lambda image, rng: image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False)


def _greyscale(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    return image.convert("L").convert("RGB")


def _enhance(kind: type, factor: float) -> Edit:
    """ImageEnhance.Brightness (scales towards black) or .Contrast (towards the mean grey)."""
    return lambda image, rng: kind(image).enhance(factor)


def _gamma(gamma: float) -> Edit:
    lut = [round(255 * (i / 255) ** gamma) for i in range(256)] * 3
    return lambda image, rng: image.point(lut)


def _blur(radius: float) -> Edit:
    return lambda image, rng: image.filter(ImageFilter.GaussianBlur(radius))


def _noise(sigma: float) -> Edit:
    """Additive Gaussian noise (sensor noise, dithering), clipped to 0..255."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        pixels = np.asarray(image, dtype=np.float32)
        noisy = pixels + rng.normal(0.0, sigma, pixels.shape)
        return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")

    return edit


def _overlay(fraction: float) -> Edit:
    """An opaque rectangle (a caption bar, sticker or logo) over ``fraction`` of the area,
    with a few text-like dark lines inside, at a random position."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        out = image.copy()
        width, height = out.size
        aspect = float(rng.uniform(1.5, 4.0))  # wider than tall, like a caption
        w = min(width, max(1, round((fraction * width * height * aspect) ** 0.5)))
        h = min(height, max(1, round(fraction * width * height / w)))
        left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        draw = ImageDraw.Draw(out)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.rectangle((left, top, left + w - 1, top + h - 1), fill=colour)
        for line in range(1, 4):
            y = top + line * h // 4
            draw.line(
                (left + w // 10, y, left + w - w // 10, y), fill=(20, 20, 20), width=max(1, h // 12)
            )
        return out

    return edit


def _screenshot(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The image shrunk to ~60% and shown in a larger, app-like canvas: a
    title bar, a side panel, flat UI colours, the image off-centre."""
    width, height = image.size
    canvas_w, canvas_h = max(8, round(width * 1.25)), max(8, round(height * 1.45))
    ui = tuple(int(c) for c in rng.integers(200, 256, 3))
    canvas = Image.new("RGB", (canvas_w, canvas_h), ui)
    draw = ImageDraw.Draw(canvas)
    bar = max(1, canvas_h // 12)
    draw.rectangle((0, 0, canvas_w, bar), fill=(40, 40, 48))  # title bar
    draw.rectangle((0, bar, canvas_w // 6, canvas_h), fill=(225, 228, 232))  # side panel
    for i in range(6):  # menu entries
        y = bar + (i + 1) * canvas_h // 10
        draw.line(
            (canvas_w // 40, y, canvas_w // 7, y), fill=(90, 90, 90), width=max(1, canvas_h // 150)
        )
    shown = image.resize(
        (max(1, round(width * 0.8)), max(1, round(height * 0.8))), Image.Resampling.BILINEAR
    )
    left = canvas_w // 6 + int(rng.integers(0, max(1, canvas_w - canvas_w // 6 - shown.width) + 1))
    top = bar + int(rng.integers(0, max(1, canvas_h - bar - shown.height) + 1))
    canvas.paste(shown, (min(left, canvas_w - shown.width), min(top, canvas_h - shown.height)))
    return canvas


def chain(*edits: Edit) -> Edit:
    """Apply ``edits`` in order, all drawing from the same generator."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        for step in edits:
            image = step(image, rng)
        return image

    return edit


EDITS: dict[str, Edit] = {
    # Recompression.
    "jpeg_q75": _jpeg(75),
    "jpeg_q50": _jpeg(50),
    "jpeg_q20": _jpeg(20),
    # Resolution.
    "scale_25": _rescale(25),
    "scale_50": _rescale(50),
    "scale_150": _rescale(150),
    "squeeze_80": _squeeze(80),
    # Framing.
    "crop_centre_90": _crop(90, centred=True),
    "crop_centre_75": _crop(75, centred=True),
    "crop_offcentre_85": _crop(85, centred=False),
    "pad_10": _pad(10),
    "screenshot": _screenshot,
    # Geometry.
    "rotate_90": _transpose(Image.Transpose.ROTATE_90),
    "rotate_180": _transpose(Image.Transpose.ROTATE_180),
    "rotate_270": _transpose(Image.Transpose.ROTATE_270),
    "mirror": _transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "rotate_5": _rotate(5),
    # Tone and colour.
    "greyscale": _greyscale,
    "brightness_130": _enhance(ImageEnhance.Brightness, 1.3),
    "brightness_70": _enhance(ImageEnhance.Brightness, 0.7),
    "contrast_140": _enhance(ImageEnhance.Contrast, 1.4),
    "contrast_70": _enhance(ImageEnhance.Contrast, 0.7),
    "gamma_0.6": _gamma(0.6),
    "gamma_1.6": _gamma(1.6),
    # Filtering.
    "blur_2": _blur(2),
    "noise_10": _noise(10),
    "overlay_10": _overlay(0.10),
    # Chains: what a re-shared image typically went through.
    "chain_scale50_jpeg50": chain(_rescale(50), _jpeg(50)),
    "chain_crop90_jpeg75": chain(_crop(90, centred=False), _jpeg(75)),
    "chain_bright_contrast_jpeg": chain(
        _enhance(ImageEnhance.Brightness, 1.15), _enhance(ImageEnhance.Contrast, 1.2), _jpeg(60)
    ),
    "chain_overlay_scale75_jpeg40": chain(_overlay(0.10), _rescale(75), _jpeg(40)),
    "chain_screenshot_jpeg60": chain(_screenshot, _jpeg(60)),
}


def _letterbox(aspect: float) -> Edit:
    """Black bars that bring the image to ``aspect`` (width / height), as a video
    frame or a fixed-size post does: pillarbox if narrower, letterbox if wider."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        if width / height < aspect:
            canvas = Image.new("RGB", (round(height * aspect), height), (0, 0, 0))
        else:
            canvas = Image.new("RGB", (width, round(width / aspect)), (0, 0, 0))
        canvas.paste(image, ((canvas.width - width) // 2, (canvas.height - height) // 2))
        return canvas

    return edit


def _caption_bar(share: float) -> Edit:
    """A meme: a white bar of ``share`` of the height above the image, with
    dark text-like strokes in it."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        bar = max(4, round(height * share))
        canvas = Image.new("RGB", (width, height + bar), (255, 255, 255))
        canvas.paste(image, (0, bar))
        draw = ImageDraw.Draw(canvas)
        for line in range(2):
            y = bar * (line + 1) // 3
            x = width // 10
            while x < width - width // 10:  # words of random length
                word = int(rng.integers(width // 30, width // 8))
                draw.line((x, y, min(x + word, width - width // 10), y), fill=(10, 10, 10), width=max(2, bar // 6))
                x += word + width // 40
        return canvas

    return edit


# Edits beyond the list, to check that what is tuned on EDITS
# generalises (other crop offsets, other canvases, another angle). Not part
# of EDITS, so reports over EDITS keep their meaning; apply_all accepts them.
EXTRA_EDITS: dict[str, Edit] = {
    "crop_offcentre_75": _crop(75, centred=False),
    "letterbox_16_9": _letterbox(16 / 9),
    "caption_bar_20": _caption_bar(0.2),
    "rotate_-3": _rotate(-3),
}


def apply_all(
    image: Image.Image, seed: int, names: list[str] | None = None
) -> dict[str, Image.Image]:
    """Every edit (or those in ``names``) of ``image``, each with its own generator.

    The generator of edit ``name`` is seeded with ``(seed, crc32(name))``, so
    copies are reproducible and independent of which other edits run.
    """
    image = image.convert("RGB")
    out = {}
    for name in names if names is not None else list(EDITS):
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        out[name] = (EDITS[name] if name in EDITS else EXTRA_EDITS[name])(image, rng).convert("RGB")
    return out
