"""pHash: imagehash 4.3's ``phash``, bit-identical, without scipy.

imagehash (https://github.com/JohannesBuchner/imagehash, after
https://www.hackerfactor.com/blog/index.php?/archives/432-Looks-Like-It.html)
hashes an image in four steps:

1. ``image.convert("L").resize((32, 32), LANCZOS)`` (Pillow);
2. ``scipy.fftpack.dct`` (type II, unnormalised) down the columns, then
   along the rows;
3. the 8x8 block of lowest frequencies and its ``numpy.median``;
4. one bit per coefficient: is it strictly above the median? Bits are read
   row-major, the first one being the most significant bit of the hex string.

Step 1 is the same Pillow call here. Step 2 is where bit-identity is hard:
on flat or structured images many coefficients are *mathematically* zero or
tied with the median, and which side of it they land on is decided by float
rounding. scipy's pocketfft returns exact zeros there (a uniform image gives
63 zeros and the DC term), while a DCT computed as a matrix product returns
noise of either sign, and the bits flip. So this module reproduces
pocketfft's DCT-II operation by operation (see :func:`dct2`):

* pocketfft computes a length-N DCT-II with one real FFT (Makhoul 1980): it
  pairs neighbouring inputs (``c[k] + c[k+1]``, ``c[k+1] - c[k]``), runs the
  unnormalised backward real FFT, then mixes each output pair ``k, N-k`` with
  two twiddle factors. The pairing and mixing are elementwise float64 here,
  in the same order; the real FFT is ``numpy.fft.irfft(..., norm="forward")``,
  which since numpy 2.0 runs the same pocketfft C++ plan scipy uses.
* The twiddles are ``cos(2 pi i / 4N)`` as pocketfft's ``sincos_2pibyn``
  computes them: libm ``cos``/``sin`` of a first-octant angle, times a
  second table entry for larger ``i``. Those products are not always the
  correctly rounded cosine, so :func:`_pocketfft_twiddles` rebuilds them the
  same way (``math.cos`` calls the same libm).

The tests compare every coefficient of the 32x32 DCT with scipy's, bit for
bit, on random, flat, constant-row, constant-column, two-level, one-pixel and
real images, and the hashes with ``imagehash.phash`` (hypothesis, images of
random sizes and PIL modes). Caveat: with numpy 1.x (C pocketfft, other
twiddle code) the FFT may differ from scipy's in the last bit; that can only
flip a bit whose coefficient ties the median to ~1e-13 without being an exact
structural zero.

**Image modes.** Hashes are of the decoder's RGB array, i.e. of
``image.convert("RGB")``. For PIL modes 1, L, LA, P, PA, RGBA, RGBa, RGBX,
CMYK, HSV, I, I;16 and F, imagehash on the original-mode image gives the
same bits (tested). It differs for YCbCr: imagehash's ``convert("L")``
takes the Y plane as is, while Y -> RGB -> L rounds twice. imagehash cannot
hash La at all (no La -> L conversion), and Pillow cannot turn LAB into RGB.

>>> import numpy as np
>>> flat = np.full((20, 30, 3), 77, dtype=np.uint8)
>>> str(compute(flat).hash)  # only the DC term is above the median (0.0)
'8000000000000000'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.hashes.value import HashResult, HashValue

# imagehash 4.3 defaults: phash(image, hash_size=8, highfreq_factor=4).
PHASH_HASH_SIZE = 8
PHASH_HIGHFREQ_FACTOR = 4
PHASH_IMAGE_SIZE = PHASH_HASH_SIZE * PHASH_HIGHFREQ_FACTOR  # the DCT's input is 32x32
PHASH_BITS = PHASH_HASH_SIZE * PHASH_HASH_SIZE
PHASH_BYTES = PHASH_BITS // 8
# imagehash's ANTIALIAS: Image.Resampling.LANCZOS on Pillow >= 10.
IMAGEHASH_RESAMPLE = Image.Resampling.LANCZOS

# Policy: the largest distance whose false-positive rate stays <= 1e-4 on the
# public benchmark photos (364 photos x 33 versions vs other originals, 4.4M
# pairs; measured FPR 4.8e-5). Recall there: 1.00 for JPEG q20-75, rescaling
# 25-150%, squeeze, blur, noise, greyscale, tone edits; 0.88 crop 90%,
# 0.79 rotation 5 deg, 0.88 10% overlay; ~0 for 90-degree turns, mirror,
# 25% crops, padding and screenshots. See benchmarks/README.md.
PHASH_MATCH_THRESHOLD = 15


def check_rgb(image: np.ndarray, algorithm: str) -> np.ndarray:
    """Return ``image`` if it is a non-empty H x W x 3 uint8 array, else raise ValueError."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"{algorithm} needs an H x W x 3 RGB array, got shape {getattr(image, 'shape', None)}"
        )
    if image.dtype != np.uint8:
        raise ValueError(f"{algorithm} needs uint8 pixels, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{algorithm} needs at least one pixel, got shape {image.shape}")
    return image


