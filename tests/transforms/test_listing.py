"""ListFiles (transforms.listing): every match listed, never opened, each skip counted."""

from __future__ import annotations

import os
from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from photosieve import ledger as keys
from photosieve.transforms import listing
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.listing import ListFiles, count_listed, first_listing
from tests.transforms import docstring_examples


def test_the_docstring_examples_run():
    docstring_examples.check(listing)


def test_bad_arguments_are_refused_when_the_transform_is_built():
    with pytest.raises(ValueError, match="listing needs at least one glob pattern"):
        ListFiles([])
    assert ListFiles("in/*.jpg").display_data() == {"patterns": "in/*.jpg"}  # one pattern


def test_a_fifo_is_a_counted_skip_with_an_example_and_never_opened(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"abc")
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it would block for ever
    with beam.Pipeline("FnApiRunner") as p:
        listed = p | ListFiles([str(tmp_path / "*")])
        names = listed["files"] | beam.Map(lambda kv: (os.path.basename(kv[0]), kv[1][0]))
        assert_that(names, equal_to([("a.jpg", 3)]))
        summed = listed[LEDGER] | beam.CombineGlobally(lambda counters: sum(counters, Counter()))
        expected = {
            keys.LISTING_ENTRIES: 2,
            (*keys.SKIPPED, "listing", "fifo"): 1,
            (*keys.SKIP_EXAMPLES, "listing", "fifo", str(tmp_path / "pipe.jpg")): 1,
        }
        assert_that(summed, equal_to([expected]), label="Ledger")


def test_a_file_listed_twice_is_read_once_and_counted_as_relisted():
    tally = Tally()
    count_listed(tally, [(3, 1.5), (3, 1.5), (3, 1.5)])
    assert tally.counts == {keys.FILES_LISTED: 1, keys.FILES_RELISTED: 2}
    assert first_listing([(3, 1.5), (4, 2.0)]) == (3, 1_500_000)
    assert first_listing([(3, None)]) == (3, None)
