"""Join strategy crossover: ``photosieve match`` with side input vs shuffle, by list size.

Usage (from the repo root):

    .venv/bin/python -m benchmarks.bench_strategy [--sizes 100000 1000000] \\
        [--queries 5000] [--strategies side-input shuffle] [--runner direct] \\
        [--timeout 1800] [--repeats 1]

Each run is ``photosieve match`` (stored hashes, no decoding) in a fresh
subprocess, so its wall time includes what a user waits for: start-up,
preflight reading the list once, the pipeline (whose workers read the list
again and build the index, or emit its bucket keys), the matches table and
``summary.json``; its peak memory is the subprocess's (and its children's)
maximum RSS.

The data are synthetic and made here (nothing read from the research
photos): a Parquet list of N random PDQ hashes, and a stored ``hashes``
table of ``--queries`` random PDQ hashes (quality 100) of which
``--planted`` are listed hashes with 1-20 bits flipped. Random 256-bit
hashes are never within 31 bits of each other (probability < 1e-30 per
pair), so every run must find exactly the planted matches: the benchmark
checks that, and that both strategies wrote the same matches.

Runners: ``direct`` (the FnApiRunner in this process: the DirectRunner's
engine), ``multi`` (``--direct_running_mode=multi_processing`` with
``--workers`` SDK processes: each builds its own side-input index), and
``portable`` (the PortableRunner against a local Beam job service and an
external worker pool, started and stopped here, offline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from photosieve import schemas
from photosieve.strategy import (
    DEFAULT_SIDE_INPUT_BUDGET,
    SHUFFLE,
    SIDE_INPUT,
    ListSize,
    choose_strategy,
    format_bytes,
)

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
START_TIMEOUT_S = 60


def make_list(path: Path, n: int, seed: int) -> np.ndarray:
    """A Parquet list of ``n`` distinct random PDQ hashes; returns them (``uint8 [n, 32]``)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    hexes = [row.tobytes().hex() for row in hashes]
    table = pa.table({"algorithm": pa.array(["pdq"] * n), "hash": pa.array(hexes)})
    pq.write_table(table, path)
    return hashes


def make_hashes(run_dir: Path, listed: np.ndarray, queries: int, planted: int, seed: int) -> None:
    """A stored ``hashes`` table (one Parquet file) of ``queries`` PDQ rows, ``planted`` near listed ones."""
    rng = np.random.default_rng(seed + 1)
    rows = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    picks = rng.choice(len(listed), size=planted, replace=False)
    for i, item in enumerate(picks):
        near = listed[item].copy()
        bits = rng.choice(256, size=int(rng.integers(1, 21)), replace=False)
        for bit in bits:
            near[bit // 8] ^= np.uint8(0x80 >> (bit % 8))
        rows[i] = near
    n = queries
    columns = {
        schemas.URI: [f"synthetic/{i:07d}.jpg" for i in range(n)],
        schemas.ALGORITHM: ["pdq"] * n,
        schemas.HASH: [row.tobytes().hex() for row in rows],
        schemas.QUALITY: [100] * n,
        schemas.FRAME: [0] * n,
        schemas.RUN_ID: ["bench"] * n,
    }
    schema = schemas.TABLES[schemas.HASHES]
    arrays = [
        pa.array(columns[field.name], field.type) if field.name in columns else pa.nulls(n, field.type)
        for field in schema
    ]
    (run_dir / schemas.HASHES).mkdir(parents=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), run_dir / schemas.HASHES / "part-0.parquet")


