"""Extra PDQ hashes that find edited copies plain PDQ misses.

Plain PDQ hashes the whole picture, so a copy that was rotated, mirrored,
padded, pasted into a screenshot or cropped hashes as far from its original
as an unrelated photo does. This module adds hashes of what the original
*would* look like under a few hypotheses, each recorded in
:attr:`~photosieve.hashes.value.HashResult.variant`:

* ``dihedral`` (orientation): the 8 rotations/mirrors of every hash, from
  one DCT (:func:`photosieve.hashes.pdq.hash_buffers`).
* ``"borders x,y,w,h"``: the content inside uniform borders
  (:func:`photosieve.robust.regions.find_borders`).
* ``"region x,y,w,h"``: the dominant photo region of a larger canvas
  (:func:`photosieve.robust.regions.find_region`).
* ``"rotation d"``: content rotated in place by ``d`` degrees, rotated back,
  its lost corners filled from the nearest content
  (:func:`photosieve.robust.regions.find_rotation`).
* ``"uncrop x,y,w,h"``: the copy as the window ``x,y,w,h`` (shares of the
  original's sides) of a larger original, the missing margin filled from
  the copy's edges. Against hash-only lists this is the only way to find
  crops: with the right geometry a 90% centred crop moves from a median of
  86 to ~25 bits from its original. There is one hash per hypothesis.
* ``"window x,y,w,h"`` (list side, :func:`window_hashes`): hashes of
  sub-windows of a listed image, so crops of it match when the list was
  built from the images themselves.

Geometry without resampling: PDQ's blur and decimation are linear and
separable (see :mod:`photosieve.hashes.pdq_fast`), and so are cropping,
padding with an edge-derived fill and the DCT. Every variant is therefore
``Dy @ Y @ Dx.T`` for the frame's luma ``Y`` (as decoded, possibly reduced
by an integer factor) and two small per-axis matrices built from the
full-resolution PDQ filter of the hypothetical image: no pixels are copied,
and variants sharing an axis share a product.

Every extra hash is one more chance for an unrelated image to match: the
thresholds in :mod:`photosieve.robust.modes` are calibrated per configuration
so that the whole set stays at the target false-positive rate (see
``benchmarks/README.md``, "Robustness").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photosieve.errors import ConfigError
from photosieve.hashes import gradient, pdq, pdq_fast, phash
from photosieve.hashes.value import HashResult, HashValue
from photosieve.robust import regions

__all__ = [
    "CENTRED_UNCROPS",
    "DEFAULT_WINDOWS",
    "GRID_UNCROPS",
    "SECOND_OPINIONS",
    "FrameGeometry",
    "QueryExpansion",
    "Window",
    "grid_windows",
    "query_hashes",
    "second_opinion_hashes",
    "window_hashes",
]

# Variant names (the part of HashResult.variant before the space).
BORDERS = "borders"
REGION = "region"
ROTATION = "rotation"
UNCROP = "uncrop"
WINDOW = "window"

# The fill of a hypothetical margin: each padded line takes the mean of the
# copy's outermost lines, over this share of the margin's width (a blurred
# edge). Measured on 90% and 75% centred crops of the public photos: edge
# replication 28 / 52 bits median from the original, mirror 34 / 63,
# the image mean 33 / 50, this blurred edge 25 / 46.
FILL_BAND_SHARE = 0.5
# Algorithms that can give a second opinion on a PDQ match: both are
# computed from a 32 x 32 grey image, whose 8 orientations are exact array
# transforms (gradient: area means; pHash: Pillow's Lanczos thumbnail).
SECOND_OPINIONS = ("gradient", "phash")
# Two boxes closer than this (share of each side, every edge) hash alike:
# only the first is kept.
SAME_BOX_SHARE = 0.01


@dataclass(frozen=True)
class Window:
    """A rectangle as shares of an image's width and height.

    Attributes:
        x, y: left and top edges (0..1).
        w, h: width and height (0..1], ``x + w <= 1``, ``y + h <= 1``.
    """

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        if not (0 < self.w <= 1 and 0 < self.h <= 1 and self.x >= 0 and self.y >= 0):
            raise ConfigError(f"window {self} must have 0 < w, h <= 1 and x, y >= 0")
        if self.x + self.w > 1 + 1e-9 or self.y + self.h > 1 + 1e-9:
            raise ConfigError(f"window {self} extends past the image")

    @property
    def label(self) -> str:
        return f"{self.x:.3f},{self.y:.3f},{self.w:.3f},{self.h:.3f}"

    @classmethod
    def parse(cls, text: str) -> Window:
        """From the ``"x,y,w,h"`` form of :attr:`label`."""
        try:
            x, y, w, h = (float(v) for v in text.split(","))
        except ValueError:
            raise ConfigError(
                f"a window is 'x,y,w,h' (shares of the sides), got {text!r}"
            ) from None
        return cls(x, y, w, h)


def grid_windows(sizes: Sequence[float], steps: int | Sequence[int]) -> tuple[Window, ...]:
    """Square-share windows (``w = h = size``), each size on a ``steps x steps`` grid of positions.

    The positions run evenly from one edge to the other, so the corners and
    (for odd ``steps``) the centre are always included; ``steps`` may be one
    number for every size or one per size.
    """
    if isinstance(steps, int):
        steps = [steps] * len(sizes)
    if len(steps) != len(sizes):
        raise ConfigError(f"grid_windows: {len(sizes)} sizes but {len(steps)} step counts")
    out = []
    for size, n in zip(sizes, steps):
        positions = np.linspace(0, 1, n) if n > 1 and size < 1 else np.array([0.5])
        for fy in positions:
            for fx in positions:
                out.append(Window(round(fx * (1 - size), 4), round(fy * (1 - size), 4), size, size))
    return tuple(out)


# Centred crops of 10% and 25% (each side), the usual "zoom a little".
CENTRED_UNCROPS = (Window(0.05, 0.05, 0.9, 0.9), Window(0.125, 0.125, 0.75, 0.75))
# Query side, for hash-only lists: crops keeping 95% to 75% of each side,
# each at the 9 positions of a 3 x 3 grid (corners, edge middles, centre).
# Measured on half the public photos (benchmarks/README.md, "Robustness"):
# PDQ tolerates ~1-2% of misplacement, yet off-centre 85% crops go from
# 0.20 (centred guesses only) to 0.93 found, for 4 bits of threshold.
GRID_UNCROPS = grid_windows((0.95, 0.9, 0.85, 0.8, 0.75), 3)
# List side, for lists built from images: windows keeping 90%, 80% and 75%
# of each side on 5 x 5 grids (positions 2.5-6% of a side apart). Measured
# against 50 windows (no 75%) and 124 (with 85% and 7 x 7): off-centre 75%
# crops 0.85 / 0.94 / 0.95 found, the 32 kinds 0.997 / 0.998 / 0.998.
DEFAULT_WINDOWS = grid_windows((0.9, 0.8, 0.75), 5)


@dataclass(frozen=True)
class QueryExpansion:
    """Which extra query hashes to compute (see the module docstring).

    Attributes:
        dihedral: 8 orientations of every hash (plain and extra).
        borders: strip uniform borders.
        region: find the dominant region of a canvas.
        rotation: undo small in-place rotations.
        uncrop: hypotheses "the copy is this window of the original".
        uncrop_dihedral: also the 8 orientations of each uncrop hypothesis
            (8x their false-positive exposure, for rotated crops).
        second_opinions: also hash the whole image and each borders,
            region and rotation variant (in every orientation) with these
            algorithms ("gradient", "phash"), labelled like the PDQ hashes,
            so a PDQ match can be checked by a second algorithm on the same
            picture (see :mod:`photosieve.robust.modes`). Not for uncrop
            hypotheses: their fill is a guess tuned for PDQ.
    """

    dihedral: bool = True
    borders: bool = True
    region: bool = True
    rotation: bool = True
    uncrop: tuple[Window, ...] = ()
    uncrop_dihedral: bool = False
    second_opinions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.second_opinions) - set(SECOND_OPINIONS))
        if unknown:
            raise ConfigError(
                f"second opinions must be among {', '.join(SECOND_OPINIONS)}; got {', '.join(unknown)}"
            )

    @property
    def extra(self) -> bool:
        """True when anything beyond the plain hash is requested."""
        return self.borders or self.region or self.rotation or bool(self.uncrop)


@dataclass(frozen=True)
class FrameGeometry:
    """How decoded pixels relate to the image as stored.

    Attributes:
        rows, cols: the full-resolution size, in the pixels' orientation.
        factor: integer reduction of the decode (1: none); the pixels are
            ``ceil(rows / factor) x ceil(cols / factor)``.
    """

    rows: int
    cols: int
    factor: int = 1

    @classmethod
    def of(cls, pixels: np.ndarray, full_shape: tuple[int, int] | None = None) -> FrameGeometry:
        h, w = pixels.shape[:2]
        if full_shape is None:
            return cls(h, w, 1)
        rows, cols = full_shape
        factor = max(1, -(-rows // h), -(-cols // w))
        return cls(rows, cols, factor)


# -- per-axis weights -----------------------------------------------------------


@dataclass(frozen=True)
class _AxisView:
    """One axis of a hypothetical image, made from decoded pixels.

    Pixels ``start:stop`` of the decoded axis (``n`` long, reduced by
    ``factor`` from ``full``) form the middle; ``pad0`` and ``pad1``
    full-resolution pixels of fill go before and after it.
    """

    n: int
    factor: int
    full: int
    start: int
    stop: int
    pad0: int = 0
    pad1: int = 0


@functools.lru_cache(maxsize=512)  # ~64 KB each at 500 px: bounded memory
def _view_weights(view: _AxisView, dct: bool) -> np.ndarray:
    """(64 or 16, n) float32: PDQ's blur+decimation (and, if ``dct``, the 16 DCT rows) of the view."""
    k = view.factor
    middle = min(view.stop * k, view.full) - view.start * k
    length = view.pad0 + middle + view.pad1
    base = pdq_fast.axis_weights(length, length, 1).astype(np.float64)  # (64, length)
    if dct:
        base = pdq._DCT.astype(np.float64) @ base
    rows = base.shape[0]
    out = np.zeros((rows, view.n))
    # The middle: full-resolution weights summed over each decoded pixel's k-block.
    span = view.stop - view.start
    blocks = np.zeros((rows, span * k))
    blocks[:, :middle] = base[:, view.pad0 : view.pad0 + middle]
    out[:, view.start : view.stop] = blocks.reshape(rows, span, k).sum(axis=2)
    # The fill: every padded line is the mean of the outermost lines of the middle.
    for pad, weights, edge in (
        (view.pad0, base[:, : view.pad0], slice(view.start, None)),
        (view.pad1, base[:, view.pad0 + middle :], slice(None, view.stop)),
    ):
        if pad <= 0:
            continue
        band = max(1, min(span, round(FILL_BAND_SHARE * pad / k)))
        cols = (
            np.arange(view.start, view.start + band)
            if edge.start is not None
            else np.arange(view.stop - band, view.stop)
        )
        out[:, cols] += weights.sum(axis=1, keepdims=True) / band
    return out.astype(np.float32)


