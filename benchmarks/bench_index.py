"""PDQ index benchmark: photosieve's MultiIndex against faiss and brute force, side by side.

One thread for everyone (OMP_NUM_THREADS=1, faiss.omp_set_num_threads(1)).
For each method: build time, memory per hash, queries per second (best of
``--repeats`` runs, the machine being shared) and recall against the exact
answer, which is computed by two independent brute forces (faiss
``IndexBinaryFlat`` and photosieve's numpy scan) that must agree.

Data (``--data``, several run side by side, each with every method):

* ``random``: ``--n`` uniformly random 256-bit hashes. Queries:
  ``--near-fraction`` of them are list hashes with a uniformly drawn number
  of bits (0..31) flipped at random positions, the rest fresh random hashes
  that match nothing (the audit mix is mostly non-matches).
* ``real``: PDQ hashes measured from the photos in ``--photos`` (edited
  copies, windows, orientations of the listed ones; see
  :mod:`benchmarks.real_hashes`), a random subset of ``--n`` of them, or all
  of them plus double-exposure *blends* of listed photos' windows up to
  ``--n``. Queries: ``--near-fraction`` edited copies of listed photos (two
  chained mild edits each), the rest copies of held-out photos.
* ``chunks``: ``--n`` hashes whose 16-bit chunks are drawn independently
  from the measured set's per-chunk distributions (its bucket sizes at any
  size), same queries as ``real``.

Generated hashes are cached under ``--cache-dir``. Threshold ``--threshold``
(PDQ's 31).

    .venv/bin/python -m benchmarks.bench_index                  # 1M hashes, ~2 min
    .venv/bin/python -m benchmarks.bench_index --n 10000000     # 10M, ~10 min, ~6 GB
    .venv/bin/python -m benchmarks.bench_index --geometries 16x16,12x21,32x8 --methods photosieve
    .venv/bin/python -m benchmarks.bench_index --data random,real,chunks   # real-like vs random

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

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks import real_hashes
from photosieve.errors import ConfigError
from photosieve.index.geometry import Geometry, chunk_keys, estimate, flip_masks
from photosieve.index.multi_index import MultiIndex

NBITS = 256
NBYTES = NBITS // 8
DEFAULT_METHODS = ("photosieve", "faiss-mih", "faiss-flat", "numpy-scan")
DATASETS = ("random", "real", "chunks")


@dataclass
class Row:
    data: str
    method: str
    build_s: float
    bytes_per_hash: float
    queries: int
    qps: float
    cpu_qps: float
    recall: float
    extra: int  # pairs returned beyond the exact answer (must be 0)
    note: str = ""


def make_data(n: int, q: int, near_fraction: float, threshold: int, seed: int):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(n, NBYTES), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(q, NBYTES), dtype=np.uint8)
    near = round(q * near_fraction)
    # Near duplicates spread over the queries, each from a random list hash.
    slots = rng.choice(q, size=near, replace=False)
    sources = rng.integers(0, n, size=near)
    distances = rng.integers(0, threshold + 1, size=near)
    bits = np.unpackbits(hashes[sources], axis=1)
    for row, d in enumerate(distances):
        bits[row, rng.choice(NBITS, size=d, replace=False)] ^= 1
    queries[slots] = np.packbits(bits, axis=1)
    return hashes, queries, near


@dataclass
class Dataset:
    """A list and its queries, with how they were made."""

    name: str
    hashes: np.ndarray
    queries: np.ndarray
    near: int
    description: str


def _cached(cache_dir: Path | None, name: str, make) -> np.ndarray:
    """``make()``'s array, kept as ``cache_dir/name.npy`` (generation takes minutes at 10M)."""
    if cache_dir is None:
        return make()
    path = Path(cache_dir) / f"{name}.npy"
    if path.exists():
        return np.load(path)
    array = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npy")
    np.save(partial, array)
    partial.replace(path)
    return array


def real_queries(measured, q: int, near_fraction: float, seed: int) -> tuple[np.ndarray, int]:
    """``q`` queries: ``near_fraction`` near ones (edited copies of listed photos), the rest far ones."""
    rng = np.random.default_rng([seed, 5])
    near = round(q * near_fraction)

    def pick(pool: np.ndarray, k: int) -> np.ndarray:
        return pool[rng.choice(len(pool), size=k, replace=k > len(pool))]

    queries = np.concatenate([pick(measured.near, near), pick(measured.far, q - near)])
    order = rng.permutation(q)
    return queries[order], near


