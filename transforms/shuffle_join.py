"""The shuffle join: hashes rows against lists too big to copy to every worker.

Transforms:

* :class:`ShuffleJoin`: ``hashes``-table row dicts in; a dict of outputs:
  ``hits`` (``((uri, frame, algorithm), Hit)``, for
  :func:`photosieve.matches.resolve`) and ``ledger`` (query counts).

Both sides emit multi-index bucket keys (the geometry, candidate rule and
cost model of the in-memory index: :mod:`photosieve.index.geometry`), a
``CoGroupByKey`` joins them, and each candidate pair is verified with the
full distance and kept only in the group of the first chunk of which it is
a candidate (:mod:`photosieve.bucket_join`). Costs one shuffled element per
probe key: for PDQ at 31 bits, 16 chunks and 272 keys per query hash.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import AsList

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.bucket_join import list_bucket_entries, query_bucket_keys, verify_bucket
from photosieve.hashes.pdq import PDQ_QUALITY_THRESHOLD
from photosieve.lists.known import list_info
from photosieve.transforms.ledger import LEDGER, Tally

__all__ = ["ShuffleJoin"]


class _QueryBucketKeysFn(beam.DoFn):
    """hashes rows -> ((list, algorithm, chunk, probe key), query) for every list of the algorithm."""

    def __init__(self, quality_cutoff: int):
        self._quality_cutoff = quality_cutoff

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, row: dict, infos):
        outcome, bucket_keys = query_bucket_keys(row, infos, self._quality_cutoff)
        self._tally.add((*keys.QUERIES, outcome, row[schemas.ALGORITHM]))
        yield from bucket_keys

    def finish_bundle(self):
        yield from self._tally.flush()


class ShuffleJoin(beam.PTransform):
    """Finds every (query hash, list hash) pair within threshold by a keyed join.

    Example:

    >>> import numpy as np, pyarrow as pa
    >>> from photosieve.lists.known import KnownList
    >>> entries = pa.table({"ids": [["k1"]], "labels": [["case-1"]]})
    >>> listed = KnownList("known", "v1", "match", {"pdq": 31.0},
    ...                    {"pdq": (np.full((1, 32), 0x0F, np.uint8), entries)})
    >>> row = {"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": "0f" * 31 + "0e",
    ...        "quality": 90}
    >>> with beam.Pipeline() as p:
    ...     known = p | "Lists" >> beam.Create([listed])
    ...     joined = p | beam.Create([row]) | ShuffleJoin(known)
    ...     _ = joined["hits"] | beam.Map(lambda kv: print(kv[0], kv[1].entry_ids, kv[1].distance))
    ('a.jpg', 0, 'pdq') ['k1'] 1.0

    Args:
        known: a PCollection of :class:`~photosieve.lists.known.KnownList`.
        quality_cutoff: PDQ hashes below this quality are not matched.

    Raises (when run):
        ConfigError: a list holds Euclidean (``gradient``) hashes.
    """

    def __init__(self, known: beam.PCollection, quality_cutoff: int = PDQ_QUALITY_THRESHOLD):
        super().__init__()
        self._known = known
        self._quality_cutoff = quality_cutoff

    def expand(self, hashes):
        infos = AsList(self._known | "DescribeLists" >> beam.Map(list_info))
        probed = hashes | "QueryBucketKeys" >> beam.ParDo(
            _QueryBucketKeysFn(self._quality_cutoff), infos
        ).with_outputs(LEDGER, main="keys")
        listed = self._known | "ListBucketKeys" >> beam.FlatMap(list_bucket_entries, infos)
        hits = (
            {"queries": probed.keys, "lists": listed}
            | "JoinBuckets" >> beam.CoGroupByKey()
            | "VerifyCandidates" >> beam.FlatMap(verify_bucket, infos)
        )
        return {"hits": hits, LEDGER: probed[LEDGER]}
