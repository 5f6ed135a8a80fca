"""Match a few objects' hashes against lists in one process: an audit's matching without Beam.

``photosieve match-files`` hashes a handful of files and wants the answer an
audit of the same files would give, now. :class:`LocalMatcher` reads each
list once and then runs, on each object's ``hashes`` rows
(:func:`photosieve.schemas.hash_rows`), exactly the Beam-free steps the
audit's transforms run:

* plain matching (``transforms.matching``): :func:`~photosieve.matches.query_outcome`
  picks the rows to query (PDQ below the quality cutoff is not matched),
  :class:`~photosieve.matches.KnownIndexes` finds every pair within each
  list's threshold, :func:`~photosieve.matches.resolve` keeps the best
  orientation per listed hash and applies suppression;
* with a matching mode (``transforms.mode_matching``): the mode's PDQ (and
  second-opinion) rows by :func:`~photosieve.robust.matcher.query_reason`,
  grouped per frame, through each list's
  :class:`~photosieve.robust.matcher.ModeMatcher` and
  :func:`~photosieve.robust.frame_matches.match_frames`; the other
  algorithms as plain matching, without the mode's algorithms' groups.

Objects are matched one at a time: the plain path resolves per (object,
frame, algorithm) and the mode path per frame, so the rows are the same as
when the audit matches them all together (the pipeline tests compare).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from photosieve import schemas
from photosieve.hashes.pdq import PDQ_QUALITY_THRESHOLD
from photosieve.lists import HashList, ListSpec
from photosieve.lists.known import KnownList, known_list, list_info, without
from photosieve.lists.source import OpenFn
from photosieve.matches import PROBED, KnownIndexes, query_outcome, resolve
from photosieve.robust.frame_matches import match_frames
from photosieve.robust.matcher import (
    TAKE_PART,
    FrameQuery,
    ModeList,
    ModeMatcher,
    list_config,
    query_reason,
    query_row,
)
from photosieve.robust.modes import CONFIGS, mode_algorithms

__all__ = ["LocalMatcher"]


class LocalMatcher:
    """The run's lists, read and indexed once; :meth:`match` gives an object's ``matches`` rows.

    Args:
        specs: the lists, with names, roles and thresholds (as ``--list`` gives them).
        mode: a matching mode (:data:`photosieve.robust.modes.CONFIGS`) or None.
        quality_cutoff: PDQ hashes below this quality are not matched.
        strict: refuse lists with bad lines (else skip them).
        open_fn: how list files are opened (default: local files).
        read: the lists as already read, ``(HashList, entries)`` per spec in
            order (entries only with a mode): then nothing is read again.

    Raises:
        ListFormatError: a list has bad lines (strict) or is no list.
        ConfigError: unknown mode, or one that cannot match a list (named).
    """

    def __init__(
        self,
        specs: Sequence[ListSpec],
        *,
        mode: str | None = None,
        quality_cutoff: int = PDQ_QUALITY_THRESHOLD,
        strict: bool = True,
        open_fn: OpenFn | None = None,
        read: Sequence[tuple[HashList, Mapping]] | None = None,
    ):
        self.mode = mode
        self.quality_cutoff = quality_cutoff
        self._mode_algorithms = frozenset(mode_algorithms(mode)) if mode else frozenset()
        known: list[KnownList] = []
        self.mode_lists: list[ModeList] = []
        for index, spec in enumerate(specs):
            if read is not None:  # read already (by the caller's preflight)
                hash_list, entries = read[index]
            elif mode is None:
                hash_list, entries = spec.read(strict=strict, open_fn=open_fn), {}
            else:
                hash_list, entries = spec.read_entries(strict=strict, open_fn=open_fn)
            if mode is None:
                known.append(known_list(spec, hash_list))
                continue
            config = list_config(mode, hash_list, entries, threshold=spec.thresholds.get("pdq"))
            matcher = None if config is None else ModeMatcher.from_list(config, hash_list, entries)
            self.mode_lists.append(ModeList(spec.name, hash_list.version, spec.role.value, matcher))
            known.append(without(known_list(spec, hash_list), self._mode_algorithms))
        self.mode_lists.sort(key=lambda listed: listed.name)
        self.known = known
        self._indexes = KnownIndexes(known)
        self._infos = [list_info(k) for k in known]

    def match(self, rows: Iterable[dict], *, run_id: str, matched_at_us: int) -> list[dict]:
        """The ``matches`` rows of one object's ``hashes`` rows (plain, then the mode's)."""
        rows = list(rows)
        plain = [r for r in rows if r[schemas.ALGORITHM] not in self._mode_algorithms]
        moded = [r for r in rows if r[schemas.ALGORITHM] in self._mode_algorithms]
        out = list(self._plain(plain, run_id=run_id, matched_at_us=matched_at_us))
        if self.mode is not None:
            out += self._in_mode(moded, run_id=run_id, matched_at_us=matched_at_us)
        return out

    def _plain(self, rows: list[dict], *, run_id: str, matched_at_us: int) -> Iterator[dict]:
        queries: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            algorithm = row[schemas.ALGORITHM]
            listed = algorithm in self._indexes.by_algorithm
            if query_outcome(row, self.quality_cutoff, listed) == PROBED:
                queries[algorithm].append(row)
        hits = defaultdict(list)
        for algorithm, batch in sorted(queries.items()):
            for key, hit in self._indexes.probe(algorithm, batch):
                hits[key].append(hit)
        for key in sorted(hits):
            yield from resolve(
                key, hits[key], self._infos, run_id=run_id, matched_at_us=matched_at_us
            )

    def _in_mode(self, rows: list[dict], *, run_id: str, matched_at_us: int) -> list[dict]:
        config = CONFIGS[self.mode]
        any_list = any(listed.matcher is not None for listed in self.mode_lists)
        frames: dict[tuple, list[tuple]] = defaultdict(list)
        for row in rows:
            reason = query_reason(
                config, row, quality_cutoff=self.quality_cutoff, any_list=any_list
            )
            if reason in TAKE_PART:
                frames[(row[schemas.URI], row.get(schemas.FRAME))].append(query_row(row))
        keys = sorted(frames, key=lambda k: (k[0], -1 if k[1] is None else k[1]))
        queries = [FrameQuery.from_rows(frames[k]) for k in keys]
        found = match_frames(
            self.mode_lists, keys, queries, run_id=run_id, matched_at_us=matched_at_us
        )
        return list(found)
