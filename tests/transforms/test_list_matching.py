"""MatchLists (transforms.list_matching): audit's and match's one matching step."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from photosieve import schemas
from photosieve.lists import ListSpec
from photosieve.run_config import Matching
from photosieve.transforms import list_matching
from photosieve.transforms.ledger import LEDGER
from photosieve.transforms.list_matching import MatchLists
from tests.transforms import docstring_examples

PDQ = "f" * 64


def test_the_docstring_examples_run():
    docstring_examples.check(list_matching)


def _run(tmp_path, mode):
    path = tmp_path / "known.txt"
    path.write_text(f"pdq {PDQ}\n")
    rows = [{"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": PDQ, "quality": 100}]
    matching = Matching((ListSpec(str(path)),), match_mode=mode)
    with beam.Pipeline("FnApiRunner") as p:
        matched = p | beam.Create(rows) | MatchLists(matching, run_id="r", matched_at_us=0)
        found = matched[schemas.MATCHES] | beam.Map(
            lambda r: (r["uri"], r["list_name"], r.get("match_mode"), r["distance"])
        )
        assert_that(found, equal_to([("a.jpg", "known", mode, 0)]))
        probed = (
            matched[LEDGER]
            | beam.FlatMap(lambda counts: [k for k in counts if k[0] == "queries"])
            | beam.combiners.Count.Globally()
        )
        assert_that(probed, equal_to([1]), label="OneQueryCounted")


def test_plain_matching(tmp_path):
    _run(tmp_path, None)


def test_a_match_mode_goes_to_the_mode_matcher(tmp_path):
    _run(tmp_path, "robust")
