"""Repeat audits: what a run may carry forward from previous runs, and why a match is new.

Users audit the same growing archive every week as new hash lists arrive.
Decoding is the whole cost, so ``photosieve audit --previous DIR`` does not
read a file it already hashed, and says what is new since then. This module
is the Beam-free core of that; :mod:`photosieve.transforms.incremental` runs it in the
pipeline (a ``CoGroupByKey`` on the file path between this run's listing and
the previous runs' tables).

* :func:`hash_settings`: per algorithm, everything that decides its bits
  (implementation and decoder versions, decode mode, EXIF, fast-decode size,
  dihedral / as-stored / query expansion). Every audit records it in
  ``summary.json``; hashes are carried only between runs where it is equal.
* :class:`PreviousRun`: what a previous run's ``summary.json`` says.
* :class:`CarryPolicy`: for one listed file and the previous runs' rows for
  it: is it ``new``, ``changed`` or ``unchanged`` (uri, size, modification
  time, and the filesystem's checksum when both runs have one), and may its
  hashes and errors be carried, or must it be read again, and why.
* :class:`MatchClassifier`: why a match row is new since the previous run.

Videos: pixel algorithms' settings record ``video_interval_s`` (the vPDQ
sampling interval; None = videos not hashed) and ``video_max_frames`` (the
sampled frames hashed per video; None when videos are not hashed). They
decide the rows of video objects only, so a change of them does not re-read images: it re-reads the
objects hashed as videos then (hash rows with a frame timestamp) and those
that failed as ``not_an_image`` or ``no_video_stream`` (a run that did not hash
videos filed every video as ``not_an_image``). The segment length of long
videos changes no row and is not recorded.

Chains: several previous runs may be given (oldest first); for each file the
latest run that has a ``files`` row for it wins, even when that row says the
file was gone then (it is then new again).

Errors: a failure of unchanged bytes under unchanged settings is carried when
it would happen again (``empty``, ``not_an_image``, ``corrupt``,
``truncated``, ``too_small``, and ``decompression_bomb`` under the same pixel
limit), and so are the archive members that are ``encrypted`` or an
``overlapping_entry``; everything else is retried: read failures (storage
trouble passes; ``archive_limit`` depends on the limit),
``unsupported_format`` (a decoder may have been installed since) and
``hash_error`` (a bug may have been fixed since).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from photosieve import algorithms, schemas
from photosieve import ledger as keys
from photosieve.decode import DECODER_VERSION
from photosieve.errors import ConfigError, FailureReason
from photosieve.hashing import HashPlan
from photosieve.ledger import Ledger
from photosieve.reading import is_archive
from photosieve.summary import LIST_MATCH_MODE, Summary

__all__ = [
    "CarryPolicy",
    "Decision",
    "Listing",
    "MatchClassifier",
    "MatchContext",
    "PreviousRun",
    "check_files",
    "covered",
    "describe",
    "file_row",
    "hash_settings",
    "match_key",
    "settings_differences",
    "summary_section",
    "video_differences",
]

# -- what happened to a listed file (the files table's ``state``) -----------------
NEW = "new"  # no previous run has it
CHANGED = "changed"  # size, modification time or checksum differ from the previous run's
UNCHANGED = "unchanged"
GONE = "gone"  # the previous run had it; this run's inputs no longer match it
STATES = (NEW, CHANGED, UNCHANGED, GONE)

# -- why an unchanged file was read again (the files table's ``reread``) ----------
REREAD_SETTINGS = "settings"  # its hashes were made with other settings or code versions
REREAD_RETRY = "retry"  # it failed in a way worth trying again (see the module docstring)
REREAD_INCOMPLETE = "incomplete"  # the previous run has no outcome for some algorithm of it
REREAD_FORCED = "rehash"  # --rehash

# -- why a match row is new (the matches table's ``new_reason``) ------------------
NEW_OBJECT = "new object"  # the file is new since the previous run
CHANGED_OBJECT = "changed object"  # the file changed since the previous run
PREVIOUSLY_FAILED = "previously failed"  # read again after a failure (or no outcome) then
STATUS_CHANGED = (
    "suppression changed"  # matched before with another status (suppress lists changed)
)
NEW_LIST = "new list"  # the previous run had no list of this name
THRESHOLD_CHANGED = "threshold changed"  # beyond the list's threshold then
NEW_LIST_ENTRY = "new list entry"  # the list's version changed and this entry did not match before
MODE_CHANGED = "match mode changed"  # the list is matched in another --match-mode configuration
NEW_SETTINGS = "new hash settings"  # the object was hashed again with other settings
CUTOFF_CHANGED = "quality cutoff changed"  # PDQ quality below the cutoff then
UNEXPLAINED = "unexplained"  # none of the above: the previous run's tables are incomplete
NEW_REASONS = (
    NEW_OBJECT, CHANGED_OBJECT, PREVIOUSLY_FAILED, STATUS_CHANGED, NEW_LIST, THRESHOLD_CHANGED,
    NEW_LIST_ENTRY, MODE_CHANGED, NEW_SETTINGS, CUTOFF_CHANGED, UNEXPLAINED,
)  # fmt: skip

# Failures that unchanged bytes under unchanged settings would meet again.
CARRIED_ERRORS = frozenset(
    reason.value
    for reason in (
        FailureReason.EMPTY,
        FailureReason.NOT_AN_IMAGE,
        FailureReason.NO_VIDEO_STREAM,
        FailureReason.CORRUPT,
        FailureReason.TRUNCATED,
        FailureReason.TOO_SMALL,
        FailureReason.DECOMPRESSION_BOMB,  # only under the same max_pixels
        # --max-frames is a hash setting: under another one the file is read anyway.
        FailureReason.FRAMES_CUT_OFF,
    )
)
# Read failures that are a property of an archive member's bytes, not of storage.
CARRIED_READ_ERRORS = frozenset(
    reason.value for reason in (FailureReason.ENCRYPTED, FailureReason.OVERLAPPING_ENTRY)
)
READ_STAGE = "read"
# The pixel setting that decides video objects' bits (and whether they are
# hashed at all), compared on its own: images do not depend on it.
VIDEO_SETTING = "video_interval_s"
# ...and the other video settings compared with it (a run that did not record
# one counts as None: before it, videos were cut off at the image max_frames).
VIDEO_SETTINGS = (VIDEO_SETTING, "video_max_frames", "video_borders")
# Failures a run that hashes videos differently (or not at all) may not meet.
_VIDEO_SENSITIVE_ERRORS = frozenset(
    reason.value for reason in (FailureReason.NOT_AN_IMAGE, FailureReason.NO_VIDEO_STREAM)
)


def _json_form(value: Any) -> Any:
    """``value`` as it comes back from summary.json (tuples become lists), for comparisons."""
    return json.loads(json.dumps(value))


# How --all-frames reading ends (see hash_settings); bump when that changes.
_FRAME_RULE = 2


def hash_settings(plan: HashPlan) -> dict[str, dict]:
    """Per algorithm, every setting and code version that decides its bits (JSON-ready).

    Two runs whose settings for an algorithm are equal make the same bits
    from the same bytes, so a repeat audit may carry that algorithm's
    stored hashes forward. Limits that only decide whether an object fails
    (``max_pixels``, ``max_bytes``) are not here: see :func:`hash_limits`.
    """
    decode = plan.effective_decode
    pixels: dict[str, Any] = {
        "decoder": DECODER_VERSION,
        "mode": decode.mode,
        "exif_transpose": decode.exif_transpose,
        "luma": decode.luma,
        "all_frames": decode.all_frames,
    }
    if decode.all_frames:  # which frames come out depends on both limits...
        pixels.update(max_frames=decode.max_frames, max_pixels=decode.max_pixels)
        # ...and on how reading ends: since rule 2, frames before a damaged one
        # keep their hashes and a stop (damage, cut-off, budget) is an error
        # row; rule-1 runs failed the whole object or dropped frames silently.
        # (The CPU-time guard is left out: it depends on the machine, not the bytes.)
        pixels["frame_rule"] = _FRAME_RULE
    if decode.mode == "fast":
        pixels["fast_min_side"] = decode.fast_min_side
    # Recorded even when None, so a later run sees that videos were not hashed.
    pixels[VIDEO_SETTING] = plan.video_interval_s
    pixels["video_max_frames"] = plan.video_max_frames if plan.video_interval_s is not None else None
    # Borders rows of video frames (HashPlan.video_borders); runs before them made none.
    pixels["video_borders"] = plan.video_borders if plan.video_interval_s is not None else None
    if plan.query_expansion is not None:  # adds rows, also of second-opinion algorithms
        pixels["query_expansion"] = dataclasses.asdict(plan.query_expansion)
    settings = {}
    for name in plan.algorithms:
        spec = algorithms.get(name)
        entry: dict[str, Any] = {"version": spec.version}
        if spec.needs_pixels:
            entry.update(pixels)
        if name == "pdq":
            entry.update(
                dihedral=plan.pdq_dihedral,
                as_stored=plan.pdq_as_stored and not plan.pdq_dihedral,
            )
        settings[name] = entry
    return _json_form(settings)


def hash_limits(plan: HashPlan, max_bytes: int) -> dict[str, int]:
    """The limits that decide which objects fail, not their bits (JSON-ready).

    ``video_segment_frames`` is recorded here, never compared: it changes no
    row, only the CPU budget a video's parts get (an over_budget failure is
    retried anyway).
    """
    return {"max_pixels": plan.decode.max_pixels, "max_bytes": max_bytes,
            "video_segment_frames": plan.video_segment_frames}


def settings_differences(
    previous: Mapping[str, dict], current: Mapping[str, dict]
) -> dict[str, str]:
    """Algorithm -> what differs between two runs' :func:`hash_settings`, for each current algorithm that differs.

    >>> settings_differences({"pdq": {"mode": "fast"}}, {"pdq": {"mode": "exact"}, "md5": {}})
    {'pdq': 'mode fast -> exact', 'md5': 'not computed then'}
    """
    out = {}
    for name, now in current.items():
        then = previous.get(name)
        if then is None:
            out[name] = "not computed then"
            continue
        then, now = _without_video(then), _without_video(now)
        if then != now:
            keys = sorted(set(then) | set(now))
            out[name] = ", ".join(
                f"{key} {then.get(key)} -> {now.get(key)}"
                for key in keys
                if then.get(key) != now.get(key)
            )
    return out


def _without_video(entry: Mapping[str, Any]) -> dict:
    return {key: value for key, value in entry.items() if key not in VIDEO_SETTINGS}


def video_differences(previous: Mapping[str, dict], current: Mapping[str, dict]) -> set[str]:
    """The current algorithms whose video settings (``video_interval_s``, ``video_max_frames``) differ.

    A run made before videos were hashed has no such setting: it counts as
    None (videos not hashed), which is what that run did.

    >>> sorted(video_differences({"pdq": {"mode": "fast"}, "md5": {}},
    ...                          {"pdq": {"mode": "fast", "video_interval_s": 1.0}, "md5": {}}))
    ['pdq']
    """
    return {
        name for name, now in current.items()
        if name in previous
        and any(previous[name].get(key) != now.get(key) for key in VIDEO_SETTINGS)
    }


@dataclass(frozen=True)
class PreviousRun:
    """What a repeat audit needs of one previous run (from its ``summary.json``).

    Attributes:
        index: position in the chain, 0 = oldest.
        output: its output directory.
        run_id: its run id.
        archives: whether it read archive members (``--archives``).
        settings: its :func:`hash_settings`.
        limits: its :func:`hash_limits`.
        lists: list name -> ``{"version", "role", "thresholds", "match_mode"}``.
        quality_cutoff: its ``--quality-cutoff``.
        versions: library versions it ran with (photosieve, Pillow, numpy...).
    """

    index: int
    output: str
    run_id: str
    archives: bool
    settings: dict
    limits: dict
    lists: dict
    quality_cutoff: int | None
    versions: dict

    @classmethod
    def from_summary(cls, index: int, output: str, summary: Summary | Mapping) -> PreviousRun:
        """What a run's :class:`~photosieve.summary.Summary` (or its JSON content) says.

        Raises:
            ConfigError: not an audit, or an audit made before runs recorded
                their hash settings (its hashes cannot be trusted to match).
        """
        if not isinstance(summary, Summary):
            summary = Summary.from_json(summary, f"--previous {output}")
        if summary.command != "audit":
            raise ConfigError(
                f"--previous {output}: a photosieve {summary.command} run; "
                "--previous takes the output directory of an earlier audit"
            )
        if summary.hash_settings is None:
            raise ConfigError(
                f"--previous {output}: this audit predates incremental runs (its summary.json has "
                "no 'hash_settings'); run one full audit without --previous first"
            )
        lists = {
            name: {
                "version": entry.get("version"),
                "role": entry.get("role"),
                "thresholds": {a: float(t) for a, t in (entry.get("thresholds") or {}).items()},
                LIST_MATCH_MODE: entry.get(LIST_MATCH_MODE),
            }
            for name, entry in summary.list_entries.items()
        }
        return cls(
            index=index,
            output=output,
            run_id=summary.run_id,
            archives=summary.settings.archives,
            settings=dict(summary.hash_settings),
            limits=dict(summary.hash_limits or {}),
            lists=lists,
            quality_cutoff=summary.settings.quality_cutoff,
            versions=dict(summary.versions),
        )


class Listing(NamedTuple):
    """A file as this run's listing sees it."""

    size: int | None
    mtime_us: int | None
    checksum: str | None = None


