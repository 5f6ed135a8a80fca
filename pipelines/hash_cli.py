"""``photosieve hash``: hash local image files without Beam, one row per hash.

For a quick look at a few files, or to make a hash list from a folder:

    photosieve hash photos/ --algorithms pdq,phash,md5 --format jsonl

Each row is one (file, frame, algorithm, orientation); a file that cannot be
read or decoded gives a row with an ``error`` class and ``message`` instead.
The exit status is non-zero only for usage errors, never for bad files.
``-`` reads one object from standard input (named ``<stdin>`` in the output).

The CSV and JSON Lines outputs are lists as they are: ``photosieve lists
check hashes.csv`` and ``--list hashes.csv`` read them with each ``path`` as
the entry's id, and skip the error rows (no hash) without counting them as
bad lines. ``--format te`` prints ``<algorithm> <hash>`` lines, as
``threatexchange hash`` prints them (``pdq <hex>``), with failures on
stderr; that output is a plain-text list too (without ids).

Names and messages are untrusted. In CSV, each text cell (``path``,
``algorithm``, ``orientation``, ``hash``, ``format``, ``error``,
``message``) shows control characters and bidi overrides as visible
escapes (:func:`photosieve.text.printable`), and one that starts with
``=``, ``+``, ``-``, ``@``, a tab, a CR or ``'`` gets a leading ``'`` so
that no spreadsheet runs it as a formula (remove one leading ``'`` to get
the value back); number columns are written as they are. JSON Lines
escapes every control and non-ASCII character already.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator

from photosieve.cli.hash_flags import add_hash_arguments, decode_options, video_settings
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan, ImageHasher, ObjectHashes
from photosieve.lists.columns import HASH_OUTPUT_COLUMNS
from photosieve.pipelines import help_text, local_files
from photosieve.text import printable, spreadsheet_cell
from photosieve.video.vpdq import VpdqFeature, format_hash_file

COLUMNS = HASH_OUTPUT_COLUMNS  # lists read this header back with paths as ids
# Columns that hold text (names, messages, labels of photosieve's own): the
# ones a CSV cell must neutralise. The others hold numbers and booleans.
TEXT_COLUMNS = frozenset({"path", "algorithm", "orientation", "hash", "format", "error", "message"})
# Output formats; "te" is threatexchange hash's: one "<algorithm> <hash>" line per hash;
# "video-list" one JSON line per video object, {"id": path, "vpdq": signal}: a --video-list file.
# "vpdq" Meta's vPDQ hash file of one video (frame_number,quality,hash,timestamp lines).
FORMATS = ("csv", "jsonl", "te", "video-list", "vpdq")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve hash",
        description="Hash image files on this machine and print one row per hash (no Beam).",
        **help_text.parser_options("hash"),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="Files or directories (walked recursively); - reads one object from standard input "
        "(named <stdin> in the output).",
    )
    add_hash_arguments(parser)
    parser.add_argument(
        "-f", "--format", choices=FORMATS, default="csv",
        help="Output format: csv or jsonl (one row per hash or failure; both read back as lists, "
        "ids from path), te ('<algorithm> <hash>' lines as threatexchange hash prints, "
        "failures on stderr), or video-list (one JSON line per video, its path as id and its "
        "vPDQ signal: a --video-list file of the videos given; images and failures on stderr), or "
        "vpdq (Meta's vPDQ hash file of ONE video, as its C++ tools write it; a folder of such "
        "files is a --video-list glob). Default: csv.",
    )
    parser.add_argument("-o", "--output", default="-", help="Output file. Default: - (standard output).")
    return parser


def rows(result: ObjectHashes) -> Iterator[dict]:
    """The output rows of one object: hashes, then failures."""
    blank = dict.fromkeys(COLUMNS, "")
    for d in result.digests:
        yield {**blank, "path": result.uri, "frame": 0, "algorithm": d.hash.algorithm, "hash": d.hash.to_hex()}
    for frame in result.frames:
        notes = {"frame": frame.frame, "timestamp": "" if frame.timestamp is None else frame.timestamp,
                 "width": frame.width, "height": frame.height, "format": frame.format,
                 "exif_transposed": frame.exif_transposed, "scale": frame.scale}
        for r in frame.results:
            yield {**blank, "path": result.uri, **notes, "algorithm": r.hash.algorithm,
                   "orientation": r.orientation, "hash": r.hash.to_hex(),
                   "quality": "" if r.quality is None else r.quality}
    for failure in result.failures:
        for algorithm in failure.algorithms or ("",):
            yield {**blank, "path": result.uri, "algorithm": algorithm,
                   "error": failure.reason.value, "message": failure.message}


def csv_row(row: dict) -> dict:
    """``row`` with its text cells safe on a terminal and in a spreadsheet (see the module doc)."""
    return {k: spreadsheet_cell(printable(v)) if k in TEXT_COLUMNS and isinstance(v, str) else v
            for k, v in row.items()}


def write_te(row: dict, out) -> None:
    """One hash as ``threatexchange hash`` prints it (``pdq <hex>``); a failure goes to stderr."""
    if row["hash"]:
        out.write(f"{row['algorithm']} {row['hash']}\n")
        return
    what = " ".join(part for part in (row["algorithm"], row["error"]) if part)
    note = f"photosieve hash: {printable(row['path'])}: {what}: {printable(row['message'])}"
    print(note, file=sys.stderr)


def video_features(result: ObjectHashes) -> list[VpdqFeature]:
    """The upright PDQ features of a video's sampled frames (none for an image)."""
    return [VpdqFeature(frame.frame, r.quality or 0, r.hash, frame.timestamp)
            for frame in result.frames if frame.timestamp is not None
            for r in frame.results
            if r.hash.algorithm == "pdq" and r.orientation in (None, "", "original") and not r.variant]


