"""The lists' preflight: every list read once, checked, and summarised before any work starts.

:func:`check_lists` reads each list of the run once (with a matching mode,
with the entries the mode needs to pick its configuration), refuses what
cannot run (bad lines in strict mode, a list the strategy cannot join, a
mode that cannot match a list), and returns each list's summary for
``summary.json``: counts, version, role and the thresholds the run uses,
and with a mode the configuration it matches the list with. Workers read
the lists again, each for itself, and refuse a list whose version changed
since (the summaries' versions are what they expect).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from photosieve import algorithms
from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import HashList, ListSpec, read_lists, read_lists_entries
from photosieve.lists.hash_list import IDS, LABELS
from photosieve.robust.budget import Curve, choose_threshold, query_hashes_per_image
from photosieve.robust.matcher import list_config
from photosieve.robust.modes import CONFIGS, TARGET_FPR, MatchConfig
from photosieve.run_config import SHUFFLE, SIDE_INPUT, Matching
from photosieve.strategy import Choice, ListSize, choose_strategy
from photosieve.summary import LIST_BUDGET, LIST_MATCH_MODE
from photosieve.transforms.known_lists import open_stored
from photosieve.transforms.mode_matching import shuffle_refusal
from photosieve.transforms.video_matching import expand_pattern
from photosieve.video.video_list import read_video_list

__all__ = ["check_lists", "check_video_lists", "list_sizes", "resolve_strategy", "with_budget_thresholds"]

_LOG = logging.getLogger(__name__)


def check_lists(
    matching: Matching,
    plan_algorithms: Sequence[str] | None,
    warnings: list[str] | None = None,
    *,
    query_hashes: int | None = None,
    curve: Curve | None = None,
    lists_read: list | None = None,
) -> list[dict]:
    """Read every list once, before any work starts; return their summaries for summary.json.

    Args:
        matching: the run's lists and how they are matched.
        plan_algorithms: the algorithms the run computes (a list holding
            others gets a warning), or None (``match``: whatever is stored).
        warnings: where to add what the user should know but does not stop
            the run (an empty list: it can match nothing), for ``summary.json``
            and the closing lines; they are logged too.
        query_hashes: PDQ hashes per scanned image, for the false-match
            budget (None: the most any run of this matching could use).
        curve: the false-match curve (None: the shipped one).
        lists_read: where to put each list as read, ``(HashList, entries)``
            in the order of ``matching.lists`` (entries only with a mode), for
            a caller that matches in this process and need not read them again.

    Each list's PDQ threshold is the largest its false-match budget allows
    (:mod:`photosieve.robust.budget`), never above its own or the mode's;
    the summary records how (``false_match_budget``) and the threshold used,
    which :func:`with_budget_thresholds` hands to the workers.

    Raises:
        ConfigError: unreadable lists (not a regular file, over --max-list-bytes,
            not readable as their format), bad lines in strict mode (the first
            20 problems of all lists and the count), a list with hashes of no
            algorithm the run computes, lists the strategy cannot join, or
            that the matching mode cannot match.
    """
    warnings = [] if warnings is None else warnings
    mode, strategy = matching.match_mode, matching.strategy
    if mode is not None and strategy == SHUFFLE:
        raise ConfigError(shuffle_refusal(mode))  # before reading any list (auto: side input)
    specs = matching.lists
    read = _read(specs, strict=matching.strict_lists, entries=mode is not None)
    if lists_read is not None:
        lists_read.extend(read)
    curve = Curve.shipped() if curve is None else curve
    if query_hashes is None:  # match: the stored hashes' plan is not known here; the most
        expansion = None if mode is None else CONFIGS[mode].expansion
        query_hashes = query_hashes_per_image(expansion, dihedral=True, as_stored=True)
    summaries = []
    for spec, (hash_list, entries) in zip(specs, read):
        if not hash_list.distinct:
            warnings.append(_empty(spec, hash_list))
            _LOG.warning("%s", warnings[-1])
        _check_algorithms(spec, hash_list, plan_algorithms, strategy)
        summary = hash_list.summary()
        summary.update(
            role=spec.role.value, thresholds={a: spec.threshold(a) for a in hash_list.algorithms}
        )
        config = None
        if mode is not None:
            config = list_config(mode, hash_list, entries, threshold=spec.thresholds.get("pdq"))
            if config is not None:  # None: no PDQ hashes, matched as usual
                _record_mode(spec, summary, config, CONFIGS[mode])
        if "pdq" in hash_list.groups:
            budget = spec.false_match_budget or matching.false_match_budget
            _apply_budget(spec, summary, hash_list, config, budget, query_hashes, curve)
        summaries.append(summary)
    return summaries


def with_budget_thresholds(matching: Matching, summaries: Sequence[dict]) -> Matching:
    """``matching`` with each list's PDQ threshold lowered to what its budget allowed.

    The workers build their indexes (and a mode its configuration) from the
    specs, so the threshold chosen here reaches them through the specs.
    """
    lists = []
    for spec, summary in zip(matching.lists, summaries):
        chosen = (summary.get(LIST_BUDGET) or {}).get("threshold")
        # A mode's threshold is its own (the spec's may only lower it): the chosen one is
        # at most that, so it goes to the spec; plain matching, only when it is lower.
        lower = chosen is not None and (
            matching.match_mode is not None or chosen < spec.threshold("pdq")
        )
        if lower:
            spec = dataclasses.replace(spec, thresholds={**spec.thresholds, "pdq": chosen})
        lists.append(spec)
    return dataclasses.replace(matching, lists=tuple(lists))


def list_sizes(matching: Matching, hash_lists: Sequence[HashList]) -> list[ListSize]:
    """Every (list, algorithm) group as a worker will hold it, for :func:`resolve_strategy`.

    ``hash_lists`` are the lists as preflight read them, in the order of
    ``matching.lists``; the thresholds are the specs' (after
    :func:`with_budget_thresholds`: the index's geometry depends on them).
    """
    sizes = []
    for spec, hash_list in zip(matching.lists, hash_lists):
        for algorithm, group in sorted(hash_list.groups.items()):
            kept = [name for name in (IDS, LABELS) if name in group.metadata.column_names]
            sizes.append(
                ListSize(
                    spec.name,
                    algorithm,
                    len(group),
                    spec.threshold(algorithm),
                    metadata_bytes=int(group.metadata.select(kept).nbytes),
                )
            )
    return sizes


def resolve_strategy(
    matching: Matching, hash_lists: Sequence[HashList], warnings: list[str] | None = None
) -> tuple[Matching, Choice]:
    """``matching`` with the join it runs: ``--strategy auto`` decided from the lists' sizes.

    An explicit join is kept (with its reason); a choice of side input over
    the budget (a mode or a gradient list needs it) adds a warning to
    ``warnings`` and the log. The decision is logged either way.
    """
    choice = choose_strategy(
        matching.strategy,
        list_sizes(matching, hash_lists),
        matching.side_input_budget,
        match_mode=matching.match_mode,
    )
    if choice.warning is not None:
        if warnings is not None:
            warnings.append(choice.warning)
        _LOG.warning("%s", choice.warning)
    _LOG.info("join strategy %s: %s", choice.strategy, choice.reason)
    return matching.with_choice(choice), choice


def _apply_budget(
    spec: ListSpec,
    summary: dict,
    hash_list: HashList,
    config: MatchConfig | None,
    budget: float,
    query_hashes: int,
    curve: Curve | None,
) -> None:
    """Choose the list's PDQ threshold from its budget; record the choice in its summary."""
    if curve is None:
        summary[LIST_BUDGET] = {
            "budget": budget,
            "applied": False,
            "derivation": "this build ships no false-match curve",
        }
        return
    # A combined score keeps its threshold; the budget caps the PDQ distance under it.
    cap = config.pdq_radius if config is not None else spec.threshold("pdq")
    choice = choose_threshold(
        curve, budget=budget, query_hashes=query_hashes, list_hashes=len(hash_list.groups["pdq"]),
        cap=cap,
    )  # fmt: skip
    summary[LIST_BUDGET] = {"applied": True, **choice.to_json()}
    summary["thresholds"] = {**summary.get("thresholds", {}), "pdq": choice.threshold}
    if config is not None:
        key = "max_pdq" if config.combines else "threshold"
        summary[LIST_MATCH_MODE][key] = choice.threshold
    (_LOG.info if choice.supported else _LOG.warning)(
        "list %s: PDQ threshold %d from the false-match budget %g per scanned image (%s)",
        spec.name,
        choice.threshold,
        budget,
        choice.derivation,
    )