def _luma(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    return (pixels.reshape(-1, 3) @ pdq_fast._LUMA32).reshape(h, w)


def _box_view(
    geometry: FrameGeometry, n_rows: int, n_cols: int, box: regions.Box
) -> tuple[_AxisView, _AxisView]:
    k = geometry.factor
    return (
        _AxisView(n_rows, k, geometry.rows, box.top, box.bottom),
        _AxisView(n_cols, k, geometry.cols, box.left, box.right),
    )


def _uncrop_view(
    geometry: FrameGeometry,
    n_rows: int,
    n_cols: int,
    window: Window,
    inner: regions.Box | None = None,
) -> tuple[_AxisView, _AxisView]:
    """The frame (or its ``inner`` box) as ``window`` of a hypothetical original."""
    k = geometry.factor
    box = inner or regions.Box(0, 0, n_cols, n_rows)
    views = []
    for n, full, start, stop, pos, size in (
        (n_rows, geometry.rows, box.top, box.bottom, window.y, window.h),
        (n_cols, geometry.cols, box.left, box.right, window.x, window.w),
    ):
        middle = min(stop * k, full) - start * k
        whole = middle / size
        pad0 = round(pos * whole)
        pad1 = max(0, round(whole - middle - pad0))
        views.append(_AxisView(n, k, full, start, stop, pad0, pad1))
    return views[0], views[1]


def _products(
    luma: np.ndarray, views: Sequence[tuple[_AxisView, _AxisView]], dct: bool
) -> np.ndarray:
    """(len(views), s, s) float32 ``Wy @ Y @ Wx.T``, sharing ``Wy @ Y`` between views with the same rows."""
    size = pdq.PDQ_DCT_SIZE if dct else pdq.PDQ_BUFFER_SIZE
    out = np.empty((len(views), size, size), dtype=np.float32)
    shared: dict[_AxisView, np.ndarray] = {}
    for i, (row_view, col_view) in enumerate(views):
        left = shared.get(row_view)
        if left is None:
            left = shared[row_view] = _view_weights(row_view, dct) @ luma
        out[i] = left @ _view_weights(col_view, dct).T
    return out


# -- query side -------------------------------------------------------------------


def _same_box(a: regions.Box, b: regions.Box, width: int, height: int) -> bool:
    tol_x, tol_y = SAME_BOX_SHARE * width, SAME_BOX_SHARE * height
    return (
        abs(a.left - b.left) <= tol_x
        and abs(a.right - b.right) <= tol_x
        and abs(a.top - b.top) <= tol_y
        and abs(a.bottom - b.bottom) <= tol_y
    )


def _boxes(pixels: np.ndarray, options: QueryExpansion) -> list[tuple[str, regions.Box]]:
    """The borders and region boxes worth hashing.

    When a region lies inside the borders box, the borders only peeled the
    outer layer of a canvas (a title bar, the blank top of a caption bar):
    that hash is of neither the photo nor the copy, so only the region's is
    kept. Two boxes that (nearly) coincide are hashed once.
    """
    n_rows, n_cols = pixels.shape[:2]
    borders = regions.find_borders(pixels) if options.borders else None
    region = regions.find_region(pixels) if options.region else None
    if borders is not None and region is not None:
        if _same_box(borders, region, n_cols, n_rows):
            region = None
        elif _inside(region, borders):
            borders = None
    return [(name, box) for name, box in ((BORDERS, borders), (REGION, region)) if box is not None]


def _inside(inner: regions.Box, outer: regions.Box) -> bool:
    return (
        inner.left >= outer.left
        and inner.top >= outer.top
        and inner.right <= outer.right
        and inner.bottom <= outer.bottom
    )


def _derotated(pixels: np.ndarray, rotation: regions.Rotation) -> tuple[np.ndarray, regions.Box]:
    """The frame rotated back, and the centred box of it that holds only content."""
    h, w = pixels.shape[:2]
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    back = np.asarray(
        image.rotate(
            -rotation.degrees,
            resample=Image.Resampling.BICUBIC,
            expand=False,
            fillcolor=rotation.fill,
        )
    )
    share = rotation.inner_share(w, h)
    bw, bh = math.floor(w * share), math.floor(h * share)
    left, top = (w - bw) // 2, (h - bh) // 2
    return back, regions.Box(left, top, left + bw, top + bh)


def _padded_pixels(image: np.ndarray, inner: regions.Box, window: Window) -> np.ndarray:
    """Pixels of ``inner`` placed as ``window`` of a larger picture, the margin filled as
    :func:`_view_weights` fills it (each padded line: the mean of the outermost band)."""
    crop = inner.crop(image).astype(np.float32)
    for axis, pos, size in ((0, window.y, window.h), (1, window.x, window.w)):
        n = crop.shape[axis]
        whole = n / size
        pad0 = round(pos * whole)
        pad1 = max(0, round(whole - n - pad0))
        band0 = max(1, min(n, round(FILL_BAND_SHARE * pad0)))
        band1 = max(1, min(n, round(FILL_BAND_SHARE * pad1)))
        before = np.take(crop, range(band0), axis=axis).mean(axis=axis, keepdims=True)
        after = np.take(crop, range(n - band1, n), axis=axis).mean(axis=axis, keepdims=True)
        crop = np.concatenate(
            [np.repeat(before, pad0, axis=axis), crop, np.repeat(after, pad1, axis=axis)], axis=axis
        )
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8)


