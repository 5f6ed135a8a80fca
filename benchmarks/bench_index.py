"""PDQ index benchmark: photosieve's MultiIndex against faiss and brute force, side by side.

One thread for everyone (OMP_NUM_THREADS=1, faiss.omp_set_num_threads(1)).
For each method: build time, memory per hash, queries per second (best of
``--repeats`` runs, the machine being shared) and recall against the exact
answer, which is computed by two independent brute forces (faiss
``IndexBinaryFlat`` and photosieve's numpy scan) that must agree.

Data: ``--n`` uniformly random 256-bit hashes (a stand-in for PDQ, whose
bits are balanced by construction: each is above/below the median DCT
coefficient). Queries: ``--near-fraction`` of them are list hashes with a
uniformly drawn number of bits (0..31) flipped at random positions, the rest
are fresh random hashes that match nothing; the realistic audit mix is
mostly non-matches. Threshold ``--threshold`` (PDQ's 31).

    .venv/bin/python -m benchmarks.bench_index                  # 1M hashes, ~2 min
    .venv/bin/python -m benchmarks.bench_index --n 10000000     # 10M, ~10 min, ~6 GB
    .venv/bin/python -m benchmarks.bench_index --geometries 16x16,12x21,32x8 --methods photosieve

Methods: ``photosieve`` (MultiIndex, geometry from the cost model),
``photosieve-MxB`` (forced geometries from ``--geometries``, with the cost
model's estimate printed next to the measurement), ``faiss-mih`` (faiss
``IndexBinaryMultiHash(256, 16, 16)`` with ``nflip=1``, the setting of Meta's
hasher-matcher-actioner for PDQ at 31), ``faiss-mih-nflip0`` (faiss's
default, which misses pairs), ``faiss-flat`` (``IndexBinaryFlat``) and
``numpy-scan`` (photosieve's brute force).
"""

from __future__ import annotations

import os

# One thread for every library, set before numpy/faiss load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402

import numpy as np  # noqa: E402

from photosieve.index.geometry import Geometry, estimate  # noqa: E402
from photosieve.index.multi_index import MultiIndex  # noqa: E402

NBITS = 256
NBYTES = NBITS // 8
DEFAULT_METHODS = ("photosieve", "faiss-mih", "faiss-flat", "numpy-scan")


@dataclass
class Row:
    method: str
    build_s: float
    bytes_per_hash: float
    queries: int
    qps: float
    recall: float
    extra: int  # pairs returned beyond the exact answer (must be 0)
    note: str = ""


def make_data(n: int, q: int, near_fraction: float, threshold: int, seed: int):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(n, NBYTES), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(q, NBYTES), dtype=np.uint8)
    near = int(round(q * near_fraction))
    # Near duplicates spread over the queries, each from a random list hash.
    slots = rng.choice(q, size=near, replace=False)
    sources = rng.integers(0, n, size=near)
    distances = rng.integers(0, threshold + 1, size=near)
    bits = np.unpackbits(hashes[sources], axis=1)
    for row, d in enumerate(distances):
        bits[row, rng.choice(NBITS, size=d, replace=False)] ^= 1
    queries[slots] = np.packbits(bits, axis=1)
    return hashes, queries, near


def pairs_of(query_rows: np.ndarray, items: np.ndarray, distances: np.ndarray) -> set:
    return set(zip(query_rows.tolist(), items.tolist(), distances.astype(int).tolist()))


def faiss_pairs(lims, distances, labels, offset: int = 0) -> set:
    q = np.repeat(np.arange(len(lims) - 1), np.diff(lims).astype(np.int64)) + offset
    return pairs_of(q, labels, distances)


