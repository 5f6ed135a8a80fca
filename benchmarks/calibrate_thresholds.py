"""Calibrate default match thresholds: false positives between photos vs recall under edits.

For every photo in ``--photos`` this hashes the original and each edited copy
from :data:`benchmarks.edits.EDITS` with each algorithm, then measures:

* the distances of *different-photo pairs*: every version (original or
  edit) of photo i against the original of photo j != i, i.e. what a
  query image meets when it is matched against a list of other images;
* the largest threshold whose false-positive rate over those pairs is at
  most ``--fpr`` (default 1e-4);
* per edit kind, the recall at that threshold: the fraction of photos whose
  edited copy is within the threshold of its own original.

Usage (from the repository root; ~2 minutes on one core for 364 photos)::

    .venv/bin/python -m benchmarks.calibrate_thresholds
    .venv/bin/python -m benchmarks.calibrate_thresholds --limit 50 --algorithms gradient,phash
    .venv/bin/python -m benchmarks.calibrate_thresholds --cache /tmp/calibration.npz  # re-analyse fast

Besides the calibrated threshold, the report shows the false-positive rate
and mean recall at each algorithm's current registry default, so a changed
default can be checked against the same numbers.

The photos (``../shared/data/photos``) are research-licensed: this script
reads them when present and writes only hashes and numbers.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.edits import EDITS, apply_all
from photosieve import algorithms
from photosieve.hashes import ahash, dhash, gradient, phash

logger = logging.getLogger(__name__)

DEFAULT_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
MODULES = {"gradient": gradient, "phash": phash, "dhash": dhash, "ahash": ahash}
# Percentiles of the different-photo distance distribution shown in the report.
REPORT_PERCENTILES = (0.01, 0.1, 1, 5, 50)


def run(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-p",
        "--photos",
        type=Path,
        default=DEFAULT_PHOTOS,
        help=f"Folder of photos. Default: {DEFAULT_PHOTOS}",
    )
    parser.add_argument(
        "-a",
        "--algorithms",
        default=",".join(MODULES),
        help=f"Comma-separated algorithms. Default: {','.join(MODULES)}",
    )
    parser.add_argument(
        "-n",
        "--limit",
        type=int,
        default=0,
        help="Use only the first N photos (0: all). Default: 0",
    )
    parser.add_argument(
        "-s", "--seed", type=int, default=20260101, help="Seed of the edits. Default: 20260101"
    )
    parser.add_argument(
        "-f", "--fpr", type=float, default=1e-4, help="Target false-positive rate. Default: 1e-4"
    )
    parser.add_argument(
        "-c",
        "--cache",
        type=Path,
        default=None,
        help="Keep the hashes in this .npz and reuse them when photos, seed and edits match. Default: none",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="Write the Markdown report here. Default: stdout",
    )
    args = parser.parse_args(argv)
    args.algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    unknown = sorted(set(args.algorithms) - set(MODULES))
    if unknown:
        parser.error(f"`--algorithms`: unknown {unknown}; known: {sorted(MODULES)}")
    if not args.photos.is_dir():
        parser.error(f"`--photos`: {args.photos} is not a folder")
    return args


def list_photos(folder: Path, limit: int) -> list[Path]:
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths[:limit] if limit else paths


def hash_versions(paths: list[Path], names: list[str], seed: int) -> dict[str, np.ndarray]:
    """{algorithm: (photos, 1 + edits, nbytes) uint8}: version 0 is the original."""
    edit_names = list(EDITS)
    out = {
        name: np.zeros((len(paths), 1 + len(edit_names), algorithms.get(name).nbytes), np.uint8)
        for name in names
    }
    started = time.monotonic()
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            original = image.convert("RGB")
        versions = [original, *apply_all(original, seed + i, edit_names).values()]
        arrays = [np.asarray(v) for v in versions]
        for name in names:
            results = MODULES[name].compute_batch(arrays)
            out[name][i] = np.frombuffer(b"".join(r.hash.bits for r in results), np.uint8).reshape(
                len(arrays), -1
            )
        if (i + 1) % 50 == 0:
            logger.info(
                "hashed %d/%d photos (%.0f s)", i + 1, len(paths), time.monotonic() - started
            )
    return out


def cached_hashes(args: argparse.Namespace, paths: list[Path]) -> dict[str, np.ndarray]:
    """hash_versions, through ``--cache`` when given (keyed by photo names, seed and edit names)."""
    key = "\n".join([str(args.seed), ",".join(EDITS), *(p.name for p in paths)])
    if args.cache and args.cache.exists():
        with np.load(args.cache) as stored:
            if str(stored["key"]) == key and all(name in stored for name in args.algorithms):
                logger.info("using cached hashes from %s", args.cache)
                return {name: stored[name] for name in args.algorithms}
    hashes = hash_versions(paths, args.algorithms, args.seed)
    if args.cache:
        np.savez(args.cache, key=np.array(key), **hashes)
    return hashes


def distances(name: str, hashes: np.ndarray) -> np.ndarray:
    """(photos, versions, photos) distance of each version of photo i to the original of photo j."""
    n, versions, nbytes = hashes.shape
    queries = hashes.reshape(n * versions, nbytes)
    references = hashes[:, 0]
    if algorithms.get(name).metric is algorithms.Metric.HAMMING:
        q = queries.view(np.uint64) if nbytes % 8 == 0 else queries
        r = references.view(np.uint64) if nbytes % 8 == 0 else references
        d = (
            np.bitwise_count(q[:, None, :] ^ r[None, :, :])
            .sum(axis=2, dtype=np.int64)
            .astype(np.float64)
        )
    else:
        q = queries.astype(np.float64)
        r = references.astype(np.float64)
        # Exact in float64: every term is an integer below 2**53.
        squared = (q * q).sum(1)[:, None] + (r * r).sum(1)[None, :] - 2.0 * (q @ r.T)
        d = np.sqrt(np.maximum(squared, 0.0))
    return d.reshape(n, versions, n)


def threshold_at_fpr(different: np.ndarray, fpr: float, integer: bool) -> float:
    """Largest threshold t with (number of different pairs at distance <= t) / pairs <= fpr."""
    allowed = math.floor(fpr * different.size)
    ordered = np.sort(different, kind="stable")
    first_excess = ordered[allowed]  # d <= t must exclude this value
    if integer:
        return float(math.ceil(first_excess) - 1)
    # Round down to 0.1 below the first excess distance, for a readable constant.
    return math.floor(np.nextafter(first_excess, -np.inf) * 10) / 10


def analyse(name: str, hashes: np.ndarray, fpr: float) -> dict:
    d = distances(name, hashes)
    n = d.shape[0]
    off_diagonal = ~np.eye(n, dtype=bool)
    different = d.transpose(0, 2, 1)[off_diagonal].ravel()  # (i, j != i, version)
    integer = algorithms.get(name).metric is algorithms.Metric.HAMMING
    threshold = threshold_at_fpr(different, fpr, integer)
    genuine = d[np.arange(n), :, np.arange(n)]  # (photos, versions)
    recall = {edit: float((genuine[:, k + 1] <= threshold).mean()) for k, edit in enumerate(EDITS)}
    originals = d[:, 0, :][off_diagonal]
    default = algorithms.get(name).default_threshold
    return {
        "default": default,
        "default_fpr": float((different <= default).mean()),
        "default_recall": float((genuine[:, 1:] <= default).mean()),
        "threshold": threshold,
        "pairs": different.size,
        "false_positives": int((different <= threshold).sum()),
        "percentiles": np.percentile(different, REPORT_PERCENTILES),
        "min_original_pair": float(originals.min()),
        "recall": recall,
        "median_genuine": {
            edit: float(np.median(genuine[:, k + 1])) for k, edit in enumerate(EDITS)
        },
    }


def report(results: dict[str, dict], photos: int, fpr: float) -> str:
    names = list(results)
    lines = [f"Photos: {photos}; edits per photo: {len(EDITS)}; target FPR: {fpr:g}", ""]
    lines.append("| | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("different-photo pairs", [f"{results[n]['pairs']:,}" for n in names])
    for k, p in enumerate(REPORT_PERCENTILES):
        row(
            f"different pairs, {p:g}th percentile",
            [f"{results[n]['percentiles'][k]:.1f}" for n in names],
        )
    row(
        "closest two different originals", [f"{results[n]['min_original_pair']:.1f}" for n in names]
    )
    row(
        f"**threshold at FPR <= {fpr:g}**",
        [f"**{results[n]['threshold']:g}**" for n in names],
    )
    row(
        "measured FPR at threshold",
        [f"{results[n]['false_positives'] / results[n]['pairs']:.1e}" for n in names],
    )
    for edit in EDITS:
        row(
            f"recall: {edit}",
            [
                f"{results[n]['recall'][edit]:.2f} (med {results[n]['median_genuine'][edit]:.0f})"
                for n in names
            ],
        )
    mean_recall = [np.mean(list(results[n]["recall"].values())) for n in names]
    row("mean recall over edits", [f"{r:.2f}" for r in mean_recall])
    row("current default threshold", [f"{results[n]['default']:g}" for n in names])
    row("FPR at default", [f"{results[n]['default_fpr']:.1e}" for n in names])
    row("mean recall over edits at default", [f"{results[n]['default_recall']:.2f}" for n in names])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = run(argv)
    paths = list_photos(args.photos, args.limit)
    logger.info(
        "hashing %d photos x %d versions with %s", len(paths), 1 + len(EDITS), args.algorithms
    )
    hashes = cached_hashes(args, paths)
    results = {name: analyse(name, hashes[name], args.fpr) for name in args.algorithms}
    text = report(results, len(paths), args.fpr)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main()
