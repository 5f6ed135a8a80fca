"""Counts that travel with the data: per-bundle ledgers, summed into one JSON file.

Every photosieve DoFn keeps a :class:`Tally` per bundle and emits it from
``finish_bundle`` on its ``ledger`` output: one small Counter per bundle,
keyed by tuples such as ``("errors", "class", "corrupt")``, declared in
:mod:`photosieve.ledger`. A retried bundle's
ledger is discarded with its other outputs, so the sum is exact where Beam
counters (also incremented, for the runner's UI) count attempts.

Transforms:

* :class:`WriteLedger`: ledger PCollections in; ``OUTPUT/_ledger.json`` out,
  their sum as nested JSON (see :func:`nest_counts`), which the launcher folds
  into ``summary.json``.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from photosieve.ledger import SKIP_EXAMPLES, nest_counts

__all__ = ["LEDGER", "LEDGER_FILE", "METRICS_NAMESPACE", "Tally", "WriteLedger"]

# Tag of the ledger output of every photosieve DoFn.
LEDGER = "ledger"
LEDGER_FILE = "_ledger.json"
METRICS_NAMESPACE = "photosieve"


class Tally:
    """One DoFn's counts for the current bundle, also added to Beam counters when emitted.

    Counting is a dict update per event; the Beam counters (what runner UIs
    show) are incremented once per key per bundle, in :meth:`flush`, which
    keeps the metrics machinery off the per-object path.
    """

    def __init__(self) -> None:
        self._metrics: dict[tuple, object] = {}
        self.counts: Counter = Counter()

    def add(self, key: tuple[str, ...], n: int = 1) -> None:
        self.counts[key] += n

    def flush(self) -> Iterator[TaggedOutput]:
        """Emit the bundle's counts (from ``finish_bundle``) and start afresh."""
        for key, n in self.counts.items():
            if key[: len(SKIP_EXAMPLES)] == SKIP_EXAMPLES:  # example uris are ledger data, not runner counters
                continue
            counter = self._metrics.get(key)
            if counter is None:
                counter = self._metrics[key] = Metrics.counter(METRICS_NAMESPACE, ".".join(key))
            counter.inc(n)
        if self.counts:
            yield TaggedOutput(LEDGER, GlobalWindows.windowed_value(self.counts))
        self.counts = Counter()


class _SumCountersFn(beam.CombineFn):
    """Sums Counters (ledgers); empty input gives an empty Counter."""

    def create_accumulator(self) -> Counter:
        return Counter()

    def add_input(self, accumulator: Counter, counts: Counter) -> Counter:
        accumulator.update(counts)
        return accumulator

    def merge_accumulators(self, accumulators) -> Counter:
        merged = Counter()
        for accumulator in accumulators:
            merged.update(accumulator)
        return merged

    def extract_output(self, accumulator: Counter) -> Counter:
        return accumulator


class WriteLedger(beam.PTransform):
    """Sums ledger Counters from several steps into ``output_dir/_ledger.json``.

    Apply to a tuple of ledger PCollections (a list would be taken as data). The file holds one JSON
    object (see :func:`~photosieve.ledger.nest_counts`), written even when every input is empty.

    >>> import json, os, shutil, tempfile
    >>> from collections import Counter
    >>> output = tempfile.mkdtemp()
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     read = p | "Read" >> beam.Create([Counter({("objects", "read"): 2})])
    ...     hashed = p | "Hashed" >> beam.Create([Counter({("objects", "hashed"): 1}),
    ...                                           Counter({("objects", "hashed"): 1})])
    ...     _ = (read, hashed) | WriteLedger(output)
    >>> with open(os.path.join(output, LEDGER_FILE)) as handle:
    ...     print(json.load(handle))
    {'objects': {'hashed': 2, 'read': 2}}
    >>> shutil.rmtree(output)
    """

    def __init__(self, output_dir: str):
        super().__init__()
        self._output_dir = output_dir

    def expand(self, ledgers):
        path = FileSystems.join(self._output_dir, LEDGER_FILE)
        return (
            tuple(ledgers)
            | "FlattenLedgers" >> beam.Flatten()
            | "SumLedgers" >> beam.CombineGlobally(_SumCountersFn())
            | "LedgerToJson"
            >> beam.Map(lambda counts: json.dumps(nest_counts(counts), sort_keys=True))
            | "WriteLedgerJson" >> beam.ParDo(_WriteOneFileFn(path))
        )


class _WriteOneFileFn(beam.DoFn):
    """The one text element -> ``path``, written under a temporary name and renamed into place.

    A whole file sink (``WriteToText``: ~10 steps, each adding to a run's
    fixed cost) for one small file that one element holds. A retried write
    writes the same bytes again; readers never see a partial file.
    """

    def __init__(self, path: str):
        self._path = path

    def process(self, text: str):
        temp = f"{self._path}.tmp-{uuid.uuid4().hex}"
        with FileSystems.create(temp) as handle:
            handle.write(text.encode("utf-8") + b"\n")
        if FileSystems.exists(self._path):
            FileSystems.delete([self._path])
        FileSystems.rename([temp], [self._path])
        return []
