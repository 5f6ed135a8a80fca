"""Hashing speed and fast-decode fidelity, side by side in one run.

Usage (from the repo root, after ``make bench`` installed the bench extras):

    .venv/bin/python -m benchmarks.bench_hashing [--photos ../shared/data/photos] [--large 6]

Three measurements:

1. **Fast vs exact PDQ**: Hamming distance between PDQ of the fast decode
   (JPEG DCT scaling / reduce, shorter side kept >= min_side) and PDQ of the
   full-resolution pixels, per ``min_side`` candidate, on the real photos
   and on large generated photos.
2. **End-to-end speed**: file bytes -> PDQ for our fast and exact modes
   against the bare decode of the same mode, ``pdqhash`` fed the fast
   (draft) decode, and ``pdqhash`` fed a full decode (what its users do).
3. **64x64 luma batches**: the hash tail alone (DCT, median, quality).

The real photos are research-licensed and only read here, never copied. Large
photos are generated: a real photo upscaled to 4032x3024 with sensor-like noise
(or a synthetic scene when no photos are available).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photosieve.decode import DecodeOptions, decode
from photosieve.hashes import pdq
from photosieve.hashing import HashPlan, ImageHasher

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
LARGE_SIZE = (4032, 3024)  # a 12 MP phone photo


def _load_sets(photos: Path, n_large: int) -> dict[str, list[bytes]]:
    files = sorted(photos.glob("*")) if photos.is_dir() else []
    jpegs = [f.read_bytes() for f in files if f.suffix.lower() in (".jpg", ".jpeg")]
    pngs = [f.read_bytes() for f in files if f.suffix.lower() == ".png"]
    rng = np.random.default_rng(0)
    large_jpeg, large_png = [], []
    sources = [f for f in files if f.suffix.lower() in (".jpg", ".jpeg", ".png")][:: max(1, len(files) // max(n_large, 1))]
    for i in range(n_large):
        if sources:
            base = Image.open(sources[i % len(sources)]).convert("RGB")
        else:  # synthetic scene: smooth gradients and shapes
            base = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).resize((640, 480), Image.BICUBIC)
        big = np.asarray(base.resize(LARGE_SIZE, Image.Resampling.LANCZOS), dtype=np.int16)
        big = np.clip(big + rng.normal(0, 3, big.shape), 0, 255).astype(np.uint8)
        image = Image.fromarray(big)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        large_jpeg.append(buf.getvalue())
        if i < max(1, n_large // 3):
            buf = io.BytesIO()
            image.save(buf, "PNG", compress_level=6)
            large_png.append(buf.getvalue())
    sets = {"photos JPEG": jpegs, "photos PNG": pngs, "4032x3024 JPEG": large_jpeg, "4032x3024 PNG": large_png}
    return {name: items for name, items in sets.items() if items}


def _hamming(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def fidelity(sets: dict[str, list[bytes]], min_sides: list[int]) -> list[str]:
    lines = ["| files | n | min_side | median bits | p95 bits | max bits | share > 10 bits |", "|---|---|---|---|---|---|---|"]
    exact_plan = ImageHasher(HashPlan.parse("pdq", DecodeOptions(mode="exact")))
    for name, items in sets.items():
        exact = [r.frames[0].results[0].hash.bits for r in exact_plan.hash_many((str(i), d) for i, d in enumerate(items))]
        for side in min_sides:
            fast_plan = ImageHasher(HashPlan.parse("pdq", DecodeOptions(mode="fast", fast_min_side=side)))
            fast = [r.frames[0].results[0].hash.bits for r in fast_plan.hash_many((str(i), d) for i, d in enumerate(items))]
            d = np.array([_hamming(a, b) for a, b in zip(exact, fast)])
            lines.append(
                f"| {name} | {len(d)} | {side} | {np.median(d):.0f} | {np.percentile(d, 95):.0f} | {d.max()} | {np.mean(d > 10):.1%} |"
            )
    return lines


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed(sets: dict[str, list[bytes]], repeat: int, fast_min_side: int) -> list[str]:
    import pdqhash

    fast = DecodeOptions(mode="fast", fast_min_side=fast_min_side)
    exact = DecodeOptions(mode="exact")
    ours_fast = ImageHasher(HashPlan.parse("pdq", fast))
    ours_exact = ImageHasher(HashPlan.parse("pdq", exact))

    def decode_all(options, items):
        return lambda: [decode(d, options) for d in items]

    def pillow_full(items):
        return lambda: [np.asarray(Image.open(io.BytesIO(d)).convert("RGB")) for d in items]

    def pdqhash_on(decoder, items):
        return lambda: [pdqhash.compute(decoder(d)) for d in items]

    def ours(hasher, items):
        return lambda: list(hasher.hash_many((str(i), d) for i, d in enumerate(items)))

    luma = DecodeOptions(mode="fast", fast_min_side=fast_min_side, luma=True)
    lines = [
        "| files | n | fast decode ms/img | fast luma decode ms/img | ours fast ms/img | fast overhead (vs luma decode) "
        "| pdqhash on fast decode ms/img "
        "| ours fast vs it | full decode ms/img | ours exact ms/img | exact overhead | pdqhash on full decode ms/img "
        "| ours fast vs it |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, items in sets.items():
        n = len(items)
        t = {
            "dec_fast": _best_of(decode_all(fast, items), repeat),
            "dec_luma": _best_of(decode_all(luma, items), repeat),
            "ours_fast": _best_of(ours(ours_fast, items), repeat),
            "pdqhash_fast": _best_of(pdqhash_on(lambda d: decode(d, fast)[0].pixels, items), repeat),
            "dec_full": _best_of(pillow_full(items), repeat),
            "ours_exact": _best_of(ours(ours_exact, items), repeat),
            "pdqhash_full": _best_of(pdqhash_on(lambda d: np.asarray(Image.open(io.BytesIO(d)).convert("RGB")), items), repeat),
        }
        ms = {k: v * 1000 / n for k, v in t.items()}
        lines.append(
            f"| {name} | {n} | {ms['dec_fast']:.2f} | {ms['dec_luma']:.2f} | {ms['ours_fast']:.2f} "
            f"| {ms['ours_fast'] / ms['dec_fast'] - 1:+.0%} ({ms['ours_fast'] / ms['dec_luma'] - 1:+.0%}) "
            f"| {ms['pdqhash_fast']:.2f} | {ms['pdqhash_fast'] / ms['ours_fast']:.2f}x "
            f"| {ms['dec_full']:.2f} | {ms['ours_exact']:.2f} | {ms['ours_exact'] / ms['dec_full'] - 1:+.0%} "
            f"| {ms['pdqhash_full']:.2f} | {ms['pdqhash_full'] / ms['ours_fast']:.2f}x |"
        )
    return lines


def batch_tail(n: int, repeat: int) -> list[str]:
    import pdqhash

    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    # Smooth 64x64 luma, like downsampled photos (noise would be unrealistically hard on nothing).
    buffers = np.stack([np.asarray(Image.fromarray(s).resize((64, 64), Image.BICUBIC), dtype=np.float32) for s in small])
    t = _best_of(lambda: pdq.hash_buffers(buffers), repeat)
    t_fast = _best_of(lambda: pdq.hash_buffers(buffers, exact=False), repeat)
    rgb = np.repeat(buffers.astype(np.uint8)[:, :, :, None], 3, axis=3)
    k = min(n, 2000)
    t_ref = _best_of(lambda: [pdqhash.compute(im) for im in rgb[:k]], repeat)
    return [
        "| what | images/s (one core) |",
        "|---|---|",
        f"| photosieve pdq.hash_buffers, batch of {n} 64x64 luma buffers, bit-exact | {n / t:,.0f} |",
        f"| photosieve pdq.hash_buffers(exact=False) (BLAS DCT, as fast mode uses) | {n / t_fast:,.0f} |",
        f"| pdqhash.compute on 64x64 RGB arrays (same images), one at a time | {k / t_ref:,.0f} |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="Folder of real photos. Default: %(default)s")
    parser.add_argument("--large", type=int, default=6, help="Generated 4032x3024 photos. Default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="Timing repeats (best is kept). Default: %(default)s")
    parser.add_argument("--min-sides", default="128,256,512", help="Fast-mode min_side candidates. Default: %(default)s")
    parser.add_argument("--fast-min-side", type=int, default=None, help="min_side for the speed table. Default: the library default")
    parser.add_argument("--skip", default="", help="Comma list of sections to skip: fidelity,speed,batch")
    args = parser.parse_args(argv)
    from photosieve.decode import DEFAULT_FAST_MIN_SIDE

    skip = set(args.skip.split(","))
    sets = _load_sets(args.photos, args.large)
    print(f"# sets: {', '.join(f'{k} ({len(v)})' for k, v in sets.items())}\n", flush=True)
    if "fidelity" not in skip:
        print("## PDQ: fast decode vs exact decode (Hamming bits)\n")
        print("\n".join(fidelity(sets, [int(s) for s in args.min_sides.split(",")])), "\n", flush=True)
    if "speed" not in skip:
        side = args.fast_min_side or DEFAULT_FAST_MIN_SIDE
        print(f"## PDQ end to end (bytes -> hash), fast_min_side={side}\n")
        print("\n".join(speed(sets, args.repeat, side)), "\n", flush=True)
    if "batch" not in skip:
        print("## PDQ hash tail on 64x64 luma\n")
        print("\n".join(batch_tail(4096, args.repeat)), "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