def _read(specs: Sequence[ListSpec], *, strict: bool, entries: bool) -> list[tuple[HashList, dict]]:
    """Every list once: ``(list, entries)`` (entries only when a mode needs them, else ``{}``)."""
    try:
        if entries:
            return read_lists_entries(specs, strict=strict, open_fn=open_stored)
        return [(hash_list, {}) for hash_list in read_lists(specs, strict=strict, open_fn=open_stored)]
    except ListFormatError as exc:
        if exc.whole_file:  # one line, no --lenient-lists hint
            raise ConfigError(f"--list: {exc.problems[0]}") from exc
        raise ConfigError(
            f"--list: {exc}\n(pass --lenient-lists to skip bad lines and count them)"
        ) from exc


def _empty(spec: ListSpec, hash_list: HashList) -> str:
    """The warning for a list that holds no hash: it can match nothing."""
    what = f"{hash_list.rows} rows, all bad" if hash_list.rows else "no rows: empty, comments or a header only"
    return f"list {spec.name} ({spec.path}) holds no hashes ({what}): it can match nothing"


def _check_algorithms(
    spec: ListSpec, hash_list: HashList, plan_algorithms: Sequence[str] | None, strategy: str
) -> None:
    held = list(hash_list.algorithms)
    if held and plan_algorithms is not None and not set(held) & set(plan_algorithms):
        raise ConfigError(
            f"list {spec.name} holds only {', '.join(held)} hashes, and this run computes "
            f"{', '.join(plan_algorithms)} (--algorithms): it could match nothing; add "
            f"{held[0]} to --algorithms, or leave the list out"
        )
    for algorithm in hash_list.algorithms:
        if plan_algorithms is not None and algorithm not in plan_algorithms:
            _LOG.warning(
                "list %s holds %s hashes, which this run does not compute (--algorithms); "
                "they will not be matched",
                spec.name,
                algorithm,
            )
        metric = algorithms.get(algorithm).metric
        if strategy == SHUFFLE and metric is algorithms.Metric.EUCLIDEAN:
            raise ConfigError(
                f"list {spec.name} holds {algorithm} hashes ({metric.value} distance), which "
                f"--strategy {SHUFFLE} cannot join; use --strategy {SIDE_INPUT}"
            )


