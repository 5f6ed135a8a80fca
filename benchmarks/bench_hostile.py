"""Hostile-input benchmark: N mutated images, each hashed in a watched worker process.

Issue 10's measurement: "objects in, rows out, errors per class, crashes 0,
hangs 0, lost 0, peak memory per worker for the worst object". Objects are
``tests.hostile_inputs.mutated_image(seed, i)`` for i < N (generated, seeded:
a finding is reproduced anywhere from its seed and index). Each is hashed with
the core (``ImageHasher``, every algorithm by default) in one of ``--workers``
subprocesses, and the parent watches:

* **crashes**: an exception that escaped ``ImageHasher.hash_bytes`` (the core
  promises failures are values), or a worker that died (a signal, an abort in
  a C decoder, the kernel's OOM killer);
* **hangs**: an object not done within ``--timeout`` seconds; the worker is
  killed and replaced, and the object counted;
* **lost**: an object that came back with an algorithm in neither hashes nor
  failures (``photosieve.transforms.hashing.outcomes`` says ``missing``/``unexpected``),
  or that never came back at all;
* **peak memory** per object: the worker resets its peak RSS before each
  object (``/proc/self/clear_refs``, Linux) and reads ``VmHWM`` after, so the
  peak is that object's (the worker's baseline included); the worst object
  is named with its mutation, and ranked by how far it raised the RSS it
  found (a worker's RSS stays up after a large object, so later objects'
  peaks include it). The reset also resets what ``getrusage`` reports, so
  ``RUSAGE_CHILDREN`` is not used.

``--memory-limit-mib`` caps each worker's address space (``RLIMIT_AS``), so a
decoder that asks for gigabytes fails with MemoryError (reported) instead of
taking a shared machine's memory; 0 lifts it.

``--audit`` also writes the N objects into a folder and runs ``photosieve
audit`` over it once: its ``summary.json`` must balance and every object must
be in the hashes or errors table once per algorithm.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_hostile -n 1000 --seed 1 --workers 2
    .venv/bin/python -m benchmarks.bench_hostile -n 10000 --decode exact --audit -o hostile.md
    .venv/bin/python -m benchmarks.bench_hostile -n 1000 --audit --archives 300
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

ALL_ALGORITHMS = "pdq,gradient,phash,dhash,ahash,md5,sha256"
# Per-object wall-clock budget before an object counts as a hang. Small
# mutated images hash in milliseconds; a decoder stuck in a loop never ends.
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_LIMIT_MIB = 4096
# A worker's imports (numpy, Pillow, Beam for the accounting rule) before its first object.
_START_TIMEOUT_S = 120.0


@dataclass
class Outcome:
    """What one object gave (sent from worker to parent)."""

    index: int
    name: str
    mutation: str
    size: int = 0
    hash_rows: int = 0
    error_rows: int = 0
    reasons: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    crash: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_kib: int = 0
    rss_before_kib: int = 0
    out_of_memory: bool = False
    warnings: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def growth_kib(self) -> int:
        """How far this object raised the worker's RSS above where it found it."""
        return max(self.peak_kib - self.rss_before_kib, 0)