def grey_thumbnail(image: np.ndarray, width: int, height: int, algorithm: str) -> np.ndarray:
    """imagehash's first step: ``convert("L").resize((width, height), LANCZOS)``, as uint8.

    Going through Pillow (not a numpy resize) is what makes the bits match
    imagehash's; it also means a Pillow release that changes ``convert("L")``
    or LANCZOS changes these hashes exactly as it changes imagehash's.
    """
    rgb = np.ascontiguousarray(check_rgb(image, algorithm))
    grey = Image.fromarray(rgb, mode="RGB").convert("L")
    return np.asarray(grey.resize((width, height), IMAGEHASH_RESAMPLE))


def _pocketfft_twiddles(n: int) -> np.ndarray:
    """``cos(2 pi i / 4n)`` for i = 1..n, rounded as pocketfft's ``sincos_2pibyn(4n)``.

    pocketfft tabulates the roots of unity of order ``m = 4n`` in two tables:
    ``v1[j]`` for j < 2**shift and ``v2[j]`` for multiples of 2**shift, each
    entry from libm ``cos``/``sin`` of an angle reduced to the first octant
    (``ang = pi / (4m)`` per unit of ``8 j``). Root ``i`` is the complex
    product ``v1[i & mask] * v2[i >> shift]``, rounded once per operation.
    Only roots up to the first quadrant's end are needed here (i <= n = m/4).
    """
    m = 4 * n
    if m & (m - 1):
        # 0.25L * pi / m is rounded from long double; only for powers of two
        # is it the same double as 0.25 * math.pi / m.
        raise ValueError(f"DCT length must be a power of two, got {n}")
    ang = 0.25 * math.pi / m
    nval = (m + 2) // 2
    shift = 1
    while (1 << shift) * (1 << shift) < nval:
        shift += 1
    mask = (1 << shift) - 1

    def root(j: int) -> tuple[float, float]:
        x = 8 * j  # angle in units of ang; 8 m is the full circle
        if x < m:  # first octant
            return math.cos(x * ang), math.sin(x * ang)
        if x < 2 * m:  # second octant, by symmetry about pi/4
            return math.sin((2 * m - x) * ang), math.cos((2 * m - x) * ang)
        if x == 2 * m:  # pi/2, via the next quadrant's formula
            return -math.sin(0.0), math.cos(0.0)
        raise AssertionError("root beyond the first quadrant")

    out = np.empty(n)
    for i in range(1, n + 1):
        r1, i1 = root(i & mask)
        r2, i2 = root((i >> shift) << shift)
        out[i - 1] = r1 * r2 - i1 * i2
    return out


_TWIDDLE = _pocketfft_twiddles(PHASH_IMAGE_SIZE)


