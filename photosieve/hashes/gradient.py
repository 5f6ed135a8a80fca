"""gradient: a 144-byte gradient-histogram hash, compared by Euclidean distance.

This is photosieve's own hash, designed in the spirit of the published
PhotoDNA description. It is not PhotoDNA and is not compatible with it: the
real algorithm is proprietary and its hashes cannot be produced or matched
here. What is public about PhotoDNA's structure, and borrowed here:

* the image is reduced to intensity and normalised to a fixed size first, so
  the hash does not depend on resolution (or aspect ratio);
* the normalised image is cut into a 6 x 6 grid of cells, and each cell
  contributes four gradient statistics (horizontal and vertical, positive
  and negative), 6 * 6 * 4 = 144 values stored as one byte each;
* two hashes are compared by Euclidean distance.

(H. Farid, "An Overview of Perceptual Hashing", Journal of Online Trust and
Safety 1(1), 2021, doi:10.54501/jots.v1i1.24; M. Steinebach, "Efficient Hash
Lookup for PhotoDNA", Electronic Imaging 2024, doi:10.2352/EI.2024.36.4.MWSF-340,
for the 144-byte, Euclidean-distance form; N. Krawetz, "PhotoDNA and
Limitations", hackerfactor.com, 2021, for the general approach.)

The steps, each a few numpy lines, batched over images after step 2:

1. **Luma** with BT.601 weights, in float32.
2. **Area-resample to 32 x 32** (:data:`GRADIENT_NORM_SIZE`): each output
   pixel is the exact mean of the input area it covers (fractional pixel
   weights, two small matrix products). Averaging, not point sampling, is
   what makes the hash stable under rescaling and JPEG noise; the aspect
   ratio is dropped, which keeps a squeezed copy close.
3. **Blur** with the 3-tap binomial filter [1, 2, 1] / 4 on both axes
   (valid part: 30 x 30), then **gradients** by central differences
   (28 x 28), split into four non-negative maps: dx+, dx-, dy+, dy-.
4. **Cell sums from integral images** of the four maps: 6 x 6 cells of
   8 x 8 gradient pixels with a stride of 4, so neighbouring cells overlap
   by half and content moving across a cell border (crops, small shifts)
   changes two cells gradually instead of one abruptly.
5. **Normalise** the 144 sums to unit L2 norm (brightness scaling and
   contrast drop out), **clip** at 0.15 and renormalise, as SIFT does with
   0.2 (D. Lowe, IJCV 60(2), 2004, section 6.1): one dominant edge cannot
   swamp the rest, which helps against overlays, gamma and saturation.
6. **Quantise**: ``round(512 * v)`` capped at 255, one byte per value
   (SIFT's integer descriptor scale). After clipping a value is at most
   0.15 / norm, so the cap is reached only when most values were clipped.

Why so coarse: on the public benchmark photos (``benchmarks/calibrate_thresholds.py``,
mean recall over the non-geometric edits at a false-positive rate of 1e-4),
a 58 px normalised image with 16 px cells scored 0.91, 32 px with the
binomial blur 0.97, with the largest gains on overlays, crops and the
5-degree rotation. Log or square-root luma (for gamma invariance) and
RootSIFT-style square roots of the sums scored lower (0.83-0.89).

An image without any gradient (flat) hashes to 144 zero bytes: gradients
below :data:`GRADIENT_DEADZONE` are resampling noise and are dropped.

>>> import numpy as np
>>> y, x = np.mgrid[0:120, 0:160]
>>> img = np.stack([x, y, x * 0], axis=2).astype(np.uint8)
>>> h = compute(img).hash
>>> len(h.bits), h - compute(img[:, ::2]).hash < GRADIENT_MATCH_THRESHOLD
(144, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.hashes.value import HashResult, HashValue

# From ITU-R BT.601: luma from RGB (the weights PDQ and Pillow's "L" use).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Grid geometry (the published PhotoDNA description: 6 x 6 cells, 4 values each).
GRADIENT_GRID = 6
GRADIENT_VALUES_PER_CELL = 4  # dx+, dx-, dy+, dy-
GRADIENT_BYTES = GRADIENT_GRID * GRADIENT_GRID * GRADIENT_VALUES_PER_CELL
# Our choice (measured, see the module docstring): cells are two strides
# wide (50% overlap), so the grid spans GRID + 1 strides of 4 gradient
# pixels; the blur and the central differences each eat a 1-pixel border.
GRADIENT_CELL_STRIDE = 4
GRADIENT_CELL_SIZE = 2 * GRADIENT_CELL_STRIDE
GRADIENT_MAP_SIZE = (GRADIENT_GRID + 1) * GRADIENT_CELL_STRIDE  # 28
GRADIENT_NORM_SIZE = GRADIENT_MAP_SIZE + 4  # 32
# The binomial 3-tap filter (a discrete Gaussian, sigma ~ 0.7 px).
GRADIENT_BLUR_TAPS = np.array([0.25, 0.5, 0.25], dtype=np.float32)
# SIFT's integer scale (Lowe 2004, section 6.1; 512 as in VLFeat and OpenCV);
# the clip is ours (SIFT uses 0.2 for 128 values; 0.15 measured better here).
GRADIENT_CLIP = 0.15
GRADIENT_QUANT_SCALE = 512.0
# Gradients smaller than this (in grey levels) are float noise of the
# resampling (~1e-4 on a flat image), not image content: they are zeroed so
# a flat image hashes to zeros instead of normalised noise. Real edges after
# area averaging are larger by orders of magnitude.
GRADIENT_DEADZONE = 0.01
# Rows of the input converted to float per step of the area resampling; bounds
# memory at ~ROWS * width * 4 bytes whatever the image size.
_RESAMPLE_CHUNK_ROWS = 512

# Policy: just below the distance where the false-positive rate reaches 1e-4
# on the public benchmark photos (235.1; 4.4M different-photo pairs), rounded
# down for margin on unseen photos. Recall there at 235: 1.00 for recompression,
# rescaling, squeeze, rotation 5 deg, blur, noise and tone edits; 0.99 crop
# 90%, 0.83-0.87 crops to 75-85%, 0.92 10% overlay, 0.63 10% padding; ~0 for
# 90-degree turns and screenshots. See benchmarks/README.md.
GRADIENT_MATCH_THRESHOLD = 230.0


def _check_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"gradient needs an H x W x 3 RGB array, got shape {getattr(image, 'shape', None)}"
        )
    if image.dtype != np.uint8:
        raise ValueError(f"gradient needs uint8 pixels, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"gradient needs at least one pixel, got shape {image.shape}")
    return image


def _area_weights(length: int, size: int) -> np.ndarray:
    """(size, length) float32 matrix: output i is the mean of input span [i, i+1) * length/size.

    Entry (i, p) is the overlap of pixel p's span [p, p+1) with output i's
    span, divided by the span's length, so every row sums to 1. Works for
    up- and downsampling alike.
    """
    edges = np.arange(size + 1) * (length / size)
    lo, hi = edges[:-1, None], edges[1:, None]
    p = np.arange(length)[None, :]
    overlap = np.clip(np.minimum(hi, p + 1) - np.maximum(lo, p), 0.0, None)
    return (overlap / (length / size)).astype(np.float32)


def normalised_luma(image: np.ndarray) -> np.ndarray:
    """Steps 1-2: (32, 32) float32 area-mean luma of an H x W x 3 uint8 RGB array."""
    image = _check_rgb(image)
    height, width = image.shape[:2]
    rows = _area_weights(height, GRADIENT_NORM_SIZE)
    cols = _area_weights(width, GRADIENT_NORM_SIZE)
    # Resample the rows in chunks: luma of a chunk, then its weighted sum into the output rows.
    partial = np.zeros((GRADIENT_NORM_SIZE, width), dtype=np.float32)
    for start in range(0, height, _RESAMPLE_CHUNK_ROWS):
        chunk = image[start : start + _RESAMPLE_CHUNK_ROWS]
        luma = chunk.astype(np.float32) @ LUMA_WEIGHTS
        partial += rows[:, start : start + len(chunk)] @ luma
    return partial @ cols.T


def hash_normalised(luma: np.ndarray) -> np.ndarray:
    """Steps 3-6, vectorised: (B, 32, 32) float luma -> (B, 144) uint8 hash bytes.

    Byte order: cells row-major over the grid, and within a cell
    dx+, dx-, dy+, dy-.
    """
    luma = np.asarray(luma, dtype=np.float32)
    if luma.ndim != 3 or luma.shape[1:] != (GRADIENT_NORM_SIZE, GRADIENT_NORM_SIZE):
        raise ValueError(f"expected (B, 32, 32) luma, got shape {luma.shape}")
    batch = len(luma)
    # Binomial blur, valid part only (B, 30, 30).
    a, b, c = GRADIENT_BLUR_TAPS
    luma = a * luma[:, :-2] + b * luma[:, 1:-1] + c * luma[:, 2:]
    luma = a * luma[:, :, :-2] + b * luma[:, :, 1:-1] + c * luma[:, :, 2:]
    # Central differences on the interior (B, 28, 28).
    dx = luma[:, 1:-1, 2:] - luma[:, 1:-1, :-2]
    dy = luma[:, 2:, 1:-1] - luma[:, :-2, 1:-1]
    dx[np.abs(dx) < GRADIENT_DEADZONE] = 0
    dy[np.abs(dy) < GRADIENT_DEADZONE] = 0
    maps = np.stack(
        [np.maximum(dx, 0), np.maximum(-dx, 0), np.maximum(dy, 0), np.maximum(-dy, 0)], axis=1
    )
    # Integral images (B, 4, 29, 29) in float64, zero first row and column.
    integral = np.zeros((batch, 4, GRADIENT_MAP_SIZE + 1, GRADIENT_MAP_SIZE + 1))
    integral[:, :, 1:, 1:] = maps.cumsum(axis=2, dtype=np.float64).cumsum(axis=3)
    # Cell i spans [4 i, 4 i + 8) on both axes.
    lo = np.arange(GRADIENT_GRID) * GRADIENT_CELL_STRIDE
    hi = lo + GRADIENT_CELL_SIZE
    sums = (
        integral[:, :, hi[:, None], hi[None, :]]
        - integral[:, :, lo[:, None], hi[None, :]]
        - integral[:, :, hi[:, None], lo[None, :]]
        + integral[:, :, lo[:, None], lo[None, :]]
    )  # (B, 4, 6, 6)
    vectors = sums.transpose(0, 2, 3, 1).reshape(batch, GRADIENT_BYTES)
    # Unit L2 norm, SIFT clip, renormalise; a flat image stays all zeros.
    vectors = _unit(vectors)
    vectors = _unit(np.minimum(vectors, GRADIENT_CLIP))
    return np.minimum(np.rint(vectors * GRADIENT_QUANT_SCALE), 255).astype(np.uint8)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def compute(image: np.ndarray) -> HashResult:
    """gradient hash of an H x W x 3 uint8 RGB array."""
    return compute_batch([image])[0]


def compute_batch(images: Sequence[np.ndarray]) -> list[HashResult]:
    """gradient hashes of many images: per-image resampling, batched gradients and cells."""
    if len(images) == 0:
        return []
    luma = np.stack([normalised_luma(image) for image in images])
    return [HashResult(HashValue("gradient", row.tobytes())) for row in hash_normalised(luma)]


# The registry's entry (photosieve.hashes.BUILTIN lists it).
SPEC = AlgorithmSpec(
    "gradient", GRADIENT_BYTES, Metric.EUCLIDEAN, GRADIENT_MATCH_THRESHOLD, compute=compute_batch
)
