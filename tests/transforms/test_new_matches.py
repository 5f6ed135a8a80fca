"""ClassifyNewMatches (transforms.new_matches) on a previous run's matches written with plain pyarrow."""

from __future__ import annotations

import json
from collections import Counter

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve import incremental, schemas
from photosieve.hashing import HashPlan
from photosieve.incremental import MatchClassifier, PreviousRun
from photosieve.transforms import new_matches
from photosieve.transforms.incremental import CONTEXT
from photosieve.transforms.ledger import LEDGER
from photosieve.transforms.new_matches import ClassifyNewMatches
from tests.transforms import docstring_examples
from tests.transforms.previous_runs import write_table

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py
SETTINGS = incremental.hash_settings(HashPlan.parse("pdq,md5"))


def test_classify_new_matches_joins_rows_with_the_previous_matches(tmp_path):
    output = tmp_path / "r0"
    base = {
        schemas.FRAME: 0, schemas.ALGORITHM: "pdq", schemas.QUERY_HASH: "00", schemas.LIST_NAME: "known",
        schemas.LIST_ROLE: "match", schemas.DISTANCE: 3.0, schemas.THRESHOLD: 31.0, schemas.STATUS: "match",
        schemas.RUN_ID: "r0", schemas.MATCHED_AT: 0, schemas.QUALITY: 100,
    }  # fmt: skip
    before = [
        {**base, schemas.URI: "keep.jpg", schemas.MATCHED_HASH: "aa"},
        {**base, schemas.URI: "keep.jpg", schemas.MATCHED_HASH: "removed"},  # not matched again
    ]
    write_table(output, schemas.MATCHES, before)
    lists = {"known": {"version": "v1", "thresholds": {"pdq": 31.0}}}
    run = PreviousRun(0, str(output), "r0", False, SETTINGS, {}, lists, 50, {})
    classifier = MatchClassifier(
        [run], {"known": {"version": "v2"}}, quality_cutoff=50, settings=SETTINGS
    )
    now = [
        {**base, schemas.URI: "keep.jpg", schemas.MATCHED_HASH: "aa"},
        {**base, schemas.URI: "keep.jpg", schemas.MATCHED_HASH: "bb"},
        {**base, schemas.URI: "new.jpg", schemas.MATCHED_HASH: "aa"},
    ]
    with BeamTestPipeline(runner=RUNNER) as p:
        inputs = {
            schemas.MATCHES: p | "Matches" >> beam.Create(now),
            CONTEXT: p | "Context" >> beam.Create([("new.jpg", ("new", None, -1))]),
        }
        classified = inputs | ClassifyNewMatches(classifier, archives=False)
        reasons = classified[schemas.MATCHES] | beam.Map(
            lambda r: (r[schemas.URI], r[schemas.MATCHED_HASH], r[schemas.NEW_REASON])
        )
        assert_that(
            reasons,
            equal_to(
                [
                    ("keep.jpg", "aa", None),
                    ("keep.jpg", "bb", "new list entry"),
                    ("new.jpg", "aa", "new object"),
                ]
            ),
        )
        counts = classified[LEDGER] | beam.CombineGlobally(sum, start=Counter())
        assert_that(
            counts
            | "Json" >> beam.Map(lambda c: json.dumps(sorted((list(k), n) for k, n in c.items()))),
            equal_to(
                [
                    json.dumps(
                        sorted(
                            [
                                (["matches", "matched_before", "match"], 1),
                                (["matches", "new", "match", "new list entry"], 1),
                                (["matches", "new", "match", "new object"], 1),
                                (["matches", "no_longer_matched", "match", "still listed"], 1),
                            ]
                        )
                    )
                ]
            ),
            label="Ledger",
        )


def test_docstring_examples():
    docstring_examples.check(new_matches)
