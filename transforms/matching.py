"""Match hashes against known-hash lists, in one of two join strategies.

Transforms:

* :class:`MatchHashes`: ``hashes``-table row dicts in; a dict of outputs:
  ``matches`` (``matches``-table row dicts) and ``ledger`` (counts).
* :class:`ProbeIndexes`: the ``side-input`` join, ``hashes`` rows in, hits out.

Both strategies read each list once inside the pipeline (any Beam
filesystem: :class:`~photosieve.transforms.known_lists.ReadKnownLists`), find
every (query hash, list hash) pair within the list's threshold, and hand
those *hits* to the same resolution step (:func:`photosieve.matches.resolve`),
so their match tables are identical (tested):

* ``side-input`` (default): one worker builds each list's indexes once per
  run into an immutable index file under the run's temp location
  (:class:`~photosieve.transforms.known_lists.BuildIndexFiles`,
  :mod:`photosieve.index.mapped`); the side input carries only small
  handles (path, size, digest). Each worker process maps the files once
  (:func:`~photosieve.transforms.known_lists.open_index`, shared by its
  threads through :class:`apache_beam.utils.shared.Shared`) and probes them
  with batches of query hashes. The processes of one machine share the
  mapped pages (about 160 bytes per PDQ hash with its ids, per machine, not per process);
  a remote file is copied once per machine into a local cache.
* ``shuffle``: for lists too big to copy to every worker, a keyed join on
  the index's own chunks (:class:`~photosieve.transforms.shuffle_join.ShuffleJoin`).
  Euclidean (``gradient``) lists are not supported there.

Resolution, keyed by (object, frame, algorithm): the closest of the object's
hashes per list hash, and suppression; see :mod:`photosieve.matches`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.pvalue import AsList
from apache_beam.utils import shared

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.hashes.pdq import PDQ_QUALITY_THRESHOLD
from photosieve.lists import ListSpec
from photosieve.lists.known import list_info
from photosieve.matches import PROBED, KnownIndexes, query_outcome, resolve
from photosieve.run_config import SHUFFLE, SIDE_INPUT, STRATEGIES
from photosieve.transforms.known_lists import (
    BuildIndexFiles,
    IndexHandle,
    ReadKnownLists,
    open_index,
)
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.shuffle_join import ShuffleJoin

__all__ = ["SHUFFLE", "SIDE_INPUT", "STRATEGIES", "MatchHashes", "ProbeIndexes", "count_match"]

# Query hashes per index probe: large enough to amortise numpy's per-call
# cost, small enough to keep a batch's candidate arrays in cache.
DEFAULT_BATCH_SIZE = 512


def _open_indexes(handles: list[IndexHandle]) -> KnownIndexes:
    return KnownIndexes.from_mapped([open_index(handle) for handle in handles])


class _ProbeIndexesFn(beam.DoFn):
    """Batches of hashes rows -> ((uri, frame, algorithm), Hit), the lists' index files a side input."""

    def __init__(self, shared_handle: shared.Shared, quality_cutoff: int):
        self._shared = shared_handle
        self._quality_cutoff = quality_cutoff

    def setup(self) -> None:
        self._tally = Tally()
        self._indexes = None  # a strong reference keeps the shared indexes alive

    def process(self, rows: list[dict], handles: list[IndexHandle]):
        tag = ";".join(sorted(f"{h.name}@{h.digest}" for h in handles))
        self._indexes = indexes = self._shared.acquire(lambda: _open_indexes(handles), tag=tag)
        by_algorithm: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            algorithm = row[schemas.ALGORITHM]
            outcome = query_outcome(row, self._quality_cutoff, algorithm in indexes.by_algorithm)
            self._tally.add((*keys.QUERIES, outcome, algorithm))
            if outcome == PROBED:
                by_algorithm[algorithm].append(row)
        for algorithm, queries in by_algorithm.items():
            yield from indexes.probe(algorithm, queries)

    def finish_bundle(self):
        yield from self._tally.flush()


