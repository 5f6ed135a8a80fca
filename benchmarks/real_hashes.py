"""Realistic PDQ hash lists for the index benchmark: measured from photos, extended, profiled.

photosieve's index was first measured on uniformly random 256-bit hashes. Real
PDQ hashes are not uniform: each has exactly 128 ones, and low-frequency DCT
patterns repeat across natural images, so a 16-bit chunk's values (one row of
PDQ's 16 x 16 DCT signs) are far from evenly spread and some buckets are much
larger than ``n / 2**16``. This module builds lists that have that structure:

*Measured* (:func:`measured_set`): every photo of a folder (the public
benchmark photos, read at run time only; nothing derived from them is written
but hashes) is split, by a seeded shuffle, into *listed* and *held-out*
photos. Each listed photo gives

* its :data:`benchmarks.edits.EDITS` and ``EXTRA_EDITS`` copies (recompression,
  scaling, crops, padding, screenshots, rotations, tone, blur, noise,
  overlays, chains), and
* windows (crops) on a random grid of row and column intervals (35-100% of
  each side), each over :data:`LUMA_VARIANTS` pixel variants (colour shifts,
  gamma, noise, blur, recompression),

every one in its 8 dihedral orientations (rotations and flips), hashed with
photosieve's fast-path PDQ (``pdq_fast`` weights, ``pdq.hash_buffers``:
what ``window_hashes`` and the fast decode compute). Hashes of quality below
50 (never matched) are dropped, exact duplicates merged.

*Queries* (:func:`measured_set`): ``near`` ones are chains of two mild edits
(:data:`QUERY_EDITS`, other seeds than the list's) of listed photos, one plain
hash each, so most are within 31 bits of some list entry; ``far`` ones are
edits and windows of the held-out photos, which are in no list.

*Extensions* to 1M-10M hashes, since 364 photos give ~10^6 hashes only as
dense per-photo clusters:

* :func:`blend_hashes` ("blend"): PDQ's 64 x 64 buffer is linear in the
  luma, so a weighted mix of two windows' buffers is the buffer of the
  double exposure of those windows. Random windows of two random listed
  photos, mixed with a random weight in [0.3, 0.7], in 8 orientations: new
  natural-image-like pictures at ~10 us per hash, with the real DCT
  statistics but fewer near duplicates per photo.
* :func:`chunk_sampled` ("chunks"): every 16-bit chunk drawn independently
  from that chunk's measured value distribution: exactly the measured
  bucket sizes at any ``n``, no correlation between chunks.

:func:`chunk_stats` profiles a set: per chunk the entropy, the largest
bucket's share, and the *probe load* (expected bucket entries a probe of a
query drawn from the same distribution reaches, over the uniform
``n / 2**b``), which is what costs time in the index.

Cache: :func:`measured_set` stores its arrays (hashes only) in an ``.npz`` under
``cache_dir`` (default ``/tmp/photosieve-real-hashes``), keyed by its
parameters and the photo files' names and sizes.

    .venv/bin/python -m benchmarks.real_hashes            # build/cache, print the statistics
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter
from threadpoolctl import threadpool_limits

from benchmarks.edits import EDITS, EXTRA_EDITS, apply_all
from photosieve.errors import ConfigError
from photosieve.hashes import pdq, pdq_fast
from photosieve.index.multi_index import MultiIndex

__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_PHOTOS",
    "LUMA_VARIANTS",
    "QUERY_EDITS",
    "ChunkStats",
    "MeasuredSet",
    "blend_hashes",
    "chunk_sampled",
    "chunk_stats",
    "dedupe",
    "measured_set",
    "photo_hashes",
    "window_buffers",
]

# The public benchmark photos beside the checkout (research licence: read, never copied).
DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
DEFAULT_CACHE = Path("/tmp/photosieve-real-hashes")
NBYTES = pdq.PDQ_BYTES
MIN_QUALITY = pdq.PDQ_QUALITY_THRESHOLD  # below it photosieve stores PDQ hashes, never matches them
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# Interval lengths are drawn from this grid of shares of a side, so that the
# (costly) PDQ axis weights of one length serve many windows and photos.
WINDOW_SHARES = tuple(round(0.35 + 0.05 * i, 2) for i in range(14))
BUFFER_BATCH = 2048
PDQ_THRESHOLD = 31
CACHE_VERSION = 1


def _rgb_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _jpeg_roundtrip(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def _gains(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A colour cast: each channel scaled by a random gain in [0.6, 1.4]."""
    pixels = np.asarray(image, dtype=np.float32) * rng.uniform(0.6, 1.4, 3).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")