def _record_mode(spec: ListSpec, summary: dict, config: MatchConfig, mode: MatchConfig) -> None:
    """A list's summary with the PDQ threshold and configuration ``mode`` uses for it (the
    mode's second algorithm only confirms PDQ pairs, so it leaves ``thresholds``)."""
    thresholds = dict(summary.get("thresholds", {}))
    thresholds["pdq"] = config.pdq_radius
    if mode.second_opinion is not None:
        thresholds.pop(mode.second_opinion.algorithm, None)
    summary["thresholds"] = thresholds
    summary[LIST_MATCH_MODE] = _settings(config)
    _LOG.info(
        "list %s: matched in mode %s (PDQ threshold %g, FPR %g per query-list image pair)",
        spec.name,
        config.name,
        config.threshold,
        TARGET_FPR,
    )


def _settings(config: MatchConfig) -> dict:
    """What summary.json records of a list's configuration (JSON-ready)."""
    opinion = config.second_opinion
    return {
        "config": config.name,
        "threshold": config.threshold,
        "max_pdq": config.max_pdq,
        "calibrated_threshold": CONFIGS[config.name].threshold,
        "target_fpr_per_pair": TARGET_FPR,
        "windows": len(config.windows),
        "windows_dihedral": config.windows_dihedral,
        "second_opinion": None if opinion is None else dataclasses.asdict(opinion),
        "query_expansion": dataclasses.asdict(config.expansion),
    }


def check_video_lists(matching: Matching, plan_algorithms: Sequence[str] | None,
                      warnings: list[str] | None = None) -> list[dict]:
    """Read every video list once (``--video-list``); return their summaries for summary.json.

    Raises:
        ConfigError: an unreadable list, bad lines in strict mode, or video
            lists in a run that does not compute PDQ (they could match nothing).
    """
    warnings = [] if warnings is None else warnings
    if matching.video_lists and plan_algorithms is not None and "pdq" not in plan_algorithms:
        raise ConfigError("--video-list needs PDQ among --algorithms: vPDQ is PDQ of sampled frames")
    summaries = []
    for spec in matching.video_lists:
        try:
            listed = read_video_list(spec, strict=matching.strict_lists, open_fn=open_stored, expand_fn=expand_pattern)
        except ListFormatError as exc:
            hint = "" if exc.whole_file else "\n(pass --lenient-lists to skip bad videos and count them)"
            raise ConfigError(f"--video-list {spec.name}: {exc}{hint}") from exc
        except ConfigError as exc:
            raise ConfigError(f"--video-list {spec.name}: {exc}") from exc
        summary = {**listed.summary(), "path": spec.path, "role": "match",
                   "rule": dataclasses.asdict(matching.video_rule)}
        if listed.skipped:
            summary["problems"] = [str(p) for p in listed.problems]
        if not len(listed):
            warnings.append(f"video list {spec.name} ({spec.path}) holds no video: it can match nothing")
            _LOG.warning("%s", warnings[-1])
        summaries.append(summary)
    return summaries
