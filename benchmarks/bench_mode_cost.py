"""What a matching mode costs per image, and where the time goes.

``--match-mode robust`` hashes each frame ~54 times (the 8 dihedral
orientations of the plain hash, borders, region and rotation hypotheses, 45
uncrop guesses) and needs RGB pixels, where plain PDQ decodes JPEG luma
only. This benchmark measures, in one run on the same photos:

1. **hashing** per image for plain PDQ and for every mode's hash plan
   (``photosieve.robust.modes.plan_for_mode``), best of ``--repeat`` passes,
   one thread, and the ratio to plain PDQ;
2. **where a mode's time goes**: the same pass under ``cProfile``, its
   time split into stages by function (decode, plain PDQ buffer, borders,
   region, rotation, the linear-algebra products of the variants, bits, the
   second opinion's hashes, the rest), as shares of the profiled total
   (profiling inflates small calls; the shares, not the milliseconds, are
   the point);
3. optionally (``--audit``), **whole audits** of the photo folder, plain
   and in each mode, as subprocesses of ``photosieve audit`` against a list
   built from ``--listed`` of the photos, wall time and its ratio to plain,
   and the per-image marginal ratio (wall minus the smallest-archive wall,
   measured on ``--small`` photos, over the extra images).

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_mode_cost --limit 120               # hashing + stages, ~1 min
    .venv/bin/python -m benchmarks.bench_mode_cost --audit -o cost.md        # + whole audits, ~2 min

The photos (``../shared/data/photos``) are research-licensed: this script
reads them and writes only numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from threadpoolctl import threadpool_limits

from photosieve.hashing import HashPlan, ImageHasher
from photosieve.robust.modes import plan_for_mode

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = REPO.parent / "shared" / "data" / "photos"
MODES = ("robust", "robust-windows-gradient", "robust-windows-phash")
PLAIN = "pdq"

# Stage -> (module path suffix, function names) whose cumulative time is the stage's.
# Listed innermost first: a function counted in an earlier stage is not counted again
# through a later one (e.g. the products inside find_rotation's caller).
STAGES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "decode": (("photosieve/decode.py", ("decode_frames",)),),
    "plain PDQ buffer": (("photosieve/hashing.py", ("_pdq_buffer",)),),
    "borders": (("photosieve/robust/regions.py", ("find_borders",)),),
    "region": (("photosieve/robust/regions.py", ("find_region",)),),
    "rotation": (
        ("photosieve/robust/regions.py", ("find_rotation",)),
        ("photosieve/robust/expansion.py", ("_derotated",)),
    ),
    "variant products": (
        ("photosieve/robust/expansion.py", ("_products",)),
    ),
    "variant bits": (
        ("photosieve/hashes/pdq.py", ("hash_buffers",)),
        ("photosieve/robust/expansion.py", ("_bits", "_results")),
    ),
    "second opinions": (("photosieve/robust/expansion.py", ("second_opinion_hashes",)),),
}


def list_photos(folder: Path, limit: int | None) -> list[Path]:
    """JPEG and PNG files of ``folder``, sorted by name, the first ``limit``."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return paths[:limit] if limit else paths


def plans() -> dict[str, HashPlan]:
    """Plain PDQ and each mode's hash plan, as an audit builds them."""
    base = HashPlan.parse(PLAIN)
    out = {PLAIN: base}
    for mode in MODES:
        out[mode] = plan_for_mode(base, mode)
    return out


def hash_pass(plan: HashPlan, items: Sequence[tuple[str, bytes]]) -> float:
    """Seconds to hash ``items`` with ``plan`` (every frame, every result)."""
    hasher = ImageHasher(plan)
    start = time.perf_counter()
    for _ in hasher.hash_many(items):
        pass
    return time.perf_counter() - start


def best_of(plan: HashPlan, items: Sequence[tuple[str, bytes]], repeat: int) -> float:
    return min(hash_pass(plan, items) for _ in range(repeat))


def stage_shares(stats: pstats.Stats, total: float) -> dict[str, float]:
    """Stage -> share of ``total`` (profiled seconds), from the functions' cumulative times.

    A stage's functions must not call one another (cumulative times would
    count twice); "rest" is what no stage claims.
    """
    shares: dict[str, float] = {}
    for stage, places in STAGES.items():
        seconds = 0.0
        for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
            for suffix, names in places:
                if function in names and filename.replace("\\", "/").endswith(suffix):
                    seconds += cumulative
        if seconds:
            shares[stage] = seconds / total if total else 0.0
    shares["rest"] = max(0.0, 1.0 - sum(shares.values()))
    return shares


