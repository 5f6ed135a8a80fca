"""Memory per worker process: a mapped index file against each process building its own index.

The side-input join used to build every list's indexes in every SDK process
(one per vCPU on Dataflow). Now each list's index is one file
(:mod:`photosieve.index.mapped`) that every process maps read-only. This
benchmark starts ``--processes`` worker processes one after another, each of
which either maps the file (``mapped``) or loads the hashes and builds the
index itself (``memory``, the old way), runs the queries of an audit
(``--queries`` images x 8 dihedral PDQ hashes, in batches of 512 as the
pipeline probes) and stays alive, so that the pages they share are shared
while the next one is measured.

Reported per process, from ``/proc/PID/smaps_rollup``: RSS and PSS added by
opening and querying (after the imports), and the growth of the PSS summed
over all live processes when it starts: the memory one more process really
costs the machine (shared pages are split between the processes mapping
them, so a page shared by k processes counts 1/k in each). Also the index
file's build time and size, and the time of all queries: a first pass (each
page a query touches faults in, or the index was just built) and a second.

Data: ``--sizes`` uniformly random 256-bit hashes (a stand-in for PDQ) with
one id and one label each, generated with numpy and written once under
``--workdir``. Queries: list hashes with 0..31 bits flipped (a quarter) and
fresh random hashes (the rest).

    .venv/bin/python -m benchmarks.bench_mapped_index --sizes 1000000             # ~2 min
    .venv/bin/python -m benchmarks.bench_mapped_index --sizes 10000000 \\
        --memory-processes 2                                                      # ~10 min, ~8 GB
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

NBYTES = 32
THRESHOLD = 31
BATCH = 512
VARIANTS = 8


def smaps(pid: int | str = "self") -> dict[str, int]:
    """Bytes per field of ``/proc/PID/smaps_rollup`` (Rss, Pss, Private_Clean, ...)."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                values[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return values


def _paths(workdir: str, n: int) -> dict[str, str]:
    stem = os.path.join(workdir, f"pdq-{n}")
    return {"hashes": f"{stem}.npy", "queries": f"{stem}-queries.npy", "index": f"{stem}.psidx"}


def _queries(rng: np.random.Generator, hashes: np.ndarray, images: int) -> np.ndarray:
    """``uint8 [images * 8, 32]``: a quarter near list hashes (0..31 bits flipped), the rest random."""
    count = images * VARIANTS
    queries = rng.integers(0, 256, size=(count, NBYTES), dtype=np.uint8)
    near = rng.random(count) < 0.25
    picked = hashes[rng.integers(0, hashes.shape[0], size=int(near.sum()))].copy()
    bits = np.unpackbits(picked, axis=1)
    for row, flips in enumerate(rng.integers(0, THRESHOLD + 1, size=picked.shape[0])):
        where = rng.choice(NBYTES * 8, size=flips, replace=False)
        bits[row, where] ^= 1
    queries[near] = np.packbits(bits, axis=1)
    return queries


def _flat(array):
    """pyarrow returns large numpy string arrays in chunks; ListArray wants one."""
    return array.combine_chunks() if hasattr(array, "combine_chunks") else array


def prepare(workdir: str, n: int, images: int) -> dict:
    """Write the hashes, the queries and the index file once; return build time and file size."""
    import pyarrow as pa

    from photosieve.index import mapped
    from photosieve.lists.known import KnownList

    paths = _paths(workdir, n)
    rng = np.random.default_rng(n)
    if not os.path.exists(paths["hashes"]):
        np.save(paths["hashes"], rng.integers(0, 256, size=(n, NBYTES), dtype=np.uint8))
    hashes = np.load(paths["hashes"], mmap_mode="r")
    if not os.path.exists(paths["queries"]):
        np.save(paths["queries"], _queries(rng, hashes, images))
    ids = _flat(pa.array(np.char.add("id-", np.arange(n).astype(str))))
    labels = _flat(pa.array(np.full(n, "bench")))
    one_each = pa.array(np.arange(n + 1, dtype=np.int32))
    entries = pa.table(
        {
            "ids": pa.ListArray.from_arrays(one_each, ids),
            "labels": pa.ListArray.from_arrays(one_each, labels),
        }
    )
    known = KnownList(
        "bench",
        f"random-{n}",
        "match",
        {"pdq": float(THRESHOLD)},
        {"pdq": (np.ascontiguousarray(hashes), entries)},
    )
    started = time.perf_counter()
    summary = mapped.write_index_file(known, paths["index"])
    return {"build_s": round(time.perf_counter() - started, 2), "file_bytes": summary.size}


