"""Small generated archives for the pipeline tests: good images and every kind of bad object.

Everything is generated (numpy + Pillow + zlib), so the tests need nothing
but the repository. Expected hashes are never written here: tests compute
them with the core (``ImageHasher``) from the same bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Bad objects and the failure class the pipeline must report for each.
BAD_OBJECTS = {
    "bad/corrupt.jpg": "corrupt",
    "bad/truncated.jpg": "truncated",
    "bad/zero.png": "empty",
    "bad/notes.txt": "not_an_image",
    "bad/bomb.png": "decompression_bomb",
    "bad/huge.png": "decompression_bomb",
}


def picture(seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    """A random RGB scene: a smooth background and a dozen flat shapes.

    Shapes give PDQ the stable structure of a photo: a 75% downscale of a
    320x240 scene stays within ~16 bits of the original, unrelated scenes
    are ~120 bits apart. (A smooth background alone moves ~40 bits.)
    """
    rng = np.random.default_rng(seed)
    width, height = size
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.uniform(0, 1, 2) * (width, height)
        r = rng.uniform(0.05, 0.25) * width
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        else:
            draw.rectangle([x - r, y - r / 2, x + r, y + r / 2], fill=colour)
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(
    width: int, height: int, idat: bytes = b"\x00" * 64, bit_depth: int = 8, colour: int = 2
) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (the pixel data may not match)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png_bomb(side: int = 14_000) -> bytes:
    """A real decompression bomb: a valid 1-bit PNG of side^2 pixels in ~25 KB."""
    row = b"\x00" * (1 + side // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png_declaring(side, side, body, bit_depth=1, colour=0)


def bad_object_bytes() -> dict[str, bytes]:
    good = encode(picture(99), "JPEG", quality=90)
    corrupt = bytearray(good)
    sof = corrupt.index(b"\xff\xc0")
    corrupt[sof + 9] = 0  # zero colour components: a broken header
    return {
        "bad/corrupt.jpg": bytes(corrupt),
        "bad/truncated.jpg": good[: len(good) // 2],
        "bad/zero.png": b"",
        "bad/notes.txt": b"not an image, just a note\n" * 4,
        "bad/bomb.png": png_bomb(),
        "bad/huge.png": png_declaring(65_000, 65_000),
    }


def write_archive(root: Path, n_good: int = 4, *, bad: bool = True) -> dict[str, bytes]:
    """Write ``n_good`` JPEG/PNG images under ``root/good`` and the bad objects; return name -> bytes."""
    objects = {}
    for i in range(n_good):
        fmt, ext = ("JPEG", "jpg") if i % 2 == 0 else ("PNG", "png")
        objects[f"good/img{i:02d}.{ext}"] = encode(picture(i), fmt)
    if bad:
        objects.update(bad_object_bytes())
    for name, data in objects.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return objects
