"""Recall at a false-match budget: each mode's threshold from the shipped curve, at real list sizes.

An audit chooses each list's PDQ threshold from a false-match budget per
scanned image and the list's size (:mod:`photosieve.robust.budget`, with the
curve ``photosieve/robust/false_match_curve.json`` measured on half A of the
photos by ``benchmarks/false_match_curve.py``). This benchmark takes, for
every shipped mode of :mod:`benchmarks.bench_robustness`, the threshold an
audit would choose at budgets 1e-4, 1e-6 and 1e-8 per scanned image against
lists of 1M and 10M listed images, and measures on half B (photos the curve
never saw) the share of edited copies found, per kind of edit, and the
different-photo pairs that match.

A list of N listed images holds N hashes when it is hash-only, and N x (1 +
windows + borders + region) when built from images; a scanned image is
queried with the mode's query hashes (both as an audit counts them,
:func:`photosieve.robust.budget.query_hashes_per_image`). A mode that
combines PDQ with a second hash into a score (``+ gradient combine``)
keeps its calibrated score threshold and the budget caps its PDQ distance
(``max_pdq``); a mode that requires the second hash to agree (``+ pHash
require``) matches PDQ bits and gets the budget as a lower threshold.

Usage (from the repository root; hashes cached by ``bench_robustness``)::

    .venv/bin/python -m benchmarks.bench_budget                  # half B, all photos of it
    .venv/bin/python -m benchmarks.bench_budget --limit 40       # a quick look

The photos (``../shared/data/photos``) are research-licensed: this script
reads them and writes only numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from benchmarks import bench_robustness as robustness
from photosieve.robust.budget import Curve, choose_threshold, query_hashes_per_image

logger = logging.getLogger(__name__)

BUDGETS = (1e-4, 1e-6, 1e-8)
LISTED = (1_000_000, 10_000_000)


def list_hashes_per_image(mode: robustness.Mode) -> int:
    """PDQ hashes a list holds per listed image for ``mode``: 1 hash-only; built: plain + windows + 2."""
    if mode.list_options is None:
        return 1
    return 1 + len(mode.list_options.windows) + (2 if mode.list_options.borders else 0)


def budget_thresholds(curve: Curve, budget: float, listed: int) -> dict[str, tuple[float, bool]]:
    """Mode name -> (the threshold an audit would choose, whether the curve supports the budget)."""
    out = {}
    for mode in robustness.MODES:
        config = mode.config
        expansion = config.expansion
        q = query_hashes_per_image(expansion, dihedral=expansion.dihedral, as_stored=True)
        choice = choose_threshold(
            curve,
            budget=budget,
            query_hashes=q,
            list_hashes=listed * list_hashes_per_image(mode),
            cap=config.pdq_radius,
        )
        out[mode.name] = (choice.threshold, choice.supported)
    return out


def budgeted(mode: robustness.Mode, threshold: float) -> robustness.Mode:
    """``mode`` as an audit runs it at the budget's PDQ ``threshold``.

    A combined score keeps its calibrated threshold and gets the PDQ cap
    (``max_pdq``); every other mode's threshold is lowered
    (:func:`photosieve.robust.modes.config_for_list`).
    """
    config = mode.config
    if config.combines:
        config = dataclasses.replace(config, max_pdq=threshold)
    else:
        config = dataclasses.replace(config, threshold=threshold)
    return dataclasses.replace(mode, config=config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-p", "--photos", type=Path, default=robustness.DEFAULT_PHOTOS)
    parser.add_argument(
        "-n", "--limit", type=int, default=0, help="First N photos of the half (0: all). Default: 0"
    )
    parser.add_argument("--split", choices=("A", "B"), default="B", help="Half to measure on. Default: B")
    parser.add_argument("-c", "--cache", type=Path, default=robustness.DEFAULT_CACHE)
    parser.add_argument("-s", "--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        parser.error(f"--photos: {args.photos} is not a folder")
    curve = Curve.shipped()
    if curve is None:
        parser.error("this build ships no false-match curve (run benchmarks.false_match_curve)")
    threadpool_limits(limits=1, user_api="blas")
    everything = robustness.list_photos(args.photos)
    seeds = {p: args.seed + i for i, p in enumerate(everything)}
    chosen = robustness.select(everything, args.split, args.limit)
    started = time.monotonic()
    photos = robustness.hash_all(chosen, [seeds[p] for p in chosen], args.cache)
    pairs = robustness.search(photos)
    logger.info("%d photos of half %s ready (%.0f s)", len(photos), args.split, time.monotonic() - started)
    names = [m.name for m in robustness.MODES]
    issue = slice(1, 1 + len(robustness.EDIT_NAMES))
    lines = [
        f"Recall at a false-match budget: half {args.split}, {len(photos)} photos "
        f"(the curve: {curve.comparisons:,} comparisons of half A)",
        "",
        "| budget per scanned image | listed images | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    detail = None
    for budget in BUDGETS:
        for listed in LISTED:
            chosen_t = budget_thresholds(curve, budget, listed)
            runs = [budgeted(mode, chosen_t[mode.name][0]) for mode in robustness.MODES]
            thresholds = {mode.name: mode.config.threshold for mode in runs}
            results = robustness.evaluate(pairs, len(photos), runs, 0.0, thresholds)
            cells = []
            for name in names:
                t, supported = chosen_t[name]
                r = results[name]
                cells.append(
                    f"t {t:g}{'' if supported else '*'}: {r['recall'][issue].mean():.3f} "
                    f"({r['false_positives']} false of {r['pairs']:,})"
                )
            lines.append(f"| {budget:g} | {listed:,} | " + " | ".join(cells) + " |")
            if budget == 1e-6 and listed == LISTED[-1]:
                detail = results
    plain = robustness.MODES[0]  # an audit without a mode: PDQ at the list's own 31 at most
    t_plain = min(31, budget_thresholds(curve, 1e-6, LISTED[-1])[plain.name][0])
    at_31 = robustness.evaluate(pairs, len(photos), [plain], 0.0, {plain.name: t_plain})[plain.name]
    lines += [
        "",
        f"An audit without --match-mode (PDQ, capped by the list's own 31): t {t_plain:g} at every "
        f"budget and size above, recall {at_31['recall'][issue].mean():.3f} "
        f"({at_31['false_positives']} false of {at_31['pairs']:,}).",
    ]
    lines += [
        "",
        "`t N*`: the curve cannot support the budget at this size; the strictest measured point "
        "(no false comparison counted at <= N). Cells: recall over the issue's edit kinds "
        "(false different-photo pairs / pairs).",
        "",
        f"Per kind of edit at the default budget (1e-6) against {LISTED[-1]:,} listed images:",
        "",
        "| edit | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for k, edit in enumerate(robustness.EDIT_NAMES, start=1):
        cells = " | ".join(f"{detail[n]['recall'][k]:.2f}" for n in names)
        lines.append(f"| {edit} | {cells} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
