"""``photosieve match-files``: a quick local match of a few files against lists, without a pipeline.

    photosieve match-files suspect.jpg downloads/ --list known.csv
    curl -s https://example.org/x.jpg | photosieve match-files - -l ncmec.csv --match-mode robust

As ``threatexchange match`` does for one file, but with an audit's rules: the
same flags for lists, thresholds, the PDQ quality cutoff and matching modes
(``MatchLists``'s and the hash plan's, so ``--match-mode`` also computes the
mode's query hashes), and the same matches (:class:`photosieve.local_match.LocalMatcher`
runs the audit's Beam-free steps). Nothing is written but the answer: one
line per match on stdout, failures to read or decode a file on stderr.

Exit status, as ``grep``: 0 no match, 1 at least one match (status
``match``; hits on suppress lists and the matches they suppress do not
count), 2 a usage error (bad flags, an unreadable or bad list).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time

from photosieve import schemas
from photosieve.cli.hash_flags import add_hash_arguments
from photosieve.errors import ConfigError, ListFormatError
from photosieve.hashing import ImageHasher
from photosieve.local_match import LocalMatcher
from photosieve.pipelines import configure, flags, help_text, local_files
from photosieve.pipelines.list_preflight import check_lists, with_budget_thresholds
from photosieve.robust.budget import query_hashes_per_image
from photosieve.run_config import Matching
from photosieve.text import printable, spreadsheet_cell
from photosieve.transforms.known_lists import open_stored
from photosieve.video.match_rows import features_by_orientation, video_frame, video_rows
from photosieve.video.video_list import read_video_list
from photosieve.video.video_match import VideoIndex, VideoRule

FORMATS = ("text", "csv", "json")
# The matches table's columns, less the run's own (there is no run here).
COLUMNS = tuple(
    field.name for field in schemas.MATCHES_SCHEMA
    if field.name not in (schemas.RUN_ID, schemas.MATCHED_AT, schemas.NEW_REASON)
)
RUN_ID = "match-files"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve match-files",
        description="Hash a few local files and match them against known-hash lists in this "
        "process, with an audit's thresholds, quality cutoff and matching modes (the same "
        "flags); print one line per match. Exit status: 0 no match, 1 at least one match "
        "(suppressed ones do not count), 2 usage error (bad flags, an unreadable or bad list) "
        "(no Beam).",
        **help_text.parser_options("match-files"),
        parents=[flags.list_parser()],
    )
    for action in parser._actions:  # one process: no join strategy to choose, nor its budget
        if action.dest in ("strategy", "side_input_budget"):
            action.help = argparse.SUPPRESS
    parser.add_argument(
        "files", nargs="+", metavar="FILE",
        help="Files or directories (walked recursively); - reads one object from standard input "
        "(named <stdin>). Give them before --list, which takes several values.",
    )
    add_hash_arguments(parser)
    parser.add_argument(
        "--dihedral",
        action="store_true",
        help="Also hash the seven rotations and mirror images of each image with PDQ, as audit "
        "--dihedral does. Default: off.",
    )
    parser.add_argument(
        "-f", "--format", choices=FORMATS, default="text",
        help="text: one readable line per match; csv: the audit's matches-table columns; json: one "
        "JSON object per line (the same columns). Default: text.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.list:
        parser.error("--list is required")
    problem = local_files.check_paths(args.files)
    if problem:
        parser.error(problem)
    try:
        plan = configure.hash_plan(args)
        read: list = []
        specs = _budget_thresholds(args, plan, configure.list_specs(args), read)
        matcher = LocalMatcher(
            specs,
            read=read,
            mode=args.match_mode,
            quality_cutoff=args.quality_cutoff,
            strict=not args.lenient_lists,
            open_fn=open_stored,
        )
        videos = _video_indexes(args)
    except ListFormatError as exc:
        hint = "" if exc.whole_file else "\n(pass --lenient-lists to skip bad lines and count them)"
        parser.error(f"--list: {exc}{hint}")
    except ConfigError as exc:
        parser.error(str(exc))
    hasher = ImageHasher(plan)
    items = local_files.objects(args.files, hasher, max_bytes=args.max_bytes, command="match-files")
    out = sys.stdout
    writer = None
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
    matched_at_us = time.time_ns() // 1000
    files = failed = found = 0
    for result in hasher.hash_many(items):
        files += 1
        failed += bool(result.failures)
        for failure in result.failures:
            what = " ".join(failure.algorithms) or "all"
            print(
                f"photosieve match-files: {printable(result.uri)}: {what}: {failure.reason.value}: "
                f"{printable(failure.message)}",
                file=sys.stderr,
            )
        rows = schemas.hash_rows(result, mtime_us=None, run_id=RUN_ID)
        matched = matcher.match(rows, run_id=RUN_ID, matched_at_us=matched_at_us)
        if videos:
            matched += _video_matches(result.uri, rows, videos, matched_at_us)
        for row in matched:
            found += row[schemas.STATUS] == schemas.STATUS_MATCH
            if writer:
                writer.writerow({k: _cell(v) for k, v in row.items()})
            elif args.format == "json":
                out.write(json.dumps({k: row.get(k) for k in COLUMNS}) + "\n")
            else:
                out.write(describe(row) + "\n")
    print(
        f"photosieve match-files: {files} file(s), {failed} with errors, {found} match(es)",
        file=sys.stderr,
    )
    return 1 if found else 0


def _budget_thresholds(args, plan, specs, read: list) -> list:
    """The lists with each PDQ threshold from its false-match budget, chosen as an audit chooses it.

    ``read`` receives each list as preflight read it, so the matcher does not read it again.
    """
    matching = Matching(
        tuple(specs),
        quality_cutoff=args.quality_cutoff,
        strict_lists=not args.lenient_lists,
        match_mode=args.match_mode,
        false_match_budget=args.false_match_budget,
    )
    query_hashes = query_hashes_per_image(
        plan.query_expansion, dihedral=plan.pdq_dihedral, as_stored=plan.pdq_as_stored
    )
    summaries = check_lists(
        matching, plan.algorithms, query_hashes=query_hashes, lists_read=read
    )
    return list(with_budget_thresholds(matching, summaries).lists)


def _video_indexes(args) -> list[VideoIndex]:
    """Each ``--video-list`` read and indexed once (ConfigError, ListFormatError as the image lists)."""
    rule = VideoRule(args.quality_cutoff, *args.video_share)
    return [VideoIndex.build(read_video_list(spec, strict=not args.lenient_lists, open_fn=open_stored), rule)
            for spec in configure.video_list_specs(args)]


def _video_matches(uri: str, rows: list[dict], indexes: list[VideoIndex], matched_at_us: int) -> list[dict]:
    """The rows of one object's video frames against the video lists (none for images)."""
    frames = [frame for frame in map(video_frame, rows) if frame is not None]
    if not frames:
        return []
    by_orientation = features_by_orientation(frames)
    return [row for index in indexes
            for row in video_rows(uri, by_orientation, index, run_id=RUN_ID, matched_at_us=matched_at_us)]


