"""Generated multi-frame images that test the decoder's limits, shared by tests and benchmarks.

* :func:`many_page_tiff`: a TIFF of any number of tiny pages, written by hand
  (Pillow's writer takes minutes for 100k pages; this takes milliseconds).
* :func:`tiff_with_bad_page`: a 3-page TIFF whose second page lies past the
  end of the file, as in a cut download.
* :func:`cut_gif`: an animated GIF cut just after the start of its second
  frame.
* :func:`big_png`: a PNG that declares width x height of one flat colour, a
  few hundred KB however large (zlib squeezes the identical rows).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

# TIFF tags of a minimal uncompressed greyscale page.
_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _ROWS_PER_STRIP, _STRIP_BYTES = 273, 278, 279
_SHORT, _LONG = 3, 4


def many_page_tiff(pages: int, side: int = 8) -> bytes:
    """A little-endian TIFF of ``pages`` side x side 8-bit grey pages sharing one strip."""
    pixels = bytes(range(side)) * side
    entries = 8
    ifd_size = 2 + 12 * entries + 4
    first_ifd = 8 + len(pixels)
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + pixels)
    for page in range(pages):
        offset = first_ifd + page * ifd_size
        following = offset + ifd_size if page + 1 < pages else 0
        tags = [
            (_WIDTH, _LONG, side), (_LENGTH, _LONG, side), (_BITS, _SHORT, 8),
            (_COMPRESSION, _SHORT, 1), (_PHOTOMETRIC, _SHORT, 1), (_STRIP_OFFSETS, _LONG, 8),
            (_ROWS_PER_STRIP, _LONG, side), (_STRIP_BYTES, _LONG, len(pixels)),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, value in tags:  # one value, left-justified in the 4-byte field
            field = struct.pack("<I", value) if kind == _LONG else struct.pack("<HH", value, 0)
            out += struct.pack("<HHI", tag, kind, 1) + field
        out += struct.pack("<I", following)
    return bytes(out)


def _encode(frames: list[Image.Image], fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], **params)
    return buffer.getvalue()


def _noise(seed: int, size: tuple[int, int] = (64, 64)) -> Image.Image:
    """Noise: long LZW/strip data, so a cut lands inside a frame's pixels."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8))


def tiff_with_bad_page(pages: int = 3) -> bytes:
    """A TIFF whose first page is whole and whose second IFD offset points past the end."""
    data = bytearray(_encode([_noise(i) for i in range(pages)], "TIFF"))
    first = struct.unpack("<I", data[4:8])[0]
    entries = struct.unpack("<H", data[first : first + 2])[0]
    next_at = first + 2 + 12 * entries
    data[next_at : next_at + 4] = struct.pack("<I", len(data) + 4096)
    return bytes(data)


def cut_gif(frames: int = 3) -> bytes:
    """An animated GIF of noise frames cut just after the start of frame 1.

    Pillow's frame count then fails while scanning frame 1 (not with the
    EOFError it takes for the end), which failed the whole object when the
    decoder counted frames.
    """
    images = [_noise(i).convert("P") for i in range(frames)]
    one = len(_encode(images[:1], "GIF", duration=100)) - 1  # without its trailer byte
    whole = _encode(images, "GIF", duration=100)
    return whole[: one + 12]


def big_png(width: int, height: int) -> bytes:
    """A flat grey RGB PNG of width x height: tiny on disk, full size once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x00" + b"\x80" * (3 * width)  # filter byte "none", then the pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
