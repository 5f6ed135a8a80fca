"""md5 and sha256 of raw bytes: known vectors, registry entries, errors."""

from __future__ import annotations

import hashlib
import math

import pytest

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.hashes import digest
from photosieve.hashes.value import HashValue


@pytest.mark.parametrize(
    "algorithm, data, expected",
    [
        # RFC 1321 appendix A.5 test suite.
        ("md5", b"", "d41d8cd98f00b204e9800998ecf8427e"),
        ("md5", b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        # FIPS 180-2 appendix B.1 / NIST CSRC examples.
        ("sha256", b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("sha256", b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ],
)
def test_known_vectors(algorithm, data, expected):
    assert digest.compute(data, algorithm).hash == HashValue.from_hex(algorithm, expected)


def test_named_helpers_and_default():
    data = bytes(range(256)) * 10
    assert digest.compute_md5(data).hash.bits == hashlib.md5(data).digest()
    assert digest.compute_sha256(data).hash.bits == hashlib.sha256(data).digest()
    assert digest.COMPUTE["md5"](data) == digest.compute(data, "md5")
    with pytest.raises(TypeError):
        digest.compute(data)  # type: ignore[call-arg]  (no silent default digest)
    assert (
        digest.compute(bytearray(data), "MD5").hash == digest.compute(memoryview(data), "md5").hash
    )


@pytest.mark.parametrize("name, nbytes", [("md5", 16), ("sha256", 32)])
def test_registered_as_exact_byte_digests(name, nbytes):
    spec = algorithms.get(name)
    assert (spec.nbytes, spec.metric, spec.needs_pixels) == (nbytes, algorithms.Metric.EXACT, False)


def test_distance_is_zero_or_infinite():
    a = digest.compute(b"a", "sha256").hash
    assert a - digest.compute(b"a", "sha256").hash == 0
    assert a - digest.compute(b"b", "sha256").hash == math.inf


def test_batch_equals_single():
    items = [b"", b"x", b"photosieve" * 1000]
    assert digest.compute_batch(items, "md5") == [digest.compute(x, "md5") for x in items]


def test_errors():
    with pytest.raises(ConfigError):
        digest.compute(b"x", "sha1")
    with pytest.raises(TypeError):
        digest.compute("not bytes", "md5")  # type: ignore[arg-type]
