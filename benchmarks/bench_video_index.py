"""Matching one video against a video list: the indexed matcher against a linear scan.

python-threatexchange matches a video's vPDQ features against each listed
video in turn (``vpdq_brute_matcher.py``), so its cost grows with the list.
photosieve indexes every distinct listed frame hash once
(:class:`photosieve.video.video_match.VideoIndex`) and probes it with the
query's frames. This benchmark times both on the same synthetic lists, in
one run, and checks that they decide the same:

* a listed video is ``--frames`` sampled frames drawn from ``--scenes``
  scene hashes of its own (random 256-bit PDQ hashes), each frame a few
  bits off its scene (0-8 flipped), as consecutive seconds of real footage
  are near-duplicates of each other;
* the queries: copies of listed videos (each frame up to 20 more bits off)
  and unrelated videos (their own random scenes);
* ``scan`` is :func:`photosieve.video.vpdq.match` on every listed video
  (numpy popcounts per pair; python-threatexchange's pure-Python loop is
  slower still), ``index`` is ``VideoIndex.match``; both at vPDQ's defaults.

Random scene hashes are far apart (128 bits on average), which favours no
side: every pair within 31 bits is a true copy here. Figures are per query
video, CPU seconds of this process.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_video_index --videos 1000,10000,50000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from photosieve.hashes.value import HashValue
from photosieve.video.video_list import VideoList
from photosieve.video.video_match import VideoIndex
from photosieve.video.vpdq import VpdqFeature, match


def _flip(bits: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of packed hashes with up to ``counts[i]`` random bits flipped in row i (a repeat cancels)."""
    unpacked = np.unpackbits(bits, axis=1)
    width = int(counts.max(initial=0))
    if width:
        positions = rng.integers(0, 256, size=(len(bits), width))
        rows = np.repeat(np.arange(len(bits)), width).reshape(len(bits), width)
        used = np.arange(width)[None, :] < counts[:, None]
        np.bitwise_xor.at(unpacked, (rows[used], positions[used]), 1)
    return np.packbits(unpacked, axis=1)


def synthetic_video(rng: np.random.Generator, scenes: np.ndarray, frames: int, noise: int) -> tuple[VpdqFeature, ...]:
    """``frames`` features a second apart, each a scene's hash with up to ``noise`` bits flipped."""
    picked = scenes[np.sort(rng.integers(0, len(scenes), size=frames))]
    hashes = _flip(picked, rng.integers(0, noise + 1, size=frames), rng)
    return tuple(VpdqFeature(n, 90, HashValue("pdq", hashes[n].tobytes()), float(n)) for n in range(frames))


def synthetic_list(rng: np.random.Generator, videos: int, frames: int, scenes: int):
    """A VideoList of ``videos`` synthetic videos, and each one's scene hashes."""
    pools = rng.integers(0, 256, size=(videos, scenes, 32), dtype=np.uint8)
    picked = np.sort(rng.integers(0, scenes, size=(videos, frames)), axis=1)
    hashes = pools[np.arange(videos)[:, None], picked].reshape(-1, 32)
    hashes = _flip(hashes, rng.integers(0, 9, size=len(hashes)), rng).reshape(videos, frames, 32)
    features = tuple(
        tuple(VpdqFeature(n, 90, HashValue("pdq", hashes[v, n].tobytes()), float(n)) for n in range(frames))
        for v in range(videos))
    ids = tuple(f"v{v}" for v in range(videos))
    return VideoList("bench", "v", 31, ids, tuple(() for _ in ids), features), pools


def copy_of(rng: np.random.Generator, listed: tuple[VpdqFeature, ...], noise: int) -> tuple[VpdqFeature, ...]:
    """The listed video's frames, each up to ``noise`` bits further off (a re-encoded copy)."""
    hashes = np.frombuffer(b"".join(f.pdq.bits for f in listed), dtype=np.uint8).reshape(-1, 32)
    hashes = _flip(hashes, rng.integers(0, noise + 1, size=len(hashes)), rng)
    return tuple(VpdqFeature(f.frame_number, f.quality, HashValue("pdq", hashes[n].tobytes()), f.timestamp)
                 for n, f in enumerate(listed))


def _scan(query, listed: VideoList) -> set[str]:
    return {listed.ids[v] for v, features in enumerate(listed.features) if match(query, features).is_match()}


def run(videos: int, *, frames: int, scenes: int, queries: int, seed: int, scan_limit: int) -> dict:
    rng = np.random.default_rng(seed)
    listed, _ = synthetic_list(rng, videos, frames, scenes)
    start = time.process_time()
    index = VideoIndex.build(listed)
    build = time.process_time() - start
    chosen = rng.integers(0, videos, size=queries)
    copies = [copy_of(rng, listed.features[v], 20) for v in chosen]
    unrelated = [synthetic_video(rng, rng.integers(0, 256, size=(scenes, 32), dtype=np.uint8), frames, 8)
                 for _ in range(queries)]
    start = time.process_time()
    found_copies = [index.match(q) for q in copies]
    found_unrelated = [index.match(q) for q in unrelated]
    per_query = (time.process_time() - start) / (2 * queries)
    recall = sum(any(m.video_id == f"v{v}" for m in found) for v, found in zip(chosen, found_copies)) / queries
    false = sum(len(found) for found in found_unrelated)
    result = {"videos": videos, "frames": listed.frames, "distinct": index.hashes, "build_s": build,
              "index_ms": per_query * 1e3, "recall": recall, "false_matches": false}
    if videos <= scan_limit:
        sample = copies[:3] + unrelated[:3]
        start = time.process_time()
        scanned = [_scan(q, listed) for q in sample]
        result["scan_ms"] = (time.process_time() - start) / len(sample) * 1e3
        result["same"] = scanned == [{m.video_id for m in index.match(q)} for q in sample]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", default="1000,10000,50000", help="List sizes, comma-separated.")
    parser.add_argument("--frames", type=int, default=60, help="Sampled frames per listed video (1/s).")
    parser.add_argument("--scenes", type=int, default=6, help="Scenes per video.")
    parser.add_argument("--queries", type=int, default=20, help="Copies and unrelated videos per size.")
    parser.add_argument("--scan-limit", type=int, default=10000, help="Largest list also scanned linearly.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("| listed videos | frames | distinct hashes | build s | index ms/query | scan ms/query | x | same | "
          "copies found | false matches |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for videos in (int(v) for v in args.videos.split(",")):
        r = run(videos, frames=args.frames, scenes=args.scenes, queries=args.queries, seed=args.seed,
                scan_limit=args.scan_limit)
        scan = r.get("scan_ms")
        print(f"| {r['videos']:,} | {r['frames']:,} | {r['distinct']:,} | {r['build_s']:.1f} | {r['index_ms']:.2f} | "
              + (f"{scan:.1f} | {scan / r['index_ms']:.0f} | {'yes' if r['same'] else 'NO'} | " if scan else "- | - | - | ")
              + f"{r['recall']:.0%} | {r['false_matches']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