def _gamma(g: float) -> Callable[[Image.Image, np.random.Generator], Image.Image]:
    lut = [round(255 * (i / 255) ** g) for i in range(256)] * 3
    return lambda image, rng: image.point(lut)


def _noise(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 8, (image.height, image.width, 3))
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")


# Pixel-level variants whose windows go into the list: the copy as found,
# colour casts, tone curves, sensor noise, softening, heavy recompression.
LUMA_VARIANTS: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "original": lambda image, rng: image,
    "gains_a": _gains,
    "gains_b": _gains,
    "gamma_0.7": _gamma(0.7),
    "gamma_1.4": _gamma(1.4),
    "noise_8": _noise,
    "blur_1.5": lambda image, rng: image.filter(ImageFilter.GaussianBlur(1.5)),
    "jpeg_q30": lambda image, rng: _jpeg_roundtrip(image, 30),
}

# Mild edits chained in pairs for the near queries: each keeps a copy
# within PDQ's threshold of its original most of the time.
QUERY_EDITS: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "jpeg_q40": lambda image, rng: _jpeg_roundtrip(image, 40),
    "scale_60": lambda image, rng: image.resize(
        (max(8, round(image.width * 0.6)), max(8, round(image.height * 0.6))),
        Image.Resampling.BILINEAR,
    ),
    "brightness_120": lambda image, rng: ImageEnhance.Brightness(image).enhance(1.2),
    "contrast_80": lambda image, rng: ImageEnhance.Contrast(image).enhance(0.8),
    "gains": _gains,
    "noise_8": _noise,
    "blur_1": lambda image, rng: image.filter(ImageFilter.GaussianBlur(1.0)),
    "crop_95": lambda image, rng: image.crop(
        (
            int(rng.integers(0, max(1, image.width // 20) + 1)),
            int(rng.integers(0, max(1, image.height // 20) + 1)),
            image.width - int(rng.integers(0, max(1, image.width // 20) + 1)),
            image.height - int(rng.integers(0, max(1, image.height // 20) + 1)),
        )
    ),
    "rotate_90": lambda image, rng: image.transpose(Image.Transpose.ROTATE_90),
    "mirror": lambda image, rng: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
}


# -- hashing --------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _weights(length: int) -> np.ndarray:
    """PDQ's blur+decimation along an axis of ``length`` pixels, (64, length) float32."""
    return pdq_fast.axis_weights(length, length, 1)


def _luma(pixels: np.ndarray) -> np.ndarray:
    return (pixels.reshape(-1, 3).astype(np.float32) @ pdq_fast._LUMA32).reshape(pixels.shape[:2])


def _intervals(length: int, count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``count`` random ``[start, stop)`` intervals of an axis, lengths from :data:`WINDOW_SHARES`."""
    out = []
    for share in rng.choice(WINDOW_SHARES, size=count):
        size = max(pdq.PDQ_MIN_HASHABLE_DIM, min(length, round(float(share) * length)))
        start = int(rng.integers(0, length - size + 1))
        out.append((start, start + size))
    return out


def window_buffers(
    luma: np.ndarray, rows: Sequence[tuple[int, int]], cols: Sequence[tuple[int, int]]
) -> np.ndarray:
    """PDQ 64 x 64 buffers of every window ``rows[i] x cols[j]`` of a luma image, float32 [R*C, 64, 64].

    A window's buffer is ``Wr @ Y[r0:r1, c0:c1] @ Wc.T`` (PDQ's blur and
    decimation are linear and separable), the row product shared by every
    window with the same rows: the same buffer ``window_hashes`` computes
    for a crop of full-resolution pixels.
    """
    out = np.empty((len(rows) * len(cols), pdq.PDQ_BUFFER_SIZE, pdq.PDQ_BUFFER_SIZE), np.float32)
    k = 0
    for r0, r1 in rows:
        left = _weights(r1 - r0) @ luma[r0:r1]  # (64, width)
        for c0, c1 in cols:
            out[k] = left[:, c0:c1] @ _weights(c1 - c0).T
            k += 1
    return out


def _hash(buffers: np.ndarray, dihedral: bool) -> np.ndarray:
    """Hashes of buffers with quality >= :data:`MIN_QUALITY`: uint8 [k, 32] (8 per buffer if dihedral)."""
    parts = []
    for lo in range(0, len(buffers), BUFFER_BATCH):
        bits, quality = pdq.hash_buffers(
            buffers[lo : lo + BUFFER_BATCH], dihedral=dihedral, exact=False
        )
        parts.append(bits[quality >= MIN_QUALITY].reshape(-1, NBYTES))
    if not parts:
        return np.zeros((0, NBYTES), np.uint8)
    return np.concatenate(parts)


def _whole_buffer(image: Image.Image) -> np.ndarray | None:
    pixels = _rgb_array(image)
    return pdq_fast.buffer64(pixels, pixels.shape[:2])


def photo_hashes(image: Image.Image, seed: int, *, windows_per_axis: int = 10) -> np.ndarray:
    """A listed photo's hashes: its edited copies and windows of its pixel variants, 8 orientations each.

    Deterministic in ``seed``; uint8 [k, 32], quality >= 50, not deduplicated.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _photo_hashes(image, seed, windows_per_axis)


def _photo_hashes(image: Image.Image, seed: int, windows_per_axis: int) -> np.ndarray:
    # One BLAS thread: many small products, which a thread pool only slows
    # down (measured 35x on a shared 2-core machine).
    image = image.convert("RGB")
    edited = apply_all(image, seed, list(EDITS) + list(EXTRA_EDITS))
    buffers = [b for b in map(_whole_buffer, edited.values()) if b is not None]
    rng = np.random.default_rng([seed, 1])
    rows = _intervals(image.height, windows_per_axis, rng)
    cols = _intervals(image.width, windows_per_axis, rng)
    parts = [_hash(np.stack(buffers), dihedral=True)] if buffers else []
    for name, variant in LUMA_VARIANTS.items():
        vrng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        luma = _luma(_rgb_array(variant(image, vrng)))
        parts.append(_hash(window_buffers(luma, rows, cols), dihedral=True))
    return np.concatenate(parts) if parts else np.zeros((0, NBYTES), np.uint8)


def _near_queries(image: Image.Image, seed: int, count: int) -> np.ndarray:
    """``count`` plain hashes of chains of two different :data:`QUERY_EDITS` of a listed photo."""
    names = list(QUERY_EDITS)
    buffers = []
    for i in range(count):
        rng = np.random.default_rng([seed, 7, i])
        copy = image.convert("RGB")
        for name in rng.choice(names, size=2, replace=False):
            copy = QUERY_EDITS[str(name)](copy, rng)
        buffer = _whole_buffer(copy)
        if buffer is not None:
            buffers.append(buffer)
    return _hash(np.stack(buffers), dihedral=False) if buffers else np.zeros((0, NBYTES), np.uint8)


def _far_queries(image: Image.Image, seed: int, windows_per_axis: int) -> np.ndarray:
    """A held-out photo's edited copies and windows (plain and rotated): hashes no list holds."""
    image = image.convert("RGB")
    edited = apply_all(image, seed, list(EDITS))
    buffers = [b for b in map(_whole_buffer, edited.values()) if b is not None]
    rng = np.random.default_rng([seed, 2])
    luma = _luma(_rgb_array(image))
    windows = window_buffers(
        luma,
        _intervals(image.height, windows_per_axis, rng),
        _intervals(image.width, windows_per_axis, rng),
    )
    plain = _hash(np.stack(buffers), dihedral=False) if buffers else np.zeros((0, NBYTES), np.uint8)
    return np.concatenate([plain, _hash(windows, dihedral=True)])


def dedupe(hashes: np.ndarray) -> np.ndarray:
    """Distinct rows of uint8 [n, 32], in first-seen order."""
    if len(hashes) == 0:
        return hashes
    view = np.ascontiguousarray(hashes).view(np.dtype((np.void, hashes.shape[1]))).ravel()
    _, first = np.unique(view, return_index=True)
    return hashes[np.sort(first)]


# -- the measured set -------------------------------------------------------------


@dataclass
class MeasuredSet:
    """Hashes measured from photos (see the module docstring).

    Attributes:
        hashes: distinct list hashes, uint8 [n, 32].
        photo: the listed photo each list hash came from (its first one), int32 [n].
        near: near queries (edited copies of listed photos), uint8 [a, 32].
        far: far queries (copies of held-out photos), uint8 [b, 32].
        listed, held_out: the photo file names on each side.
        raw: list hashes before deduplication.
        seconds: time spent hashing (0 when read from the cache).
    """

    hashes: np.ndarray
    photo: np.ndarray
    near: np.ndarray
    far: np.ndarray
    listed: list[str]
    held_out: list[str]
    raw: int
    seconds: float


def _photo_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ConfigError(f"photo folder {directory} does not exist")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if len(files) < 2:
        raise ConfigError(
            f"photo folder {directory} holds {len(files)} photos; at least 2 are needed"
        )
    return files


def _cache_key(files: Sequence[Path], params: dict) -> str:
    digest = hashlib.sha256(json.dumps({**params, "v": CACHE_VERSION}, sort_keys=True).encode())
    for path in files:
        digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def measured_set(
    photos: Path = DEFAULT_PHOTOS,
    *,
    cache_dir: Path | None = DEFAULT_CACHE,
    held_out_share: float = 0.2,
    windows_per_axis: int = 10,
    near_per_photo: int = 24,
    far_windows_per_axis: int = 6,
    seed: int = 20261202,
    progress: bool = False,
) -> MeasuredSet:
    """List hashes and queries measured from every photo in ``photos`` (cached, see the module docstring)."""
    if not 0 < held_out_share < 1:
        raise ConfigError(f"held_out_share must be in (0, 1), got {held_out_share}")
    files = _photo_files(photos)
    params = {
        "held_out_share": held_out_share,
        "windows_per_axis": windows_per_axis,
        "near_per_photo": near_per_photo,
        "far_windows_per_axis": far_windows_per_axis,
        "seed": seed,
    }
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"measured-{_cache_key(files, params)}.npz"
        if cache.exists():
            with np.load(cache) as data:
                meta = json.loads(str(data["meta"]))
                return MeasuredSet(
                    data["hashes"], data["photo"], data["near"], data["far"],
                    meta["listed"], meta["held_out"], meta["raw"], 0.0,
                )  # fmt: skip
    started = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(files))
    n_held = max(1, min(len(files) - 1, round(len(files) * held_out_share)))
    held = sorted(order[:n_held].tolist())
    listed = sorted(order[n_held:].tolist())
    with threadpool_limits(limits=1, user_api="blas"):
        list_parts, photo_parts, near_parts, far_parts = [], [], [], []
        for rank, i in enumerate(listed):
            with Image.open(files[i]) as opened:
                image = opened.convert("RGB")
            hashes = photo_hashes(image, seed + i, windows_per_axis=windows_per_axis)
            list_parts.append(hashes)
            photo_parts.append(np.full(len(hashes), i, np.int32))
            near_parts.append(_near_queries(image, seed + i, near_per_photo))
            if progress and rank % 25 == 0:
                print(f"  listed photo {rank}/{len(listed)}: {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)  # fmt: skip
        for i in held:
            with Image.open(files[i]) as opened:
                far_parts.append(
                    _far_queries(opened.convert("RGB"), seed + i, far_windows_per_axis)
                )
    raw = np.concatenate(list_parts)
    photo = np.concatenate(photo_parts)
    view = np.ascontiguousarray(raw).view(np.dtype((np.void, NBYTES))).ravel()
    _, first = np.unique(view, return_index=True)
    first.sort()
    result = MeasuredSet(
        hashes=raw[first],
        photo=photo[first],
        near=np.concatenate(near_parts),
        far=dedupe(np.concatenate(far_parts)),
        listed=[files[i].name for i in listed],
        held_out=[files[i].name for i in held],
        raw=len(raw),
        seconds=time.perf_counter() - started,
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"listed": result.listed, "held_out": result.held_out, "raw": result.raw})
        partial = cache.with_suffix(".partial.npz")
        np.savez(partial, hashes=result.hashes, photo=result.photo, near=result.near,
                 far=result.far, meta=np.array(meta))  # fmt: skip
        partial.replace(cache)
    return result


# -- extensions ----------------------------------------------------------------------


def blend_hashes(
    photos: Path,
    names: Sequence[str],
    n: int,
    seed: int,
    *,
    windows_per_axis: int = 8,
    progress: bool = False,
) -> np.ndarray:
    """About ``n`` distinct hashes of double exposures of random windows of two of ``names`` (see module docstring).

    Each round picks two different photos, ``windows_per_axis**2`` random
    windows of each, pairs them at random and mixes each pair's buffers with
    a weight in [0.3, 0.7]; every mix is hashed in its 8 orientations.
    """
    if len(names) < 2:
        raise ConfigError("blending needs at least 2 photos")
    with threadpool_limits(limits=1, user_api="blas"):
        return _blend_hashes(Path(photos), names, n, seed, windows_per_axis, progress)


def _blend_hashes(
    photos: Path, names: Sequence[str], n: int, seed: int, windows_per_axis: int, progress: bool
) -> np.ndarray:
    rng = np.random.default_rng([seed, 3])
    lumas: dict[str, np.ndarray] = {}

    def luma_of(name: str) -> np.ndarray:
        if name not in lumas:
            with Image.open(photos / name) as opened:
                lumas[name] = _luma(_rgb_array(opened))
        return lumas[name]

    parts, total, started = [], 0, time.perf_counter()
    while total < n:
        a, b = rng.choice(len(names), size=2, replace=False)
        buffers = []
        for k in (a, b):
            y = luma_of(names[k])
            rows = _intervals(y.shape[0], windows_per_axis, rng)
            cols = _intervals(y.shape[1], windows_per_axis, rng)
            buffers.append(window_buffers(y, rows, cols))
        weight = rng.uniform(0.3, 0.7, (len(buffers[0]), 1, 1)).astype(np.float32)
        mixed = weight * buffers[0] + (1 - weight) * buffers[1][rng.permutation(len(buffers[1]))]
        hashes = _hash(mixed, dihedral=True)
        parts.append(hashes)
        total += len(hashes)
        if progress and len(parts) % 500 == 0:
            print(
                f"  blends: {total:,} hashes, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
    return dedupe(np.concatenate(parts))[:n]


def chunk_sampled(hashes: np.ndarray, n: int, seed: int, chunk_bits: int = 16) -> np.ndarray:
    """``n`` hashes whose chunks are drawn independently from ``hashes``' per-chunk value distributions.

    Not deduplicated (duplicates are rare and harmless to an index benchmark).
    """
    rows = np.asarray(hashes, dtype=np.uint8)
    if rows.ndim != 2 or rows.shape[1] * 8 % chunk_bits or chunk_bits % 8:
        raise ConfigError(
            f"chunk_sampled needs uint8 [n, nbytes] and whole-byte chunks, got {rows.shape}"
        )
    if len(rows) == 0:
        raise ConfigError("chunk_sampled needs at least one hash to sample from")
    rng = np.random.default_rng([seed, 4])
    width = chunk_bits // 8
    out = np.empty((n, rows.shape[1]), np.uint8)
    for lo in range(0, rows.shape[1], width):
        # Sampling rows of one chunk at random is sampling its value distribution.
        out[:, lo : lo + width] = rows[rng.integers(0, len(rows), n), lo : lo + width]
    return out


# -- statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkStats:
    """Distribution of one chunk's values over a set (keys: bits ``[j*b, (j+1)*b)``).

    Attributes:
        chunk: j.
        entropy_bits: Shannon entropy of the chunk's values (``b`` if uniform).
        distinct: values that occur.
        largest_share: share of the set in the largest bucket.
        top_value: that bucket's key (hex).
        probe_load: bucket entries reached by probing a query's own key and
            its 1-bit neighbours, query drawn from the same distribution,
            relative to uniform hashes: ``sum_v p_v * mean_{|e|<=1} p_{v^e} * 2**b``.
        ones_share: mean share of one bits in the chunk.
    """

    chunk: int
    entropy_bits: float
    distinct: int
    largest_share: float
    top_value: str
    probe_load: float
    ones_share: float


def chunk_stats(hashes: np.ndarray, chunk_bits: int = 16) -> list[ChunkStats]:
    """:class:`ChunkStats` of every ``chunk_bits``-bit chunk of uint8 [n, nbytes] hashes."""
    rows = np.asarray(hashes, dtype=np.uint8)
    if rows.ndim != 2 or len(rows) == 0 or chunk_bits not in (8, 16):
        raise ConfigError("chunk_stats needs a non-empty uint8 [n, nbytes] and 8- or 16-bit chunks")
    width = chunk_bits // 8
    size = 1 << chunk_bits
    masks = [0] + [1 << i for i in range(chunk_bits)]
    out = []
    for j in range(rows.shape[1] // width):
        part = rows[:, j * width : (j + 1) * width].astype(np.int64)
        keys = part[:, 0] << 8 | part[:, 1] if width == 2 else part[:, 0]
        counts = np.bincount(keys, minlength=size)
        p = counts / len(keys)
        nonzero = p[p > 0]
        values = np.arange(size)
        # The own key's term leaves the query's own entry out (c * (c - 1)):
        # a query is another draw from the distribution, not a list entry.
        n = len(keys)
        own = float(np.dot(counts, counts - 1)) / (n * max(n - 1, 1))
        near = sum(float(np.dot(p, p[values ^ e])) for e in masks[1:])
        load = (own + near) / len(masks) * size
        top = int(counts.argmax())
        ones = float(np.unpackbits(part.astype(np.uint8), axis=1).mean())
        out.append(
            ChunkStats(
                chunk=j,
                entropy_bits=float(-(nonzero * np.log2(nonzero)).sum()),
                distinct=int((counts > 0).sum()),
                largest_share=float(p[top]),
                top_value=f"{top:0{width * 2}x}",
                probe_load=load,
                ones_share=ones,
            )
        )
    return out


def stats_table(named: dict[str, np.ndarray], chunk_bits: int = 16) -> str:
    """A markdown table of per-chunk statistics, one column group per named set."""
    stats = {name: chunk_stats(h, chunk_bits) for name, h in named.items()}
    head = "| chunk | " + " | ".join(f"{n}: entropy / largest / load" for n in named) + " |"
    lines = [head, "|---:|" + "---|" * len(named)]
    chunks = len(next(iter(stats.values())))
    for j in range(chunks):
        cells = [
            f"{s[j].entropy_bits:.2f} / {s[j].largest_share:.2e} / {s[j].probe_load:.1f}"
            for s in stats.values()
        ]
        lines.append(f"| {j} | " + " | ".join(cells) + " |")
    summary = [
        f"{sum(c.entropy_bits for c in s) / len(s):.2f} / "
        f"{max(c.largest_share for c in s):.2e} / {sum(c.probe_load for c in s) / len(s):.1f}"
        for s in stats.values()
    ]
    lines.append("| mean / max / mean | " + " | ".join(summary) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--windows-per-axis", type=int, default=10)
    parser.add_argument(
        "--blend", type=int, default=0, help="Also profile this many blend hashes. Default: 0."
    )
    args = parser.parse_args(argv)
    measured = measured_set(
        args.photos, cache_dir=args.cache_dir, windows_per_axis=args.windows_per_axis, progress=True
    )
    print(
        f"listed photos {len(measured.listed)}, held out {len(measured.held_out)}; list hashes "
        f"{measured.raw:,} -> {len(measured.hashes):,} distinct; near queries {len(measured.near):,}, "
        f"far {len(measured.far):,}; {measured.seconds:.0f} s"
    )
    index = MultiIndex.build(measured.hashes, threshold=PDQ_THRESHOLD)
    for name, queries in (("near", measured.near), ("far", measured.far)):
        found = index.query_batch(queries, threshold=PDQ_THRESHOLD)
        matched = len(np.unique(found.query))
        print(
            f"{name} queries within {PDQ_THRESHOLD} of a list hash: {matched:,} of {len(queries):,} "
            f"({matched / len(queries):.1%}); {len(found.query) / len(queries):.1f} pairs per query"
        )
    named = {"measured": measured.hashes}
    if args.blend:
        started = time.perf_counter()
        named["blend"] = blend_hashes(args.photos, measured.listed, args.blend, 1, progress=True)
        print(f"blend: {len(named['blend']):,} hashes in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng(0)
    named["random"] = rng.integers(0, 256, (len(measured.hashes), NBYTES), dtype=np.uint8)
    print(stats_table(named))
    return 0


if __name__ == "__main__":
    sys.exit(main())
