"""Flag value types (photosieve.cli.values): ranges, thresholds, byte sizes, a profile's values checked."""

from __future__ import annotations

import argparse
import re

import pytest

from photosieve.errors import ConfigError
from photosieve.cli import values


def test_max_distance_follows_the_algorithm_registry():
    assert values.max_distance("pdq") == 256 and values.max_distance("phash") == 64
    assert values.max_distance("sha256") == 0 and values.max_distance("gradient") == 3060


def test_integer_ranges_take_their_ends_and_name_the_range():
    check = values.int_range(0, 100)
    assert check("0") == 0 and check(" 100 ") == 100
    with pytest.raises(argparse.ArgumentTypeError, match="from 0 to 100, got 101"):
        check("101")
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer, got '1.5'"):
        check("1.5")
    with pytest.raises(argparse.ArgumentTypeError, match=">= 1, got 0"):
        values.at_least(1)("0")


@pytest.mark.parametrize(
    "text,parsed",
    [
        ("pdq=24", (None, "pdq", 24.0)),
        ("ncmec:phash=10", ("ncmec", "phash", 10.0)),
        ("md5=0", (None, "md5", 0.0)),
        ("gradient=3060", (None, "gradient", 3060.0)),
    ],
)
def test_thresholds_parse_with_and_without_a_list(text, parsed):
    assert values.parse_threshold(text) == parsed
    assert values.threshold(text) == text


@pytest.mark.parametrize(
    "text,message",
    [
        ("pdq", "expected [LIST:]ALGORITHM=NUMBER"),
        ("pdq=257", "must be from 0 to 256"),
        ("md5=1", "must be 0 (a digest matches only itself)"),
        ("pdq=nan", "must be from 0 to 256"),
        ("pdq=x", "'x' is not a number"),
        ("nohash=3", "unknown hash algorithm 'nohash'"),
    ],
)
def test_bad_thresholds_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        values.parse_threshold(text)
    with pytest.raises(argparse.ArgumentTypeError):
        values.threshold(text)


def test_byte_sizes_take_binary_suffixes():
    assert values.byte_size("4G") == 4 << 30 and values.byte_size("1000") == 1000
    with pytest.raises(argparse.ArgumentTypeError):
        values.byte_size("lots")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quality-cutoff", type=values.int_range(0, 100))
    parser.add_argument("--strategy", choices=("side-input", "shuffle"))
    parser.add_argument("--input", nargs="+")
    parser.add_argument("--threshold", nargs="+", type=values.threshold)
    return parser


def test_a_profiles_values_are_checked_like_flags():
    checked = values.check_defaults(
        _parser(), {"quality_cutoff": 80, "input": "photos/", "threshold": ["pdq=20"]}
    )
    assert checked == {"quality_cutoff": 80, "input": ["photos/"], "threshold": ["pdq=20"]}
    with pytest.raises(argparse.ArgumentTypeError, match=r"quality_cutoff \(argument --quality"):
        values.check_defaults(_parser(), {"quality_cutoff": 101})
    with pytest.raises(argparse.ArgumentTypeError, match="'fast' is not one of side-input"):
        values.check_defaults(_parser(), {"strategy": "fast"})
    with pytest.raises(argparse.ArgumentTypeError, match="expected a value"):
        values.check_defaults(_parser(), {"quality_cutoff": True})
