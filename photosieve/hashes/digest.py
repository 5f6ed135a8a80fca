"""Cryptographic digests of an object's raw bytes: ``md5`` and ``sha256``.

These match only byte-identical files (Metric.EXACT), and they need no
decoding (``needs_pixels=False``), so they also cover files no decoder
understands. MD5 is there because many hash lists (e.g. NCMEC's and other
industry lists) are exchanged as MD5; it is used to *look up* known files,
where its broken collision resistance matters little, never to vouch for
integrity. SHA-256 is the default for new lists.

>>> str(compute(b"abc", "md5").hash)
'900150983cd24fb0d6963f7d28e17f72'
>>> compute_sha256(b"").hash.to_hex()[:16]
'e3b0c44298fc1c14'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.errors import ConfigError
from photosieve.hashes.value import HashResult, HashValue

# Digest sizes, from RFC 1321 (MD5, 128 bits) and FIPS 180-4 (SHA-256, 256 bits).
MD5_BYTES = hashlib.md5().digest_size
SHA256_BYTES = hashlib.sha256().digest_size

# Policy: a digest matches only itself; any distance threshold is meaningless.
EXACT_MATCH_THRESHOLD = 0


def compute(data: bytes, algorithm: str) -> HashResult:
    """Digest of ``data`` (bytes, bytearray or memoryview) with ``md5`` or ``sha256``.

    The algorithm has no default: this module serves two registry names, and
    a caller dispatching on the name must not silently get the other digest.
    :data:`COMPUTE` maps each name to a one-argument function.
    """
    name = algorithm.lower()
    if name not in SPECS:
        raise ConfigError(f"unknown digest {algorithm!r}; known: {', '.join(sorted(SPECS))}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} needs bytes, got {type(data).__name__}")
    return HashResult(HashValue(name, hashlib.new(name, data).digest()))


def compute_md5(data: bytes) -> HashResult:
    """MD5 of ``data``."""
    return compute(data, "md5")


def compute_sha256(data: bytes) -> HashResult:
    """SHA-256 of ``data``."""
    return compute(data, "sha256")


# The registry's entries (photosieve.hashes.BUILTIN lists them).
MD5_SPEC = AlgorithmSpec(
    "md5", MD5_BYTES, Metric.EXACT, EXACT_MATCH_THRESHOLD, needs_pixels=False, compute=compute_md5
)
SHA256_SPEC = AlgorithmSpec(
    "sha256", SHA256_BYTES, Metric.EXACT, EXACT_MATCH_THRESHOLD, needs_pixels=False,
    compute=compute_sha256,
)
SPECS = {spec.name: spec for spec in (MD5_SPEC, SHA256_SPEC)}
COMPUTE = {name: spec.compute for name, spec in SPECS.items()}


def compute_batch(items: Sequence[bytes], algorithm: str) -> list[HashResult]:
    """Digests of many objects; hashlib is already C, so this is a plain loop."""
    return [compute(data, algorithm) for data in items]
