"""Matching hashes against the run's lists, as ``audit`` and ``match`` both do it.

:class:`MatchLists` takes the run's :class:`~photosieve.run_config.Matching`
and picks the matcher: :class:`~photosieve.transforms.matching.MatchHashes`
(each list's thresholds), or with a matching mode
:class:`~photosieve.transforms.mode_matching.MatchInMode` (PDQ at the mode's
calibrated threshold, the other algorithms as usual). Both jobs build their
matching from this one transform, so they cannot drift apart. With video
lists, :class:`~photosieve.transforms.video_matching.MatchVideos` adds
their rows to the same outputs.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

import apache_beam as beam

from photosieve import schemas
from photosieve.cli import values
from photosieve.errors import ConfigError
from photosieve.hashes.pdq import PDQ_QUALITY_MAX, PDQ_QUALITY_THRESHOLD
from photosieve.robust.budget import DEFAULT_BUDGET, parse_budget
from photosieve.robust.modes import CONFIGS, TARGET_FPR
from photosieve.run_config import AUTO, SHUFFLE, SIDE_INPUT, STRATEGY_CHOICES, Matching
from photosieve.strategy import DEFAULT_SIDE_INPUT_BUDGET
from photosieve.transforms.ledger import LEDGER
from photosieve.transforms.matching import MatchHashes
from photosieve.transforms.mode_matching import MatchInMode
from photosieve.transforms.video_matching import MatchVideos

__all__ = ["MatchLists"]


def _budget(text: str) -> float:
    try:
        return parse_budget(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _shares(text: str) -> tuple[float, float]:
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values_ = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected QUERY[,LISTED] percents, got {text!r}") from None
    if len(values_) not in (1, 2) or not all(0 <= v <= 100 for v in values_):
        raise argparse.ArgumentTypeError(f"expected one or two percents from 0 to 100, got {text!r}")
    return values_[0], values_[1] if len(values_) == 2 else 0.0


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

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The list flags: which lists, their thresholds, and how to match them."""
        parser.add_argument(
            "-l",
            "--list",
            nargs="+",
            action=values.ExtendOrReplace,
            metavar="[NAME=]FILE",
            help="Known-hash list to report matches against (any format photosieve reads, .gz too, "
            "any Beam filesystem); NAME defaults to the file name; repeatable. In a profile, entries "
            "may also be mappings: {path, name, role, thresholds, algorithm, format}. Required.",
        )
        parser.add_argument(
            "-s",
            "--suppress-list",
            nargs="+",
            action=values.ExtendOrReplace,
            metavar="[NAME=]FILE",
            help="Known-benign list: a hash within its threshold is not reported as a match against "
            "the other lists; the suppression is recorded. Default: none.",
        )
        parser.add_argument(
            "-t",
            "--threshold",
            nargs="+",
            action=values.ExtendOrReplace,
            type=values.threshold,
            metavar="[LIST:]ALG=N",
            help="Match distance for an algorithm, for every list or for one list (pdq=24, "
            "ncmec:phash=10). Default: each algorithm's calibrated threshold (pdq 31).",
        )
        parser.add_argument(
            "--quality-cutoff",
            type=values.int_range(0, PDQ_QUALITY_MAX),
            default=PDQ_QUALITY_THRESHOLD,
            help="PDQ hashes below this quality are stored but not matched: flat or blurry images "
            f"collide with each other. Default: {PDQ_QUALITY_THRESHOLD}.",
        )
        parser.add_argument(
            "--strategy",
            choices=STRATEGY_CHOICES,
            default=AUTO,
            help=f"{SIDE_INPUT}: every worker holds the lists and builds their indexes once (fast); "
            f"{SHUFFLE}: join bucket keys with a CoGroupByKey, for lists too big to copy to every "
            f"worker; {AUTO}: decided before the run from the lists' sizes, {SIDE_INPUT} while "
            f"their estimated index files fit --side-input-budget, {SHUFFLE} beyond "
            f"(--match-mode and gradient lists always get {SIDE_INPUT}); summary.json records the "
            f"choice and why. Default: {AUTO}.",
        )
        parser.add_argument(
            "--side-input-budget",
            type=values.byte_size,
            default=DEFAULT_SIDE_INPUT_BUDGET,
            metavar="BYTES",
            help=f"With --strategy {AUTO}: the most bytes of lists' index files (hashes, ids, "
            "indexes) a worker machine may map, as estimated from their sizes (one copy per "
            "machine, shared by its SDK processes; the one process building a file peaks at "
            "~3.5x its size); bytes, or with K/M/G/T (binary). 512M suits 3.75 GiB "
            "n1-standard-1 workers. "
            f"Default: {DEFAULT_SIDE_INPUT_BUDGET >> 30}G.",
        )
        parser.add_argument(
            "--lenient-lists",
            action="store_true",
            help="Skip and count bad list lines instead of failing before any work. Default: strict.",
        )
        parser.add_argument(
            "--false-match-budget",
            type=_budget,
            default=DEFAULT_BUDGET,
            metavar="N",
            help="Expected false matches per scanned image each list may cost: a list's PDQ "
            "threshold is the largest whose bound (query hashes x list hashes x the measured "
            "rate of different photos within that distance) fits it, never above its own or "
            "the mode's; a profile's list entry may set its own (false_match_budget). "
            f"Default: {DEFAULT_BUDGET:g}.",
        )
        values.add_max_list_bytes(parser)
        parser.add_argument(
            "--video-list",
            nargs="+",
            action=values.ExtendOrReplace,
            metavar="[NAME=]FILE",
            help="List of known videos as vPDQ hashes: a ThreatExchange CSV (rows of signal type "
            "vpdq), JSON Lines ({id, labels, vpdq}), or a glob of Meta's vPDQ hash files, one video "
            "each (known/*.txt); any Beam filesystem; repeatable. Each video of the run is matched "
            "by vPDQ's rule (see --video-share): one matches row per (video, listed video), with "
            "both shares and the matched segments. Frames of videos are matched against --list "
            "image lists in any case. Default: none.",
        )
        parser.add_argument(
            "--video-share",
            type=_shares,
            default=(80.0, 0.0),
            metavar="QUERY[,LISTED]",
            help="vPDQ's rule: the percent of a video's frames that must be within --video-distance "
            "of a listed video's, and of the listed video's frames that must be within it of the "
            "video's (a trimmed copy covers part of the original: keep LISTED low). Frames below "
            "--quality-cutoff are not counted. Default: 80,0 (python-threatexchange's).",
        )
        parser.add_argument(
            "--video-distance",
            type=values.int_range(0, 256),
            default=31,
            metavar="BITS",
            help="vPDQ's per-frame PDQ distance (inclusive) for --video-list matching. Default: 31.",
        )
        thresholds = ", ".join(f"{name} {config.threshold:g}" for name, config in CONFIGS.items())
        parser.add_argument(
            "--match-mode",
            choices=tuple(CONFIGS),
            default=None,
            metavar="MODE",
            help="Also find edited copies (rotated, mirrored, bordered, in a screenshot, cropped): "
            "hash each image's extra query hashes and match PDQ at the mode's calibrated threshold "
            "instead of each list's. 'robust' suits every list: hash-only PDQ lists, and lists built "
            "with `photosieve lists build IMAGES...` (matched as robust-windows, which also "
            "finds crops); robust-windows-gradient / -phash confirm each pair with a second hash "
            "(lists built with --second-opinions). Thresholds (PDQ bits; a score when a second "
            "opinion is combined): "
            f"{thresholds}, calibrated at {TARGET_FPR:g} false matches per (query image, listed "
            "image) pair, are the most a mode uses: --false-match-budget lowers each list's to "
            "what its size allows (a large list: far lower), and --threshold pdq=N may lower it "
            "too. Costs ~10x the PDQ hashing time and a scan of the lists per "
            f"query hash; needs --strategy {SIDE_INPUT} (what {AUTO} chooses with a mode). "
            "Default: none (plain PDQ).",
        )

    def __init__(
        self,
        matching: Matching,
        *,
        run_id: str,
        matched_at_us: int,
        expected_versions: Mapping[str, str] | None = None,
        index_dir: str | None = None,
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
            "index_dir": index_dir,
        }

    def expand(self, hashes):
        lists, mode = list(self._matching.lists), self._matching.match_mode
        if mode is not None:
            matched = hashes | "MatchInMode" >> MatchInMode(lists, mode, **self._options)
        else:
            matched = hashes | "MatchHashes" >> MatchHashes(lists, **self._options)
        if not self._matching.video_lists:
            return matched
        videos = hashes | "MatchVideos" >> MatchVideos(
            self._matching.video_lists,
            rule=self._matching.video_rule,
            run_id=self._options["run_id"],
            matched_at_us=self._options["matched_at_us"],
            strict_lists=self._matching.strict_lists,
            expected_versions=self._options["expected_versions"],
        )
        return {
            name: (matched[name], videos[name]) | f"Flatten{name.capitalize()}WithVideos" >> beam.Flatten()
            for name in (schemas.MATCHES, LEDGER)
        }
