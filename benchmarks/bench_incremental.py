"""A repeat audit against a first audit: wall time, what was read, and equal match tables.

Usage (from the repo root):

    .venv/bin/python -m benchmarks.bench_incremental [--photos ../shared/data/photos] \\
        [--images 5000] [--long-sides 1600 2048 3024 4032] [--workers 2] [--repeats 3] \\
        [--archive DIR] [--wait-idle 60] [--drop-caches]

The archive: ``--images`` edited copies of the photos (each a random trim of
up to 0.5% per side, a brightness/contrast change of up to 8%, a resize to a
long side drawn from ``--long-sides``, mild sensor-like noise, JPEG quality
75-95; 5% are PNGs at the photo's own size). Camera and phone photos, which
real archives are mostly made of, are 2-12 MP: the default sides give 1.9,
3.1, 6.8 and 12.2 MP for a 4:3 photo. Without ``--photos`` (or when it is
not there) the scenes are synthetic. The archive is written to ``--archive``
(kept, and reused when it already holds that many images) or to a temporary
directory (removed). The photos are research-licensed: only read, never
copied as they are.

The lists: ``known`` holds the PDQ hash of 40 source photos, ``update`` of
30 others; the second week's ``update`` adds 30 more (one list changed).

The runs, each ``photosieve audit`` as a subprocess (what a user waits for:
Python and Beam start-up, preflight, the pipeline, summary.json), with the
same runner options (``--workers`` SDK worker processes on this machine):

1. **first**: week 1, from scratch (``--repeats`` times; the last one is
   the previous run of the others).
2. **repeat**: week 2, ``--previous first``, with the updated list and no
   change to the archive.
3. **scratch**: week 2 from scratch: the reference for the repeat's match
   table (equal but for ``run_id``, ``matched_at`` and ``new_reason``), and
   a second measure of the full cost.

Runs 2 and 3 are repeated ``--repeats`` times, interleaved, and the table
reports medians (load from other sessions hits both alike). Then the same
first/repeat pair on one of the archive's 50 folders separates a repeat
audit's fixed cost (start-up, pipeline construction, worker processes) from
its cost per file (the joins, matching, writing the tables).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image, ImageEnhance

from benchmarks.bench_pipeline import _load, _wait_for_idle
from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
REPO = Path(__file__).resolve().parents[1]
SEED = 20261124
# Columns that name the run or describe the repeat, not the match.
RUN_COLUMNS = {schemas.RUN_ID, schemas.MATCHED_AT, schemas.NEW_REASON}
# Photos per list: known, update week 1, update week 2 additions.
LIST_SIZES = (40, 30, 30)
# Largest trim of an edited copy, per side (share of the side).
TRIM = 0.005


def _drop_caches() -> None:
    """Write dirty pages out and drop the page cache: the next run reads the archive from the disk."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        sys.exit(f"--drop-caches: cannot drop the page cache ({exc}); run as root on Linux")


def _prepare(args: argparse.Namespace) -> None:
    """Before a measured run: idle cores, and a cold page cache when asked."""
    _wait_for_idle(args.wait_idle)
    if args.drop_caches:
        _drop_caches()


def _sources(photos: Path) -> list[Path]:
    if not photos.is_dir():
        return []
    return sorted(p for p in photos.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _synthetic(seed: int) -> Image.Image:
    """A random scene (smooth background, flat shapes) when no photos are available."""
    from tests.transforms import samples

    return samples.picture(seed, (640, 480))


def _source_image(sources: list[Path], index: int) -> Image.Image:
    if sources:
        with Image.open(sources[index % len(sources)]) as image:
            return image.convert("RGB")
    return _synthetic(index)


def _tail(path: Path, size: int) -> bytes:
    """The last ``size`` bytes of a file (a whole 12 MP JPEG need not be read to check its end)."""
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - size, 0))
        return handle.read()


def _edited(job: tuple[list[Path], int, int, tuple[int, ...], str]) -> int:
    """Write edited copy ``k`` of source photo ``index``; return its byte count."""
    sources, index, k, long_sides, out = job
    stem = Path(out) / f"d{index % 50:02d}" / f"p{index:04d}-{k:03d}"
    for suffix, end in ((".jpg", b"\xff\xd9"), (".png", b"IEND\xaeB`\x82")):
        done = stem.with_suffix(suffix)
        if done.exists() and _tail(done, len(end)) == end:
            return done.stat().st_size  # written by an interrupted earlier run
    rng = random.Random(SEED * 1_000_003 + index * 1009 + k)
    image = _source_image(sources, index)
    width, height = image.size
    # PDQ is sensitive to crops (3% per side moves 40-60 bits): trims only.
    box = [rng.uniform(0, TRIM) * width, rng.uniform(0, TRIM) * height]
    box += [width - rng.uniform(0, TRIM) * width, height - rng.uniform(0, TRIM) * height]
    image = image.crop(tuple(int(v) for v in box))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.92, 1.08))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.92, 1.08))
    if rng.random() < 0.05:
        fmt, params = "PNG", {}
    else:
        side = rng.choice(long_sides)
        scale = side / max(image.size)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.BICUBIC,
        )
        noise = np.random.default_rng(rng.getrandbits(32)).normal(
            0, 2.5, (image.height, image.width, 1)
        )
        image = Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))
        fmt, params = "JPEG", {"quality": rng.randint(75, 95)}
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    path = stem.with_suffix("." + fmt.lower().replace("jpeg", "jpg"))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # not an image suffix: never listed
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)
    return len(buffer.getvalue())


