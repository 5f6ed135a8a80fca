"""value: a HashValue knows its algorithm, parses hex strictly and measures its own metric."""

from __future__ import annotations

import doctest
import math
import pickle

import pytest

from photosieve.errors import HashFormatError
from photosieve.hashes import value
from photosieve.hashes.value import HashResult, HashValue


def test_docstring_example():
    result = doctest.testmod(value)
    assert result.failed == 0 and result.attempted > 0


def test_hex_parses_in_either_case_and_around_spaces_and_prints_lower_case():
    parsed = HashValue.from_hex("phash", "  D1C4B8A5E3F09B72\n")
    assert parsed == HashValue("phash", bytes.fromhex("d1c4b8a5e3f09b72"))
    assert (parsed.to_hex(), str(parsed)) == ("d1c4b8a5e3f09b72", "d1c4b8a5e3f09b72")
    assert len(parsed) == 64  # bits


def test_hex_of_the_wrong_length_is_refused_with_the_input():
    with pytest.raises(HashFormatError) as error:
        HashValue.from_hex("md5", "abc")
    assert str(error.value) == "md5 hash must be 32 hex characters, got 3"
    assert (error.value.text, error.value.algorithm) == ("abc", "md5")


def test_text_that_is_not_hex_is_refused_with_the_input():
    with pytest.raises(HashFormatError, match="^phash hash is not hexadecimal$") as error:
        HashValue.from_hex("phash", "d1c4b8a5e3f09b7g")
    assert error.value.text == "d1c4b8a5e3f09b7g"


def test_bytes_of_the_wrong_length_are_refused():
    with pytest.raises(HashFormatError, match="pdq hash must be 32 bytes, got 31"):
        HashValue("pdq", bytes(31))


def test_hamming_distance_counts_differing_bits():
    a = HashValue("phash", bytes(8))
    b = HashValue("phash", bytes.fromhex("ff00000000000001"))
    assert a - b == 9 and b.distance(a) == 9 and a - a == 0


def test_euclidean_distance_is_over_the_cell_values():
    cells = bytes(144)
    other = bytes([3, 4] + [0] * 142)
    assert HashValue("gradient", cells) - HashValue("gradient", other) == 5.0


def test_digests_are_equal_or_infinitely_far():
    a, b = HashValue("md5", bytes(16)), HashValue("md5", bytes(15) + b"\x01")
    assert a - a == 0.0 and a - b == math.inf


def test_hashes_of_different_algorithms_cannot_be_compared():
    with pytest.raises(TypeError, match="cannot compare phash with dhash hashes"):
        HashValue("phash", bytes(8)) - HashValue("dhash", bytes(8))
    assert HashValue("phash", bytes(8)).distance("not a hash") is NotImplemented


def test_values_and_results_pickle_and_are_hashable():
    result = HashResult(HashValue("pdq", bytes(32)), quality=80, orientation="rot90")
    assert pickle.loads(pickle.dumps(result)) == result
    assert len({result.hash, HashValue("pdq", bytes(32))}) == 1
    assert (HashResult(result.hash).quality, HashResult(result.hash).variant) == (None, "")
