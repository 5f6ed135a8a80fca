"""ReadKnownLists and open_stored: lists read inside the pipeline, checked against the launcher's version."""

from __future__ import annotations

import doctest

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import ListSpec
from photosieve.transforms import known_lists
from photosieve.transforms.known_lists import ReadKnownLists, open_stored, read_known_list

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


def test_module_examples_run():
    assert doctest.testmod(known_lists).failed == 0


def test_a_list_changed_since_preflight_fails(tmp_path):
    path = tmp_path / "l.txt"
    path.write_text("pdq " + "0f" * 32 + "\n")
    known = read_known_list(ListSpec(str(path)), strict=True)
    path.write_text("pdq " + "f0" * 32 + "\n")
    with pytest.raises(ConfigError, match="changed"):
        read_known_list(ListSpec(str(path)), strict=True, expected_version=known.version)


def test_open_stored_gives_the_bytes_as_stored_and_refuses_a_directory(tmp_path):
    path = tmp_path / "l.txt.gz"
    path.write_bytes(b"\x1f\x8b not inflated")
    with open_stored(str(path)) as handle:
        assert handle.read() == b"\x1f\x8b not inflated"
    with pytest.raises(ListFormatError, match="directory"):
        open_stored(str(tmp_path))


def test_skipped_algorithms_leave_the_lists(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("pdq " + "0f" * 32 + "\nmd5 " + "ab" * 16 + "\n")
    with BeamTestPipeline(runner=RUNNER) as p:
        known = p | ReadKnownLists([ListSpec(str(path))], skip_algorithms=["pdq"])
        assert_that(
            known | beam.Map(lambda k: (k.name, sorted(k.groups), sorted(k.thresholds))),
            equal_to([("mixed", ["md5"], ["md5"])]),
        )