def make_datasets(args, q: int) -> list[Dataset]:
    """The ``--data`` sets, in the order given."""
    names = [d for d in args.data.split(",") if d]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ConfigError(f"--data must be among {', '.join(DATASETS)}; got {', '.join(unknown)}")
    t, out, measured = args.threshold, [], None
    cache = None if args.no_cache else Path(args.cache_dir)
    for name in names:
        if name == "random":
            hashes, queries, near = make_data(args.n, q, args.near_fraction, t, args.seed)
            desc = (
                f"uniformly random; queries: {near} near duplicates (0..{t} bits), the rest random"
            )
            out.append(Dataset(name, hashes, queries, near, desc))
            continue
        if measured is None:
            measured = real_hashes.measured_set(args.photos, cache_dir=cache, progress=True)
        queries, near = real_queries(measured, q, args.near_fraction, args.seed)
        m = len(measured.hashes)
        rng = np.random.default_rng([args.seed, 6])
        if name == "real" and args.n <= m:
            hashes = measured.hashes[np.sort(rng.choice(m, size=args.n, replace=False))]
            desc = f"{args.n:,} of {m:,} measured PDQ hashes ({len(measured.listed)} photos)"
        elif name == "real":
            key = f"blend-{args.n - m}-{args.seed}-{m}"
            blends = _cached(
                cache,
                key,
                lambda listed=measured.listed, extra=args.n - m: real_hashes.blend_hashes(
                    args.photos, listed, extra, args.seed, progress=True
                ),
            )
            hashes = real_hashes.dedupe(np.concatenate([measured.hashes, blends]))
            desc = f"{m:,} measured + {len(hashes) - m:,} blended PDQ hashes"
        else:
            key = f"chunks-{args.n}-{args.seed}-{m}"
            hashes = _cached(
                cache,
                key,
                lambda base=measured.hashes: real_hashes.chunk_sampled(base, args.n, args.seed),
            )
            desc = f"{args.n:,} hashes, chunks drawn from the {m:,} measured hashes' distributions"
        desc += f"; queries: {near} edited copies of listed photos, the rest of held-out photos"
        out.append(Dataset(name, hashes, queries, near, desc))
    return out


def measured_candidates(
    hashes: np.ndarray, queries: np.ndarray, geometry: Geometry, t: int
) -> float:
    """Bucket entries a query's probes reach (before the pigeonring filter), mean over ``queries``."""
    words = np.ascontiguousarray(hashes).view(">u8").T.astype(np.uint64)
    qwords = np.ascontiguousarray(queries).view(">u8").T.astype(np.uint64)
    m, b = geometry.chunks, geometry.chunk_bits
    r1 = geometry.radii(t)[0]
    masks = np.concatenate([flip_masks(b, f) for f in range(min(r1, b) + 1)])
    total = 0
    for j in range(m):
        counts = np.bincount(chunk_keys(words, j, b).astype(np.int64), minlength=1 << b)
        keys = chunk_keys(qwords, j, b).astype(np.int64)
        total += int(counts[(keys[:, None] ^ masks[None, :])].sum())
    return total / len(queries)


def pairs_of(query_rows: np.ndarray, items: np.ndarray, distances: np.ndarray) -> set:
    return set(zip(query_rows.tolist(), items.tolist(), distances.astype(int).tolist()))


def faiss_pairs(lims, distances, labels, offset: int = 0) -> set:
    q = np.repeat(np.arange(len(lims) - 1), np.diff(lims).astype(np.int64)) + offset
    return pairs_of(q, labels, distances)


@dataclass(frozen=True)
class Timing:
    """Best wall-clock and best CPU seconds over the repeats.

    On a shared machine the wall clock also counts time the process waited
    for a core; the CPU time of this one-thread process does not, so
    queries per CPU second compare runs made under different loads.
    """

    wall: float
    cpu: float