# -- the worker ----------------------------------------------------------------------


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _worker(
    conn: Connection, algorithms: str, decode: dict, seed: int, memory_limit_mib: int
) -> None:
    """Hash the objects whose indices arrive on ``conn``; send one Outcome per index."""
    if memory_limit_mib:
        limit = memory_limit_mib << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from photosieve import schemas
    from photosieve.decode import DecodeOptions
    from photosieve.hashing import HashPlan, ImageHasher
    from tests import hostile_inputs
    from photosieve.transforms.hashing import account

    plan = HashPlan.parse(algorithms, DecodeOptions(**decode))
    hasher = ImageHasher(plan)
    # C libraries (libtiff, libpng) write warnings straight to file descriptor 2:
    # send it to a file, so each object's lines can be counted (a run would print them).
    captured = tempfile.TemporaryFile()
    os.dup2(captured.fileno(), 2)
    conn.send("ready")  # imports done: deadlines count hashing only
    while True:
        index = conn.recv()
        if index is None:
            return
        item = hostile_inputs.mutated_image(seed, index)
        outcome = Outcome(index, item.name, item.mutation, len(item.data))
        resettable = _reset_peak()
        before = _status_kib("VmHWM")
        outcome.rss_before_kib = _status_kib("VmRSS")
        clock, cpu = time.perf_counter(), time.process_time()
        try:
            # One thread per worker: catching warnings here is safe, and counts
            # what a run would print to stderr for this object.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = hasher.hash_bytes(item.name, item.data)
            outcome.warnings = sorted(
                {f"{w.category.__name__}: {str(w.message)[:60]}" for w in caught})
        except BaseException as exc:  # noqa: BLE001 - an escape is the finding
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
            outcome.crash = f"{type(exc).__name__} at {where}: {str(exc)[:160]}"
        else:
            outcome.hash_rows = len(schemas.hash_rows(result, mtime_us=None, run_id="bench"))
            outcome.error_rows = len(result.failures)
            outcome.reasons = [f.reason.value for f in result.failures]
            outcome.units = account(result, plan)
            outcome.out_of_memory = any("out of memory" in f.message for f in result.failures)
        outcome.seconds = time.perf_counter() - clock
        outcome.cpu_seconds = time.process_time() - cpu
        written = os.lseek(2, 0, os.SEEK_END)
        if written:
            text = os.pread(captured.fileno(), min(written, 4096), 0).decode("utf-8", "replace")
            outcome.stderr_lines = sorted({line[:70] for line in text.splitlines() if line.strip()})
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        peak = _status_kib("VmHWM")
        outcome.peak_kib = peak if resettable else max(peak - before, 0)
        conn.send(outcome)


# -- the parent ----------------------------------------------------------------------


@dataclass
class _Slot:
    process: multiprocessing.Process
    conn: Connection
    index: int | None = None
    deadline: float = 0.0


class WorkerPool:
    """Worker subprocesses fed one object index at a time, with a deadline per object."""

    def __init__(self, workers: int, timeout: float, args: tuple):
        self._context = multiprocessing.get_context("spawn")
        self._timeout = timeout
        self._args = args
        self.slots = [self._start() for _ in range(workers)]
        self.restarts = 0

    def _start(self) -> _Slot:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker, args=(child, *self._args), daemon=True)
        process.start()
        child.close()
        if not parent.poll(_START_TIMEOUT_S) or parent.recv() != "ready":
            raise RuntimeError(f"a worker did not start within {_START_TIMEOUT_S:g} s")
        return _Slot(process, parent)

    def run(self, indices: list[int]) -> tuple[list[Outcome], list[int], list[tuple[int, str]]]:
        """(outcomes, hung indices, [(index, how the worker died)]) for ``indices``."""
        todo = list(reversed(indices))
        outcomes, hangs, deaths = [], [], []
        while todo or any(s.index is not None for s in self.slots):
            for slot in self.slots:
                if slot.index is None and todo:
                    slot.index = todo.pop()
                    slot.conn.send(slot.index)
                    slot.deadline = time.monotonic() + self._timeout
            busy = [s for s in self.slots if s.index is not None]
            wait_for = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            ready = wait([s.conn for s in busy], timeout=wait_for)
            for position, slot in enumerate(self.slots):
                if slot.index is None:
                    continue
                if slot.conn in ready:
                    try:
                        outcomes.append(slot.conn.recv())
                        slot.index = None
                        continue
                    except (EOFError, OSError):
                        slot.process.join(5)
                        deaths.append((slot.index, _death(slot.process.exitcode)))
                elif time.monotonic() >= slot.deadline:
                    hangs.append(slot.index)
                else:
                    continue
                self._replace(position)
        return outcomes, hangs, deaths

    def _replace(self, position: int) -> None:
        slot = self.slots[position]
        slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        self.slots[position] = self._start()
        self.restarts += 1

    def close(self) -> None:
        for slot in self.slots:
            try:
                slot.conn.send(None)
            except OSError:
                pass
        for slot in self.slots:
            slot.process.join(10)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker died (no exit code)"
    if exitcode < 0:
        return f"worker killed by signal {-exitcode}"
    return f"worker exited with status {exitcode}"