def _orientations(arrays: np.ndarray) -> np.ndarray:
    """(B, 8, n, n): each (B, n, n) square array in the 8 orientations of ``pdq.ORIENTATIONS``.

    Checked against PDQ's dihedral hashes: ``rotate90`` is numpy's
    ``rot90`` (counter-clockwise), ``flipx`` turns the image upside down,
    ``flipy`` mirrors it left-right, ``flip_plus1`` transposes it.
    """
    a = arrays
    r2 = np.rot90(a, 2, axes=(1, 2))
    return np.stack(
        [
            a,
            np.rot90(a, 1, axes=(1, 2)),
            r2,
            np.rot90(a, 3, axes=(1, 2)),
            a[:, ::-1],
            a[:, :, ::-1],
            a.transpose(0, 2, 1),
            r2.transpose(0, 2, 1),
        ],
        axis=1,
    )


def second_opinion_hashes(
    images: Sequence[np.ndarray], labels: Sequence[str], algorithm: str, dihedral: bool
) -> list[HashResult]:
    """``algorithm`` ("gradient" or "phash") hashes of ``images``, labelled with ``labels`` as variants.

    With ``dihedral``, eight per image (``orientation`` set), from one 32 x
    32 grey image each.
    """
    if algorithm == "gradient":
        inputs = np.stack([gradient.normalised_luma(image) for image in images])
        hasher = gradient.hash_normalised
    elif algorithm == "phash":
        size = phash.PHASH_IMAGE_SIZE
        inputs = np.stack([phash.grey_thumbnail(image, size, size, "phash") for image in images])
        hasher = phash.hash_thumbnails
    else:
        raise ConfigError(
            f"no second opinion from {algorithm!r}; choose from {', '.join(SECOND_OPINIONS)}"
        )
    stacked = _orientations(inputs) if dihedral else inputs[:, None]
    k = stacked.shape[1]
    bits = hasher(np.ascontiguousarray(stacked.reshape(-1, *inputs.shape[1:]))).reshape(
        len(images), k, -1
    )
    out = []
    for label, rows in zip(labels, bits):
        for orientation, row in zip(pdq.ORIENTATIONS if dihedral else ("",), rows):
            out.append(HashResult(HashValue(algorithm, row.tobytes()), None, orientation, label))
    return out


