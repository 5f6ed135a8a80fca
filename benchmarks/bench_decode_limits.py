"""Decoder limits: peak memory and time of the objects that used to hold a worker.

Cases (generated, nothing read from disk):

* ``png-fast`` / ``png-exact``: a 0.5 MB flat PNG that declares 13376 x 13376
  (178.9 MP, just under the default 179 MP limit), hashed with pdq,md5 in
  fast and exact mode: the worst still image a worker accepts.
* ``tiff-100k``: the first frame of a 100,000-page TIFF (8 x 8 pages).
* ``gif-cut``: an animated GIF cut at the start of its second frame, first
  frame and ``--all-frames``.
* ``webp-canvas``: ``tests.hostile_inputs.mutated_image(1, 1425)``, a 1.7 KB
  animated WebP whose header declares a 13376 x 13376 canvas;
  ``webp-lossless-canvas`` and ``gif-canvas``: two 47 x 52 frames, lossless
  WebP and GIF, under the same header. Pillow cannot reduce these while
  loading (libwebp composes the canvas itself).
* ``tiff-lzw-cut``: a 64 x 64 LZW TIFF whose strip is cut short: libtiff
  writes its error to file descriptor 2 ("stderr lines").

Each case runs in a fresh subprocess (``ru_maxrss`` is a per-process peak)
through :class:`photosieve.hashing.ImageHasher`, the pipeline's own path.
"peak" is the subprocess's maximum resident set size; "added" subtracts
what the process held just before hashing (interpreter, imports, the input).
``--code DIR`` runs the cases against another checkout (e.g. the main branch)
to print before/after figures side by side.

Measured 2026-12-02 on the shared 2-core machine (load 5-7 from other jobs,
so times are rough), before (main) and after this change:

| case | before: time, peak RSS | after: time, peak RSS | outcome after |
|---|---|---|---|
| png-fast | 1.2 s, 0.71 GiB | 1.25 s, 0.71 GiB | frame 0 (2 stderr lines before, 0 after) |
| png-exact | 28-71 s, 6.54 GiB | 26-33 s, 1.37 GiB | frame 0 (same bits) |
| tiff-100k | 65-103 s | 0.02 s | frame 0 |
| gif-cut | truncated (whole object) | frame 0 | |
| gif-cut-all | truncated (whole object) | frame 0 + frame 1 truncated | |

The canvas cases, before (main after the decoding merge) and after the
per-format memory bound and the conversion by strips:

| case (algorithms) | before: time, peak RSS | after: time, peak RSS | outcome after |
|---|---|---|---|
| webp-canvas (pdq,md5) | 5.2 s, 2.71 GiB, PDQ quality 0 | 0.00 s, 0.04 GiB | decompression_bomb |
| webp-lossless-canvas (pdq,md5) | 2.2 s, 2.71 GiB | 0.00 s, 0.04 GiB | decompression_bomb |
| gif-canvas (pdq,md5: luma) | 0.30 s, 0.21 GiB | 0.33 s, 0.08 GiB | frame 0 |
| gif-canvas (pdq,phash,md5: RGB) | 0.62 s, 0.71 GiB | 0.66 s, 0.12 GiB | frame 0 |
| tiff-lzw-cut | 1 stderr line | 0 stderr lines (counted: libtiff:LZWDecode) | corrupt |

Usage (from the repository root; the PNG cases need about 7 GB free before
the change and 2 GB after, and take a minute)::

    .venv/bin/python -m benchmarks.bench_decode_limits
    .venv/bin/python -m benchmarks.bench_decode_limits --code /work/main --code .
    .venv/bin/python -m benchmarks.bench_decode_limits --cases tiff-100k,gif-cut
    .venv/bin/python -m benchmarks.bench_decode_limits --code /work/main --code . \
        --cases webp-canvas,webp-lossless-canvas,gif-canvas,tiff-lzw-cut --algorithms pdq,phash,md5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = (
    "png-fast", "png-exact", "tiff-100k", "gif-cut", "gif-cut-all",
    "webp-canvas", "webp-lossless-canvas", "gif-canvas", "tiff-lzw-cut",
)

# Run inside the subprocess, with the checkout under test first on sys.path and
# this repository's tests/ for the generated inputs.
_CHILD = r"""
import json, resource, sys, time
code, repo, case, algorithms = sys.argv[1:5]
sys.path[:0] = [code, repo]
import importlib.util
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, f"{repo}/{path}")
    module = sys.modules[name] = importlib.util.module_from_spec(spec)  # for dataclasses
    spec.loader.exec_module(module)
    return module