class ProbeIndexes(beam.PTransform):
    """The side-input join: batches of hashes rows probe every list's index file.

    Each list's index file is built once per run (:class:`BuildIndexFiles`)
    and mapped once per worker process.

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
    ...     probed = p | beam.Create([row]) | ProbeIndexes(known)
    ...     _ = probed["hits"] | beam.Map(lambda kv: print(kv[0], kv[1].entry_ids, kv[1].distance))
    ('a.jpg', 0, 'pdq') ['k1'] 1.0

    Args:
        known: a PCollection of :class:`~photosieve.lists.known.KnownList`.
        quality_cutoff: PDQ hashes below this quality are not matched.
        batch_size: query hashes per index probe.
        index_dir: where the index files go (any Beam filesystem). Default:
            ``<--temp_location>/photosieve-index``, else the machine's temp
            folder (see :func:`~photosieve.transforms.known_lists.index_dir_for`).

    Returns a dict: ``hits`` (``((uri, frame, algorithm), Hit)``) and ``ledger``.
    """

    def __init__(
        self,
        known: beam.PCollection,
        quality_cutoff: int = PDQ_QUALITY_THRESHOLD,
        batch_size: int = DEFAULT_BATCH_SIZE,
        index_dir: str | None = None,
    ):
        super().__init__()
        self._known = known
        self._quality_cutoff = quality_cutoff
        self._batch_size = batch_size
        self._index_dir = index_dir

    def expand(self, hashes):
        handles = self._known | "BuildIndexFiles" >> BuildIndexFiles(self._index_dir)
        probe = _ProbeIndexesFn(shared.Shared(), self._quality_cutoff)
        probed = (
            hashes
            | "BatchQueries"
            >> beam.BatchElements(min_batch_size=1, max_batch_size=self._batch_size)
            | "ProbeIndexes" >> beam.ParDo(probe, AsList(handles)).with_outputs(LEDGER, main="hits")
        )
        return {"hits": probed.hits, LEDGER: probed[LEDGER]}


def count_match(tally: Tally, row: dict) -> None:
    """A matches row's counts: by status, by list and status, by mode (rows that have one), by label."""
    name, status = row[schemas.LIST_NAME], row[schemas.STATUS]
    tally.add((*keys.MATCHES_STATUS, status))
    tally.add((*keys.MATCHES_LIST, name, status))
    if row.get(schemas.MATCH_MODE) is not None:
        tally.add((*keys.MATCHES_MODE, row[schemas.MATCH_MODE]))
    for label in row[schemas.LABELS]:
        tally.add((*keys.MATCHES_LABEL, name, label))


class _ResolveMatchesFn(beam.DoFn):
    """((uri, frame, algorithm), hits) -> matches rows: best orientation, suppression."""

    def __init__(self, run_id: str, matched_at_us: int):
        self._run_id = run_id
        self._matched_at_us = matched_at_us

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, element, infos):
        key, hits = element
        for row in resolve(
            key, hits, infos, run_id=self._run_id, matched_at_us=self._matched_at_us
        ):
            count_match(self._tally, row)
            yield row

    def finish_bundle(self):
        yield from self._tally.flush()