def _results(
    bits: np.ndarray, quality: Sequence[int], labels: Sequence[str], dihedral: bool
) -> list[HashResult]:
    out = []
    for row, (label, q) in enumerate(zip(labels, quality)):
        if dihedral:
            for orientation, h in zip(pdq.ORIENTATIONS, bits[row]):
                out.append(HashResult(HashValue("pdq", h.tobytes()), int(q), orientation, label))
        else:
            out.append(HashResult(HashValue("pdq", bits[row].tobytes()), int(q), "", label))
    return out


def _bits(dct: np.ndarray, dihedral: bool) -> np.ndarray:
    if not dihedral:
        return pdq.bits_from_dct(dct)
    return np.stack([pdq.bits_from_dct(d) for d in pdq._dihedral_dcts(dct)], axis=1)


def query_hashes(
    pixels: np.ndarray,
    full_shape: tuple[int, int] | None = None,
    options: QueryExpansion = QueryExpansion(),
) -> list[HashResult]:
    """The extra PDQ query hashes of one decoded frame (not its plain hash).

    Args:
        pixels: H x W x 3 uint8 RGB, as decoded (possibly reduced).
        full_shape: (rows, cols) at full resolution in the pixels'
            orientation, when the decode reduced the image; None if not.
        options: which variants to compute.

    Returns:
        HashResults with ``variant`` set (and, when ``options.dihedral``,
        eight per variant with ``orientation`` set). Quality is PDQ's, of
        the variant's own 64x64 buffer (uncrop hypotheses: of the frame).
    """
    geometry = FrameGeometry.of(pixels, full_shape)
    n_rows, n_cols = pixels.shape[:2]
    if n_rows < pdq.PDQ_MIN_HASHABLE_DIM or n_cols < pdq.PDQ_MIN_HASHABLE_DIM:
        return []
    luma = _luma(pixels)
    labels: list[str] = []
    views: list[tuple[_AxisView, _AxisView]] = []
    # The pictures the second opinions hash: the whole frame, then one per variant.
    pictures: list[np.ndarray] = [pixels]
    for name, box in _boxes(pixels, options):
        labels.append(f"{name} {box.label(n_cols, n_rows)}")
        views.append(_box_view(geometry, n_rows, n_cols, box))
        pictures.append(box.crop(pixels))
    buffers = [_products(luma, views, dct=False)] if views else []
    if options.rotation:
        rotation = regions.find_rotation(pixels)
        if rotation is not None:
            back, inner = _derotated(pixels, rotation)
            whole = Window(
                inner.left / n_cols, inner.top / n_rows, inner.width / n_cols, inner.height / n_rows
            )
            buffers.append(
                _products(
                    _luma(back), [_uncrop_view(geometry, n_rows, n_cols, whole, inner)], dct=False
                )
            )
            labels.append(f"{ROTATION} {rotation.degrees:g}")
            if options.second_opinions:
                pictures.append(_padded_pixels(back, inner, whole))
    results: list[HashResult] = []
    if buffers:
        stacked = np.concatenate(buffers)
        bits, quality = pdq.hash_buffers(stacked, dihedral=options.dihedral, exact=False)
        results += _results(bits, quality, labels, options.dihedral)
    for algorithm in options.second_opinions:
        results += second_opinion_hashes(pictures, ["", *labels], algorithm, options.dihedral)
    if options.uncrop:
        uncrops = [_uncrop_view(geometry, n_rows, n_cols, window) for window in options.uncrop]
        dct = _products(luma, uncrops, dct=True)
        whole = _products(
            luma,
            [_box_view(geometry, n_rows, n_cols, regions.Box(0, 0, n_cols, n_rows))],
            dct=False,
        )
        quality = int(pdq.quality_batch(whole)[0])
        labels = [f"{UNCROP} {window.label}" for window in options.uncrop]
        dihedral = options.dihedral and options.uncrop_dihedral
        results += _results(_bits(dct, dihedral), [quality] * len(labels), labels, dihedral)
    return results


