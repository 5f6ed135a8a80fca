"""aHash: imagehash 4.3's ``average_hash``, bit-identical.

imagehash (after https://www.hackerfactor.com/blog/index.php?/archives/432-Looks-Like-It.html)
shrinks the image to 8x8 with Pillow (``convert("L").resize((8, 8), LANCZOS)``)
and sets one bit per pixel: is it strictly brighter than the mean of the 64?
Bits are read row-major, most significant first, as imagehash's hex string.

The thumbnail is the same Pillow call (:func:`photosieve.hashes.phash.grey_thumbnail`).
The mean of 64 integers is exact in float64 (an integer sum divided by a
power of two), so there are no ties to break differently: the tests compare
with ``imagehash.average_hash`` on random images of random sizes and PIL modes.

>>> import numpy as np
>>> img = np.zeros((16, 16, 3), dtype=np.uint8); img[:8] = 255
>>> str(compute(img).hash)  # top half brighter than the mean
'ffffffff00000000'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.hashes.phash import grey_thumbnail
from photosieve.hashes.value import HashResult, HashValue

# imagehash 4.3 default: average_hash(image, hash_size=8, mean=numpy.mean).
AHASH_HASH_SIZE = 8
AHASH_BITS = AHASH_HASH_SIZE * AHASH_HASH_SIZE
AHASH_BYTES = AHASH_BITS // 8

# Policy: the largest distance whose false-positive rate stays <= 1e-4 on the
# public benchmark photos (4.4M different-photo pairs; measured FPR 7.2e-5).
# aHash is the weakest of the four: unrelated dark or low-detail photos come
# within 5 bits, so only 4 are allowed. Recall there: 1.00 for recompression
# and rescaling, 0.86-0.93 for gamma/brightness, 0.34 crop 90%, 0.51 10%
# overlay. See benchmarks/README.md.
AHASH_MATCH_THRESHOLD = 4


def hash_thumbnails(thumbnails: np.ndarray) -> np.ndarray:
    """(B, 8, 8) uint8 thumbnails -> (B, 8) packed hash bytes."""
    thumbnails = np.asarray(thumbnails)
    if thumbnails.ndim != 3 or thumbnails.shape[1:] != (AHASH_HASH_SIZE, AHASH_HASH_SIZE):
        raise ValueError(f"expected (B, 8, 8) thumbnails, got shape {thumbnails.shape}")
    flat = thumbnails.reshape(len(thumbnails), AHASH_BITS)
    # numpy.mean in float64, as imagehash; exact for 64 uint8 values.
    mean = flat.mean(axis=1, keepdims=True)
    return np.packbits(flat > mean, axis=1)


def compute(image: np.ndarray) -> HashResult:
    """aHash of an H x W x 3 uint8 RGB array (== ``imagehash.average_hash(Image.fromarray(image))``)."""
    return compute_batch([image])[0]


def compute_batch(images: Sequence[np.ndarray]) -> list[HashResult]:
    """aHash of many images: Pillow thumbnails one by one, one vectorised comparison."""
    if len(images) == 0:
        return []
    size = AHASH_HASH_SIZE
    thumbnails = np.stack([grey_thumbnail(image, size, size, "ahash") for image in images])
    return [HashResult(HashValue("ahash", row.tobytes())) for row in hash_thumbnails(thumbnails)]


# The registry's entry (photosieve.hashes.BUILTIN lists it).
SPEC = AlgorithmSpec(
    "ahash", AHASH_BYTES, Metric.HAMMING, AHASH_MATCH_THRESHOLD, compute=compute_batch
)
