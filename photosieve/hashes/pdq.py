"""PDQ: Meta's 256-bit perceptual hash, bit-exact with the C++ reference.

PDQ (https://github.com/facebook/ThreatExchange/tree/main/pdq, spec in
``hashing/hashing.pdf``) turns an image into 256 bits:

1. luma from RGB (BT.601 weights);
2. a "tent" blur: two passes of a box filter along rows then columns
   (Jarosz, "Fast Image Convolutions", SIGGRAPH 2001), window ~ dim/128;
3. decimation to 64x64 by sampling the blurred image at cell centres;
4. a 16x16 DCT (frequencies 1..16 of the 64-point DCT-II: no DC);
5. one bit per coefficient: is it above the median of all 256?

plus a quality score (0..100) from the 64x64 image's gradients.

**Same pixels in, same bits out.** The reference runs in float32 with a fixed
operation order, and PDQ bits are decided by comparisons (coefficient vs
median, gradient vs integer cut-offs), so float rounding decides bits on
flat or near-flat images. This module therefore reproduces the reference's
float32 arithmetic operation by operation, vectorised with numpy:

* The box filter's running sum (``sum += x[r]; sum -= x[l]``) is one float32
  rounding per step. ``np.cumsum`` over the interleaved sequence of added and
  subtracted values performs exactly those roundings in exactly that order,
  with the running axis outermost so numpy adds whole rows at a time (SIMD).
* The DCT's dot products are summed sequentially in k, products rounded to
  float32 first: numpy's reductions over a non-innermost axis accumulate in
  index order (pairwise summation only happens along the innermost axis).

The tests check all of this against the ``pdqhash`` package (Meta's C++
compiled; x86-64 builds use no fused multiply-add) on real and random
images, including the dihedral hashes.

>>> import numpy as np
>>> img = np.zeros((48, 64, 3), dtype=np.uint8); img[:, 32:] = 255
>>> result = compute(img)
>>> result.quality, len(result.hash)
(14, 256)
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.hashes.value import HashResult, HashValue

# Hash geometry, from the PDQ spec: a 16x16 block of DCT coefficients.
PDQ_DCT_SIZE = 16
PDQ_BITS = PDQ_DCT_SIZE * PDQ_DCT_SIZE
PDQ_BYTES = PDQ_BITS // 8
PDQ_HEX_LEN = PDQ_BITS // 4
# The image is blurred and decimated to 64x64 before the DCT.
PDQ_BUFFER_SIZE = 64
# Window = ceil(dim / 128): two box passes per axis make a tent as wide as
# one 64th of the image. E.g. 1024 px -> window 8; two passes span 16 px,
# exactly one decimation cell. (downscaling.cpp, computeJaroszFilterWindowSize)
PDQ_JAROSZ_WINDOW_SIZE_DIVISOR = 2 * PDQ_BUFFER_SIZE
PDQ_NUM_JAROSZ_XY_PASSES = 2
# The reference returns an all-zero hash with quality 0 below 5 px per side.
PDQ_MIN_HASHABLE_DIM = 5
# From Wikipedia: standard RGB to luminance (the 'Y' in 'YUV'). pdqhash
# computes these in float64 with numpy, then casts to float32.
LUMA_FROM_R_COEFF = 0.299
LUMA_FROM_G_COEFF = 0.587
LUMA_FROM_B_COEFF = 0.114
# Quality: sum of |gradients| quantised to 100/255 steps, scaled by 1/90,
# capped at 100 (pdqhashing.cpp, pdqImageDomainQualityMetric; heuristic).
PDQ_QUALITY_GRADIENT_SCALE = 90
PDQ_QUALITY_MAX = 100

# Policy: Meta's recommended match distance for PDQ
# (python-threatexchange pdq_utils.PDQ_CONFIDENT_MATCH_THRESHOLD).
PDQ_MATCH_THRESHOLD = 31
# Policy: hashes below this quality are too unreliable to match on: flat or
# blurry images collide with each other (python-threatexchange uses 50).
PDQ_QUALITY_THRESHOLD = 50

# The eight dihedral transforms, in the reference's order
# (pdqDihedralHash256esFromFloatLuma). Names say what was done to the image
# whose hash this is, i.e. compute(rotate90(img)) == compute_dihedral(img)[rotate90].
ORIENTATIONS = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)


def _dct_matrix() -> np.ndarray:
    """The 16x64 DCT-II rows 1..16, rounded exactly as the C++ static table.

    ``float scale = sqrt(2.0/64)``; each entry ``(float)(scale * cos(x))``
    with ``x = (pi / 2.0 / 64) * (i + 1) * (2j + 1)`` in double, and libm's
    ``cos`` (``math.cos`` calls the same).
    """
    scale = float(np.float32(math.sqrt(2.0 / PDQ_BUFFER_SIZE)))
    rows = [
        [scale * math.cos((math.pi / 2.0 / PDQ_BUFFER_SIZE) * (i + 1) * (2 * j + 1)) for j in range(64)]
        for i in range(PDQ_DCT_SIZE)
    ]
    return np.array(rows, dtype=np.float64).astype(np.float32)


_DCT = _dct_matrix()  # (16, 64)
_HASH_CHUNK = 128
_DCT_T = np.ascontiguousarray(_DCT.T)  # (64, 16)


_LUMA_WEIGHTS = np.array([LUMA_FROM_R_COEFF, LUMA_FROM_G_COEFF, LUMA_FROM_B_COEFF])[:, None, None]


# Images of more values than this are converted and filtered in strips of
# about this many values (64 MB per float32 temporary), so peak memory stays
# near one float32 plane (4 bytes/pixel) instead of ~36 bytes/pixel: 6.5 GiB
# at the 179 MP decode limit. Every step is per pixel, per row or per column,
# so strips give the same bits. Smaller images (12 MP photos) take one strip.
_STRIP_VALUES = 1 << 24


def _strips(length: int, width: int, factor: int = 1) -> range:
    """Strip starts over ``length`` lines of ``width`` values (times ``factor`` in temporaries)."""
    return range(0, length, max(1, _STRIP_VALUES // max(1, width * factor)))


def luma(image: np.ndarray) -> np.ndarray:
    """Float32 luma of an H x W x 3 uint8 RGB array, exactly as pdqhash computes it.

    pdqhash evaluates ``r*0.299 + g*0.587 + b*0.114`` in float64, left to
    right, then casts to float32. Going through planar float64 channels keeps
    that arithmetic and runs ~3x faster than multiplying interleaved views;
    large images go through it in row strips (the float64 planes of a whole
    179 MP image would take 4.3 GB).
    """
    image = _check_rgb(image)
    rows, cols = image.shape[:2]
    step = _strips(rows, cols, 3).step
    if rows <= step:
        return _luma(image)
    y = np.empty((rows, cols), dtype=np.float32)
    for start in range(0, rows, step):
        y[start : start + step] = _luma(image[start : start + step])
    return y


def _luma(image: np.ndarray) -> np.ndarray:
    planes = np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.float64)
    np.multiply(planes, _LUMA_WEIGHTS, out=planes)
    y = planes[0] + planes[1]
    y += planes[2]
    return y.astype(np.float32)


def jarosz_window(dim: int) -> int:
    """Box-filter window for one axis (computeJaroszFilterWindowSize(dim, 64))."""
    return (dim + PDQ_JAROSZ_WINDOW_SIZE_DIVISOR - 1) // PDQ_JAROSZ_WINDOW_SIZE_DIVISOR


@functools.lru_cache(maxsize=256)
def _box_plan(length: int, window: int) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """Layout of one reference box1DFloat pass over ``length`` values.

    The reference keeps a float32 running sum: phase 1 adds without writing,
    phase 2 adds and writes with a growing window, phase 3 adds the new right
    value, subtracts the old left one and writes, phase 4 subtracts and writes
    with a shrinking window. We lay the added (+x) and subtracted (-x) values
    out in that order, so a float32 prefix sum performs the same roundings in
    the same order (``a - b`` and ``a + (-b)`` round identically in IEEE 754).

    Returns:
        (n3, n4, steps, sum_index, counts): phase-3 and phase-4 lengths, the
        length of the add/subtract sequence, where each output's running sum
        sits in it, and each output's divisor (the window size at that point).
    """
    half = (window + 2) // 2
    n1 = half - 1  # phase 1: adds, no writes
    n3 = length - window  # phase 3: add+subtract pairs
    n4 = half - 1  # phase 4: subtracts
    steps = window + 2 * n3 + n4
    sum_index = np.concatenate(
        [
            np.arange(n1, window),  # phase 2
            np.arange(window + 1, window + 2 * n3, 2),  # phase 3, after the subtract
            np.arange(window + 2 * n3, steps),  # phase 4
        ]
    )
    counts = np.concatenate(
        [np.arange(n1 + 1, window + 1), np.full(n3, window), np.arange(window - 1, window - 1 - n4, -1)]
    ).astype(np.float32)
    sum_index.setflags(write=False)
    counts.setflags(write=False)
    return n3, n4, steps, sum_index, counts


def _box_along_last(x: np.ndarray, window: int, keep: np.ndarray | None = None) -> np.ndarray:
    """One box pass along axis 1 of (R, L) ``x``: a contiguous float32 cumsum per row.

    Best when rows are short or few: numpy's cumsum walks each row serially
    (~4 ns per value here), independent of how many rows there are.
    ``keep`` selects output columns (the running sums still cover every value).
    """
    rows, length = x.shape
    n3, n4, steps, sum_index, counts = _box_plan(length, window)
    seq = np.empty((rows, steps), dtype=np.float32)
    seq[:, :window] = x[:, :window]  # phases 1 and 2: adds
    pairs = seq[:, window : window + 2 * n3].reshape(rows, n3, 2)
    pairs[:, :, 0] = x[:, window:]
    np.negative(x[:, :n3], out=pairs[:, :, 1])
    np.negative(x[:, n3 : n3 + n4], out=seq[:, window + 2 * n3 :])
    np.cumsum(seq, axis=1, out=seq)
    if keep is not None:
        sum_index, counts = sum_index[keep], counts[keep]
    return seq[:, sum_index] / counts


def _box_along_first(x: np.ndarray, window: int) -> np.ndarray:
    """One box pass along axis 0 of (L, M) ``x``: whole rows added in a Python loop.

    numpy's own cumsum along axis 0 walks one column at a time (~10 ns per
    value); adding row views with ``out=`` keeps the SIMD across columns and
    costs one ufunc call (~0.5 us) per step, so it wins when rows are wide.
    """
    length, cols = x.shape
    n3, n4, steps, sum_index, counts = _box_plan(length, window)
    seq = np.empty((steps, cols), dtype=np.float32)
    seq[:window] = x[:window]
    pairs = seq[window : window + 2 * n3].reshape(n3, 2, cols)
    pairs[:, 0] = x[window:]
    np.negative(x[:n3], out=pairs[:, 1])
    np.negative(x[n3 : n3 + n4], out=seq[window + 2 * n3 :])
    add = np.add
    views = list(seq)
    for prev, cur in zip(views, views[1:]):
        add(prev, cur, out=cur)
    return seq[sum_index] / counts[:, None]


def _decimation_indices(dim: int) -> np.ndarray:
    # Sample cell centres: (int)(((i + 0.5) * dim) / 64) in double (decimateFloat).
    return (((np.arange(PDQ_BUFFER_SIZE) + 0.5) * dim) / PDQ_BUFFER_SIZE).astype(np.intp)


def downsample(y: np.ndarray) -> np.ndarray:
    """Blur-and-decimate float32 luma to the 64x64 buffer, as the reference does.

    Bit-for-bit: two Jarosz passes (rows then columns, twice) over the whole
    image, then sampling at cell centres. Each pass runs along whichever
    axis numpy walks fastest for it, and the last two passes divide out only
    the 64 rows and columns the decimation samples. Large images are
    filtered in strips, in place on a copy (see :data:`_STRIP_VALUES`).
    """
    if y.size > _STRIP_VALUES:
        return _downsample_in_place(np.array(y, dtype=np.float32))
    rows, cols = y.shape
    w_rows = jarosz_window(cols)  # window along each row, i.e. across columns
    w_cols = jarosz_window(rows)
    sample_r = _decimation_indices(rows)
    sample_c = _decimation_indices(cols)
    t = _box_along_last(y, w_rows)  # pass 1: along rows
    t = _box_along_first(t, w_cols)  # pass 2: along columns
    t = _box_along_last(t, w_rows, keep=sample_c)  # pass 3: (rows, 64)
    t = _box_along_last(np.ascontiguousarray(t.T), w_cols, keep=sample_r)  # pass 4: (64 cols, 64 rows)
    return np.ascontiguousarray(t.T)


def _downsample_in_place(y: np.ndarray) -> np.ndarray:
    """:func:`downsample` in strips, overwriting ``y`` (float32, C-contiguous) with passes 1-2.

    Pass 1 filters each row on its own and pass 2 each column, so a strip's
    result can replace its input; pass 3 keeps 64 columns per row. Peak
    memory: ``y`` plus about 3 x 64 MB of strip temporaries.
    """
    rows, cols = y.shape
    w_rows = jarosz_window(cols)
    w_cols = jarosz_window(rows)
    sample_r = _decimation_indices(rows)
    sample_c = _decimation_indices(cols)
    row_strips = _strips(rows, cols, 2)  # temporaries ~2 values per pixel
    for start in row_strips:  # pass 1: along rows
        strip = slice(start, start + row_strips.step)
        y[strip] = _box_along_last(y[strip], w_rows)
    col_strips = _strips(cols, rows, 2)
    for start in col_strips:  # pass 2: along columns
        strip = slice(start, start + col_strips.step)
        y[:, strip] = _box_along_first(y[:, strip], w_cols)
    t = np.empty((rows, PDQ_BUFFER_SIZE), dtype=np.float32)
    for start in row_strips:  # pass 3: (rows, 64)
        strip = slice(start, start + row_strips.step)
        t[strip] = _box_along_last(y[strip], w_rows, keep=sample_c)
    t = _box_along_last(np.ascontiguousarray(t.T), w_cols, keep=sample_r)  # pass 4: (64 cols, 64 rows)
    return np.ascontiguousarray(t.T)


def quality_batch(buffers: np.ndarray) -> np.ndarray:
    """PDQ quality for (B, 64, 64) float32 buffers, in the reference's float32 ops."""
    n = len(buffers)
    total = np.zeros(n, dtype=np.int64)
    for d in (buffers[:, :-1, :] - buffers[:, 1:, :], buffers[:, :, :-1] - buffers[:, :, 1:]):
        # |int(((u - v) * 100) / 255)|: float32 multiply and divide, truncation
        # toward zero. Taking |u - v| first is exact (IEEE ops are symmetric in
        # sign) and lets astype's truncation be a floor.
        np.abs(d, out=d)
        d *= np.float32(100)
        d /= np.float32(255)
        total += d.astype(np.int32).reshape(n, -1).sum(axis=1)
    return np.minimum(total // PDQ_QUALITY_GRADIENT_SCALE, PDQ_QUALITY_MAX)


def dct_batch(buffers: np.ndarray) -> np.ndarray:
    """(B, 64, 64) float32 -> (B, 16, 16) float32 DCT, rounding as the reference.

    dct64To16 sums each dot product in k order in float32, each product
    rounded to float32 first. Looping over k with whole-batch multiply and
    add keeps exactly that order for every coefficient of every image at
    once (a BLAS matmul would reorder the sums and change low bits).
    """
    n = len(buffers)
    out = np.empty((n, PDQ_DCT_SIZE, PDQ_DCT_SIZE), dtype=np.float32)
    chunk = 256  # measured: larger batches amortise the 128 ufunc calls per chunk
    for start in range(0, n, chunk):
        a = buffers[start : start + chunk]
        b = len(a)
        # T[i][j] = sum_k D[i][k] * A[k][j]
        t = np.zeros((b, PDQ_DCT_SIZE, PDQ_BUFFER_SIZE), dtype=np.float32)
        tmp = np.empty_like(t)
        for k in range(PDQ_BUFFER_SIZE):
            np.multiply(_DCT_T[k][None, :, None], a[:, k, None, :], out=tmp)
            t += tmp
        # B[i][j] = sum_k T[i][k] * D[j][k]
        acc = np.zeros((b, PDQ_DCT_SIZE, PDQ_DCT_SIZE), dtype=np.float32)
        tmp2 = np.empty_like(acc)
        for k in range(PDQ_BUFFER_SIZE):
            np.multiply(t[:, :, k, None], _DCT_T[k][None, None, :], out=tmp2)
            acc += tmp2
        out[start : start + b] = acc
    return out


def bits_from_dct(dct: np.ndarray) -> np.ndarray:
    """(B, 16, 16) coefficients -> (B, 32) packed hash bytes.

    A bit is set where the coefficient is strictly above the median. The
    reference's Torben median of 256 values returns the 128th smallest.
    Bit (i, j) is bit ``16 i + j`` of a 256-bit big-endian number, so the
    first hex digit holds row 15, columns 15..12 (Hash256::format).
    """
    flat = dct.reshape(len(dct), PDQ_BITS)
    median = np.partition(flat, PDQ_BITS // 2 - 1, axis=1)[:, PDQ_BITS // 2 - 1 : PDQ_BITS // 2]
    return np.packbits(flat[:, ::-1] > median, axis=1)


def _dihedral_dcts(dct: np.ndarray) -> list[np.ndarray]:
    """The DCTs of the 8 dihedral transforms, from one DCT (sign flips, transposes).

    A horizontal flip negates odd columns' basis functions in the reference's
    1-based frequency indexing, so it flips the sign of coefficients with even
    0-based column index; transposition swaps axes (dct16OriginalTo*).
    """
    i = np.arange(PDQ_DCT_SIZE)
    even_row = (i % 2 == 0)[:, None]  # 0-based even row index
    even_col = (i % 2 == 0)[None, :]
    checker = ((i[:, None] + i[None, :]) % 2) == 1
    t = dct.transpose(0, 2, 1)
    return [
        dct,
        np.where(even_row, -t, t),  # rotate90: B[j][i] = (j odd ? A : -A)[i][j]
        np.where(checker, -dct, dct),  # rotate180
        np.where(even_col, -t, t),  # rotate270: B[j][i] = (i odd ? A : -A)[i][j]
        np.where(even_row, -dct, dct),  # flipx
        np.where(even_col, -dct, dct),  # flipy
        t,  # flip_plus1
        np.where(checker, -t, t),  # flip_minus1
    ]


def _check_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"PDQ needs an H x W x 3 RGB array, got shape {getattr(image, 'shape', None)}")
    if image.dtype != np.uint8:
        raise ValueError(f"PDQ needs uint8 pixels, got {image.dtype}")
    return image


def buffer64(image: np.ndarray, *, dihedral: bool = False) -> np.ndarray | None:
    """The 64x64 float32 buffer the DCT and quality are computed from.

    Returns None below the minimum hashable size (the reference then gives a
    zero hash, quality 0). A 64x64 image is used as is, without blurring,
    except on the dihedral path, which the reference always blurs.
    """
    y = luma(image)
    rows, cols = y.shape
    if rows < PDQ_MIN_HASHABLE_DIM or cols < PDQ_MIN_HASHABLE_DIM:
        return None
    if rows == PDQ_BUFFER_SIZE and cols == PDQ_BUFFER_SIZE and not dihedral:
        return y
    if y.size > _STRIP_VALUES:  # y is ours: filter it in place rather than keep a copy
        return _downsample_in_place(y)
    return downsample(y)


def hash_buffers(
    buffers: np.ndarray, *, dihedral: bool = False, exact: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Hash a batch of 64x64 buffers: the vectorised tail of PDQ.

    Args:
        buffers: (B, 64, 64) float32, e.g. from :func:`buffer64` or frames an
            external tool already downsampled to 64x64 luma.
        dihedral: also return the 7 other orientations' hashes.
        exact: reproduce the reference's float32 DCT rounding (bit-exact).
            False computes the DCT as two BLAS products, ~10x faster; bits
            then differ from the reference only where a coefficient ties the
            median within float round-off. The fast decode path, whose
            buffers are approximations anyway, uses it.

    Returns:
        (hashes, quality): hashes is (B, 32) uint8, or (B, 8, 32) when
        ``dihedral`` (orientation order: :data:`ORIENTATIONS`); quality (B,).
    """
    buffers = np.ascontiguousarray(buffers, dtype=np.float32)
    if buffers.ndim != 3 or buffers.shape[1:] != (PDQ_BUFFER_SIZE, PDQ_BUFFER_SIZE):
        raise ValueError(f"expected (B, 64, 64) buffers, got shape {buffers.shape}")
    n = len(buffers)
    quality = np.empty(n, dtype=np.int64)
    hashes = np.empty((n, len(ORIENTATIONS), PDQ_BYTES) if dihedral else (n, PDQ_BYTES), dtype=np.uint8)
    # Chunks keep the temporaries in cache: measured 3-4x faster than whole
    # batches of thousands (the quality metric is memory-bound).
    for start in range(0, n, _HASH_CHUNK):
        chunk = buffers[start : start + _HASH_CHUNK]
        quality[start : start + len(chunk)] = quality_batch(chunk)
        dct = dct_batch(chunk) if exact else (_DCT @ chunk @ _DCT_T).astype(np.float32)
        if dihedral:
            hashes[start : start + len(chunk)] = np.stack([bits_from_dct(d) for d in _dihedral_dcts(dct)], axis=1)
        else:
            hashes[start : start + len(chunk)] = bits_from_dct(dct)
    return hashes, quality


def results_from_hashes(hash_bytes: np.ndarray, quality: int, dihedral: bool):
    """Wrap one image's rows of :func:`hash_buffers` output as HashResult(s)."""
    if not dihedral:
        return HashResult(HashValue("pdq", hash_bytes.tobytes()), int(quality))
    return [
        HashResult(HashValue("pdq", h.tobytes()), int(quality), orientation)
        for orientation, h in zip(ORIENTATIONS, hash_bytes)
    ]


_ZERO = np.zeros(PDQ_BYTES, dtype=np.uint8)


def compute(image: np.ndarray) -> HashResult:
    """PDQ hash and quality of an H x W x 3 uint8 RGB array (== pdqhash.compute)."""
    return compute_batch([image])[0]


def compute_dihedral(image: np.ndarray) -> list[HashResult]:
    """The 8 dihedral PDQ hashes from one DCT (== pdqhash.compute_dihedral).

    Matching these against a list finds rotated and mirrored copies of listed
    images, at eight times the false-positive exposure of one hash.
    """
    return compute_batch([image], dihedral=True)[0]


def compute_batch(images: Sequence[np.ndarray], *, dihedral: bool = False) -> list:
    """PDQ of many images: per-image blur and decimation, one batched DCT.

    Returns one HashResult per image, or one list of 8 per image when
    ``dihedral``.
    """
    buffers = [buffer64(image, dihedral=dihedral) for image in images]
    present = [i for i, b in enumerate(buffers) if b is not None]
    out: list = [None] * len(buffers)
    if present:
        hashes, quality = hash_buffers(np.stack([buffers[i] for i in present]), dihedral=dihedral)
        for row, i in enumerate(present):
            out[i] = results_from_hashes(hashes[row], quality[row], dihedral)
    zero = np.tile(_ZERO, (len(ORIENTATIONS), 1)) if dihedral else _ZERO
    for i, b in enumerate(buffers):
        if b is None:
            out[i] = results_from_hashes(zero, 0, dihedral)
    return out


def compute_dihedral_batch(images: Sequence[np.ndarray]) -> list[list[HashResult]]:
    """The eight dihedral PDQ hashes of each image (``compute_batch(images, dihedral=True)``)."""
    return compute_batch(images, dihedral=True)


# The registry's entries (photosieve.hashes.BUILTIN lists them): "pdq", and
# "pdq-dihedral", which stores "pdq" hashes of all eight ORIENTATIONS. The
# hasher computes both through its own batched path (buffer64, hash_buffers).
SPEC = AlgorithmSpec("pdq", PDQ_BYTES, Metric.HAMMING, PDQ_MATCH_THRESHOLD, compute=compute_batch)
DIHEDRAL_SPEC = dataclasses.replace(
    SPEC, compute=compute_dihedral_batch, cli_name="pdq-dihedral", dihedral=True
)