# -- list side -----------------------------------------------------------------------


def window_hashes(
    pixels: np.ndarray,
    full_shape: tuple[int, int] | None = None,
    windows: Sequence[Window] = DEFAULT_WINDOWS,
    second_opinions: Sequence[str] = (),
) -> list[HashResult]:
    """PDQ hashes of sub-windows of one frame, for lists built from images.

    A crop of a listed image hashes close to the window of the listed image
    it kept, when the list holds that window (within ~1.5% of the sides in
    position and ~3% in size). Each result's ``variant`` is
    ``"window x,y,w,h"``; ``second_opinions`` ("gradient", "phash") adds
    those hashes of each window, with the same labels.
    """
    geometry = FrameGeometry.of(pixels, full_shape)
    n_rows, n_cols = pixels.shape[:2]
    if n_rows < pdq.PDQ_MIN_HASHABLE_DIM or n_cols < pdq.PDQ_MIN_HASHABLE_DIM or not windows:
        return []
    boxes = [
        regions.Box(
            round(window.x * n_cols),
            round(window.y * n_rows),
            round((window.x + window.w) * n_cols),
            round((window.y + window.h) * n_rows),
        )
        for window in windows
    ]
    views = [_box_view(geometry, n_rows, n_cols, box) for box in boxes]
    buffers = _products(_luma(pixels), views, dct=False)
    bits, quality = pdq.hash_buffers(buffers, dihedral=False, exact=False)
    labels = [f"{WINDOW} {w.label}" for w in windows]
    results = _results(bits, quality, labels, dihedral=False)
    for algorithm in second_opinions:
        results += second_opinion_hashes(
            [box.crop(pixels) for box in boxes], labels, algorithm, dihedral=False
        )
    return results