def worker(kind: str, workdir: str, n: int) -> None:
    """One SDK-process stand-in: open or build, query, report, then wait to be told to exit."""
    from photosieve.index import build_index, mapped

    paths = _paths(workdir, n)
    queries = np.load(paths["queries"])
    before = smaps()
    started = time.perf_counter()
    if kind == "mapped":
        listed = mapped.open_index_file(paths["index"])
        index, entries = listed.groups["pdq"]
    else:
        hashes = np.load(paths["hashes"])
        index = build_index("pdq", hashes, threshold=THRESHOLD)
        del hashes  # the old KnownIndexes kept the list's hashes too: this flatters it
    opened_s = time.perf_counter() - started
    passes = []
    for _ in range(2):  # first pass: every page a query touches faults in; second: steady state
        times, found = [], 0
        for lo in range(0, queries.shape[0], BATCH):
            tick = time.perf_counter()
            batch = index.query_batch(queries[lo : lo + BATCH], threshold=THRESHOLD)
            found += len(batch)
            if kind == "mapped" and len(batch):
                entries.column("ids").take(batch.item)  # what a hit reads: its ids
            times.append(time.perf_counter() - tick)
        passes.append(times)
    after = smaps()
    report = {
        "pid": os.getpid(),
        "open_or_build_s": round(opened_s, 3),
        "first_pass_ms": round(sum(passes[0]) * 1e3, 1),
        "warm_pass_ms": round(sum(passes[1]) * 1e3, 1),
        "matches": found,
        "rss_added_mb": round((after["Rss"] - before["Rss"]) / 2**20, 1),
        "pss_added_mb": round((after["Pss"] - before["Pss"]) / 2**20, 1),
        "private_added_mb": round(
            (
                after["Private_Clean"]
                + after["Private_Dirty"]
                - before["Private_Clean"]
                - before["Private_Dirty"]
            )
            / 2**20,
            1,
        ),
    }
    print(json.dumps(report), flush=True)
    sys.stdin.read()  # stay alive (sharing pages) until the parent closes stdin


def _total_pss(pids: list[int]) -> int:
    return sum(smaps(pid)["Pss"] for pid in pids)


def run(kind: str, workdir: str, n: int, processes: int) -> list[dict]:
    """Start ``processes`` workers of ``kind`` one by one; each one's report and machine cost."""
    children, reports = [], []
    try:
        for _ in range(processes):
            total_before = _total_pss([c.pid for c in children])
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_mapped_index",
                    "--worker",
                    kind,
                    "--workdir",
                    workdir,
                    "--sizes",
                    str(n),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(child)
            report = json.loads(child.stdout.readline())
            base = smaps(child.pid)  # includes the interpreter and imports of the new process
            report["machine_pss_added_mb"] = round(
                (_total_pss([c.pid for c in children]) - total_before) / 2**20, 1
            )
            report["process_pss_mb"] = round(base["Pss"] / 2**20, 1)
            reports.append(report)
            print(f"  {kind} #{len(reports)}: {json.dumps(report)}", file=sys.stderr)
    finally:
        for child in children:
            child.stdin.close()
            child.wait()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000", help="Comma-separated list sizes.")
    parser.add_argument("--processes", type=int, default=3, help="Mapped worker processes.")
    parser.add_argument(
        "--memory-processes",
        type=int,
        default=None,
        help="In-memory worker processes (default: --processes; 0: skip).",
    )
    parser.add_argument("--queries", type=int, default=160, help="Query images (8 hashes each).")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "bench-mapped"))
    parser.add_argument("--json", help="Write the results here too.")
    parser.add_argument("--worker", choices=("mapped", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.workdir, exist_ok=True)
    if args.worker:
        worker(args.worker, args.workdir, sizes[0])
        return 0
    memory_processes = args.processes if args.memory_processes is None else args.memory_processes
    results = []
    for n in sizes:
        print(f"{n} hashes: preparing", file=sys.stderr)
        result = {"n": n, **prepare(args.workdir, n, args.queries)}
        result["mapped"] = run("mapped", args.workdir, n, args.processes)
        if memory_processes:
            result["memory"] = run("memory", args.workdir, n, memory_processes)
        results.append(result)
        print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
