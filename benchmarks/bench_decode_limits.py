"""Decoder limits: peak memory and time of the objects that used to hold a worker.

Cases (generated, nothing read from disk):

* ``png-fast`` / ``png-exact``: a 0.5 MB flat PNG that declares 13376 x 13376
  (178.9 MP, just under the default 179 MP limit), hashed with pdq,md5 in
  fast and exact mode: the worst still image a worker accepts.
* ``tiff-100k``: the first frame of a 100,000-page TIFF (8 x 8 pages).
* ``gif-cut``: an animated GIF cut at the start of its second frame, first
  frame and ``--all-frames``.

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

Usage (from the repository root; the PNG cases need about 7 GB free before
the change and 2 GB after, and take a minute)::

    .venv/bin/python -m benchmarks.bench_decode_limits
    .venv/bin/python -m benchmarks.bench_decode_limits --code /work/main --code .
    .venv/bin/python -m benchmarks.bench_decode_limits --cases tiff-100k,gif-cut
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = ("png-fast", "png-exact", "tiff-100k", "gif-cut", "gif-cut-all")

# Run inside the subprocess, with the checkout under test first on sys.path and
# this repository's tests/ for the generated inputs.
_CHILD = r"""
import json, resource, sys, time
code, repo, case = sys.argv[1:4]
sys.path[:0] = [code, repo]
import importlib.util
path = f"{repo}/tests/multiframe_samples.py"
spec = importlib.util.spec_from_file_location("multiframe_samples", path)
samples = importlib.util.module_from_spec(spec); spec.loader.exec_module(samples)
from photosieve.decode import DecodeOptions
from photosieve.hashing import HashPlan, ImageHasher
if case.startswith("png"):
    data = samples.big_png(13376, 13376)
    options = DecodeOptions(mode=case.split("-")[1])
elif case == "tiff-100k":
    data, options = samples.many_page_tiff(100_000), DecodeOptions()
else:
    data, options = samples.cut_gif(), DecodeOptions(all_frames=case.endswith("-all"))
hasher = ImageHasher(HashPlan.parse("pdq,md5", options))
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


def run_case(code: Path, case: str, timeout: float) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(code), str(REPO), case],
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
    args = parser.parse_args(argv)
    codes = args.code or [REPO]
    print("| checkout | case | input | seconds | peak RSS | added | stderr lines | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        for code in codes:
            row = run_case(code.resolve(), case, args.timeout)
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