def build_archive(
    sources: list[Path], images: int, long_sides: tuple[int, ...], root: Path
) -> tuple[Path, int]:
    """Write the archive under ``root/images`` (two processes); return (its path, bytes).

    Reuses a complete archive made with the same settings and resumes an interrupted one.
    """
    out, marker = root / "images", root / "complete.json"
    wanted = {
        "images": images,
        "long_sides": list(long_sides),
        "sources": len(sources),
        "seed": SEED,
    }
    if marker.exists() and json.loads(marker.read_text()).get("wanted") == wanted:
        return out, json.loads(marker.read_text())["bytes"]
    # An interrupted build for the same settings is resumed (its complete files kept).
    building = root / "building.json"
    if not building.exists() or json.loads(building.read_text()) != wanted:
        marker.unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        building.write_text(json.dumps(wanted))
    for stale in out.rglob("*.partial"):
        stale.unlink()
    count = max(len(sources), 1)
    jobs = [(sources, i % count, i // count, long_sides, str(out)) for i in range(images)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        total = sum(pool.map(_edited, jobs, chunksize=16))
    marker.write_text(json.dumps({"wanted": wanted, "bytes": total}))
    print(
        f"archive: {images} images, {total / 1e9:.2f} GB, generated in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return out, total


def write_lists(sources: list[Path], root: Path) -> dict[str, Path]:
    """known.csv, update-v1.csv and update-v2.csv (v1 plus more photos), PDQ of the source photos."""
    hasher = ImageHasher(HashPlan.parse("pdq"))
    count = max(len(sources), 1)
    rng = random.Random(SEED)
    chosen = rng.sample(range(count), min(count, sum(LIST_SIZES)))
    known, update, added = (
        chosen[: LIST_SIZES[0]],
        chosen[LIST_SIZES[0] : sum(LIST_SIZES[:2])],
        chosen[sum(LIST_SIZES[:2]) :],
    )

    def line(index: int) -> str:
        buffer = io.BytesIO()
        _source_image(sources, index).save(buffer, "PNG")
        result = hasher.hash_bytes(str(index), buffer.getvalue())
        return f"{result.frames[0].results[0].hash.to_hex()},pdq,photo{index},source-{index}"

    def write(name: str, indexes: list[int]) -> Path:
        path = root / name
        path.write_text("hash,algorithm,id,labels\n" + "".join(line(i) + "\n" for i in indexes))
        return path

    return {
        "known": write("known.csv", known),
        "update-v1": write("update-v1.csv", update),
        "update-v2": write("update-v2.csv", update + added),
    }


def audit(
    archive: Path, lists: dict[str, Path], output: Path, workers: int, *extra: str
) -> tuple[float, dict]:
    """Run ``photosieve audit`` in a subprocess; return (wall seconds, summary)."""
    shutil.rmtree(output, ignore_errors=True)
    argv = [
        sys.executable, "-m", "photosieve.pipelines.cli", "audit", "-i", str(archive),
        "-l", *(f"{name}={path}" for name, path in lists.items()), "-o", str(output),
        "--runner=FnApiRunner", "--direct_running_mode=multi_processing",
        f"--direct_num_workers={workers}", "--default_sdk_harness_log_level=WARNING", *extra,
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"audit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads((output / "summary.json").read_text())


def comparable_matches(output: Path) -> list[str]:
    table = pq.read_table(output / schemas.MATCHES)
    return sorted(
        json.dumps(
            {k: v for k, v in row.items() if k not in RUN_COLUMNS}, sort_keys=True, default=str
        )
        for row in table.to_pylist()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--photos", type=Path, default=DEFAULT_PHOTOS, help=f"Default: {DEFAULT_PHOTOS}."
    )
    parser.add_argument(
        "--images", type=int, default=5000, help="Images in the archive. Default: 5000."
    )
    parser.add_argument(
        "--long-sides", type=int, nargs="+", default=[1600, 2048, 3024, 4032],
        help="Long side of the JPEG copies, drawn uniformly. Default: 1600 2048 3024 4032.",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="SDK worker processes. Default: 2.")
    parser.add_argument(
        "--repeats", type=int, default=3, help="Repeat and scratch runs each. Default: 3."
    )
    parser.add_argument(
        "--archive", type=Path, help="Keep the archive here (reused). Default: a temporary one."
    )
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="SECONDS",
        help="Before each run, wait up to this long for idle cores. Default: 0 (no wait).",
    )  # fmt: skip
    parser.add_argument(
        "--drop-caches", action="store_true",
        help="Before each run, drop the page cache (Linux, as root), so that every audit reads "
        "the archive from the disk, as a weekly audit of a large archive does. Default: warm cache.",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.drop_caches:
        _drop_caches()  # fail early without the permission
    logging.basicConfig(level=logging.WARNING)
    sources = _sources(args.photos)
    print(
        f"sources: {len(sources) or 'none (synthetic scenes)'} photos from {args.photos}",
        flush=True,
    )

    scratch_dir = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    images = args.images
    try:
        archive, size = build_archive(
            sources, images, tuple(args.long_sides), args.archive or scratch_dir / "archive"
        )
        lists = write_lists(sources, scratch_dir)
        week1 = {"known": lists["known"], "update": lists["update-v1"]}
        week2 = {"known": lists["known"], "update": lists["update-v2"]}
        first_dir = scratch_dir / "first"
        firsts = []
        for r in range(args.repeats):
            _prepare(args)
            firsts.append(audit(archive, week1, first_dir, args.workers))
            print(f"first {r + 1}: {firsts[-1][0]:.1f} s", flush=True)
        first_wall, first = statistics.median(w for w, _ in firsts), firsts[-1][1]
        runs: dict[str, list[tuple[float, dict]]] = {"repeat": [], "scratch": []}
        identical = []
        for r in range(args.repeats):
            for name, extra in (("repeat", ("--previous", str(first_dir))), ("scratch", ())):
                _prepare(args)
                runs[name].append(audit(archive, week2, scratch_dir / name, args.workers, *extra))
                print(f"{name} {r + 1}: {runs[name][-1][0]:.1f} s", flush=True)
            identical.append(
                comparable_matches(scratch_dir / "repeat")
                == comparable_matches(scratch_dir / "scratch")
            )
        folder = archive / "d00"
        _prepare(args)
        small_first_wall, small_first = audit(
            folder, week1, scratch_dir / "small-first", args.workers
        )
        small = []
        for r in range(args.repeats):
            _prepare(args)
            extra = ("--previous", str(scratch_dir / "small-first"))
            small.append(audit(folder, week2, scratch_dir / "small-repeat", args.workers, *extra))
            print(f"repeat of one folder {r + 1}: {small[-1][0]:.1f} s", flush=True)
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)

    def row(label: str, results: list[tuple[float, dict]]) -> str:
        wall = statistics.median(w for w, _ in results)
        summary = results[-1][1]
        objects = summary["counts"]["objects"]
        status = summary["counts"]["matches"].get("status", {})
        new = summary.get("incremental", {}).get("matches", {}).get("new", {}).get("match", {})
        return (
            f"| {label} | {wall:.1f} | {statistics.median(s['wall_seconds'] for _, s in results):.1f} | "
            f"{wall / first_wall:.1%} | {objects.get('read', 0)} | {objects.get('carried', 0)} | "
            f"{status.get('match', 0)} | {', '.join(f'{n} {k}' for k, n in sorted(new.items())) or '-'} | "
            f"{', '.join(f'{w:.1f}' for w, _ in results)} |"
        )

    print(
        f"\n{images} images ({size / 1e9:.2f} GB; JPEG long sides {' '.join(map(str, args.long_sides))}), "
        f"pdq+md5 fast decode, {args.workers} SDK worker processes, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; medians of {args.repeats}; page cache "
        f"{'dropped before each run' if args.drop_caches else 'warm'}; load average after: {_load()}\n"
    )
    print(
        "| run | wall s | pipeline s | vs first | objects read | carried | match rows | new matches (why) | runs, wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(row("first (week 1, from scratch)", firsts))
    print(row("repeat (week 2, --previous first)", runs["repeat"]))
    print(row("scratch (week 2, from scratch)", runs["scratch"]))
    print(row("first, one folder (d00)", [(small_first_wall, small_first)]))
    print(row("repeat, one folder (d00)", small))
    files = first["counts"]["files"]["listed"] - small_first["counts"]["files"]["listed"]
    repeat_wall = statistics.median(w for w, _ in runs["repeat"])
    small_wall = statistics.median(w for w, _ in small)
    print(
        f"\nrepeat audit: {small_wall:.1f} s for one folder ({small_first['counts']['files']['listed']} "
        f"files), + {(repeat_wall - small_wall) / files * 1e3:.2f} ms per further file (first audit: "
        f"{first_wall / first['counts']['files']['listed'] * 1e3:.1f} ms per file)"
    )
    print(
        f"repeat match table equals the from-scratch one: {all(identical)} ({sum(identical)}/{len(identical)})"
    )
    return 0 if all(identical) else 1


if __name__ == "__main__":
    sys.exit(main())
