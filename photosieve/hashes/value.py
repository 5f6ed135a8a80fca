"""The hash value type shared by every algorithm, list reader and index.

A :class:`HashValue` is immutable, small (bytes, not an ndarray, so Beam
elements pickle cheaply) and knows its algorithm, so two hashes of different
kinds can never be compared by accident. Hex appears only at the edges
(list files, CLI output, Parquet ``hash_hex`` columns).

>>> a = HashValue.from_hex("phash", "d1c4b8a5e3f09b72")
>>> b = HashValue.from_hex("phash", "d1c4b8a5e3f09b73")
>>> a - b
1
>>> len(a)
64
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from photosieve import algorithms
from photosieve.errors import HashFormatError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class HashValue:
    """One hash of one algorithm.

    Attributes:
        algorithm: canonical algorithm name (see :mod:`photosieve.algorithms`).
        bits: the packed hash. For bit hashes (PDQ, pHash...), the big-endian
            bytes of the hex string users exchange; for ``gradient``, the 144
            quantised cell values; for digests, the digest bytes.
    """

    algorithm: str
    bits: bytes

    def __post_init__(self) -> None:
        spec = algorithms.get(self.algorithm)
        if len(self.bits) != spec.nbytes:
            raise HashFormatError(
                f"{self.algorithm} hash must be {spec.nbytes} bytes, got {len(self.bits)}",
                text=self.bits.hex(),
                algorithm=self.algorithm,
            )

    def __len__(self) -> int:
        """Length in bits (imagehash's convention)."""
        return len(self.bits) * 8

    def __sub__(self, other: HashValue) -> float:
        """Distance under the algorithm's metric (Hamming, Euclidean or 0/inf)."""
        return self.distance(other)

    def distance(self, other: HashValue) -> float:
        if not isinstance(other, HashValue):
            return NotImplemented
        if other.algorithm != self.algorithm:
            raise TypeError(f"cannot compare {self.algorithm} with {other.algorithm} hashes")
        metric = algorithms.get(self.algorithm).metric
        if metric is algorithms.Metric.HAMMING:
            return (int.from_bytes(self.bits, "big") ^ int.from_bytes(other.bits, "big")).bit_count()
        if metric is algorithms.Metric.EUCLIDEAN:
            a = np.frombuffer(self.bits, dtype=np.uint8).astype(np.int32)
            b = np.frombuffer(other.bits, dtype=np.uint8).astype(np.int32)
            return float(math.sqrt(int(((a - b) ** 2).sum())))
        return 0.0 if self.bits == other.bits else math.inf

    def to_hex(self) -> str:
        return self.bits.hex()

    def __str__(self) -> str:
        return self.to_hex()

    @classmethod
    def from_hex(cls, algorithm: str, text: str) -> HashValue:
        """Parse lowercase or uppercase hex; raise HashFormatError with the input."""
        spec = algorithms.get(algorithm)
        stripped = text.strip()
        if len(stripped) != spec.hex_len:
            raise HashFormatError(
                f"{spec.name} hash must be {spec.hex_len} hex characters, got {len(stripped)}",
                text=text,
                algorithm=spec.name,
            )
        if not _HEX_DIGITS.issuperset(stripped):
            raise HashFormatError(f"{spec.name} hash is not hexadecimal", text=text, algorithm=spec.name)
        return cls(spec.name, bytes.fromhex(stripped))


@dataclass(frozen=True)
class HashResult:
    """A computed hash plus what the algorithm says about it.

    Attributes:
        hash: the value.
        quality: 0..100 for PDQ (how much detail the image has; low-quality
            hashes match unrelated images); None for algorithms without one.
        orientation: for dihedral PDQ, which of the eight transforms of the
            image this hash is of (see ``pdq.ORIENTATIONS``); "" otherwise.
        variant: "" for a hash of the whole image; otherwise which part or
            hypothesis of it was hashed, e.g. ``"region x,y,w,h"`` or
            ``"window x,y,w,h"`` (see :mod:`photosieve.robust.expansion`).
    """

    hash: HashValue
    quality: int | None = None
    orientation: str = ""
    variant: str = ""
