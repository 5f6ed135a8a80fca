"""``make bench``: every benchmark once, in a quick mode that shows each works and its table.

    python -m benchmarks.run_all           # quick: small sizes, one repeat (about a minute)
    python -m benchmarks.run_all --full    # each benchmark with its own defaults (hours)
    python -m benchmarks.run_all --only bench_index bench_hostile

Quick figures are for seeing that a benchmark runs and what it prints; the
figures quoted in benchmarks/README.md come from the commands printed there,
at full size. Benchmarks that race real photos read ``../shared/data/photos``
(research licence: never copied); they are skipped, with a note, where the
photos are absent. Each runs in its own process, one after another, so one
benchmark's memory and threads never skew the next.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

# (module, quick arguments, needs the shared photos)
BENCHMARKS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("bench_index", ("--n", "100000", "--repeats", "1"), False),
    ("bench_listing", ("--files", "5000", "--repeats", "1"), False),
    ("bench_archives", ("--size-mb", "16", "--repeat", "1", "--entries", "200", "--kernel-mb", "8"),
     False),
    ("bench_decode_limits", ("--code", ".", "--cases", "tiff-100k,gif-cut,webp-canvas,tiff-lzw-cut"),
     False),
    ("bench_hostile", ("-n", "300", "--audit", "--archives", "50"), False),
    ("bench_mode_matching", ("--images", "100", "1000", "--repeats", "1"), False),
    ("bench_hashing", ("--large", "1", "--repeat", "1"), True),
    ("bench_pipeline", ("--copies", "2", "--repeats", "1"), True),
    ("false_match_curve", ("--limit", "4", "--hard-limit", "3"), True),
    ("bench_budget", ("--limit", "6"), True),
    ("bench_mode_cost", ("--limit", "20", "--repeat", "1"), True),
    ("bench_collision", ("--pairs", "2"), True),
    ("bench_mapped_index", ("--sizes", "100000", "--processes", "2", "--queries", "20"), False),
    ("bench_strategy", ("--sizes", "10000", "--queries", "500", "--planted", "5"), False),
    ("bench_video", ("--seconds", "3", "--size", "320x240", "--repeats", "1"), False),
    ("bench_video_matching",
     ("--clips", "2", "--size", "320x180", "--cost-sizes", "320x180", "--cost-clips", "1"), True),
)
PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="Each benchmark with its own defaults.")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="Run only these benchmarks.")
    args = parser.parse_args(argv)
    known = {name for name, _, _ in BENCHMARKS}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    failed = []
    for name, quick, needs_photos in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        if needs_photos and not PHOTOS.is_dir():
            print(f"## {name}: skipped (no photos at {PHOTOS})\n", flush=True)
            continue
        command = [sys.executable, "-m", f"benchmarks.{name}", *([] if args.full else quick)]
        print(f"## {name}\n\n$ {' '.join(command[1:])}\n", flush=True)
        clock = time.monotonic()
        status = subprocess.run(command, check=False).returncode
        print(f"\n({name}: exit {status}, {time.monotonic() - clock:.0f} s)\n", flush=True)
        if status:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