samples = load("multiframe_samples", "tests/multiframe_samples.py")
from photosieve.decode import DecodeOptions
from photosieve.hashing import HashPlan, ImageHasher
if case.startswith("png"):
    data = samples.big_png(13376, 13376)
    options = DecodeOptions(mode=case.split("-")[1])
elif case == "tiff-100k":
    data, options = samples.many_page_tiff(100_000), DecodeOptions()
elif case.endswith("-canvas"):
    sys.path.insert(0, f"{repo}/tests")
    hostile = load("hostile_inputs", "tests/hostile_inputs.py")
    options = DecodeOptions()
    if case == "webp-canvas":
        data = hostile.mutated_image(1, 1425).data  # 1.7 KB, declares 13376 x 13376
    else:
        import io, struct
        from PIL import Image
        frames = [Image.effect_noise((47, 52), 40 + 20 * i).convert("RGB") for i in range(2)]
        buffer = io.BytesIO()
        if case == "gif-canvas":
            frames[0].convert("P").save(buffer, "GIF", save_all=True,
                                        append_images=[frames[1].convert("P")])
            data = bytearray(buffer.getvalue()); data[6:10] = struct.pack("<HH", 13376, 13376)
        else:  # a lossless animated WebP
            frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
            data = hostile._webp_set_dimensions(bytearray(buffer.getvalue()), 13376, 13376)
        data = bytes(data)
elif case == "tiff-lzw-cut":
    cases = load("libtiff_case", "tests/photosieve/test_libtiff_messages.py")
    data = cases.lzw_tiff(strip_bytes=0.5)
    options = DecodeOptions()
else:
    data, options = samples.cut_gif(), DecodeOptions(all_frames=case.endswith("-all"))
hasher = ImageHasher(HashPlan.parse(algorithms, options))
hasher.hash_bytes("warm-up.png", samples.big_png(64, 64))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
result = hasher.hash_bytes("case", data)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = [f"frame {f.frame}" for f in result.frames] + [f.reason.value for f in result.failures]
print(json.dumps({"seconds": seconds, "peak_kib": peak, "before_kib": before,
                  "bytes": len(data), "outcome": ", ".join(outcome)}))
"""


def run_case(code: Path, case: str, timeout: float, algorithms: str = "pdq,md5") -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(code), str(REPO), case, algorithms],
            capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "PYTHONWARNINGS": "default"},
        )
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"error": last[:80]}
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["stderr_lines"] = len(done.stderr.splitlines())
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", action="append", type=Path,
                        help="Checkout to measure (repeatable: before and after). Default: this one.")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"Comma-separated, from {', '.join(CASES)}. Default: all.")
    parser.add_argument("--timeout", type=float, default=900,
                        help="Seconds per case. Default: 900.")
    parser.add_argument("--algorithms", default="pdq,md5",
                        help="Hash plan, as --algorithms of photosieve hash. Default: pdq,md5"
                             " (fast-mode PDQ alone decodes to luma; add phash for RGB).")
    args = parser.parse_args(argv)
    codes = args.code or [REPO]
    print("| checkout | case | input | seconds | peak RSS | added | stderr lines | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        for code in codes:
            row = run_case(code.resolve(), case, args.timeout, args.algorithms)
            if "error" in row:
                print(f"| {code} | {case} | | | | | | {row['error']} |")
                continue
            print(
                f"| {code} | {case} | {row['bytes'] / 1e6:.2f} MB | {row['seconds']:.2f}"
                f" | {row['peak_kib'] / 2**20:.2f} GiB"
                f" | {(row['peak_kib'] - row['before_kib']) / 2**20:.2f} GiB"
                f" | {row['stderr_lines']} | {row['outcome']} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
