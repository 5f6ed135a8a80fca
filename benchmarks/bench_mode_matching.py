"""What matching in a mode costs per query frame, against list size (the pipeline's MatchFrames step).

Queries: the PDQ reference images in ``tests/data/pdq-reference/images``
(BSD), hashed as the mode hashes them (``ImageHasher`` with the mode's query
expansion: up to 77 PDQ hashes per frame). Lists: ``--images`` listed
images of uniformly random 256-bit hashes (PDQ's bits are balanced by
construction): for ``robust`` one hash each (a hash-only list), for the
window modes one whole-image hash and 75 window hashes each (what ``lists
build --from-images`` stores), plus random second-opinion hashes. The cost
of a scan does not depend on the hashes' values; what random lists do not
have is the handful of true matches per frame, which cost nothing next to
the scan.

For each case: the time to build the :class:`~photosieve.robust.matcher.ModeMatcher`
(what each worker process does once), and per query frame the time of
``ModeMatcher.match`` in batches of 64 frames (best of ``--repeats``, one
thread), with the two indexes (as shipped) and with every query hash
probing the whole list (the window rule applied afterwards instead).

    .venv/bin/python -m benchmarks.bench_mode_matching                      # ~1 min
    .venv/bin/python -m benchmarks.bench_mode_matching --images 1000 10000
"""

from __future__ import annotations

import os

# One thread for every library, set before numpy loads its thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from photosieve import algorithms  # noqa: E402
from photosieve.hashing import HashPlan, ImageHasher  # noqa: E402
from photosieve.lists.entries import ItemEntries  # noqa: E402
from photosieve.robust.expansion import DEFAULT_WINDOWS, WINDOW  # noqa: E402
from photosieve.robust.matcher import FrameQuery, ModeMatcher, QueryHash  # noqa: E402
from photosieve.robust.modes import CONFIGS  # noqa: E402

IMAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "pdq-reference" / "images"
WINDOW_LABELS = tuple(f"{WINDOW} {w.label}" for w in DEFAULT_WINDOWS)
BATCH = 64  # frames per match call, as transforms.mode_matching.DEFAULT_FRAME_BATCH


def query_frames(mode: str) -> list[FrameQuery]:
    """Every reference image's first frame, hashed as ``mode`` hashes it."""
    expansion = CONFIGS[mode].expansion
    plan = HashPlan(
        ("pdq", *expansion.second_opinions),
        pdq_dihedral=expansion.dihedral,
        query_expansion=expansion,
    )
    hasher = ImageHasher(plan)
    opinion = CONFIGS[mode].second_opinion
    frames = []
    for path in sorted(IMAGES.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        result = hasher.hash_bytes(str(path), path.read_bytes())
        if not result.frames:
            continue
        results = result.frames[0].results
        frames.append(
            FrameQuery(
                tuple(
                    QueryHash(r.hash.bits, r.variant, r.orientation, r.quality)
                    for r in results
                    if r.hash.algorithm == "pdq"
                ),
                {
                    (r.variant, r.orientation): r.hash.bits
                    for r in results
                    if opinion and r.hash.algorithm == opinion.algorithm
                },
            )
        )
    return frames


def synthetic_list(mode: str, images: int, rng: np.random.Generator) -> ModeMatcher:
    """A list of ``images`` random listed images, as the mode would be given one."""
    config = CONFIGS[mode]
    variants = ("", *WINDOW_LABELS) if config.windows else ("",)
    per_image = len(variants)
    n = images * per_image
    entries = ItemEntries(
        offsets=np.arange(n + 1, dtype=np.int64),
        id_codes=np.repeat(np.arange(images, dtype=np.int32), per_image),
        variant_codes=np.tile(np.arange(per_image, dtype=np.int32), images),
        label_codes=np.zeros(n, dtype=np.int32),
        lines=np.arange(1, n + 1, dtype=np.int64),
        ids=tuple(f"img{i}" for i in range(images)),
        variants=variants,
        labels=((),),
    )
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    second = None
    if config.second_opinion is not None:
        nbytes = algorithms.get(config.second_opinion.algorithm).nbytes
        second = (rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8), np.ones(n, bool))
    return ModeMatcher(config, hashes, entries, second)


def unsplit(matcher: ModeMatcher) -> ModeMatcher:
    """The same matcher with every query hash probing every list hash (for comparison only)."""
    clone = ModeMatcher.__new__(ModeMatcher)
    clone.__dict__.update(matcher.__dict__)
    clone._plain, clone._plain_items = matcher._all, None  # noqa: SLF001
    return clone


def per_frame_ms(matcher: ModeMatcher, frames: list[FrameQuery], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for lo in range(0, len(frames), BATCH):
            matcher.match(frames[lo : lo + BATCH])
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(frames)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--modes", nargs="+", default=["robust", "robust-windows", "robust-windows-gradient"]
    )
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| mode | listed images | list hashes | query hashes / frame | build s | ms / frame | "
          "ms / frame, one index |")
    print("|---|---|---|---|---|---|---|")
    for mode in args.modes:
        frames = query_frames(mode)
        hashes_per_frame = np.mean([len(f.pdq) for f in frames])
        for images in args.images:
            start = time.perf_counter()
            matcher = synthetic_list(mode, images, rng)
            build = time.perf_counter() - start
            split = per_frame_ms(matcher, frames, args.repeats)
            whole = (
                per_frame_ms(unsplit(matcher), frames, args.repeats)
                if matcher._plain_items is not None  # noqa: SLF001
                else split
            )
            print(
                f"| `{mode}` | {images:,} | {len(matcher):,} | {hashes_per_frame:.0f} | "
                f"{build:.2f} | {split:.1f} | {whole:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
