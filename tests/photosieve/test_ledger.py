"""The ledger's keys and view (photosieve.ledger)."""

from __future__ import annotations

import doctest

from photosieve import ledger as keys
from photosieve.ledger import Ledger, nest_counts


def test_the_docstring_examples_run():
    result = doctest.testmod(keys)
    assert result.attempted > 0 and result.failed == 0


def test_nesting_sums_and_sorts():
    nested = nest_counts({("b", "x"): 1, ("a", "y"): 2, ("a", "x"): 3})
    assert list(nested) == ["a", "b"] and list(nested["a"]) == ["x", "y"]


def test_a_view_reads_absent_and_odd_keys_as_zero():
    ledger = Ledger({"objects": {"read": "3", "hashed": True}, "files": 7})
    assert ledger.count(keys.OBJECTS_READ) == 0  # not a number: not trusted
    assert ledger.count(keys.OBJECTS_HASHED) == 0  # a bool is not a count
    assert ledger.count(keys.FILES_LISTED) == 0  # "files" is not a mapping
    assert ledger.counts(keys.UNITS) == {} and not ledger.has(keys.UNITS)
    assert Ledger(None).total(keys.QUERIES) == 0


def test_keys_written_by_counting_are_read_back_by_the_view():
    counts = {(*keys.UNITS, "pdq", "hashed"): 2, (*keys.QUERIES, keys.QUERIES_PROBED, "pdq"): 5}
    view = Ledger(nest_counts(counts))
    assert view.count((*keys.UNITS, "pdq", "hashed")) == 2
    assert view.total(keys.QUERIES) == 5 and view.has(keys.UNITS)


def test_every_key_is_declared_once():
    declared = [v for name, v in vars(keys).items() if name.isupper() and isinstance(v, tuple)]
    assert len(declared) == len(set(declared))
    assert all(all(isinstance(part, str) for part in key) for key in declared)