def dct2(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Unnormalised DCT-II along ``axis``, bit-identical to ``scipy.fftpack.dct(x, axis=axis)``.

    ``y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / 2N)``, computed the way
    pocketfft does for even N (T_dcst23::exec, type 2, cosine): see the module
    docstring. Only N = 32 (the pHash input size) is supported.
    """
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    n = x.shape[-1]
    if n != PHASH_IMAGE_SIZE:
        raise ValueError(f"dct2 supports length {PHASH_IMAGE_SIZE}, got {n}")
    c = x.copy()
    # Scale the ends, then pair neighbours: c[k] + c[k+1], c[k+1] - c[k] for odd k.
    c[..., 0] *= 2
    c[..., n - 1] *= 2
    odd = c[..., 1 : n - 1 : 2].copy()
    even = c[..., 2 : n - 1 : 2].copy()
    c[..., 1 : n - 1 : 2] = odd + even
    c[..., 2 : n - 1 : 2] = even - odd
    # c is now a half-complex spectrum [r0, r1, i1, ..., r(n/2-1), i(n/2-1), r(n/2)];
    # numpy's irfft takes it as complex and runs pocketfft's backward real FFT.
    spectrum = np.zeros(c.shape[:-1] + (n // 2 + 1,), dtype=np.complex128)
    spectrum[..., 0] = c[..., 0]
    spectrum[..., 1 : n // 2].real = c[..., 1 : n - 1 : 2]
    spectrum[..., 1 : n // 2].imag = c[..., 2 : n - 1 : 2]
    spectrum[..., n // 2] = c[..., n - 1]
    r = np.fft.irfft(spectrum, n=n, axis=-1, norm="forward")
    # Mix each pair (k, n - k) with the twiddles, in pocketfft's operation order.
    k = np.arange(1, n // 2)
    kc = n - k
    t1 = _TWIDDLE[k - 1] * r[..., kc] + _TWIDDLE[kc - 1] * r[..., k]
    t2 = _TWIDDLE[k - 1] * r[..., k] - _TWIDDLE[kc - 1] * r[..., kc]
    out = np.empty_like(r)
    out[..., 0] = r[..., 0]
    out[..., k] = 0.5 * (t1 + t2)
    out[..., kc] = 0.5 * (t1 - t2)
    out[..., n // 2] = r[..., n // 2] * _TWIDDLE[n // 2 - 1]
    return np.moveaxis(out, -1, axis)


def hash_thumbnails(thumbnails: np.ndarray) -> np.ndarray:
    """The vectorised tail of pHash: (B, 32, 32) uint8 -> (B, 8) packed hash bytes."""
    thumbnails = np.asarray(thumbnails)
    if thumbnails.ndim != 3 or thumbnails.shape[1:] != (PHASH_IMAGE_SIZE, PHASH_IMAGE_SIZE):
        raise ValueError(f"expected (B, 32, 32) thumbnails, got shape {thumbnails.shape}")
    # DCT down the columns, then along the rows (imagehash: axis=0, then axis=1).
    # Rows are transformed independently, so only the 8 low rows need the second pass.
    cols = dct2(thumbnails, axis=1)[:, :PHASH_HASH_SIZE, :]
    low = dct2(cols, axis=2)[:, :, :PHASH_HASH_SIZE].reshape(len(thumbnails), PHASH_BITS)
    # numpy.median, as imagehash: the mean of the 32nd and 33rd smallest.
    median = np.median(low, axis=1, keepdims=True)
    return np.packbits(low > median, axis=1)


def compute(image: np.ndarray) -> HashResult:
    """pHash of an H x W x 3 uint8 RGB array (== ``imagehash.phash(Image.fromarray(image))``)."""
    return compute_batch([image])[0]


def compute_batch(images: Sequence[np.ndarray]) -> list[HashResult]:
    """pHash of many images: Pillow thumbnails one by one, one batched DCT."""
    if len(images) == 0:
        return []
    size = PHASH_IMAGE_SIZE
    thumbnails = np.stack([grey_thumbnail(image, size, size, "phash") for image in images])
    return [HashResult(HashValue("phash", row.tobytes())) for row in hash_thumbnails(thumbnails)]


# The registry's entry (photosieve.hashes.BUILTIN lists it).
SPEC = AlgorithmSpec(
    "phash", PHASH_BYTES, Metric.HAMMING, PHASH_MATCH_THRESHOLD, compute=compute_batch
)
