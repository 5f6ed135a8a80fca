"""Matching hashes against the run's lists, as ``audit`` and ``match`` both do it.

:class:`MatchLists` takes the run's :class:`~photosieve.run_config.Matching`
and picks the matcher: :class:`~photosieve.transforms.matching.MatchHashes`
(each list's thresholds), or with a matching mode
:class:`~photosieve.transforms.mode_matching.MatchInMode` (PDQ at the mode's
calibrated threshold, the other algorithms as usual). Both jobs build their
matching from this one transform, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

import apache_beam as beam

from photosieve.run_config import Matching
from photosieve.transforms.matching import MatchHashes
from photosieve.transforms.mode_matching import MatchInMode

__all__ = ["MatchLists"]


class MatchLists(beam.PTransform):
    """Hash rows in; ``matches`` rows and the ledger out (tagged ``matches`` and ``ledger``).

    Args:
        matching: the lists and how to match them.
        run_id: written on every match row.
        matched_at_us: the run's start (microseconds since the epoch, UTC).
        expected_versions: list name -> the version preflight read; a worker
            that reads another version (the list changed meanwhile) fails the run.

    Example (a plain-text list: ``algorithm hash`` per line):

    >>> import pathlib, tempfile
    >>> from photosieve.lists import ListSpec
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "known.txt"
    >>> _ = path.write_text("md5 " + "ab" * 16 + "\\n")
    >>> rows = [{"uri": "a.jpg", "algorithm": "md5", "hash": "ab" * 16},
    ...         {"uri": "b.jpg", "algorithm": "md5", "hash": "cd" * 16}]
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     matched = p | beam.Create(rows) | MatchLists(
    ...         Matching((ListSpec(str(path)),)), run_id="r1", matched_at_us=0)
    ...     _ = matched["matches"] | beam.Map(lambda r: print(r["uri"], r["list_name"], r["status"]))
    a.jpg known match
    """

    def __init__(
        self,
        matching: Matching,
        *,
        run_id: str,
        matched_at_us: int,
        expected_versions: Mapping[str, str] | None = None,
    ):
        super().__init__()
        self._matching = matching
        self._options = {
            "run_id": run_id,
            "matched_at_us": matched_at_us,
            "strategy": matching.strategy,
            "quality_cutoff": matching.quality_cutoff,
            "strict_lists": matching.strict_lists,
            "expected_versions": dict(expected_versions or {}),
        }

    def expand(self, hashes):
        lists, mode = list(self._matching.lists), self._matching.match_mode
        if mode is not None:
            return hashes | "MatchInMode" >> MatchInMode(lists, mode, **self._options)
        return hashes | "MatchHashes" >> MatchHashes(lists, **self._options)
