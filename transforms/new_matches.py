"""Say on each match row of a repeat audit whether it is new since the previous run, and why.

Transforms:

* :class:`ClassifyNewMatches`: this run's match rows and
  :class:`~photosieve.transforms.incremental.CarryForward`'s per-file
  context in; the rows with ``new_reason`` set (None: matched before) and a
  ledger out. The rules are :class:`photosieve.incremental.MatchClassifier`'s;
  this module joins each file's rows with the previous run's, by file.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import apache_beam as beam

from photosieve import incremental, schemas
from photosieve import ledger as keys
from photosieve.incremental import MatchClassifier, MatchContext, PreviousRun  # noqa: F401 (examples)
from photosieve.reading import container_path
from photosieve.transforms.incremental import CONTEXT, read_previous
from photosieve.transforms.ledger import LEDGER, Tally

__all__ = ["PREVIOUS_MATCH_COLUMNS", "ClassifyNewMatches"]

# What the classifier reads of the previous runs' matches tables.
PREVIOUS_MATCH_COLUMNS = [
    schemas.URI,
    schemas.FRAME,
    schemas.ALGORITHM,
    schemas.LIST_NAME,
    schemas.MATCHED_HASH,
    schemas.STATUS,
    schemas.ENTRY_IDS,  # a video-list row's identity is the listed video (incremental.match_key)
]


class _ClassifyFn(beam.DoFn):
    """One file's current and previous match rows and context -> rows with ``new_reason``."""

    def __init__(self, classifier: MatchClassifier):
        self._classifier = classifier
        self._latest = len(classifier.runs) - 1

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, element):
        _, grouped = element
        contexts = list(grouped["context"])
        context = MatchContext(*contexts[0][:3]) if contexts else MatchContext()
        run_index = context.run_index if context.run_index >= 0 else self._latest
        previous: dict[tuple, set[str]] = defaultdict(set)
        for index, rows in grouped["previous"]:
            if index == run_index and context.state not in (incremental.NEW,):
                for row in rows:
                    previous[incremental.match_key(row)].add(row[schemas.STATUS])
        found = set()
        for row in grouped["current"]:
            key = incremental.match_key(row)
            found.add(key)
            reason = self._classifier.reason(row, context, previous)
            if reason is None:
                self._tally.add((*keys.MATCHES_BEFORE, row[schemas.STATUS]))
            else:
                self._tally.add((*keys.MATCHES_NEW, row[schemas.STATUS], reason))
            yield {**row, schemas.NEW_REASON: reason}
        lost = Counter(
            status for key, statuses in previous.items() if key not in found for status in statuses
        )
        for status, n in lost.items():
            why = "gone" if context.state == incremental.GONE else "still listed"
            self._tally.add((*keys.MATCHES_NO_LONGER, status, why), n)

    def finish_bundle(self):
        yield from self._tally.flush()


class ClassifyNewMatches(beam.PTransform):
    """Says, on each match row, whether it is new since the previous run and why.

    Apply to ``{"matches": match rows, "context": CarryForward's context}``.
    Here the previous run had no matches and not the list ``known``: a match
    in a file it saw is new for the list, one in a new file for the file:

    >>> import shutil, tempfile
    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> previous = PreviousRun(index=0, output=tempfile.mkdtemp(), run_id="r0", archives=False,
    ...                        settings={}, limits={}, lists={}, quality_cutoff=None, versions={})
    >>> classifier = MatchClassifier([previous], {}, quality_cutoff=50, settings={})
    >>> row = {"algorithm": "md5", "list_name": "known", "matched_hash": "00", "status": "match"}
    >>> matches = [{**row, "uri": "in/old.jpg"}, {**row, "uri": "in/new.jpg"}]
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     inputs = {"matches": p | "Matches" >> beam.Create(matches),
    ...               "context": p | "Context" >> beam.Create([("in/new.jpg", ("new", None, -1))])}
    ...     classified = inputs | ClassifyNewMatches(classifier, archives=False)
    ...     reasons = classified["matches"] | beam.Map(lambda r: (r["uri"], r["new_reason"]))
    ...     expected = [("in/old.jpg", "new list"), ("in/new.jpg", "new object")]
    ...     _ = assert_that(reasons, equal_to(expected))
    >>> shutil.rmtree(previous.output)

    Args:
        classifier: the previous runs and this run's lists, cutoff, settings.
        archives: whether this run reads archive members (to key rows by file).

    Returns a dict: ``matches`` (the rows, ``new_reason`` set) and ``ledger``
    (new rows per status and reason, rows matched before, previous rows not
    matched again).
    """

    def __init__(self, classifier: MatchClassifier, *, archives: bool):
        super().__init__()
        self._classifier = classifier
        self._archives = archives

    def expand(self, inputs):
        matches = inputs[schemas.MATCHES]
        classified = (
            {
                "current": self._by_file(matches),
                "previous": self._previous_matches(matches.pipeline),
                "context": inputs[CONTEXT],
            }
            | "JoinPreviousMatches" >> beam.CoGroupByKey()
            | "ClassifyMatches"
            >> beam.ParDo(_ClassifyFn(self._classifier)).with_outputs(LEDGER, main=schemas.MATCHES)
        )
        return {schemas.MATCHES: classified[schemas.MATCHES], LEDGER: classified[LEDGER]}

    def _by_file(self, matches):
        """This run's match rows keyed by file (an archive member's by its archive)."""
        archives = self._archives
        return matches | "KeyMatchesByFile" >> beam.Map(
            lambda row: (container_path(row[schemas.URI], archives), row)
        )

    def _previous_matches(self, pipeline):
        return read_previous(
            pipeline,
            self._classifier.runs,
            schemas.MATCHES,
            columns=PREVIOUS_MATCH_COLUMNS,
            label="PreviousMatches",
        )


