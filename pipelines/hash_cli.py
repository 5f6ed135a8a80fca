"""``photosieve hash``: hash local image files without Beam, one row per hash.

For a quick look at a few files, or to make a hash list from a folder:

    photosieve hash photos/ --algorithms pdq,phash,md5 --format jsonl

Each row is one (file, frame, algorithm, orientation); a file that cannot be
read or decoded gives a row with an ``error`` class and ``message`` instead.
The exit status is non-zero only for usage errors, never for bad files.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator

from photosieve.decode import DEFAULT_FAST_MIN_SIDE, DEFAULT_MAX_PIXELS, DecodeOptions
from photosieve.errors import ConfigError
from photosieve.hashing import ALGORITHM_CHOICES, DEFAULT_ALGORITHMS, HashPlan, ImageHasher, ObjectHashes
from photosieve.reading import DEFAULT_MAX_OBJECT_BYTES, ReadError, read_object, walk_local

COLUMNS = (
    "path", "frame", "algorithm", "orientation", "hash", "quality",
    "width", "height", "format", "exif_transposed", "scale", "error", "message",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve hash",
        description="Hash local image files (no Beam) and print one row per hash.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or directories (walked recursively).")
    parser.add_argument(
        "-a", "--algorithms", default=",".join(DEFAULT_ALGORITHMS),
        help=f"Comma-separated, from: {', '.join(ALGORITHM_CHOICES)}. "
        f"Default: {','.join(DEFAULT_ALGORITHMS)}.",
    )
    parser.add_argument(
        "-d", "--decode", choices=("fast", "exact"), default="fast",
        help="fast: decode JPEGs at reduced size (DCT scaling) and shrink others before hashing; "
        "exact: hash full-resolution pixels. Default: fast.",
    )
    parser.add_argument(
        "--no-exif-transpose", dest="exif_transpose", action="store_false",
        help="Hash pixels as stored, ignoring the EXIF orientation. Default: apply it.",
    )
    parser.add_argument("--all-frames", action="store_true", help="Hash every frame of animated images. Default: first frame.")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help=f"Decompression-bomb limit in pixels. Default: {DEFAULT_MAX_PIXELS}.")
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_OBJECT_BYTES,
                        help=f"Skip (and report) files larger than this. Default: {DEFAULT_MAX_OBJECT_BYTES}.")
    parser.add_argument("--fast-min-side", type=int, default=DEFAULT_FAST_MIN_SIDE,
                        help=f"Fast decode shrinks no further than this shorter side. Default: {DEFAULT_FAST_MIN_SIDE}.")
    parser.add_argument("-f", "--format", choices=("csv", "jsonl"), default="csv", help="Output format. Default: csv.")
    parser.add_argument("-o", "--output", default="-", help="Output file. Default: - (standard output).")
    return parser


def rows(result: ObjectHashes) -> Iterator[dict]:
    """The output rows of one object: hashes, then failures."""
    blank = dict.fromkeys(COLUMNS, "")
    for d in result.digests:
        yield {**blank, "path": result.uri, "frame": 0, "algorithm": d.hash.algorithm, "hash": d.hash.to_hex()}
    for frame in result.frames:
        notes = {"frame": frame.frame, "width": frame.width, "height": frame.height, "format": frame.format,
                 "exif_transposed": frame.exif_transposed, "scale": frame.scale}
        for r in frame.results:
            yield {**blank, "path": result.uri, **notes, "algorithm": r.hash.algorithm,
                   "orientation": r.orientation, "hash": r.hash.to_hex(),
                   "quality": "" if r.quality is None else r.quality}
    for failure in result.failures:
        for algorithm in failure.algorithms or ("",):
            yield {**blank, "path": result.uri, "algorithm": algorithm,
                   "error": failure.reason.value, "message": failure.message}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        decode = DecodeOptions(mode=args.decode, exif_transpose=args.exif_transpose, max_pixels=args.max_pixels,
                               all_frames=args.all_frames, fast_min_side=args.fast_min_side)
        hasher = ImageHasher(HashPlan.parse(args.algorithms, decode))
    except ConfigError as exc:
        parser.error(str(exc))  # exits 2

    def items():
        for path in walk_local(args.paths):
            try:
                yield path, read_object(path, max_bytes=args.max_bytes)
            except ReadError as exc:
                yield path, hasher.read_failure(path, exc.reason, exc.message)

    out = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    try:
        writer = csv.DictWriter(out, fieldnames=COLUMNS) if args.format == "csv" else None
        if writer:
            writer.writeheader()
        for result in hasher.hash_many(items()):
            for row in rows(result):
                if writer:
                    writer.writerow(row)
                else:
                    out.write(json.dumps({k: v for k, v in row.items() if v != ""}) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