# -- the report ----------------------------------------------------------------------


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(args: argparse.Namespace, outcomes: list[Outcome], hangs: list[int],
           deaths: list[tuple[int, str]], wall: float, audit: dict | None) -> str:
    """The Markdown report: headline figures, then the details behind each."""
    from tests import hostile_inputs

    def label(index: int) -> str:
        item = hostile_inputs.mutated_image(args.seed, index)
        return f"`{item.name}` ({item.mutation})"

    reasons = Counter(r for o in outcomes for r in o.reasons)
    crashes = [o for o in outcomes if o.crash]
    lost_units = [o for o in outcomes if not o.crash and any(
        v in ("missing", "unexpected") for v in o.units.values())]
    never = args.n - len(outcomes) - len(hangs) - len(deaths)
    worst = max(outcomes, key=lambda o: o.growth_kib, default=None)
    slowest = max(outcomes, key=lambda o: o.seconds, default=None)
    units = Counter(v for o in outcomes for v in o.units.values())
    lines = [
        "| figure | value |",
        "|---|---|",
        f"| objects in | {args.n} |",
        f"| objects with an outcome | {len(outcomes) - len(crashes)} |",
        f"| hash rows out | {sum(o.hash_rows for o in outcomes)} |",
        f"| error rows out | {sum(o.error_rows for o in outcomes)} |",
        f"| algorithm outcomes | {', '.join(f'{k} {v}' for k, v in sorted(units.items()))} |",
        f"| crashes (exceptions escaped) | {len(crashes)} |",
        f"| crashes (worker deaths) | {len(deaths)} |",
        f"| hangs (> {args.timeout:g} s) | {len(hangs)} |",
        f"| lost (no outcome for an algorithm) | {len(lost_units) + max(never, 0)} |",
        f"| out-of-memory failures (limit {args.memory_limit_mib} MiB) | "
        f"{sum(o.out_of_memory for o in outcomes)} |",
    ]
    if worst is not None:
        lines.append(f"| peak RSS per worker, worst object | {_mib(worst.peak_kib)} "
                     f"(+{_mib(worst.growth_kib)} over its start): {label(worst.index)} |")
        median = sorted(outcomes, key=lambda o: o.growth_kib)[len(outcomes) // 2]
        lines.append(f"| peak RSS per worker, median object | {_mib(median.peak_kib)} "
                     f"(+{_mib(median.growth_kib)}) |")
    if slowest is not None:
        lines.append(f"| slowest object | {slowest.seconds:.2f} s wall, "
                     f"{slowest.cpu_seconds:.2f} s CPU: {label(slowest.index)} |")
    warned = Counter(w for o in outcomes for w in o.warnings)
    lines.append(f"| objects that raised Python warnings (stderr lines in a run) | "
                 f"{sum(bool(o.warnings) for o in outcomes)} |")
    lines.append(f"| objects that made C libraries write to stderr | "
                 f"{sum(bool(o.stderr_lines) for o in outcomes)} |")
    lines.append(f"| wall time | {wall:.1f} s ({args.workers} workers) |")
    lines += ["", "| error class | rows |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    if crashes or deaths or hangs or lost_units:
        lines += ["", "| finding | objects | first object |", "|---|---|---|"]
        by_class: dict[str, list[int]] = {}
        for o in crashes:
            by_class.setdefault(f"crash: {o.crash}", []).append(o.index)
        for index, how in deaths:
            by_class.setdefault(how, []).append(index)
        for index in hangs:
            by_class.setdefault("hang", []).append(index)
        for o in lost_units:
            lost = sorted(k for k, v in o.units.items() if v in ("missing", "unexpected"))
            by_class.setdefault(f"lost: {', '.join(lost)}", []).append(o.index)
        for finding, indices in sorted(by_class.items(), key=lambda kv: -len(kv[1])):
            finding = finding.replace("|", "/")
            lines.append(f"| {finding} | {len(indices)} | {label(min(indices))} |")
    top = sorted(outcomes, key=lambda o: -o.growth_kib)[:5]
    lines += ["", "| top RSS growth (peak) | object |", "|---|---|"]
    lines += [f"| +{_mib(o.growth_kib)} ({_mib(o.peak_kib)}) | {label(o.index)} |" for o in top]
    warned.update(f"stderr: {line}" for o in outcomes for line in o.stderr_lines)
    if warned:
        lines += ["", "| warning | objects |", "|---|---|"]
        lines += [f"| {w.replace('|', '/')} | {n} |" for w, n in warned.most_common(10)]
    top = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    lines += ["", "| slowest (wall, CPU) | object |", "|---|---|"]
    lines += [f"| {o.seconds:.2f} s, {o.cpu_seconds:.2f} s | {label(o.index)} |" for o in top]
    if audit is not None:
        lines += ["", "| audit | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in audit.items()]
    return "\n".join(lines)


# -- --audit -----------------------------------------------------------------------------


def run_audit(args: argparse.Namespace, outcomes: list[Outcome]) -> dict:
    """Write the objects to a folder, run ``photosieve audit`` once, check its tables.

    The audit must balance, hold every object once per algorithm, and write
    as many hash and error rows for them as the workers' core calls made (same
    plan). With ``--archives N``, N mutated zips/tars
    (``hostile_inputs.mutated_archive``) are added and read with
    ``--archives``: each must give at least one row per algorithm (a
    member's, or the archive's own error row).
    """
    import json

    import pyarrow.parquet as pq

    from photosieve import names, schemas
    from photosieve.summary import SUMMARY_FILE
    from tests import hostile_inputs

    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    try:
        folder = work / "in"
        folder.mkdir()
        expected = []
        for item in hostile_inputs.mutated_images(args.n, args.seed):
            path = folder / (item.name + ".img")
            path.write_bytes(item.data)
            expected.append(names.escape(str(path)))
        archives = []
        if args.archives:
            (folder / "archives").mkdir()
        for index in range(args.archives):
            item = hostile_inputs.mutated_archive(args.seed, index)
            path = folder / "archives" / item.name
            path.write_bytes(item.data)
            archives.append(names.escape(str(path)))
        (work / "list.txt").write_text("pdq " + "0" * 64 + "\n")
        argv = [sys.executable, "-m", "photosieve.pipelines.cli", "audit", "-i", str(folder), "-l",
                str(work / "list.txt"), "-o", str(work / "out"), "--algorithms", args.algorithms,
                "--decode", args.decode, *(["--all-frames"] if args.all_frames else []),
                *(["--archives"] if args.archives else [])]
        clock = time.monotonic()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=args.audit_timeout,
                                  cwd=Path(__file__).resolve().parents[1])
        except subprocess.TimeoutExpired:
            return {"command": _quote(argv),
                    "result": f"HUNG: no end after {args.audit_timeout:g} s"}
        wall = time.monotonic() - clock
        found = {"command": _quote(argv), "exit status": done.returncode,
                 "wall time": f"{wall:.1f} s"}
        summary_path = work / "out" / SUMMARY_FILE
        if not summary_path.exists():
            found["result"] = "no summary.json: " + done.stderr.strip().splitlines()[-1][:200] \
                if done.stderr.strip() else "no summary.json"
            return found
        summary = json.loads(summary_path.read_text())
        found["balanced"] = summary["accounting"]["balanced"]
        if summary["accounting"]["problems"]:
            found["problems"] = "; ".join(summary["accounting"]["problems"])[:300]
        rows: Counter = Counter()
        damage = set()  # uris with a read/decode error row that says the bytes end or break
        written = Counter()  # rows per table for the mutated images (not the archives)
        plain = set(expected)
        for table in (schemas.HASHES, schemas.ERRORS):
            if not (work / "out" / table).exists():
                continue
            for row in pq.read_table(work / "out" / table).to_pylist():
                written[table] += row[schemas.URI] in plain
                if table == schemas.ERRORS:
                    rows.update((row[schemas.URI], a) for a in row[schemas.ALGORITHMS])
                    if row[schemas.STAGE] == "read" and row[schemas.ERROR] in (
                            "truncated", "corrupt"):
                        damage.add(row[schemas.URI])
                elif not row.get(schemas.VARIANT) and not row.get(schemas.ORIENTATION) and (
                        row.get(schemas.FRAME) or 0) == 0:
                    rows[(row[schemas.URI], row[schemas.ALGORITHM])] += 1
        wanted = [a for a in args.algorithms.split(",")]
        missing = [uri for uri in expected if any(rows[(uri, a)] == 0 for a in wanted)]
        doubled = [uri for uri in expected if any(rows[(uri, a)] > 1 for a in wanted)] \
            if not args.all_frames else []
        found["objects in"] = len(expected)
        found["objects missing from both tables"] = len(missing)
        if missing:
            found["first missing"] = f"`{missing[0]}`"
        if not args.all_frames:
            found["objects with two outcomes for one algorithm"] = len(doubled)
        if archives:
            silent = [path for path in archives if any(not any(
                a == name and (uri == path or uri.startswith(path + names.MEMBER_SEPARATOR))
                for uri, a in rows) for name in wanted)]
            # Fewer members than were written, and no row that says the archive is damaged or
            # cut (its own row, or the read error of the member a cut goes through): members
            # lost without a word (a damaged tar header stops tarfile silently). A cut or zeroed
            # stretch that removes whole members and looks like a clean end (zero blocks) cannot
            # be told from a smaller archive: such cases are counted here too.
            short = [path for path in archives if rows[(path, wanted[0])] == 0 and not any(
                uri.startswith(path + names.MEMBER_SEPARATOR) for uri in damage) and len(
                {uri for uri, _ in rows if uri.startswith(path + names.MEMBER_SEPARATOR)}
            ) < hostile_inputs.ARCHIVE_MEMBERS]
            found["mutated archives in"] = len(archives)
            found["mutated archives with no row"] = len(silent)
            if silent:
                found["first silent archive"] = f"`{silent[0]}`"
            found["mutated archives that lost members silently"] = len(short)
            if short:
                found["first archive that lost members"] = f"`{short[0]}`"
        found["tables"] = ", ".join(f"{k} {v}" for k, v in summary["tables"].items())
        if len(outcomes) == args.n:
            core = (sum(o.hash_rows for o in outcomes), sum(o.error_rows for o in outcomes))
            table = (written[schemas.HASHES], written[schemas.ERRORS])
            found["rows equal the workers' (hashes, errors)"] = (
                f"{table == core}: {table} vs {core}")
        return found
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _quote(argv: list[str]) -> str:
    return "`" + " ".join(shlex.quote(a) for a in argv) + "`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="Objects. Default: 10000.")
    parser.add_argument("--seed", type=int, default=1, help="Generator seed. Default: 1.")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help="Seconds per object before it counts as a hang. "
                        f"Default: {DEFAULT_TIMEOUT_S:g}.")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes. Default: 2.")
    parser.add_argument("--algorithms", default=ALL_ALGORITHMS, help=f"Default: {ALL_ALGORITHMS}.")
    parser.add_argument("--decode", choices=("fast", "exact"), default="fast",
                        help="Default: fast.")
    parser.add_argument("--all-frames", action="store_true",
                        help="Hash every frame. Default: first.")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="Decoder pixel limit. Default: the decoder's (179 MP).")
    parser.add_argument("--memory-limit-mib", type=int, default=DEFAULT_MEMORY_LIMIT_MIB,
                        help=f"RLIMIT_AS per worker; 0: none. Default: {DEFAULT_MEMORY_LIMIT_MIB}.")
    parser.add_argument("--audit", action="store_true",
                        help="Also run photosieve audit over the same objects once.")
    parser.add_argument("--archives", type=int, default=0, metavar="N",
                        help="With --audit: also N mutated zips/tars, read with --archives. "
                        "Default: 0.")
    parser.add_argument("--audit-timeout", type=float, default=3600.0,
                        help="Seconds before the audit counts as hung. Default: 3600.")
    parser.add_argument("-o", "--output", type=Path, help="Also write the Markdown report here.")
    args = parser.parse_args(argv)
    if args.n < 1 or args.workers < 1 or args.timeout <= 0:
        parser.error("-n and --workers must be >= 1, --timeout > 0")
    decode = {"mode": args.decode, "all_frames": args.all_frames}
    if args.max_pixels is not None:
        decode["max_pixels"] = args.max_pixels
    command = "python -m benchmarks.bench_hostile " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    print(command, flush=True)
    clock = time.monotonic()
    pool = WorkerPool(args.workers, args.timeout,
                      (args.algorithms, decode, args.seed, args.memory_limit_mib))
    try:
        outcomes, hangs, deaths = pool.run(list(range(args.n)))
    finally:
        pool.close()
    wall = time.monotonic() - clock
    audit = run_audit(args, outcomes) if args.audit else None
    text = f"{command}\n\n" + report(args, outcomes, hangs, deaths, wall, audit)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    audit_ok = audit is None or (
        audit.get("balanced") and audit.get("objects missing from both tables") == 0
        and not audit.get("mutated archives with no row")
        and not audit.get("mutated archives that lost members silently"))
    bad = any(o.crash for o in outcomes) or hangs or deaths or len(outcomes) < args.n
    bad = bad or not audit_ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