def describe(row: dict) -> str:
    """One match as a line: file, status, list, entry ids, algorithm, distance, threshold, how."""
    ids = ",".join(printable(i) for i in row[schemas.ENTRY_IDS]) or "-"
    parts = [
        printable(row[schemas.URI]),
        row[schemas.STATUS],
        f"list={printable(row[schemas.LIST_NAME])}",
        f"ids={ids}",
        f"{row[schemas.ALGORITHM]} distance {row[schemas.DISTANCE]:g}"
        f" (threshold {row[schemas.THRESHOLD]:g})",
    ]
    if row[schemas.ALGORITHM] == schemas.VPDQ:
        parts[-1] = (f"vpdq {row[schemas.QUERY_MATCH_PERCENT]:.0f}% of frames (threshold {row[schemas.THRESHOLD]:g}%), "
                     f"{row[schemas.LIST_MATCH_PERCENT]:.0f}% of the listed video's; seconds "
                     f"{row[schemas.SEGMENT_START]:g}-{row[schemas.SEGMENT_END]:g} = listed "
                     f"{row[schemas.LIST_SEGMENT_START]:g}-{row[schemas.LIST_SEGMENT_END]:g}")
    for label, key in (("mode", schemas.MATCH_MODE), ("variant", schemas.VARIANT),
                       ("orientation", schemas.ORIENTATION), ("listed", schemas.LIST_VARIANT)):
        value = row.get(key)
        if value and value != "original":
            parts.append(f"{label}={printable(value)}")
    if row.get(schemas.SUPPRESSED_BY):
        parts.append("suppressed_by=" + ",".join(printable(n) for n in row[schemas.SUPPRESSED_BY]))
    return "\t".join(parts)


def _cell(value):
    """A CSV cell: lists joined by spaces, text safe in a spreadsheet and on a terminal."""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return spreadsheet_cell(printable(value)) if isinstance(value, str) else value
