"""Hostile inputs, generated: mutated images, damaged containers, odd names, special files.

The fuzz tests (``tests/test_hostile_inputs.py``) and the hostile-input
benchmark (``benchmarks/bench_hostile.py``) both draw from here, so a crash
the benchmark finds at object 7,431 of seed 1 is ``mutated_image(1, 7431)``
anywhere. Everything is made from small images generated with numpy and
Pillow (noise and gradients, never real photos) and is deterministic for a
given seed, Pillow and zlib (same versions, same bytes).

* :func:`mutated_image`: one base image (JPEG, PNG, animated GIF, multi-page
  TIFF, WebP, BMP) with one mutation: bit flips, byte runs, truncation,
  inserted bytes, a duplicated chunk or marker segment, header fields set to
  extremes (zero, huge, negative dimensions; huge frame counts), wrong CRCs,
  an IFD loop. :data:`MUTATIONS` names them.
* Containers: :func:`zip_bytes` (a zip writer that can encrypt a member with
  ZipCrypto, corrupt its deflate stream, repeat names and point many
  directory entries at one stream), :func:`tar_with_garbage_header`,
  :func:`truncated_tar_gz`.
* :data:`ODD_NAMES`: file and member names as bytes (invalid UTF-8, control
  characters, ``!/``, a leading ``-``/``=``/``+``/``@``, bidi overrides, ``%``).
* The objects of issue 10's list: :func:`many_page_tiff`,
  :func:`truncated_animated_gif`, :func:`tiff_with_corrupt_later_page`,
  :func:`png_declaring`, :func:`overlapping_zip`, list files
  (:func:`gzip_bomb_list`, :func:`long_line_list`, :func:`nested_parquet_list`)
  and :func:`make_special_files` (FIFO, symlink loop, dangling link).
* :func:`hostile_folder`: about a hundred of the above written into a
  folder, with the manifest of every object an audit must account for.

No tests live here: this module only makes inputs.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "BASE_KINDS",
    "MUTATIONS",
    "ODD_NAMES",
    "Expected",
    "HostileObject",
    "ZipEntry",
    "base_image",
    "gzip_bomb_list",
    "hostile_folder",
    "long_line_list",
    "make_special_files",
    "many_page_tiff",
    "mutated_archive",
    "mutated_image",
    "mutated_images",
    "nested_parquet_list",
    "overlapping_zip",
    "png_declaring",
    "tar_with_garbage_header",
    "tar_with_shifted_headers",
    "tiff_with_corrupt_later_page",
    "truncated_animated_gif",
    "truncated_tar_gz",
    "zip_bytes",
]

# Base images per seed: mutations pick one of these, so the Pillow encoding
# cost is paid once per base, not once per mutated object.
BASE_COUNT = 24
# Kinds of base image; each is (format, what makes it interesting).
BASE_KINDS = (
    "jpeg", "jpeg-progressive", "jpeg-grey", "png-rgb", "png-palette", "png-rgba", "png-16bit",
    "png-interlaced", "gif-animated", "tiff-pages", "tiff-lzw", "webp-lossy", "webp-lossless",
    "webp-animated", "bmp",
)
# Dimension values header mutations write: zero, one, the 16-bit and 31-bit
# maxima, and 13376 (13376^2 = 179 MP: just under the default pixel limit).
EXTREME_DIMENSIONS = (0, 1, 13376, 65535, 0x7FFFFFFF)


@dataclass(frozen=True)
class HostileObject:
    """One generated object.

    Attributes:
        name: a file name for it (unique within a seed, says what it is).
        data: its bytes.
        base: the base image kind it was made from ("" for containers).
        mutation: the mutation applied (a key of :data:`MUTATIONS`), with its
            parameters, e.g. ``"truncate@311"``.
    """

    name: str
    data: bytes
    base: str
    mutation: str


# -- base images ---------------------------------------------------------------


def _pixels(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Noise over a gradient: PDQ gets structure, decoders get entropy."""
    y, x = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * x / width + np.sin(angle) * y / height + 1) * 100
    base = np.stack([ramp * rng.uniform(0.3, 1.2) for _ in range(3)], axis=-1)
    noise = rng.normal(0, rng.uniform(2, 40), (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _encode(frames: list[Image.Image], fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    if len(frames) > 1:
        params.update(save_all=True, append_images=frames[1:])
    frames[0].save(buffer, fmt, **params)
    return buffer.getvalue()


@lru_cache(maxsize=4 * BASE_COUNT)
def base_image(seed: int, index: int) -> tuple[str, bytes]:
    """``(kind, bytes)`` of base image ``index`` (0 <= index < BASE_COUNT) of ``seed``.

    Sizes are 40-120 px a side: big enough for every hash (PDQ needs 5 px,
    pHash 32), small enough to hash thousands a minute.
    """
    rng = np.random.default_rng([seed, index, 0xBA5E])
    kind = BASE_KINDS[index % len(BASE_KINDS)]
    width, height = (int(v) for v in rng.integers(40, 121, 2))
    rgb = Image.fromarray(_pixels(rng, width, height))
    pages = [Image.fromarray(_pixels(rng, width, height)) for _ in range(2)]
    if kind == "jpeg":
        data = _encode([rgb], "JPEG", quality=int(rng.integers(30, 96)))
    elif kind == "jpeg-progressive":
        data = _encode([rgb], "JPEG", quality=80, progressive=True, optimize=True)
    elif kind == "jpeg-grey":
        data = _encode([rgb.convert("L")], "JPEG", quality=70)
    elif kind == "png-rgb":
        data = _encode([rgb], "PNG")
    elif kind == "png-palette":
        data = _encode([rgb.quantize(32)], "PNG")
    elif kind == "png-rgba":
        alpha = Image.fromarray(_pixels(rng, width, height)[..., 0])
        data = _encode([Image.merge("RGBA", (*rgb.split(), alpha))], "PNG")
    elif kind == "png-16bit":
        wide = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        data = _encode([Image.fromarray(wide)], "PNG")
    elif kind == "png-interlaced":
        data = _encode([rgb], "PNG", interlace=1)  # Pillow writes Adam7 only on request
    elif kind == "gif-animated":
        frames = [f.quantize(64) for f in [rgb, *pages]]
        data = _encode(frames, "GIF", duration=50, loop=0)
    elif kind == "tiff-pages":
        data = _encode([rgb, *pages], "TIFF")
    elif kind == "tiff-lzw":
        data = _encode([rgb, *pages], "TIFF", compression="tiff_lzw")
    elif kind == "webp-lossy":
        data = _encode([rgb], "WEBP", quality=60)
    elif kind == "webp-lossless":
        data = _encode([rgb], "WEBP", lossless=True)
    elif kind == "webp-animated":
        data = _encode([rgb, *pages], "WEBP", duration=50, quality=50)
    else:
        data = _encode([rgb], "BMP")
    return kind, data


# -- mutations -----------------------------------------------------------------
# Each takes (data, kind, rng) and returns (label, mutated bytes).

Mutation = Callable[[bytes, str, np.random.Generator], tuple[str, bytes]]


def _bit_flips(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    out = bytearray(data)
    count = int(rng.integers(1, 17))
    for position in rng.integers(0, len(out), count):
        out[int(position)] ^= 1 << int(rng.integers(0, 8))
    return f"bit_flips x{count}", bytes(out)


def _header_bit_flips(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """Flips within the first 64 bytes, where the header fields are."""
    out = bytearray(data)
    count = int(rng.integers(1, 5))
    for position in rng.integers(0, min(64, len(out)), count):
        out[int(position)] ^= 1 << int(rng.integers(0, 8))
    return f"header_bit_flips x{count}", bytes(out)


def _byte_run(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    start = int(rng.integers(0, len(data)))
    length = int(rng.integers(1, max(2, len(data) // 4)))
    value = int(rng.choice([0x00, 0xFF, int(rng.integers(0, 256))]))
    out = bytearray(data)
    out[start : start + length] = bytes([value]) * len(out[start : start + length])
    return f"byte_run {value:#04x} @{start}+{length}", bytes(out)


def _truncate(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    cut = int(rng.integers(0, len(data)))
    return f"truncate @{cut}", data[:cut]


def _insert(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    at = int(rng.integers(0, len(data)))
    length = int(rng.integers(1, 64))
    return f"insert @{at}+{length}", data[:at] + rng.bytes(length) + data[at:]


def _duplicate(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """Repeat one structural unit: a PNG chunk, a JPEG marker segment, else a byte range."""
    units = _png_chunks(data) if data.startswith(b"\x89PNG") else _jpeg_segments(data)
    if units:
        start, end, name = units[int(rng.integers(0, len(units)))]
        times = int(rng.choice([1, 2, 50]))
        return f"duplicate {name} x{times}", data[:end] + data[start:end] * times + data[end:]
    start = int(rng.integers(0, len(data)))
    end = min(len(data), start + int(rng.integers(1, 256)))
    return f"duplicate bytes @{start}:{end}", data[:end] + data[start:end] + data[end:]


def _extreme_header(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """Set the declared width and/or height to an extreme, in the format's own header."""
    width = int(rng.choice(EXTREME_DIMENSIONS)) if rng.random() < 0.7 else None
    height = int(rng.choice(EXTREME_DIMENSIONS)) if width is None or rng.random() < 0.5 else None
    label = f"extreme_header w={width} h={height}"
    out = bytearray(data)
    if data.startswith(b"\x89PNG"):
        fixed_crc = rng.random() < 0.8
        if width is not None:
            out[16:20] = struct.pack(">I", width)
        if height is not None:
            out[20:24] = struct.pack(">I", height)
        if fixed_crc:
            out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])))
        return label + ("" if fixed_crc else " stale_crc"), bytes(out)
    if data.startswith(b"\xff\xd8"):
        for start, _, name in _jpeg_segments(data):
            if name in ("SOF0", "SOF1", "SOF2"):
                if height is not None:
                    out[start + 5 : start + 7] = struct.pack(">H", min(height, 0xFFFF))
                if width is not None:
                    out[start + 7 : start + 9] = struct.pack(">H", min(width, 0xFFFF))
                break
        return label, bytes(out)
    if data[:3] == b"GIF":
        if width is not None:
            out[6:8] = struct.pack("<H", min(width, 0xFFFF))
        if height is not None:
            out[8:10] = struct.pack("<H", min(height, 0xFFFF))
        return label + " (screen)", bytes(out)
    if data[:2] == b"BM":
        sign = -1 if rng.random() < 0.2 else 1  # negative height: top-down; negative width: invalid
        if width is not None:
            out[18:22] = struct.pack("<i", sign * min(width, 0x7FFFFFFF))
        if height is not None:
            out[22:26] = struct.pack("<i", sign * min(height, 0x7FFFFFFF))
        return label + (" negative" if sign < 0 else ""), bytes(out)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return label + " (tiff)", _tiff_set_dimensions(out, width, height)
    if data[:4] == b"RIFF":
        return label + " (webp)", _webp_set_dimensions(out, width, height)
    return label + " (no header)", bytes(out)


def _wrong_crc(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """A PNG chunk with a wrong CRC (other formats: a flipped byte in the last 16)."""
    chunks = _png_chunks(data)
    out = bytearray(data)
    if chunks:
        start, end, name = chunks[int(rng.integers(0, len(chunks)))]
        out[end - 4 : end] = bytes(b ^ 0xA5 for b in out[end - 4 : end])
        return f"wrong_crc {name}", bytes(out)
    position = len(out) - 1 - int(rng.integers(0, min(16, len(out))))
    out[position] ^= 0xFF
    return f"wrong_crc tail@{position}", bytes(out)


def _frame_count(data: bytes, kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """Claim or carry many frames: APNG acTL, repeated GIF frames, a TIFF IFD loop."""
    if data.startswith(b"\x89PNG"):
        frames = int(rng.choice([0, 2, 0x7FFFFFFF]))
        body = struct.pack(">II", frames, 0)
        actl = struct.pack(">I", 8) + b"acTL" + body + struct.pack(">I", zlib.crc32(b"acTL" + body))
        return f"frame_count acTL={frames}", data[:33] + actl + data[33:]
    if data[:3] == b"GIF":
        # Repeat the last frame (graphic control extension + image) many times.
        start = data.rfind(b"\x21\xf9\x04")
        if start > 0 and data.endswith(b"\x3b"):
            times = int(rng.choice([500, 3000]))
            return f"frame_count gif x{times}", data[:-1] + data[start:-1] * times + b"\x3b"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "frame_count tiff_ifd_loop", _tiff_ifd_loop(data)
    return _duplicate(data, kind, rng)


MUTATIONS: dict[str, Mutation] = {
    "bit_flips": _bit_flips,
    "header_bit_flips": _header_bit_flips,
    "byte_run": _byte_run,
    "truncate": _truncate,
    "insert": _insert,
    "duplicate": _duplicate,
    "extreme_header": _extreme_header,
    "wrong_crc": _wrong_crc,
    "frame_count": _frame_count,
}


def mutated_image(seed: int, index: int) -> HostileObject:
    """Object ``index`` of ``seed``: a base image with one mutation (1 in 20: none)."""
    rng = np.random.default_rng([seed, index])
    base_index = int(rng.integers(0, BASE_COUNT))
    kind, data = base_image(seed, base_index)
    if rng.random() < 0.05:
        label, mutated = "none", data
    else:
        name = list(MUTATIONS)[int(rng.integers(0, len(MUTATIONS)))]
        label, mutated = MUTATIONS[name](data, kind, rng)
    return HostileObject(f"{index:05d}-{kind}", mutated, kind, label)


def mutated_images(count: int, seed: int = 0, start: int = 0) -> Iterator[HostileObject]:
    """``mutated_image(seed, i)`` for i in ``start .. start + count - 1``."""
    for index in range(start, start + count):
        yield mutated_image(seed, index)


# Mutations that need no image structure: they damage any container alike.
_BLIND_MUTATIONS = ("bit_flips", "header_bit_flips", "byte_run", "truncate", "insert")
ARCHIVE_KINDS = (".zip", ".tar", ".tar.gz")
ARCHIVE_MEMBERS = 3  # images in each mutated archive


def mutated_archive(seed: int, index: int) -> HostileObject:
    """A zip, tar or tar.gz of ARCHIVE_MEMBERS small images, with one blind mutation.

    Its members cannot be known in advance: an audit must give at least one
    row for it (a member's, or the archive's own error row).
    """
    rng = np.random.default_rng([seed, index, 0xA4C])
    suffix = ARCHIVE_KINDS[index % len(ARCHIVE_KINDS)]
    picks = rng.integers(0, BASE_COUNT, ARCHIVE_MEMBERS)
    members = [(f"m{i}.png", base_image(seed, int(pick))[1]) for i, pick in enumerate(picks)]
    if suffix == ".zip":
        data = zip_bytes([ZipEntry(name.encode(), body) for name, body in members])
    elif suffix == ".tar":
        data = tar_bytes(members)
    else:
        data = gzip.compress(tar_bytes(members), mtime=0)
    name = _BLIND_MUTATIONS[int(rng.integers(0, len(_BLIND_MUTATIONS)))]
    label, mutated = MUTATIONS[name](data, suffix, rng)
    return HostileObject(f"{index:05d}-archive{suffix}", mutated, suffix, label)


# -- format structure helpers ---------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[int, int, str]]:
    """(start, end, type) of each PNG chunk, end including the CRC."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return []
    chunks, offset = [], 8
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        end = offset + 12 + length
        if end > len(data):
            break
        chunks.append((offset, end, data[offset + 4 : offset + 8].decode("latin-1")))
        offset = end
    return chunks


def _jpeg_segments(data: bytes) -> list[tuple[int, int, str]]:
    """(start, end, name) of the JPEG marker segments before the scan data."""
    if not data.startswith(b"\xff\xd8"):
        return []
    names = {0xC0: "SOF0", 0xC1: "SOF1", 0xC2: "SOF2", 0xC4: "DHT", 0xDB: "DQT", 0xDA: "SOS",
             0xDD: "DRI", 0xE0: "APP0", 0xE1: "APP1", 0xFE: "COM"}
    segments, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        end = offset + 2 + length
        segments.append((offset, end, names.get(marker, f"marker {marker:#04x}")))
        if marker == 0xDA:  # entropy-coded data follows
            break
        offset = end
    return segments


def _tiff_ifds(data: bytes) -> tuple[str, list[int]]:
    """(byte order, offsets of the IFDs in the chain), stopping at a loop or the end."""
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    seen: list[int] = []
    while offset and offset not in seen and offset + 2 <= len(data):
        seen.append(offset)
        count = struct.unpack(order + "H", data[offset : offset + 2])[0]
        end = offset + 2 + 12 * count
        if end + 4 > len(data):
            break
        offset = struct.unpack(order + "I", data[end : end + 4])[0]
    return order, seen


def _tiff_set_dimensions(out: bytearray, width: int | None, height: int | None) -> bytes:
    order, ifds = _tiff_ifds(bytes(out))
    if not ifds:
        return bytes(out)
    offset = ifds[0]
    count = struct.unpack(order + "H", out[offset : offset + 2])[0]
    for entry in range(count):
        at = offset + 2 + 12 * entry
        tag, kind = struct.unpack(order + "HH", out[at : at + 4])
        value = {256: width, 257: height}.get(tag)
        if value is None:
            continue
        if kind == 3:  # SHORT, left-justified in the value field
            out[at + 8 : at + 12] = struct.pack(order + "HH", min(value, 0xFFFF), 0)
        else:  # LONG
            out[at + 8 : at + 12] = struct.pack(order + "I", value)
    return bytes(out)


def _tiff_ifd_loop(data: bytes) -> bytes:
    """The last IFD's next-IFD offset pointed back at the first: an endless page chain."""
    order, ifds = _tiff_ifds(data)
    out = bytearray(data)
    if ifds:
        last = ifds[-1]
        count = struct.unpack(order + "H", out[last : last + 2])[0]
        end = last + 2 + 12 * count
        out[end : end + 4] = struct.pack(order + "I", ifds[0])
    return bytes(out)


def _webp_set_dimensions(out: bytearray, width: int | None, height: int | None) -> bytes:
    chunk = bytes(out[12:16])
    if chunk == b"VP8X":  # 24-bit canvas width-1, height-1 at 24 and 27
        if width is not None:
            out[24:27] = max(width - 1, 0).to_bytes(4, "little")[:3]
        if height is not None:
            out[27:30] = max(height - 1, 0).to_bytes(4, "little")[:3]
    elif chunk == b"VP8 ":  # 14-bit width and height after the start code
        if width is not None:
            out[26:28] = struct.pack("<H", min(width, 0x3FFF))
        if height is not None:
            out[28:30] = struct.pack("<H", min(height, 0x3FFF))
    elif chunk == b"VP8L":  # 14-bit width-1, height-1 packed after the signature byte
        bits = int.from_bytes(out[21:25], "little")
        if width is not None:
            bits = (bits & ~0x3FFF) | (max(width - 1, 0) & 0x3FFF)
        if height is not None:
            bits = (bits & ~(0x3FFF << 14)) | ((max(height - 1, 0) & 0x3FFF) << 14)
        out[21:25] = bits.to_bytes(4, "little")
    return bytes(out)


# -- the objects of issue 10 ----------------------------------------------------


def many_page_tiff(pages: int, size: int = 8) -> bytes:
    """A TIFF of ``pages`` grey ``size`` x ``size`` pages that share one strip.

    Bytes grow by 80 per page (one IFD each), so 100,000 pages take 8 MB:
    the shape of the issue's quadratic first-frame case.
    """
    strip_at = 8
    strip = bytes(range(size * size)) if size * size <= 256 else bytes(size * size)
    first_ifd = strip_at + len(strip)
    first_ifd += first_ifd % 2
    entries = [(256, 3, 1, size), (257, 3, 1, size), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, strip_at), (278, 3, 1, size), (279, 4, 1, len(strip))]
    ifd_size = 2 + 12 * len(entries) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + strip)
    out += bytes(first_ifd - len(out))  # word-align the first IFD
    for page in range(pages):
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            field = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, count) + field
        following = first_ifd + (page + 1) * ifd_size if page + 1 < pages else 0
        out += struct.pack("<I", following)
    return bytes(out)


def truncated_animated_gif(seed: int = 0, frames: int = 4) -> bytes:
    """An animated GIF cut in the middle of its last frame: frame 0 is whole."""
    rng = np.random.default_rng([seed, 0x61F])
    images = [Image.fromarray(_pixels(rng, 64, 48)).quantize(64) for _ in range(frames)]
    data = _encode(images, "GIF", duration=40, loop=0)
    last = data.rfind(b"\x2c")  # the last image descriptor
    return data[: last + (len(data) - last) // 2]


def tiff_with_corrupt_later_page(seed: int = 0) -> bytes:
    """A three-page TIFF whose second page has an unknown PhotometricInterpretation (99).

    Frame 0 decodes; Pillow fails on the second page's mode when it is
    sought, and so when the frame count is read.
    """
    rng = np.random.default_rng([seed, 0x71F])
    pages = [Image.fromarray(_pixels(rng, 64, 48)) for _ in range(3)]
    out = bytearray(_encode(pages, "TIFF"))
    order, ifds = _tiff_ifds(bytes(out))
    offset = ifds[1]
    count = struct.unpack(order + "H", out[offset : offset + 2])[0]
    for entry in range(count):
        at = offset + 2 + 12 * entry
        if struct.unpack(order + "H", out[at : at + 2])[0] == 262:  # PhotometricInterpretation
            out[at + 2 : at + 12] = struct.pack(order + "HIHH", 3, 1, 99, 0)
    return bytes(out)


def png_declaring(width: int, height: int, *, fill: bool = False) -> bytes:
    """A grey PNG that declares ``width`` x ``height``.

    ``fill=False``: one small IDAT (the decoder fails after allocating);
    ``fill=True``: a valid zero image, compressed (13376 x 13376 gives about
    0.2 MB for 179 MP: the issue's exact-mode memory case). The latter takes
    seconds to build at that size.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if fill:
        compressor = zlib.compressobj(9)
        row = bytes(width + 1)
        pieces = [compressor.compress(row * 64) for _ in range(height // 64)]
        pieces.append(compressor.compress(row * (height % 64)))
        pieces.append(compressor.flush())
        body = b"".join(pieces)
    else:
        body = zlib.compress(bytes(width + 1) * 4)
    chunks = _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# -- containers -----------------------------------------------------------------


@dataclass(frozen=True)
class ZipEntry:
    """One member for :func:`zip_bytes`.

    Attributes:
        name: the member name as stored (bytes: any, valid UTF-8 or not).
        data: the member's content.
        deflate: compress with deflate (else stored).
        encrypt: encrypt with ZipCrypto (password ``b"secret"``).
        corrupt: make the deflate stream invalid from its first block (CRC
            and sizes stay as if it were fine).
        utf8_flag: set the general-purpose flag bit 11 (name is UTF-8).
    """

    name: bytes
    data: bytes
    deflate: bool = True
    encrypt: bool = False
    corrupt: bool = False
    utf8_flag: bool = False


ZIP_PASSWORD = b"secret"


def zip_bytes(entries: list[ZipEntry], *, extra_central: int = 0) -> bytes:
    """A zip archive of ``entries``, written by hand so every field can be wrong.

    Duplicate names are written as given. ``extra_central`` adds that many
    more central-directory entries pointing at the first member's local
    header (overlapping entries: each one inflates the same stream).
    """
    local = bytearray()
    central = bytearray()
    records = []
    for entry in entries:
        crc = zlib.crc32(entry.data)
        payload = entry.data
        if entry.deflate:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = compressor.compress(payload) + compressor.flush()
        if entry.corrupt and payload:
            # Block type 3 (reserved) in the first deflate block: zlib's "invalid block type".
            payload = bytes([payload[0] | 0x06]) + payload[1:]
        flags = (0x1 if entry.encrypt else 0) | (0x800 if entry.utf8_flag else 0)
        if entry.encrypt:
            payload = _zipcrypto(payload, crc, seed=len(local))
        method = 8 if entry.deflate else 0
        sizes = (len(payload), len(entry.data), len(entry.name), 0)
        fields = (20, flags, method, 0, 0x5A21, crc, *sizes)
        records.append((fields, entry.name, len(local)))
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + entry.name + payload
    for _ in range(extra_central):
        records.append(records[0])
    for fields, name, offset in records:
        central += struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIIIHH", *fields)
        central += struct.pack("<HHHII", 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(central),
                      len(local), 0)
    return bytes(local + central + end)


def _zipcrypto(payload: bytes, crc: int, *, seed: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1) of ``payload`` with :data:`ZIP_PASSWORD`."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(value: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    def encrypt(plain: bytes) -> bytes:
        out = bytearray()
        for byte in plain:
            temp = (keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            update(byte)
        return bytes(out)

    for byte in ZIP_PASSWORD:
        update(byte)
    header = np.random.default_rng(seed).bytes(11) + bytes([crc >> 24])
    return encrypt(header + payload)


def overlapping_zip(entries: int = 50, member_bytes: int = 1 << 20) -> bytes:
    """One deflated member of zeros and ``entries`` directory entries pointing at it.

    Same name in every entry (Python's zipfile checks the local header's
    name), so it is also a duplicate-name zip: each entry inflates
    ``member_bytes`` from about ``member_bytes / 1000`` bytes on disk.
    """
    return zip_bytes([ZipEntry(b"zeros.bin", bytes(member_bytes))], extra_central=entries - 1)


def tar_bytes(members: list[tuple[str, bytes]], *, fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_with_garbage_header(members: list[tuple[str, bytes]], seed: int = 0) -> bytes:
    """A tar with one 512-byte block of random bytes after the first member's data.

    GNU tar skips it ("Skipping to next header") and lists the rest; Python's
    tarfile stops there without an error.
    """
    data = tar_bytes(members)
    first_end = 512 + -(-len(members[0][1]) // 512) * 512
    garbage = np.random.default_rng([seed, 0x7A4]).bytes(512)
    return data[:first_end] + garbage + data[first_end:]


def tar_with_shifted_headers(members: list[tuple[str, bytes]], shift: int = 17) -> bytes:
    """A tar with ``shift`` bytes inserted inside the first member's data.

    Every later header is then off its 512-byte grid: no tool can find
    them, but a reader must say the archive is damaged (GNU tar: "Skipping
    to next header", exit 2). Python's tarfile stops without an error.
    """
    data = tar_bytes(members)
    at = 512 + len(members[0][1]) // 2
    return data[:at] + bytes(range(shift)) + data[at:]


def truncated_tar_gz(members: list[tuple[str, bytes]], keep: float = 0.6) -> bytes:
    """A gzip-compressed tar cut after ``keep`` of its compressed bytes."""
    data = gzip.compress(tar_bytes(members), mtime=0)
    return data[: int(len(data) * keep)]


# -- names ------------------------------------------------------------------------

# File and member names (bytes) that have broken tools: not valid UTF-8,
# terminal control sequences, the member separator, spreadsheet formulas,
# option-like names, bidi overrides, percent signs (the escape character).
ODD_NAMES = {
    "invalid_utf8": b"bad-\xff\xfe-name.png",
    "latin1": b"caf\xe9.jpg",
    "control_chars": b"ctl-\x1b[31mred\x1b[0m-\x07.png",
    "newline": b"new\nline.jpg",
    "bang": b"not-a.zip!",
    "leading_dash": b"-rf.png",
    "formula_eq": b"=HYPERLINK(\"x\").png",
    "formula_plus": b"+1-1.jpg",
    "formula_at": b"@SUM(A1).png",
    "bidi": "bidi-\u202egnp.jpg".encode(),
    "percent": b"pct-%41%zz.png",
    "html": b"<img src=x onerror=alert(1)>.png",
    "markdown": b"[link](javascript:alert(1))|pipe.png",
}


# -- lists ------------------------------------------------------------------------


def gzip_bomb_list(inflated_bytes: int = 8 << 20) -> bytes:
    """A ``.txt.gz`` list that inflates to ``inflated_bytes`` of spaces from about a thousandth."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    pieces = [compressor.compress(b"pdq " + b"0" * 64 + b"\n")]
    pieces += [compressor.compress(block) for _ in range(inflated_bytes >> 20)]
    return b"".join(pieces) + compressor.flush()


def long_line_list(line_bytes: int = 5 << 20) -> bytes:
    """A plain-text list with one good line and one line of ``line_bytes`` bytes."""
    return b"pdq " + b"0" * 64 + b"\n" + b"pdq " + b"f" * line_bytes + b"\n"


def nested_parquet_list() -> bytes:
    """A Parquet list whose columns are a struct, a map and a nested list."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "hash": pa.array([{"value": "0" * 64}], pa.struct([("value", pa.string())])),
        "algorithm": pa.array([[("k", "pdq")]], pa.map_(pa.string(), pa.string())),
        "labels": pa.array([[["a"], ["b"]]], pa.list_(pa.list_(pa.string()))),
    })
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# -- special files ------------------------------------------------------------------


def make_special_files(folder: Path) -> dict[str, Path]:
    """Non-regular files in ``folder``: a FIFO, a symlink loop, a dangling link, a dir loop.

    Returns case name -> path. Reading a FIFO with no writer blocks forever:
    only hand it to code under a timeout.
    """
    folder.mkdir(parents=True, exist_ok=True)
    made = {"fifo": folder / "pipe.jpg", "symlink_loop": folder / "loop-a.jpg",
            "dangling_link": folder / "dangling.jpg", "dir_loop": folder / "self"}
    os.mkfifo(made["fifo"])
    os.symlink("loop-b.jpg", made["symlink_loop"])
    os.symlink("loop-a.jpg", folder / "loop-b.jpg")
    os.symlink("gone.jpg", made["dangling_link"])
    os.symlink(".", made["dir_loop"])
    return made


# -- a folder of everything ---------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One object an audit of a :func:`hostile_folder` must account for.

    Attributes:
        case: what it is (a mutation, a container case, an odd-name case).
        path: the file on disk (bytes: names need not be UTF-8).
        member: the member name as stored in its archive (bytes), or None
            for a plain file.
    """

    case: str
    path: bytes
    member: bytes | None = None


def _image(seed: int, index: int) -> bytes:
    return base_image(seed, index % BASE_COUNT)[1]


def hostile_folder(root: Path, *, seed: int = 0, images: int = 60, archives: int = 15,
                   odd_names: bool = True, containers: bool = True) -> list[Expected]:
    """Write mutated images, damaged containers and odd-named files under ``root``.

    Returns the manifest: every object (file, or archive member with
    ``--archives``) an audit of ``root`` must put in ``hashes`` or
    ``errors``; ``archives`` mutated archives (:func:`mutated_archive`)
    are listed with ``member=b"*"``: at least one row for the archive or a
    member of it. Special files (FIFO, links) are not made here (see
    :func:`make_special_files`): one FIFO hangs a whole run today.
    """
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    expected: list[Expected] = []

    def put(relative: bytes, data: bytes, case: str, members: list[bytes] | None = None) -> None:
        path = os.fsencode(root) + b"/" + relative
        with open(path, "wb") as handle:
            handle.write(data)
        if members is None:
            expected.append(Expected(case, path))
        else:
            expected.extend(Expected(case, path, member) for member in members)

    for item in mutated_images(images, seed):
        relative = b"images/" + item.name.encode() + _suffix(item.base)
        put(relative, item.data, item.mutation.split()[0])
    if archives:
        (root / "fuzzed").mkdir(exist_ok=True)
        for index in range(archives):
            item = mutated_archive(seed, index)
            put(b"fuzzed/" + item.name.encode(), item.data, "archive_fuzz", [b"*"])
    if containers:
        (root / "archives").mkdir(exist_ok=True)
        good = [(f"m{i}.png", _image(seed, i)) for i in range(4)]
        names = [name.encode() for name, _ in good]

        def entries(**first) -> list[ZipEntry]:
            return [ZipEntry(n.encode(), d, **(first if i == 0 else {}))
                    for i, (n, d) in enumerate(good)]

        put(b"archives/plain.zip", zip_bytes(entries()), "zip_plain", names)
        put(b"archives/encrypted-first.zip", zip_bytes(entries(encrypt=True)), "zip_encrypted",
            names)
        put(b"archives/corrupt-first.zip", zip_bytes(entries(corrupt=True)), "zip_corrupt", names)
        put(b"archives/duplicate-names.zip",
            zip_bytes([ZipEntry(b"same.png", _image(seed, 1)),
                       ZipEntry(b"same.png", _image(seed, 2))]),
            "zip_duplicate", [b"same.png", b"same.png"])
        put(b"archives/overlapping.zip", overlapping_zip(20, 1 << 16), "zip_overlapping",
            [b"zeros.bin"] * 20)
        put(b"archives/garbage-header.tar", tar_with_garbage_header(good, seed),
            "tar_garbage_header", names)
        put(b"archives/shifted-headers.tar", tar_with_shifted_headers(good), "tar_shifted",
            names[:1])
        put(b"archives/plain.tar.gz", gzip.compress(tar_bytes(good), mtime=0), "tar_gz_plain",
            names)
        # A cut tar.gz (inside its last member): the members before the cut are read, and the
        # member the cut goes through is its own `truncated` row.
        put(b"archives/truncated.tar.gz", truncated_tar_gz(good), "tar_gz_truncated", names)
        put(b"archives/not-a-zip.zip", b"PK\x03\x04" + bytes(100), "zip_garbage")
        put(b"archives/many-pages.tif", many_page_tiff(2000), "tiff_many_pages")
        put(b"archives/truncated-animated.gif", truncated_animated_gif(seed),
            "gif_truncated_animated")
        put(b"archives/corrupt-later-page.tif", tiff_with_corrupt_later_page(seed),
            "tiff_corrupt_page")
    if odd_names:
        (root / "names").mkdir(exist_ok=True)
        for i, (case, name) in enumerate(ODD_NAMES.items()):
            put(b"names/" + name, _image(seed, i), f"name_{case}")
        # A folder named "a.zip!" beside a file "a.zip": "a.zip!/x.png" must not be a member.
        (root / "names" / "a.zip!").mkdir()
        put(b"names/a.zip", zip_bytes([ZipEntry(b"x.png", _image(seed, 5))]), "name_separator_zip",
            [b"x.png"])
        put(b"names/a.zip!/x.png", _image(seed, 6), "name_separator_folder")
        # Member names as UTF-8 (flagged so): whether unflagged names are cp437 or UTF-8 is
        # the reader's choice, and names that are not UTF-8 abort a run today.
        members = [n for n in ODD_NAMES.values() if _is_utf8(n)] + [b"sub/ok.png", b"dir!/m.png"]
        put(b"names/odd-members.zip",
            zip_bytes([ZipEntry(n, _image(seed, i), utf8_flag=True)
                       for i, n in enumerate(members)]),
            "zip_odd_members", members)
    return expected


def _is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _suffix(kind: str) -> bytes:
    return {"jpeg": b".jpg", "png": b".png", "gif": b".gif", "tiff": b".tif", "webp": b".webp",
            "bmp": b".bmp"}[kind.split("-")[0]]
