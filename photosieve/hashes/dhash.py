"""dHash: imagehash 4.3's ``dhash`` (horizontal gradient), bit-identical.

imagehash (after https://www.hackerfactor.com/blog/index.php?/archives/529-Kind-of-Like-That.html)
shrinks the image to 9 columns by 8 rows with Pillow
(``convert("L").resize((9, 8), LANCZOS)``) and sets one bit per pair of
horizontal neighbours: is the right pixel brighter than the left one? Bits
are read row-major, most significant first, as imagehash's hex string.

The thumbnail is the same Pillow call (:func:`photosieve.hashes.phash.grey_thumbnail`)
and the comparison is between integers, so there is no rounding to match:
the tests compare with ``imagehash.dhash`` on random images of random sizes
and PIL modes.

>>> import numpy as np
>>> ramp = np.tile(np.arange(0, 250, 10, dtype=np.uint8)[None, :, None], (10, 1, 3))
>>> str(compute(ramp).hash)  # brighter to the right everywhere
'ffffffffffffffff'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.hashes.phash import grey_thumbnail
from photosieve.hashes.value import HashResult, HashValue

# imagehash 4.3 default: dhash(image, hash_size=8); the thumbnail is one column wider.
DHASH_HASH_SIZE = 8
DHASH_BITS = DHASH_HASH_SIZE * DHASH_HASH_SIZE
DHASH_BYTES = DHASH_BITS // 8

# Policy: the largest distance whose false-positive rate stays <= 1e-4 on the
# public benchmark photos (4.4M different-photo pairs; measured FPR 8.6e-5).
# Recall there: 1.00 for recompression, rescaling and tone edits; 0.87 crop
# 90%, 0.82 rotation 5 deg, 0.99 10% overlay; ~0 for 90-degree turns, mirror,
# 25% crops and screenshots. See benchmarks/README.md.
DHASH_MATCH_THRESHOLD = 13


def hash_thumbnails(thumbnails: np.ndarray) -> np.ndarray:
    """(B, 8, 9) uint8 thumbnails -> (B, 8) packed hash bytes."""
    thumbnails = np.asarray(thumbnails)
    if thumbnails.ndim != 3 or thumbnails.shape[1:] != (DHASH_HASH_SIZE, DHASH_HASH_SIZE + 1):
        raise ValueError(f"expected (B, 8, 9) thumbnails, got shape {thumbnails.shape}")
    # Right neighbour strictly brighter (uint8 comparison, no overflow).
    diff = thumbnails[:, :, 1:] > thumbnails[:, :, :-1]
    return np.packbits(diff.reshape(len(thumbnails), DHASH_BITS), axis=1)


def compute(image: np.ndarray) -> HashResult:
    """dHash of an H x W x 3 uint8 RGB array (== ``imagehash.dhash(Image.fromarray(image))``)."""
    return compute_batch([image])[0]


def compute_batch(images: Sequence[np.ndarray]) -> list[HashResult]:
    """dHash of many images: Pillow thumbnails one by one, one vectorised comparison."""
    if len(images) == 0:
        return []
    width, height = DHASH_HASH_SIZE + 1, DHASH_HASH_SIZE
    thumbnails = np.stack([grey_thumbnail(image, width, height, "dhash") for image in images])
    return [HashResult(HashValue("dhash", row.tobytes())) for row in hash_thumbnails(thumbnails)]


# The registry's entry (photosieve.hashes.BUILTIN lists it).
SPEC = AlgorithmSpec(
    "dhash", DHASH_BYTES, Metric.HAMMING, DHASH_MATCH_THRESHOLD, compute=compute_batch
)