def _note_failures(result: ObjectHashes) -> None:
    """The video formats' failures, one stderr line each (their output has no error rows)."""
    for failure in result.failures:
        print(f"photosieve hash: {printable(result.uri)}: {failure.reason.value}: {printable(failure.message)}",
              file=sys.stderr)


def write_video(result: ObjectHashes, out) -> None:
    """One video's line of a JSON Lines video list (``--video-list``); anything else a note on stderr."""
    features = video_features(result)
    _note_failures(result)
    if not features:
        if not result.failures:
            print(f"photosieve hash: {printable(result.uri)}: not a video (no vPDQ frames): left out",
                  file=sys.stderr)
        return
    # python-threatexchange's signal items, with the timestamp to the millisecond (its own
    # writer keeps three significant digits, which blurs the seconds of long videos).
    signal = [f"{f.hex},{f.quality},{f.timestamp:.3f}" for f in features]
    out.write(json.dumps({"id": result.uri, "vpdq": signal}) + "\n")


def _write_hash_file(results, out) -> int:
    """Meta's hash file of the one video given: 0, or 2 when the objects are not exactly one video."""
    videos = []
    for result in results:
        features = video_features(result)
        _note_failures(result)
        if features:
            videos.append((result.uri, features))
    if len(videos) != 1:
        print(f"photosieve hash: --format vpdq writes the hash file of one video; {len(videos)} videos "
              "were hashed (use --format video-list for several)", file=sys.stderr)
        return 2
    out.write(format_hash_file(videos[0][1]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        hasher = ImageHasher(HashPlan.parse(args.algorithms, decode_options(args), **video_settings(args)))
    except ConfigError as exc:
        parser.error(str(exc))  # exits 2
    if args.format in ("video-list", "vpdq") and "pdq" not in hasher.plan.algorithms:
        parser.error(f"--format {args.format} needs pdq among --algorithms (vPDQ is PDQ of sampled frames)")

    problem = local_files.check_paths(args.paths)
    if problem:
        parser.error(problem)
    items = local_files.objects(args.paths, hasher, max_bytes=args.max_bytes, command="hash")

    out = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    try:
        writer = csv.DictWriter(out, fieldnames=COLUMNS) if args.format == "csv" else None
        if writer:
            writer.writeheader()
        results = hasher.hash_many(items)
        if args.format == "vpdq":
            return _write_hash_file(results, out)
        for result in results:
            if args.format == "video-list":
                write_video(result, out)
                continue
            for row in rows(result):
                if writer:
                    writer.writerow(csv_row(row))
                elif args.format == "te":
                    write_te(row, out)
                else:
                    out.write(json.dumps({k: v for k, v in row.items() if v != ""}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