def best_time(run, repeats: int) -> tuple[Timing, object]:
    wall = cpu = float("inf")
    result = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return Timing(wall, max(cpu, 1e-9)), result


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
    parser.add_argument(
        "--data",
        default="random",
        help=f"Comma-separated lists to race on, among {', '.join(DATASETS)}. Default: random.",
    )
    parser.add_argument(
        "--photos",
        type=Path,
        default=real_hashes.DEFAULT_PHOTOS,
        help="Photos for the real and chunks data (read only). Default: ../shared/data/photos.",
    )
    parser.add_argument(
        "--cache-dir",
        default=str(real_hashes.DEFAULT_CACHE),
        help=f"Generated hashes are kept here. Default: {real_hashes.DEFAULT_CACHE}.",
    )
    parser.add_argument("--no-cache", action="store_true", help="Generate, keep nothing.")
    parser.add_argument("--json", default="", help="Also write the rows to this JSON file.")
    args = parser.parse_args(argv)

    t, methods = args.threshold, [m for m in args.methods.split(",") if m]
    methods += [f"photosieve-{g}" for g in args.geometries.split(",") if g]
    started = time.perf_counter()
    try:
        datasets = make_datasets(args, max(args.queries, args.slow_queries))
    except ConfigError as error:
        parser.error(str(error))
    rows: list[Row] = []
    profiles: list[str] = []
    for data in datasets:
        status = run_dataset(data, methods, args, rows, parser)
        if status:
            return status
        profiles.append(profile(data, t, args.slow_queries))

    print(
        f"\nn = {args.n:,} hashes, threshold {t}, one thread; total run "
        f"{time.perf_counter() - started:.0f} s; "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}\n"
    )
    for data, line in zip(datasets, profiles):
        print(f"- {data.name}: {data.description}. {line}")
    print(
        "\n| data | method | build (s) | bytes/hash | queries | queries/s | queries/CPU-s | recall "
        "| extra pairs | notes |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r.data} | {r.method} | {r.build_s:.2f} | {r.bytes_per_hash:.0f} | {r.queries:,} | "
            f"{r.qps:,.0f} | {r.cpu_qps:,.0f} | {r.recall:.4f} | {r.extra} | {r.note} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            out = {k: str(v) for k, v in vars(args).items()}
            json.dump({"args": out, "rows": [asdict(r) for r in rows]}, handle, indent=2)
    return 0


def profile(data: Dataset, t: int, slow: int) -> str:
    """One line on a list's chunk statistics and the probe work they cause at 16 x 16."""
    stats = real_hashes.chunk_stats(data.hashes)
    geometry = Geometry(16, 16)
    model = estimate(geometry, len(data.hashes), NBITS, t).candidates
    found = measured_candidates(data.hashes, data.queries[:slow], geometry, t)
    return (
        f"16-bit chunks: entropy {min(c.entropy_bits for c in stats):.2f}-"
        f"{max(c.entropy_bits for c in stats):.2f} bits (mean "
        f"{sum(c.entropy_bits for c in stats) / len(stats):.2f}), largest bucket "
        f"{max(c.largest_share for c in stats):.2%} of the list, probe load "
        f"{sum(c.probe_load for c in stats) / len(stats):.1f}x uniform; 16 x 16 probes reach "
        f"{found:,.0f} entries per query (uniform model: {model:,.0f})"
    )


def run_dataset(data: Dataset, methods: list[str], args, rows: list[Row], parser) -> int:
    """Every method on one list; appends to ``rows``; non-zero when the exact answer is unknown."""
    t = args.threshold
    hashes, queries = data.hashes, data.queries
    slow = queries[: args.slow_queries]
    print(f"{data.name}: n={len(hashes):,} queries={len(queries):,} ({data.description})",
          file=sys.stderr)  # fmt: skip
    # The exact answer on the recall subset, from two independent brute forces.
    # No memory budget: no tables fit, so this index only scans.
    scan = MultiIndex.build(hashes, threshold=t, max_bytes_per_hash=0)
    assert scan.geometry is None
    truth_numpy = scan.query_batch(slow, threshold=t, method="scan")
    truth = pairs_of(truth_numpy.query, truth_numpy.item, truth_numpy.distance)
    matched = len(set(truth_numpy.query.tolist()))
    near_slow = round(len(slow) * data.near / len(queries))
    print(f"  exact pairs in the recall subset: {len(truth)} ({matched} of {len(slow)} queries "
          f"match; ~{near_slow} are near)", file=sys.stderr)  # fmt: skip
    for method in methods:
        print(f"  running {method}...", file=sys.stderr)
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
            build, size = 0.0, hashes.nbytes / len(hashes)  # a scan needs the hashes only
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
        if method == "photosieve":
            note += f"; {len(truth) / len(slow):.1f} pairs/query, {matched}/{len(slow)} match"
        rows.append(
            Row(
                data.name,
                method,
                build,
                size,
                count,
                count / seconds.wall,
                count / seconds.cpu,
                recall,
                len(in_subset - truth),
                note,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
