"""Tally: bundle counts go to the ledger; only counts (not example uris) become Beam counters."""

from __future__ import annotations

from collections import Counter

from photosieve.ledger import nest_counts
from photosieve.listing import count_skip
from photosieve.transforms import ledger as ledger_transforms
from photosieve.transforms.ledger import LEDGER, Tally
from tests.transforms import docstring_examples


def test_flush_emits_the_counts_and_starts_afresh():
    tally = Tally()
    tally.add(("objects", "read"), 3)
    [output] = list(tally.flush())
    assert output.tag == LEDGER and output.value.value == Counter({("objects", "read"): 3})
    assert not tally.counts and list(tally.flush()) == []


def test_skip_examples_stay_in_the_ledger_and_are_not_runner_counters():
    tally = Tally()
    for n in range(25):
        count_skip(tally, "listing", "fifo", f"/in/p{n:02d}")
    [output] = list(tally.flush())
    nested = nest_counts(output.value.value)
    assert nested["skipped"] == {"listing": {"fifo": 25}}
    assert len(nested["skip_examples"]["listing"]["fifo"]) == 20  # photosieve.listing.SKIP_EXAMPLES
    assert set(tally._metrics) == {("skipped", "listing", "fifo")}  # no counter named after a path


def test_docstring_examples():
    docstring_examples.check(ledger_transforms)
