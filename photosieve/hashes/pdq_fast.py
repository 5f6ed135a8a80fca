"""PDQ's 64x64 buffer from a reduced decode, as the full-resolution image would give.

The fast decode path hands PDQ pixels shrunk by an integer factor ``k``
(JPEG DCT scaling, or Pillow's ``reduce``), i.e. ~k x k block means of the
stored image. Hashing those pixels with PDQ as they are changes the hash:
PDQ's blur window is ``ceil(dim / 128)``, an integer, so on a 378 px side it
is a 3-tap box where the full 3024 px side had a 24-tap one, and the two
blurs differ in shape relative to the 64 sampling cells. Measured on real
photos, that alone moves a median 8-18 bits at a 256 px shorter side.

Instead, this module applies the full-resolution filter itself. PDQ's blur
and decimation are linear and separable: the buffer is ``R @ Y @ C.T`` with
``R`` (64 x rows) and ``C`` (64 x cols) the two box passes composed and
sampled at the cell centres, edge normalisation included. Summing each
weight row over the k-pixel blocks the reduced image averaged gives the
weights to apply to the reduced pixels. One small matrix product per axis
replaces four passes over every pixel, and the hash stays within a few
bits of exact mode (see ``benchmarks/README.md``, "PDQ: fast decode vs exact").

The result is an approximation by design (float32 BLAS, block means instead
of pixels); exact mode (:func:`photosieve.hashes.pdq.buffer64`) is the
bit-exact path.
"""

from __future__ import annotations

import functools

import numpy as np

from photosieve.hashes import pdq

# Luma weights as float32 (the fast path need not reproduce float64 rounding).
_LUMA32 = np.array([pdq.LUMA_FROM_R_COEFF, pdq.LUMA_FROM_G_COEFF, pdq.LUMA_FROM_B_COEFF], dtype=np.float32)


@functools.lru_cache(maxsize=512)
def axis_weights(full: int, reduced: int, factor: int) -> np.ndarray:
    """(64, reduced) float32 weights: PDQ's two box passes and decimation along one axis.

    Args:
        full: the axis length at full resolution.
        reduced: the axis length of the pixels actually decoded.
        factor: the reduction factor k (reduced == ceil(full / k)).
    """
    window = pdq.jarosz_window(full)
    half = (window + 2) // 2
    # One box pass: output o is the mean of inputs [lo[o], hi[o]] (box1DFloat's
    # phases: growing window at the start, shrinking at the end).
    out = np.arange(full)
    lo = np.maximum(0, out - window + half)
    hi = np.minimum(full - 1, out + half - 1)
    inv = 1.0 / (hi - lo + 1)
    # Second pass at the sampled outputs s: sum over j in [lo[s], hi[s]] of
    # inv[s] * inv[j] * 1[lo[j] <= n <= hi[j]], built with difference arrays.
    samples = pdq._decimation_indices(full)
    offsets = np.arange(window)
    j = lo[samples][:, None] + offsets[None, :]
    valid = j <= hi[samples][:, None]
    j = np.where(valid, j, 0)
    coef = np.where(valid, inv[samples][:, None] * inv[j], 0.0)
    diff = np.zeros((pdq.PDQ_BUFFER_SIZE, full + 1))
    rows = np.broadcast_to(np.arange(pdq.PDQ_BUFFER_SIZE)[:, None], j.shape)
    np.add.at(diff, (rows, lo[j]), coef)
    np.add.at(diff, (rows, hi[j] + 1), -coef)
    weights = np.cumsum(diff, axis=1)[:, :full]
    # The running sum leaves round-off residue (~1e-17) outside each support;
    # true weights are >= 1 / window**2 (> 1e-6 even for 100,000 px sides).
    weights[weights < 1e-9] = 0.0
    # Each reduced pixel is the mean of a k-pixel block: its weight is the
    # block's summed weight (the last block may be partial).
    padded = np.zeros((pdq.PDQ_BUFFER_SIZE, reduced * factor))
    padded[:, :full] = weights[:, : reduced * factor]
    blocks = padded.reshape(pdq.PDQ_BUFFER_SIZE, reduced, factor).sum(axis=2)
    return blocks.astype(np.float32)


@functools.lru_cache(maxsize=512)
def axis_taps(full: int, reduced: int, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`axis_weights` as taps: (64, s) indices and (64, s) weights.

    Each of the 64 outputs reads only the few pixels under its tent (s is
    about 2 * window / factor + 2), so gathering them costs ~1/30 of the
    dense product on a 375 px side.
    """
    dense = axis_weights(full, reduced, factor)
    nonzero = dense > 0
    lo = nonzero.argmax(axis=1)
    hi = reduced - nonzero[:, ::-1].argmax(axis=1)  # one past the last nonzero
    taps = int((hi - lo).max())
    index = lo[:, None] + np.arange(taps)[None, :]
    inside = index < hi[:, None]
    index = np.minimum(index, reduced - 1)
    weights = np.where(inside, np.take_along_axis(dense, index, axis=1), 0.0).astype(np.float32)
    return index, weights


def buffer64(pixels: np.ndarray, full_shape: tuple[int, int]) -> np.ndarray | None:
    """Approximate the full-resolution PDQ 64x64 buffer from reduced pixels.

    Args:
        pixels: H' x W' uint8 luma, or H' x W' x 3 uint8 RGB, the image
            reduced by an integer factor.
        full_shape: (rows, cols) of the full-resolution image, in the same
            orientation as ``pixels``.

    Returns:
        (64, 64) float32, or None below PDQ's minimum size (5 px per side).
    """
    rows, cols = full_shape
    if rows < pdq.PDQ_MIN_HASHABLE_DIM or cols < pdq.PDQ_MIN_HASHABLE_DIM:
        return None
    h, w = pixels.shape[:2]
    row_index, row_weights = axis_taps(rows, h, -(-rows // h))
    col_index, col_weights = axis_taps(cols, w, -(-cols // w))
    if pixels.ndim == 3:
        picked = (pixels[row_index].reshape(-1, 3) @ _LUMA32).reshape(*row_index.shape, w)
    else:
        picked = pixels[row_index].astype(np.float32)  # (64, s, w)
    # Blur-and-sample down the rows, then across the columns.
    t = np.matmul(row_weights[:, None, :], picked)[:, 0, :]  # (64, w)
    return np.einsum("rcs,cs->rc", t[:, col_index], col_weights)
