"""Video hashing: CPU per hour of video, photosieve.video against Meta's vpdq package.

Cases (generated with PyAV, nothing read from disk): a panning synthetic
scene (``tests.photosieve.video.videos``), H.264 in MP4 (x264 defaults plus a
key frame every 2 s) and VP9 in WebM, at the given size and frame rate. Each
is hashed at vPDQ's default one frame per second by

* ``vpdq``: Meta's vpdq (``computeHash``, thread_count as given), if importable;
* ``exact``: :func:`photosieve.video.vpdq.hash_video`, vPDQ's frame choice,
  one decoder thread, and ``exact-threads``: the decoder's own threads;
* ``keyframes``: ``sampling="keyframes"`` (key frames only: different frames).

CPU is the process's user + system time over all its threads
(``getrusage``), so threading shows up as wall time saved, not CPU. The last
columns say whether the features equal vpdq's, and the threatexchange-rule
match shares of the keyframe features against vpdq's (query, compared).

    .venv/bin/python -m benchmarks.bench_video --seconds 20 --size 1280x720 --fps 30
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from photosieve.video.decode import VideoDecodeOptions
from photosieve.video.vpdq import VpdqFeature, hash_video, match
from tests.photosieve.video.videos import Recipe, encode, frames

try:
    import vpdq
except ImportError:  # the oracle is optional: see tests/photosieve/video/test_vpdq_oracle.py
    vpdq = None

RECIPES = {
    "mp4-h264": Recipe("mp4-h264", "mp4", "libx264", options=(("g", "60"),)),
    "avi-mjpeg": Recipe("avi-mjpeg", "avi", "mjpeg", pix_fmt="yuvj420p"),
    "webm-vp9": Recipe("webm-vp9", "webm", "libvpx-vp9", options=(("g", "60"), ("deadline", "realtime"))),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(fn, repeats: int):
    best_cpu, best_wall, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        cpu, wall = _cpu(), time.perf_counter()
        result = fn()
        best_cpu, best_wall = min(best_cpu, _cpu() - cpu), min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall, result


def _key(features) -> list[tuple]:
    return [(f.frame_number, f.quality, f.hex, round(f.timestamp, 6)) for f in features]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--vpdq-threads", type=int, default=1)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    hours = args.seconds / 3600
    print(f"{args.seconds:g} s at {args.size}, {args.fps} fps; CPU s (best of {args.repeats}) "
          f"and CPU s per hour of video")
    print("| case | method | CPU s | wall s | CPU s / hour | x vs vpdq (CPU) | same features as vpdq | keyframe match % (q, c) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.recipes.split(","):
            data = encode(frames(round(args.seconds * args.fps), (width, height)), RECIPES[name], args.fps)
            path = Path(tmp) / f"{name}.bin"
            path.write_bytes(data)
            methods = {
                "exact": VideoDecodeOptions(threads=1),
                "exact-threads": VideoDecodeOptions(threads=0),
                "keyframes": VideoDecodeOptions(sampling="keyframes"),
            }
            reference = None
            if vpdq is not None:
                cpu, wall, got = _timed(
                    lambda p=path: vpdq.computeHash(str(p), thread_count=args.vpdq_threads), args.repeats)
                reference = (cpu, [VpdqFeature(f.frame_number, f.quality, _pdq(f.hex), f.timestamp) for f in got])
                print(f"| {name} | vpdq (threads={args.vpdq_threads}) | {cpu:.2f} | {wall:.2f} | "
                      f"{cpu / hours:.0f} | 1.0 | | |")
            for method, options in methods.items():
                cpu, wall, got = _timed(lambda d=data, o=options: hash_video(d, o), args.repeats)
                same = speedup = shares = ""
                if reference is not None:
                    speedup = f"{reference[0] / cpu:.2f}"
                    same = "yes" if _key(got) == _key(reference[1]) else f"no ({len(got)} vs {len(reference[1])} frames)"
                    if method == "keyframes":
                        m = match(got, reference[1])
                        shares = f"{m.query_match_percent:.0f}, {m.compared_match_percent:.0f}"
                print(f"| {name} | {method} | {cpu:.2f} | {wall:.2f} | {cpu / hours:.0f} | {speedup} | {same} | {shares} |")


def _pdq(hex_hash: str):
    from photosieve.hashes.value import HashValue

    return HashValue.from_hex("pdq", hex_hash)


if __name__ == "__main__":
    main()