def best_time(run, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_photosieve(name, hashes, queries, t, repeats, geometry=None, method="auto"):
    start = time.perf_counter()
    index = MultiIndex.build(hashes, threshold=t, geometry=geometry)
    build = time.perf_counter() - start
    index.query_batch(queries[: min(256, len(queries))], threshold=t, method=method)  # warm up
    seconds, found = best_time(
        lambda: index.query_batch(queries, threshold=t, method=method), repeats
    )
    note = f"geometry {index.geometry.chunks}x{index.geometry.chunk_bits}" if index.geometry else ""
    if geometry is not None:
        plan = estimate(index.geometry, len(index), NBITS, t)
        note += f"; model {plan.index_ns / 1000:.0f} us/q ({plan.probes:.0f} probes, "
        note += f"{plan.candidates:.0f} candidates)"
    pairs = pairs_of(found.query, found.item, found.distance)
    return build, index.nbytes_used() / len(hashes), seconds, pairs, note


def bench_faiss(kind, hashes, queries, t, repeats):
    import faiss

    faiss.omp_set_num_threads(1)
    start = time.perf_counter()
    if kind == "flat":
        index = faiss.IndexBinaryFlat(NBITS)
    else:
        index = faiss.IndexBinaryMultiHash(NBITS, 16, 16)
        index.nflip = 1 if kind == "mih" else 0
    index.add(hashes)
    build = time.perf_counter() - start
    size = len(faiss.serialize_index_binary(index)) / len(hashes)
    # faiss range_search returns distances strictly below the radius.
    seconds, (lims, distances, labels) = best_time(
        lambda: index.range_search(queries, t + 1), repeats
    )
    return build, size, seconds, faiss_pairs(lims, distances, labels), ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="List hashes. Default: 1000000.")
    parser.add_argument("--threshold", type=int, default=31, help="Hamming threshold. Default: 31.")
    parser.add_argument(
        "--near-fraction",
        type=float,
        default=0.2,
        help="Share of queries that are near duplicates of list hashes. Default: 0.2.",
    )
    parser.add_argument(
        "--queries", type=int, default=20_000, help="Queries for the fast methods. Default: 20000."
    )
    parser.add_argument(
        "--slow-queries",
        type=int,
        default=1_000,
        help="Queries for faiss and brute force; recall is measured on these. Default: 1000.",
    )
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs, best kept. Default: 3.")
    parser.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help=f"Comma-separated. Default: {','.join(DEFAULT_METHODS)}.",
    )
    parser.add_argument(
        "--geometries",
        default="",
        help="Extra forced MultiIndex geometries, e.g. 16x16,12x21,32x8. Default: none.",
    )
    parser.add_argument("--seed", type=int, default=20260101, help="Default: 20260101.")
    parser.add_argument("--json", default="", help="Also write the rows to this JSON file.")
    args = parser.parse_args(argv)

    t, methods = args.threshold, [m for m in args.methods.split(",") if m]
    methods += [f"photosieve-{g}" for g in args.geometries.split(",") if g]
    started = time.perf_counter()
    hashes, queries, near = make_data(
        args.n, max(args.queries, args.slow_queries), args.near_fraction, t, args.seed
    )
    slow = queries[: args.slow_queries]
    print(
        f"n={args.n} threshold={t} queries={len(queries)} (near duplicates: {near}, "
        f"distance 0..{t} uniform; the rest random) seed={args.seed}",
        file=sys.stderr,
    )

    # The exact answer on the recall subset, from two independent brute forces.
    # No memory budget: no tables fit, so this index only scans.
    scan = MultiIndex.build(hashes, threshold=t, max_bytes_per_hash=0)
    assert scan.geometry is None
    truth_numpy = scan.query_batch(slow, threshold=t, method="scan")
    truth = pairs_of(truth_numpy.query, truth_numpy.item, truth_numpy.distance)
    rows: list[Row] = []
    for method in methods:
        print(f"running {method}...", file=sys.stderr)
        if method == "photosieve" or method.startswith("photosieve-"):
            geometry = None
            if method != "photosieve":
                m, b = map(int, method.split("-", 1)[1].split("x"))
                geometry = Geometry(m, b)
            build, size, seconds, pairs, note = bench_photosieve(
                method,
                hashes,
                queries,
                t,
                args.repeats,
                geometry,
                method="index" if geometry else "auto",
            )
            count = len(queries)
        elif method in ("faiss-mih", "faiss-mih-nflip0", "faiss-flat"):
            kind = {"faiss-mih": "mih", "faiss-mih-nflip0": "mih0", "faiss-flat": "flat"}[method]
            build, size, seconds, pairs, note = bench_faiss(
                kind, hashes, slow, t, 1 if kind == "flat" else args.repeats
            )
            count = len(slow)
        elif method == "numpy-scan":
            build, size = 0.0, hashes.nbytes / args.n  # a scan needs the hashes only
            seconds, found = best_time(
                lambda: scan.query_batch(slow, threshold=t, method="scan"), 1
            )
            pairs = pairs_of(found.query, found.item, found.distance)
            count, note = len(slow), "also the recall oracle"
        else:
            parser.error(f"unknown method {method!r}")
        in_subset = {p for p in pairs if p[0] < len(slow)}
        if method == "faiss-flat" and in_subset != truth:
            print(
                "faiss-flat and the numpy scan disagree: the exact answer is unknown",
                file=sys.stderr,
            )
            return 1
        recall = len(in_subset & truth) / len(truth) if truth else 1.0
        rows.append(
            Row(method, build, size, count, count / seconds, recall, len(in_subset - truth), note)
        )

    print(
        f"\nn = {args.n:,} hashes, threshold {t}, one thread; exact pairs in the recall subset: "
        f"{len(truth)}; total run {time.perf_counter() - started:.0f} s; "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}\n"
    )
    print(
        "| method | build (s) | bytes/hash | queries | queries/s | recall | extra pairs | notes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r.method} | {r.build_s:.2f} | {r.bytes_per_hash:.0f} | {r.queries:,} | "
            f"{r.qps:,.0f} | {r.recall:.4f} | {r.extra} | {r.note} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "rows": [asdict(r) for r in rows]}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