def profile_pass(plan: HashPlan, items: Sequence[tuple[str, bytes]]) -> dict[str, float]:
    """One pass under cProfile, split into :data:`STAGES`."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(hash_pass, plan, items)
    total = time.perf_counter() - start
    return stage_shares(pstats.Stats(profiler), total)


def hashing_table(timings: dict[str, float], n: int) -> list[str]:
    plain = timings[PLAIN]
    lines = ["| plan | ms / image | x plain PDQ |", "|---|---|---|"]
    for name, seconds in timings.items():
        lines.append(f"| {name} | {seconds / n * 1000:.2f} | {seconds / plain:.1f} |")
    return lines


def stages_table(shares: dict[str, dict[str, float]], timings: dict[str, float], n: int) -> list[str]:
    names = list(shares)
    stages = [s for s in [*STAGES, "rest"] if any(s in shares[m] for m in names)]
    lines = ["| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for stage in stages:
        cells = []
        for mode in names:
            share = shares[mode].get(stage, 0.0)
            ms = share * timings[mode] / n * 1000
            cells.append(f"{share:.0%} ({ms:.2f} ms)" if share else "-")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return lines


def _audit(photos: Path, listed: Path, output: Path, mode: str | None) -> float:
    argv = [
        str(Path(sys.executable).parent / "photosieve"), "audit", "--config", "local",
        "--input", str(photos), "--list", f"known={listed}", "--output", str(output),
        "--no-progress",
    ]  # fmt: skip
    if mode is not None:
        argv += ["--match-mode", mode]
    start = time.perf_counter()
    done = subprocess.run(argv, check=False, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def audit_table(
    paths: list[Path], listed_n: int, small_n: int, work: Path, repeat: int = 3
) -> list[str]:
    """Whole audits, plain and per mode, of all ``paths`` and of the first ``small_n``, best of ``repeat``.

    The marginal cost per photo is a difference of two walls, so each wall
    is the best of ``repeat`` runs (one slow run would make it negative).
    """
    known = work / "known"
    known.mkdir()
    for path in paths[:listed_n]:
        (known / path.name).symlink_to(path)
    listed = work / "known.csv.gz"
    subprocess.run(
        [str(Path(sys.executable).parent / "photosieve"), "lists", "build", "--from-images",
         str(known), "-o", str(listed), "-s", "gradient,phash"],
        check=True, capture_output=True, cwd=REPO,
    )  # fmt: skip
    archives = {}
    for label, chosen in (("all", paths), ("small", paths[:small_n])):
        folder = work / f"archive-{label}"
        folder.mkdir()
        for path in chosen:
            (folder / path.name).symlink_to(path)
        archives[label] = folder
    walls: dict[str, dict[str, float]] = {}
    for mode in (None, *MODES):
        name = mode or PLAIN
        walls[name] = {
            label: min(
                _audit(folder, listed, work / f"out-{name}-{label}-{i}", mode)
                for i in range(repeat)
            )
            for label, folder in archives.items()
        }
    extra = len(paths) - small_n
    plain = walls[PLAIN]
    plain_marginal = (plain["all"] - plain["small"]) / extra
    lines = [
        (
            f"| audit | wall s, {len(paths)} photos | x plain | wall s, {small_n} photos "
            "| ms / extra photo | x plain, per extra photo |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for name, wall in walls.items():
        marginal = (wall["all"] - wall["small"]) / extra
        lines.append(
            f"| {name} | {wall['all']:.2f} | {wall['all'] / plain['all']:.2f} | {wall['small']:.2f} "
            f"| {marginal * 1000:.1f} | {marginal / plain_marginal:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=None, help="photos to hash (default: all)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="hashing passes and audits of each kind; the best counts"
    )
    parser.add_argument("--audit", action="store_true", help="also time whole audits")
    parser.add_argument("--listed", type=int, default=50, help="photos in the audit's list")
    parser.add_argument("--small", type=int, default=20, help="photos in the small audit")
    parser.add_argument("-o", "--output", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    paths = list_photos(args.photos, args.limit)
    if args.audit and len(paths) <= args.small:
        parser.error(f"need more than --small {args.small} photos, found {len(paths)}")
    items = [(str(p), p.read_bytes()) for p in paths]
    with threadpool_limits(1):
        timings = {name: best_of(plan, items, args.repeat) for name, plan in plans().items()}
        shares = {name: profile_pass(plan, items) for name, plan in plans().items()}
    lines = [
        f"Cost of the matching modes: {len(items)} photos, one thread, best of {args.repeat}",
        "",
        *hashing_table(timings, len(items)),
        "",
        "Where the time goes (shares of a profiled pass; ms: share x the unprofiled time)",
        "",
        *stages_table(shares, timings, len(items)),
    ]
    if args.audit:
        work = Path(tempfile.mkdtemp(prefix="photosieve-mode-cost-"))
        try:
            lines += ["", "Whole audits (photosieve audit, in-process runner)", ""]
            lines += audit_table(paths, args.listed, args.small, work, args.repeat)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(lines)
    print(report)
    if args.output:
        args.output.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
