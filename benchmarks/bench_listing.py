"""Listing a local tree: photosieve.listing (lstat, never opens) against Beam's FileSystems.match.

Usage (from the repo root):

    .venv/bin/python -m benchmarks.bench_listing [--files 100000] [--per-dir 1000] [--repeats 3]

Writes ``--files`` empty files, ``--per-dir`` to a directory, into a
temporary directory (removed afterwards), then lists ``DIR/**`` with both,
``--repeats`` times each, alternating, and prints the wall time of each
listing and the entries found. Both see every file (the tree holds regular
files only); what photosieve adds is the classification of the others
(FIFOs, devices, links) without opening them, which must not cost more
than Beam's two ``stat`` calls per file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from apache_beam.io.filesystems import FileSystems

from photosieve.listing import list_pattern


def _tree(root: str, files: int, per_dir: int) -> None:
    for index in range(files):
        directory = os.path.join(root, f"d{index // per_dir:05d}")
        if index % per_dir == 0:
            os.mkdir(directory)
        with open(os.path.join(directory, f"f{index:08d}.jpg"), "wb"):
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files", type=int, default=100_000, help="Files to list. Default: 100000."
    )
    parser.add_argument(
        "--per-dir", type=int, default=1000, help="Files per directory. Default: 1000."
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="Listings of each kind. Default: 3."
    )
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="bench-listing-")
    try:
        _tree(root, args.files, args.per_dir)
        pattern = os.path.join(root, "**")
        for _ in range(args.repeats):
            clock = time.perf_counter()
            beam = len(FileSystems.match([pattern])[0].metadata_list)
            beam_s = time.perf_counter() - clock
            clock = time.perf_counter()
            ours = sum(1 for _ in list_pattern(pattern))
            ours_s = time.perf_counter() - clock
            print(
                f"Beam FileSystems.match: {beam} files in {beam_s:.2f} s; "
                f"photosieve.listing: {ours} entries in {ours_s:.2f} s"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
