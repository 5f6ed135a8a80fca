"""One run, parsed once: the typed, frozen, picklable value every job is built from.

The command line (and its ``--config`` profile) is parsed once, by
``photosieve.pipelines.flags``, into a :class:`RunConfig`; the jobs
(``audit``, ``scan``, ``match``) take it whole, preflight reads what it
names, and ``summary.json`` records its :meth:`RunConfig.settings`. Every
part checks itself when it is made (``__post_init__``), so a value that
exists is a valid run: a bad combination is a :class:`ConfigError` naming
the flags, raised before any work.

The parts, one per concern: :class:`Inputs` (what to read and how far),
:class:`Output` (where and how the tables are written), the
:class:`~photosieve.hashing.HashPlan` (what to hash), :class:`Matching` (the
lists and how to match them), :class:`Previous` (the runs a repeat audit
builds on).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from photosieve.archives import DEFAULT_MAX_ARCHIVE_BYTES
from photosieve.errors import ConfigError
from photosieve.hashes.pdq import PDQ_QUALITY_MAX, PDQ_QUALITY_THRESHOLD
from photosieve.hashing import HashPlan
from photosieve.lists import ListSpec
from photosieve.reading import DEFAULT_MAX_OBJECT_BYTES
from photosieve.robust.budget import DEFAULT_BUDGET, parse_budget
from photosieve.strategy import (
    AUTO,
    CHOICES,
    DEFAULT_SIDE_INPUT_BUDGET,
    SHUFFLE,
    SIDE_INPUT,
    STRATEGIES,
    Choice,
)
from photosieve.summary import RunSettings
from photosieve.video.video_list import VideoListSpec
from photosieve.video.video_match import VideoRule

__all__ = [
    "AUTO",
    "COMMANDS",
    "OUTPUT_MODES",
    "SHUFFLE",
    "SIDE_INPUT",
    "STRATEGIES",
    "STRATEGY_CHOICES",
    "Inputs",
    "Matching",
    "Output",
    "Previous",
    "RunConfig",
]

COMMANDS = ("audit", "scan", "match")
# How lists are joined with the hashes (photosieve.strategy): STRATEGIES are the
# joins a pipeline runs; --strategy also takes AUTO, resolved at preflight.
STRATEGY_CHOICES = CHOICES
# --output-mode: private outputs are readable by their owner only.
OUTPUT_MODES = ("private", "shared")


@dataclass(frozen=True)
class Inputs:
    """What to read.

    Attributes:
        patterns: files, directories or globs, as given (preflight expands them).
        archives: read the members of zip/tar archives as objects.
        max_archive_bytes: the most one archive may inflate to in all.
        max_bytes: objects larger than this are error rows, unread.
        checksums: record each file's filesystem checksum (repeat audits
            carry a file only when it is unchanged too).
    """

    patterns: tuple[str, ...]
    archives: bool = False
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES
    max_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    checksums: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", tuple(self.patterns))
        if not self.patterns:
            raise ConfigError("--input is required (on the command line or in the --config profile)")
        for name in ("max_archive_bytes", "max_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")


@dataclass(frozen=True)
class Output:
    """Where the tables and ``summary.json`` go.

    Attributes:
        path: the output directory (any Beam filesystem).
        overwrite: replace a previous run's tables there.
        mode: ``private`` (a local output readable by its owner only) or ``shared``.
        num_shards: Parquet files per table; 0 lets the runner choose.
        run_id: the id written on every row; None: made at the start.
    """

    path: str
    overwrite: bool = False
    mode: str = "private"
    num_shards: int = 0
    run_id: str | None = None

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("--output is required (on the command line or in the --config profile)")
        if self.mode not in OUTPUT_MODES:
            raise ConfigError(f"--output-mode must be one of {', '.join(OUTPUT_MODES)}")
        if self.num_shards < 0:
            raise ConfigError("--num-shards must be at least 0")


@dataclass(frozen=True)
class Matching:
    """The lists and how hashes are matched against them.

    Attributes:
        lists: the run's lists, thresholds applied (names unique).
        strategy: :data:`AUTO` (what the flag defaults to), :data:`SIDE_INPUT`
            or :data:`SHUFFLE`. Preflight resolves ``auto``
            (:meth:`with_choice`): the pipeline only ever runs a join.
        side_input_budget: the most bytes of lists' index files a worker
            machine may map for ``auto`` to choose side input
            (``--side-input-budget``).
        strategy_reason: why the strategy is what it is, once resolved
            (None before preflight).
        quality_cutoff: PDQ hashes below this quality are stored, not matched.
        strict_lists: a bad list line fails the run before any work.
        match_mode: a matching mode (``photosieve.robust``), or None for plain matching.
        max_list_bytes: the most content one list may hold (None: the default).
        false_match_budget: expected false matches per scanned image each
            list may cost (a list's own budget wins); its PDQ threshold is
            chosen from it (:mod:`photosieve.robust.budget`).
        video_lists: lists of known videos (vPDQ), matched video to video
            (``--video-list``); their names are unique among all the lists.
        video_rule: vPDQ's quality tolerance and share thresholds for them.
    """

    lists: tuple[ListSpec, ...]
    # A Matching made in code runs the join it names; the command line's default is AUTO.
    strategy: str = SIDE_INPUT
    quality_cutoff: int = PDQ_QUALITY_THRESHOLD
    strict_lists: bool = True
    match_mode: str | None = None
    max_list_bytes: int | None = None
    false_match_budget: float = DEFAULT_BUDGET
    side_input_budget: int = DEFAULT_SIDE_INPUT_BUDGET
    strategy_reason: str | None = None
    video_lists: tuple[VideoListSpec, ...] = ()
    video_rule: VideoRule = field(default_factory=VideoRule)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lists", tuple(self.lists))
        object.__setattr__(self, "video_lists", tuple(self.video_lists))
        object.__setattr__(self, "false_match_budget", parse_budget(self.false_match_budget))
        if not self.lists:
            raise ConfigError("--list is required (on the command line or in the --config profile)")
        names = [spec.name for spec in self.lists] + [spec.name for spec in self.video_lists]
        if len(set(names)) != len(names):
            raise ConfigError(f"two lists share a name: {', '.join(sorted(names))}")
        if self.strategy not in CHOICES:
            raise ConfigError(f"--strategy must be one of {', '.join(CHOICES)}")
        if isinstance(self.side_input_budget, bool) or not isinstance(self.side_input_budget, int):
            raise ConfigError(
                f"--side-input-budget must be a byte count, got {self.side_input_budget!r}"
            )
        if self.side_input_budget < 1:
            raise ConfigError("--side-input-budget must be at least 1 byte")
        if not 0 <= self.quality_cutoff <= PDQ_QUALITY_MAX:
            raise ConfigError(f"--quality-cutoff must be from 0 to {PDQ_QUALITY_MAX}")

    @property
    def resolved(self) -> bool:
        """Whether the strategy is a join the pipeline can run (not ``auto``)."""
        return self.strategy in STRATEGIES

    def with_choice(self, choice: Choice) -> Matching:
        """This matching with the join preflight chose and why (see :func:`photosieve.strategy.choose_strategy`)."""
        if choice.strategy not in STRATEGIES:
            raise ConfigError(f"a chosen strategy must be one of {', '.join(STRATEGIES)}")
        return dataclasses.replace(self, strategy=choice.strategy, strategy_reason=choice.reason)


@dataclass(frozen=True)
class Previous:
    """The earlier audits a repeat audit builds on.

    Attributes:
        outputs: their output directories, oldest first.
        rehash: read and hash every file again anyway.
    """

    outputs: tuple[str, ...] = ()
    rehash: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if self.rehash and not self.outputs:
            raise ConfigError("--rehash needs --previous (without it every file is read anyway)")


@dataclass(frozen=True)
class RunConfig:
    """A whole run of ``audit``, ``scan`` or ``match``.

    Attributes:
        command: the job.
        output: :class:`Output`.
        pipeline_args: Beam's options (the profile's, then the command line's).
        inputs: :class:`Inputs` (``audit``, ``scan``).
        plan: what to hash (``audit``, ``scan``).
        matching: :class:`Matching` (``audit``, ``match``).
        stored_hashes: the stored hashes table ``match`` reads, as given.
        previous: :class:`Previous` (``audit``).
        progress: live progress lines on local runners.
        verbose: Beam's own INFO logs too.
        flags: the flags as given, ``(name, value)`` pairs: recorded in
            ``summary.json`` for people; nothing reads them back.
    """

    command: str
    output: Output
    pipeline_args: tuple[str, ...] = ()
    inputs: Inputs | None = None
    plan: HashPlan | None = None
    matching: Matching | None = None
    stored_hashes: str | None = None
    previous: Previous = field(default_factory=Previous)
    progress: bool = True
    verbose: bool = False
    flags: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pipeline_args", tuple(self.pipeline_args))
        if self.command not in COMMANDS:
            raise ConfigError(f"unknown command {self.command!r}; one of {', '.join(COMMANDS)}")
        hashes = self.command in ("audit", "scan")
        if hashes != (self.inputs is not None and self.plan is not None):
            raise ConfigError(f"{self.command}: inputs and a hash plan go together with hashing")
        if (self.command in ("audit", "match")) != (self.matching is not None):
            raise ConfigError(f"{self.command}: lists are for audit and match")
        if (self.command == "match") != bool(self.stored_hashes):
            raise ConfigError("--hashes is required (on the command line or in the --config profile)")
        if self.previous.outputs and self.command != "audit":
            raise ConfigError("--previous is for audits")

    @property
    def match_mode(self) -> str | None:
        return None if self.matching is None else self.matching.match_mode

    def settings(self) -> RunSettings:
        """What ``summary.json`` records for later runs (see :class:`~photosieve.summary.RunSettings`)."""
        matching = self.matching
        return RunSettings(
            archives=bool(self.inputs and self.inputs.archives),
            quality_cutoff=None if matching is None else matching.quality_cutoff,
            match_mode=self.match_mode,
            strategy=None if matching is None else matching.strategy,
            strategy_reason=None if matching is None else matching.strategy_reason,
            dihedral=bool(self.plan and self.plan.pdq_dihedral),
        )
