"""The accounting check: every object the inputs hold ends somewhere, or the run says it did not.

A run's ledger (counts that travel with the data, summed once; see
``photosieve.transforms.ledger``) is checked against the rules below when
the pipeline ends; each broken rule is one problem line in ``summary.json``
(``accounting.problems``) and the exit status is 1. Beam-free: the ledger is
plain nested JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from photosieve import ledger as keys
from photosieve.ledger import Ledger

__all__ = ["check_accounting", "check_queries"]


def check_accounting(ledger: dict, algorithms: Sequence[str], *, all_frames: bool) -> list[str]:
    """Problems with the rule "every object ends in hashes or errors, per algorithm".

    Returns an empty list when every entry the listing produced was read,
    carried or skipped for a counted reason (listed = read + carried +
    skipped, a file matched by overlapping globs counted once per match),
    every object read reached the hashing step once, and each of its
    requested algorithms is in exactly one of the ``hashes`` and ``errors``
    tables (an animated image may have both, for different frames, only
    when all frames were hashed). Objects a repeat audit carried from a
    previous run, unread, count with their carried rows.
    """
    counts = Ledger(ledger)
    read, hashed = counts.count(keys.OBJECTS_READ), counts.count(keys.OBJECTS_HASHED)
    carried = counts.count(keys.OBJECTS_CARRIED)
    problems = []
    listed = counts.count(keys.LISTING_ENTRIES)
    skipped = counts.total((*keys.SKIPPED, "listing"))
    arrived = counts.count(keys.FILES_LISTED) + counts.count(keys.FILES_RELISTED)
    if listed != arrived + skipped:
        problems.append(
            f"{listed} entries listed but {arrived} files read or carried and {skipped} skipped"
        )
    if read != hashed:
        problems.append(f"{read} objects read but {hashed} hashed")
    units = counts.counts(keys.UNITS)
    for name in algorithms:
        outcome = counts.counts((*keys.UNITS, name))
        accounted = sum(outcome.values())
        if accounted != hashed + carried:
            problems.append(f"{name}: {accounted} outcomes for {hashed + carried} objects")
        for bad in ("missing", "unexpected") + (() if all_frames else ("partial",)):
            if outcome.get(bad):
                problems.append(f"{name}: {outcome[bad]} objects {bad}")
    for name in sorted(set(units) - set(algorithms)):
        problems.append(
            f"{name}: not requested but reported for {counts.total((*keys.UNITS, name))} objects"
        )
    return problems


def check_queries(ledger: dict, hash_rows: int) -> list[str]:
    """Problems with the rule "every stored hash row is queried or skipped for a reason"."""
    queried = Ledger(ledger).total(keys.QUERIES)
    return (
        [] if queried == hash_rows else [f"{hash_rows} hash rows but {queried} queried or skipped"]
    )