@dataclass
class Decision:
    """What to do with one file.

    Attributes:
        state: ``new``, ``changed``, ``unchanged`` or ``gone``.
        reread: why an unchanged file is read again, or None.
        run: the previous run that had the file (the latest), or None.
        hashes, errors: the rows carried forward (relabelled), when carried.
        previous_file: that run's ``files`` row for it.
    """

    state: str
    reread: str | None = None
    run: PreviousRun | None = None
    hashes: list[dict] = dataclasses.field(default_factory=list)
    errors: list[dict] = dataclasses.field(default_factory=list)
    previous_file: dict | None = None

    @property
    def carried(self) -> bool:
        return self.state == UNCHANGED and self.reread is None


def covered(hash_rows: Iterable[dict], error_rows: Iterable[dict]) -> dict[str, tuple[set, set]]:
    """Object uri -> (algorithms with a hash row, algorithms named by an error row)."""
    out: dict[str, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for row in hash_rows:
        out[row[schemas.URI]][0].add(row[schemas.ALGORITHM])
    for row in error_rows:
        out[row[schemas.URI]][1].update(row[schemas.ALGORITHMS] or ())
    return dict(out)


def _unknown_time(mtime_us: int | None) -> bool:
    # Beam's FileMetadata says 0.0 when a filesystem reports no time.
    return mtime_us is None or mtime_us == 0


def same_file(previous: Mapping[str, Any], listing: Listing) -> bool:
    """Whether a previous ``files`` row and this listing are the same bytes, as far as metadata tells.

    Size and modification time must be equal and known; a checksum is
    compared too when both runs have one (``--checksums``). A file whose
    time is unknown is never taken as unchanged.
    """
    if _unknown_time(listing.mtime_us) or _unknown_time(previous.get(schemas.MTIME)):
        return False
    if (
        previous.get(schemas.SIZE) != listing.size
        or previous.get(schemas.MTIME) != listing.mtime_us
    ):
        return False
    if listing.checksum and previous.get(schemas.CHECKSUM):
        return listing.checksum == previous[schemas.CHECKSUM]
    return True


class CarryPolicy:
    """Decides, file by file, what a repeat audit reads and what it carries forward.

    Example::

        policy = CarryPolicy(runs, plan.algorithms, hash_settings(plan), max_pixels=plan.decode.max_pixels,
                             archives=False, run_id="r9")
        decision = policy.decide("photos/a.jpg", Listing(2048, 1_700_000_000_000_000),
                                 files=[(0, files_row)], hashes=[(0, row), ...], errors=[])

    Args:
        runs: the previous runs, oldest first (``index`` = position).
        algorithms: this run's algorithms.
        settings: this run's :func:`hash_settings`.
        max_pixels: this run's pixel limit (carried bomb failures need the same).
        archives: whether this run reads archive members.
        run_id: this run's id, written on carried rows.
        rehash: read every listed file again (``--rehash``).
    """

    def __init__(
        self,
        runs: Sequence[PreviousRun],
        algorithms: Sequence[str],
        settings: Mapping[str, dict],
        *,
        max_pixels: int,
        archives: bool,
        run_id: str,
        rehash: bool = False,
    ):
        if [run.index for run in runs] != list(range(len(runs))):
            raise ValueError("runs must be indexed 0..n-1, oldest first")
        self.runs = tuple(runs)
        self.algorithms = tuple(algorithms)
        self.settings = _json_form(dict(settings))
        self.max_pixels = max_pixels
        self.archives = archives
        self.run_id = run_id
        self.rehash = rehash
        # Per run: the algorithms whose stored hashes this run cannot use.
        self.incompatible = {
            run.index: settings_differences(run.settings, self.settings) for run in self.runs
        }
        # Per run: the algorithms whose video sampling differs (re-read videos, not images).
        self.video_changed = {
            run.index: video_differences(run.settings, self.settings) for run in self.runs
        }

    def decide(
        self,
        path: str,
        listing: Listing | None,
        *,
        files: Iterable[tuple[int, dict]],
        hashes: Iterable[tuple[int, dict]] = (),
        errors: Iterable[tuple[int, dict]] = (),
    ) -> Decision | None:
        """The decision for one file, from every previous run's rows for it (``(run index, row)``).

        Returns None for a file neither listed now nor present in the latest
        run that knew it (nothing to say).
        """
        latest = max(files, key=lambda item: item[0], default=None)
        run = previous = None
        if latest is not None and latest[1].get(schemas.STATE) != GONE:
            run, previous = self.runs[latest[0]], latest[1]
        if listing is None:
            return None if run is None else Decision(GONE, run=run, previous_file=previous)
        if run is None:
            return Decision(NEW)
        if not same_file(previous, listing):
            return Decision(CHANGED, run=run, previous_file=previous)
        decision = Decision(UNCHANGED, run=run, previous_file=previous)
        if self.rehash:
            decision.reread = REREAD_FORCED
            return decision
        if self.incompatible[run.index] or (run.archives != self.archives and is_archive(path)):
            decision.reread = REREAD_SETTINGS
            return decision
        hash_rows = [row for index, row in hashes if index == run.index]
        error_rows = [row for index, row in errors if index == run.index]
        wanted = set(self.algorithms)
        if self._video_stale(run, hash_rows, error_rows):
            decision.reread = REREAD_SETTINGS
            return decision
        if any(
            self._retry(row, run)
            for row in error_rows
            if wanted & set(row[schemas.ALGORITHMS] or ())
        ):
            decision.reread = REREAD_RETRY
            return decision
        outcomes = covered(hash_rows, error_rows)
        if not outcomes or any(wanted - (done | failed) for done, failed in outcomes.values()):
            decision.reread = REREAD_INCOMPLETE
            return decision
        stamp = {schemas.RUN_ID: self.run_id, schemas.CARRIED_FROM: run.run_id}
        decision.hashes = [
            {**row, **stamp} for row in hash_rows if row[schemas.ALGORITHM] in wanted
        ]
        for row in error_rows:
            kept = [a for a in row[schemas.ALGORITHMS] or () if a in wanted]
            if kept:
                decision.errors.append({**row, **stamp, schemas.ALGORITHMS: kept})
        return decision

    def _video_stale(self, run: PreviousRun, hash_rows: list[dict], error_rows: list[dict]) -> bool:
        """Whether the file holds an object whose outcome depended on a video setting that changed.

        Rows of tables written before the timestamp column existed lack it:
        they are images (no run before then hashed videos).
        """
        changed = self.video_changed[run.index]
        if not changed:
            return False
        if any(row[schemas.ALGORITHM] in changed and row.get(schemas.FRAME_TIMESTAMP) is not None
               for row in hash_rows):
            return True
        return any(
            row[schemas.ERROR] in _VIDEO_SENSITIVE_ERRORS and changed & set(row[schemas.ALGORITHMS] or ())
            for row in error_rows
        )

    def _retry(self, row: Mapping[str, Any], run: PreviousRun) -> bool:
        """Whether a previous failure must be tried again rather than carried."""
        if row[schemas.STAGE] == READ_STAGE:
            return row[schemas.ERROR] not in CARRIED_READ_ERRORS
        if row[schemas.ERROR] not in CARRIED_ERRORS:
            return True
        if row[schemas.ERROR] == FailureReason.DECOMPRESSION_BOMB.value:
            return run.limits.get("max_pixels") != self.max_pixels
        return False


def file_row(path: str, listing: Listing | None, decision: Decision, run_id: str) -> dict:
    """The ``files`` row of one file: this run's listing, or the previous one for a gone file."""
    if listing is None:
        previous = decision.previous_file or {}
        size, mtime_us, checksum = (
            previous.get(schemas.SIZE),
            previous.get(schemas.MTIME),
            previous.get(schemas.CHECKSUM),
        )
    else:
        size, mtime_us, checksum = listing
    return {
        schemas.URI: path,
        schemas.SIZE: size,
        schemas.MTIME: mtime_us,
        schemas.CHECKSUM: checksum,
        schemas.STATE: decision.state,
        schemas.REREAD: decision.reread,
        schemas.CARRIED_FROM: decision.run.run_id if decision.carried else None,
        schemas.RUN_ID: run_id,
    }


# -- why a match is new --------------------------------------------------------------


def match_key(row: Mapping[str, Any]) -> tuple:
    """A match's identity across runs: the same object and frame matching the same list hash.

    A video-list row's identity is the (video, listed video) pair: which frame
    is its closest pair may change with the list's other videos, not the match.
    """
    if row[schemas.ALGORITHM] == schemas.VPDQ:
        return (row[schemas.URI], None, schemas.VPDQ, row[schemas.LIST_NAME],
                tuple(row.get(schemas.ENTRY_IDS) or ()))
    return (
        row[schemas.URI],
        row.get(schemas.FRAME),
        row[schemas.ALGORITHM],
        row[schemas.LIST_NAME],
        row[schemas.MATCHED_HASH],
    )


@dataclass(frozen=True)
class MatchContext:
    """What the classifier needs to know about a match's file.

    The default describes most files of a repeat audit (unchanged, carried
    from the latest previous run), so the pipeline only sends the others.
    ``run_index`` -1 means the latest previous run.
    """

    state: str = UNCHANGED
    reread: str | None = None
    run_index: int = -1


class MatchClassifier:
    """Says why a match row is new since the previous run, or None when that run had it.

    Args:
        runs: the previous runs, oldest first.
        lists: this run's lists: name -> ``{"version", "thresholds", "match_mode"}``
            (as in summary.json's ``lists``).
        quality_cutoff: this run's PDQ quality cutoff.
        settings: this run's :func:`hash_settings`.
    """

    def __init__(
        self,
        runs: Sequence[PreviousRun],
        lists: Mapping[str, Mapping[str, Any]],
        *,
        quality_cutoff: int,
        settings: Mapping[str, dict],
    ):
        if not runs:
            raise ValueError("MatchClassifier needs at least one previous run")
        self.runs = tuple(runs)
        self.lists = {name: dict(entry) for name, entry in lists.items()}
        self.quality_cutoff = quality_cutoff
        self.settings = _json_form(dict(settings))

    def run_of(self, context: MatchContext) -> PreviousRun:
        return self.runs[context.run_index]

    def reason(
        self, row: Mapping[str, Any], context: MatchContext, previous: Mapping[tuple, set[str]]
    ) -> str | None:
        """Why ``row`` is new, given its file's context and the previous run's statuses by :func:`match_key`."""
        key = match_key(row)
        before = previous.get(key, set())
        if row[schemas.STATUS] in before:
            return None
        if context.state == NEW:
            return NEW_OBJECT
        if context.state == CHANGED:
            return CHANGED_OBJECT
        if context.reread in (REREAD_RETRY, REREAD_INCOMPLETE):
            return PREVIOUSLY_FAILED
        if before:
            return STATUS_CHANGED
        run = self.run_of(context)
        name, algorithm = row[schemas.LIST_NAME], row[schemas.ALGORITHM]
        then = run.lists.get(name)
        if then is None:
            return NEW_LIST
        old_threshold = then["thresholds"].get(algorithm)
        if old_threshold is None:  # the list held no hash of this algorithm then
            return NEW_LIST_ENTRY
        if row[schemas.DISTANCE] > old_threshold:
            return THRESHOLD_CHANGED
        now = self.lists.get(name, {})
        if then.get("version") != now.get("version"):
            return NEW_LIST_ENTRY
        if then.get(LIST_MATCH_MODE) != now.get(LIST_MATCH_MODE):
            return MODE_CHANGED
        if context.reread in (REREAD_SETTINGS, REREAD_FORCED) and run.settings.get(
            algorithm
        ) != self.settings.get(algorithm):
            return NEW_SETTINGS
        quality = row.get(schemas.QUALITY)
        if (
            algorithm == "pdq"
            and quality is not None
            and run.quality_cutoff is not None
            and quality < run.quality_cutoff
        ):
            return CUTOFF_CHANGED
        return UNEXPLAINED


# -- summary ---------------------------------------------------------------------------


def check_files(ledger: Mapping[str, Any]) -> list[str]:
    """Problems with the rule "every listed file is read or carried, once"."""
    counts = Ledger(ledger)
    states = counts.counts(keys.FILES_STATE)
    present = sum(n for state, n in states.items() if state != GONE)
    listed = counts.count(keys.FILES_LISTED)
    if present != listed:
        return [f"{present} files in the files table (not gone) but {listed} read or carried"]
    return []


def summary_section(
    ledger: Mapping[str, Any],
    policy: CarryPolicy,
    library_changes: Mapping[str, Any],
    gone_examples: Sequence[str],
) -> dict:
    """summary.json's ``incremental`` section from the run's ledger (see the README's "Weekly audits")."""
    counts = Ledger(ledger)
    states = counts.counts(keys.FILES_STATE)
    carried_files = counts.total(keys.FILES_CARRIED)
    carried_hashes = counts.total(keys.HASHES_CARRIED)
    carried_errors = counts.total(keys.ERRORS_CARRIED)
    return {
        "previous": [
            {
                "output": run.output,
                "run_id": run.run_id,
                "settings_differences": policy.incompatible[run.index],
                "library_changes": library_changes.get(run.run_id, {}),
                "carried": {
                    "files": counts.count((*keys.FILES_CARRIED, run.run_id)),
                    "hashes": counts.count((*keys.HASHES_CARRIED, run.run_id)),
                    "errors": counts.count((*keys.ERRORS_CARRIED, run.run_id)),
                },
            }
            for run in policy.runs
        ],
        "rehash": policy.rehash,
        "files": {state: states.get(state, 0) for state in STATES},
        "read": sum(n for state, n in states.items() if state != GONE) - carried_files,
        "carried": carried_files,
        "reread": counts.counts(keys.FILES_REREAD),
        "hashes": {
            "carried": carried_hashes,
            "computed": counts.total(keys.HASHES_ALGORITHM) - carried_hashes,
        },
        "errors": {
            "carried": carried_errors,
            "new": counts.total(keys.ERRORS_CLASS) - carried_errors,
        },
        "matches": {
            "new": counts.counts(keys.MATCHES_NEW),
            "matched_before": counts.counts(keys.MATCHES_BEFORE),
            "no_longer_matched": counts.counts(keys.MATCHES_NO_LONGER),
        },
        "gone": {"count": states.get(GONE, 0), "examples": list(gone_examples)},
    }


def describe(section: Mapping[str, Any]) -> str:
    """One log line of the incremental section."""
    files = section["files"]
    reread = ", ".join(f"{n} {why}" for why, n in sorted(section["reread"].items()))
    new = section["matches"]["new"].get("match", {})
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(new.items()))
    return (
        f"incremental: {section['carried']} files carried, {section['read']} read "
        f"({files[NEW]} new, {files[CHANGED]} changed, {files[UNCHANGED] - section['carried']} "
        f"unchanged re-read{': ' + reread if reread else ''}), {files[GONE]} gone; "
        f"{sum(new.values())} new matches{' (' + reasons + ')' if reasons else ''}, "
        f"{sum(section['matches']['matched_before'].values())} rows matched before"
    )