class MatchHashes(beam.PTransform):
    """Matches ``hashes`` rows against known-hash lists; see the module docstring.

    Example (a plain-text list: ``algorithm hash`` per line):

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "known.txt"
    >>> _ = path.write_text("md5 " + "ab" * 16 + "\\n")
    >>> rows = [{"uri": "a.jpg", "algorithm": "md5", "hash": "ab" * 16},
    ...         {"uri": "b.jpg", "algorithm": "md5", "hash": "cd" * 16}]
    >>> with beam.Pipeline() as p:
    ...     matched = p | beam.Create(rows) | MatchHashes(
    ...         [ListSpec(str(path))], run_id="r1", matched_at_us=0, strategy=SHUFFLE)
    ...     _ = matched["matches"] | beam.Map(lambda r: print(r["uri"], r["list_name"], r["status"]))
    a.jpg known match

    Args:
        lists: the lists, with names, roles and thresholds.
        run_id: written on every row.
        matched_at_us: the run's start, microseconds since the epoch (UTC),
            written on every row (the same on every runner and retry).
        strategy: ``side-input`` (default) or ``shuffle``.
        quality_cutoff: PDQ hashes below this quality are not matched.
            Default: ``PDQ_QUALITY_THRESHOLD`` (50).
        strict_lists: fail on bad list lines (True) or skip and count them.
        expected_versions: list name -> version the launcher validated; a
            list whose content changed since fails the run.
        batch_size: query hashes per index probe (side-input strategy).
        skip_algorithms: the lists' hashes of these algorithms are not
            indexed (another transform matches them: see
            :class:`photosieve.transforms.mode_matching.MatchInMode`). Default: none.
        index_dir: where the side-input strategy writes the lists' index
            files (any Beam filesystem). Default: ``<--temp_location>/photosieve-index``,
            else the machine's temp folder.

    Returns a dict: ``matches`` (row dicts for the ``matches`` table) and
    ``ledger`` (query, match and list counts).

    See also: :class:`photosieve.transforms.hashing.HashImages`, whose ``hashes``
    output is the input here, and ``ReadFromParquet`` over a stored
    ``hashes`` table (``photosieve match``).
    """

    def __init__(
        self,
        lists: Sequence[ListSpec],
        *,
        run_id: str,
        matched_at_us: int,
        strategy: str = SIDE_INPUT,
        quality_cutoff: int = PDQ_QUALITY_THRESHOLD,
        strict_lists: bool = True,
        expected_versions: dict[str, str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        skip_algorithms: Sequence[str] = (),
        index_dir: str | None = None,
    ):
        super().__init__()
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        names = [spec.name for spec in lists]
        if len(set(names)) != len(names):
            raise ValueError(f"list names must be unique, got {names}")
        if not 0 <= quality_cutoff <= 100:
            raise ValueError(f"quality_cutoff must be within 0..100, got {quality_cutoff}")
        self._lists = list(lists)
        self._run_id = run_id
        self._matched_at_us = matched_at_us
        self._strategy = strategy
        self._quality_cutoff = quality_cutoff
        self._strict = strict_lists
        self._expected = dict(expected_versions or {})
        self._batch_size = batch_size
        self._skip = tuple(skip_algorithms)
        self._index_dir = index_dir

    def expand(self, hashes):
        known = hashes.pipeline | "ReadKnownLists" >> ReadKnownLists(
            self._lists,
            strict=self._strict,
            expected_versions=self._expected,
            skip_algorithms=self._skip,
        )
        joined = hashes | "Join" >> self._join(known)
        resolved = self._resolve(joined["hits"], known)
        ledger = (joined[LEDGER], resolved[LEDGER]) | "FlattenMatchLedgers" >> beam.Flatten()
        return {schemas.MATCHES: resolved[schemas.MATCHES], LEDGER: ledger}

    def _join(self, known):
        """The strategy's join: ``hits`` ((query key, hit) pairs) and ``ledger``."""
        if self._strategy == SIDE_INPUT:
            return ProbeIndexes(known, self._quality_cutoff, self._batch_size, self._index_dir)
        return ShuffleJoin(known, self._quality_cutoff)

    def _resolve(self, hits, known):
        """Each query's hits -> its match rows (suppression applied), and ``ledger``."""
        infos = AsList(known | "DescribeLists" >> beam.Map(list_info))
        resolve_fn = _ResolveMatchesFn(self._run_id, self._matched_at_us)
        return (
            hits
            | "GroupHitsByQuery" >> beam.GroupByKey()
            | "ResolveMatches"
            >> beam.ParDo(resolve_fn, infos).with_outputs(LEDGER, main=schemas.MATCHES)
        )

    def display_data(self):
        return {
            "lists": ", ".join(f"{s.name} ({s.role.value})" for s in self._lists),
            "strategy": self._strategy,
            "quality_cutoff": self._quality_cutoff,
        }
