"""``--match-mode``: the flag, the hash plan a mode needs, and its preflight (``audit``, ``match``).

A matching mode (:data:`photosieve.robust.modes.CONFIGS`) changes both ends
of a run: the hasher computes the mode's extra query hashes
(:func:`plan_for_mode`), and PDQ is matched by
:class:`photosieve.transforms.mode_matching.MatchInMode` at the mode's calibrated
threshold instead of each list's. :func:`preflight` checks, before any work
starts, that every list can be matched in the mode and records in each
list's ``summary.json`` entry the configuration, threshold and settings the
run uses for it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence

from photosieve.errors import ConfigError
from photosieve.hashing import ALGORITHM_CHOICES, HashPlan
from photosieve.lists import ListSpec
from photosieve.robust.modes import CONFIGS, TARGET_FPR, MatchConfig
from photosieve.run_config import SIDE_INPUT
from photosieve.transforms.mode_matching import read_list_config

__all__ = ["MODE_KEY", "add_mode_arguments", "plan_for_mode", "preflight"]

_LOG = logging.getLogger(__name__)

# Key of the mode's settings in each list's summary.json entry.
MODE_KEY = "match_mode"


def add_mode_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--match-mode`` to ``parser`` (profile key: ``match_mode``)."""
    thresholds = ", ".join(f"{name} {config.threshold:g}" for name, config in CONFIGS.items())
    parser.add_argument(
        "--match-mode",
        choices=tuple(CONFIGS),
        default=None,
        metavar="MODE",
        help="Also find edited copies (rotated, mirrored, bordered, in a screenshot, cropped): "
        "hash each image's extra query hashes and match PDQ at the mode's calibrated threshold "
        "instead of each list's. 'robust' suits every list: hash-only PDQ lists, and lists built "
        "with `photosieve lists build --from-images` (matched as robust-windows, which also "
        "finds crops); robust-windows-gradient / -phash confirm each pair with a second hash "
        "(lists built with --second-opinions). Thresholds (PDQ bits; a score when a second "
        "opinion is combined): "
        f"{thresholds}; --threshold pdq=N may lower a mode's (stricter). They are calibrated at "
        f"a false-positive rate of {TARGET_FPR:g} per "
        "(query image, listed image) pair: about one false match per query image against a "
        "list of 10,000 images, so for large lists plain PDQ at 31 (no mode) stays the "
        "conservative choice. Costs ~10x the PDQ hashing time and a scan of the lists per "
        f"query hash; needs --strategy {SIDE_INPUT}. Default: none (plain PDQ).",
    )
    return parser


def plan_for_mode(plan: HashPlan, mode: str) -> HashPlan:
    """``plan`` with what ``mode`` hashes: its query expansion, dihedral PDQ, its second algorithm.

    Raises:
        ConfigError: no PDQ in the plan, or dihedral PDQ asked for a mode without it.
    """
    config = CONFIGS[mode]
    expansion = config.expansion
    if "pdq" not in plan.algorithms:
        raise ConfigError(f"--match-mode {mode} needs pdq among --algorithms")
    if plan.pdq_dihedral and not expansion.dihedral:
        raise ConfigError(
            f"--match-mode {mode} matches upright PDQ hashes only (its threshold is calibrated "
            "for one hash per image); drop --dihedral / pdq-dihedral, or use --match-mode "
            "pdq-dihedral"
        )
    wanted = {*plan.algorithms, *expansion.second_opinions}
    return dataclasses.replace(
        plan,
        algorithms=tuple(name for name in ALGORITHM_CHOICES if name in wanted),
        pdq_dihedral=expansion.dihedral,
        query_expansion=expansion,
    )


def _settings(config: MatchConfig) -> dict:
    """What summary.json records of a list's configuration (JSON-ready)."""
    opinion = config.second_opinion
    return {
        "config": config.name,
        "threshold": config.threshold,
        "calibrated_threshold": CONFIGS[config.name].threshold,
        "target_fpr_per_pair": TARGET_FPR,
        "windows": len(config.windows),
        "windows_dihedral": config.windows_dihedral,
        "second_opinion": None if opinion is None else dataclasses.asdict(opinion),
        "query_expansion": dataclasses.asdict(config.expansion),
    }


def preflight(specs: Sequence[ListSpec], summaries: list[dict], mode: str, *, strict: bool) -> None:
    """Check that every list can be matched in ``mode``; record its settings in ``summaries``.

    Each list summary with PDQ hashes gets ``thresholds["pdq"]`` (the mode's
    threshold for that list, or the list's own when lower) and ``match_mode``
    (the configuration and its settings); the mode's second algorithm leaves
    ``thresholds``: it only confirms PDQ pairs.

    Raises:
        ConfigError: a PDQ threshold above the mode's, or a list the mode
            cannot match (named).
    """
    opinion = CONFIGS[mode].second_opinion
    for spec, summary in zip(specs, summaries):
        # As the pipeline reads it (bad lines were reported by check_lists already).
        _, _, config = read_list_config(spec, mode, strict=strict)
        if config is None:  # no PDQ hashes
            continue
        thresholds = dict(summary.get("thresholds", {}))
        thresholds["pdq"] = config.threshold
        if opinion is not None:
            thresholds.pop(opinion.algorithm, None)
        summary["thresholds"] = thresholds
        summary[MODE_KEY] = _settings(config)
        _LOG.info(
            "list %s: matched in mode %s (PDQ threshold %g, FPR %g per query-list image pair)",
            spec.name,
            config.name,
            config.threshold,
            TARGET_FPR,
        )