def _rss() -> int:
    """This process's resident bytes now."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024


def _worker_memory(list_path: Path) -> dict:
    """One process reading the list as a side-input worker does and building its indexes.

    Returns the RSS growth once built and at its peak, the live arrays after
    handing freed memory back (``malloc_trim``, Arrow's pool), and the
    estimate :func:`photosieve.strategy.choose_strategy` compares with the budget.
    """
    import ctypes
    import gc

    from photosieve.lists import ListSpec
    from photosieve.matches import KnownIndexes
    from photosieve.transforms.known_lists import read_known_list

    gc.collect()
    base = _rss()
    known = read_known_list(ListSpec(str(list_path)), strict=True)
    indexes = KnownIndexes([known])
    gc.collect()
    built = _rss() - base
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    pa.default_memory_pool().release_unused()
    live = _rss() - base
    hashes, metadata = known.groups["pdq"]
    estimate = ListSize("known", "pdq", len(hashes), 31, int(metadata.nbytes)).worker_bytes()
    assert indexes.by_algorithm["pdq"]
    return {"n": len(hashes), "estimate": estimate, "built": built, "peak": peak, "live": live}


def _child(argv: list[str]) -> int:
    """Run ``photosieve match`` here; print its status and peak RSS (this process and children)."""
    from photosieve.pipelines import match

    status = match.main(argv)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"status": status, "max_rss_kib": max(own, children)}), flush=True)
    os._exit(0)  # skip interpreter teardown (Arrow threads; see photosieve.pipelines.cli.entry)


def run_match(
    hashes: Path, list_path: Path, output: Path, strategy: str, beam_args: list[str], timeout: float
) -> dict:
    """One ``photosieve match`` subprocess: wall seconds, peak RSS, matches, or why it failed."""
    argv = [
        "--hashes", str(hashes), "-l", f"known={list_path}", "-o", str(output), "--overwrite",
        "--no-progress", "--run-id", "bench", "--strategy", strategy,
        "--max-list-bytes", "64G", *beam_args,
    ]  # fmt: skip
    command = [sys.executable, "-m", "benchmarks.bench_strategy", "--child", *argv]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"wall_s": time.perf_counter() - start, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines or json.loads(lines[-1])["status"] != 0:
        return {"wall_s": wall, "error": f"exit {done.returncode}: {done.stderr[-1500:]}"}
    result = json.loads(lines[-1])
    table = pq.read_table(output / schemas.MATCHES)
    pairs = sorted(zip(table.column(schemas.URI).to_pylist(), table.column(schemas.MATCHED_HASH).to_pylist()))
    summary = json.loads((output / "summary.json").read_text())
    return {
        "wall_s": wall,
        "max_rss": result["max_rss_kib"] * 1024,
        "pairs": pairs,
        "summary_wall_s": summary["wall_seconds"],
        "strategy": summary["settings"]["strategy"],
        "balanced": summary["accounting"]["balanced"],
    }


def measure_worker_memory(list_path: Path) -> dict:
    """:func:`_worker_memory` in a fresh process (nothing else allocated there)."""
    command = [sys.executable, "-m", "benchmarks.bench_strategy", "--worker-memory-child", str(list_path)]
    done = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True, check=True)
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    print(json.dumps(result), flush=True)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"a Beam service exited with {process.returncode}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"a Beam service did not listen on port {port} within {START_TIMEOUT_S} s")


def start_portable(logs: Path) -> tuple[list[subprocess.Popen], list[str]]:
    """A local job service and an external worker pool (as tests/pipelines/test_runners.py starts them)."""
    job_port, pool_port = _free_port(), _free_port()
    commands = [
        (["-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(job_port)], job_port),
        (["-m", "apache_beam.runners.worker.worker_pool_main", "--service_port", str(pool_port)], pool_port),
    ]
    processes = []
    for index, (command, port) in enumerate(commands):
        with open(logs / f"service{index}.log", "wb") as out:
            process = subprocess.Popen([sys.executable, *command], env=ENV, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        _wait_for_port(port, process)
    beam_args = [
        "--runner=PortableRunner",
        f"--job_endpoint=localhost:{job_port}",
        "--environment_type=EXTERNAL",
        f"--environment_config=localhost:{pool_port}",
    ]
    return processes, beam_args


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    if argv[:1] == ["--worker-memory-child"]:
        print(json.dumps(_worker_memory(Path(argv[1]))), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=5000, help="Stored PDQ hashes. Default: 5000.")
    parser.add_argument("--planted", type=int, default=50, help="Of them near listed hashes. Default: 50.")
    parser.add_argument("--strategies", nargs="+", default=[SIDE_INPUT, SHUFFLE], choices=[SIDE_INPUT, SHUFFLE])
    parser.add_argument("--runner", choices=["direct", "multi", "portable"], default="direct")
    parser.add_argument("--workers", type=int, default=2, help="SDK processes with --runner multi.")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds per run. Default: 1800.")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        metavar="STRATEGY:N",
        help="Runs not to make (e.g. shuffle:10000000, too slow on a local runner).",
    )
    parser.add_argument(
        "--worker-memory",
        action="store_true",
        help="Instead: per size, the RSS of one process reading the list as a side-input "
        "worker does and building the index, against the estimate.",
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-strategy-"))
    services: list[subprocess.Popen] = []
    results = []
    try:
        beam_args = []
        if args.runner == "multi":
            beam_args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
        elif args.runner == "portable":
            services, beam_args = start_portable(scratch)
        for n in args.sizes:
            list_path = scratch / f"list-{n}.parquet"
            listed = make_list(list_path, n, seed=n)
            if args.worker_memory:
                results.append(measure_worker_memory(list_path))
                continue
            run_dir = scratch / f"run-{n}"
            make_hashes(run_dir, listed, args.queries, args.planted, seed=n)
            del listed
            estimate = ListSize("known", "pdq", n, 31).worker_bytes()
            auto = choose_strategy("auto", [ListSize("known", "pdq", n, 31)], DEFAULT_SIDE_INPUT_BUDGET).strategy
            pairs = {}
            for strategy in args.strategies:
                if f"{strategy}:{n}" in args.skip:
                    continue
                for repeat in range(args.repeats):
                    out = run_match(
                        run_dir, list_path, scratch / "out", strategy, beam_args, args.timeout
                    )
                    row = {"n": n, "strategy": strategy, "repeat": repeat, "estimate": estimate, "auto": auto}
                    row.update({k: v for k, v in out.items() if k != "pairs"})
                    if "pairs" in out:
                        row["matches"] = len(out["pairs"])
                        if len(out["pairs"]) != args.planted:
                            row["error"] = f"found {len(out['pairs'])} matches, planted {args.planted}"
                        pairs.setdefault(strategy, out["pairs"])
                    results.append(row)
                    print(json.dumps(row), flush=True)
            if len(pairs) == 2 and pairs[SIDE_INPUT] != pairs[SHUFFLE]:
                print(f"MISMATCH at n={n}: the strategies found different matches", flush=True)
                results.append({"n": n, "error": "strategies disagree"})
    finally:
        _stop(services)
        shutil.rmtree(scratch, ignore_errors=True)

    if args.worker_memory:
        print("\n| listed PDQ hashes | estimate | RSS once built | RSS peak | live after trim |")
        print("|---|---|---|---|---|")
        for r in results:
            cells = [format_bytes(r[k]) + (f" ({r[k] / r['estimate']:.2f}x)" if k != "estimate" else "")
                     for k in ("estimate", "built", "peak", "live")]
            print(f"| {r['n']:,} | " + " | ".join(cells) + " |")
        return 0
    print(
        f"\n{args.queries} stored PDQ hashes ({args.planted} planted), runner {args.runner}; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    budget = format_bytes(DEFAULT_SIDE_INPUT_BUDGET)
    print(f"| listed PDQ hashes | strategy | median wall s | peak RSS | estimate per worker | auto ({budget}) |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        for strategy in args.strategies:
            runs = [r for r in results if r.get("n") == n and r.get("strategy") == strategy]
            if not runs:
                continue
            ok = [r for r in runs if "error" not in r]
            wall = f"{statistics.median(r['wall_s'] for r in ok):.1f}" if ok else runs[0]["error"][:40]
            rss = format_bytes(max(r["max_rss"] for r in ok)) if ok else "-"
            print(f"| {n:,} | {strategy} | {wall} | {rss} | {format_bytes(runs[0]['estimate'])} | {runs[0]['auto']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
