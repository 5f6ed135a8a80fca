"""Do two checkouts of photosieve write the same tables? A check for restructurings.

    python -m benchmarks.same_tables data DATA          # the demo's generated sample data
    python -m benchmarks.same_tables run DATA OUT_A     # with one checkout installed
    python -m benchmarks.same_tables run DATA OUT_B     # with the other
    python -m benchmarks.same_tables compare OUT_A OUT_B

``run`` copies the sample data (times kept) and runs, on the copy, the jobs a
weekly user runs: the demo audit (``make demo``'s command), a repeat audit
of the same archive with one file added and one changed, a ``scan``, a
``match`` of the scan's hashes, and an audit in ``--match-mode robust``.
``compare`` checks that every table of every run holds the same rows, and
every ``summary.json`` the same content, apart from what differs between any
two runs: run ids, times, and paths under the two output folders. It prints
one line per table and exits 1 on any difference, naming the first rows
that differ.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

TABLES = ("hashes", "errors", "matches", "files")
# Columns that differ between any two runs: ids, times, and the ids of the
# runs rows were carried from.
VOLATILE_COLUMNS = {"run_id", "matched_at", "carried_from"}
# summary.json keys that differ between any two runs.
VOLATILE_KEYS = {"run_id", "started_at", "wall_seconds", "pipeline_options", "versions"}
RUNS = ("audit", "repeat", "scan", "match", "robust")


def _photosieve(*argv: str) -> None:
    command = [sys.executable, "-m", "photosieve.pipelines.cli", *argv]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(f"failed ({completed.returncode}): {' '.join(argv)}")


def make_data(data: Path) -> None:
    """The demo's sample data (generated; no photo of the shared set)."""
    subprocess.run(
        [sys.executable, "-m", "photosieve.pipelines.demo_data", "make", str(data)], check=True
    )


def run(source: Path, out: Path) -> None:
    """Copy the sample data ``source`` under ``out`` and run every job of :data:`RUNS` on it."""
    if out.exists():
        shutil.rmtree(out)
    data = out / "data"
    shutil.copytree(source, data, symlinks=True)  # copy2: modification times kept
    lists = [
        "--list", f"known={data}/lists/known.csv",
        "--suppress-list", f"benign={data}/lists/benign.txt",
    ]  # fmt: skip
    common = ["--runner=FnApiRunner", "--no-progress", "--run-id", "r"]
    archive = data / "archive"
    _photosieve("audit", "-i", str(archive), "--archives", "--dihedral", *lists,
                "-o", str(out / "audit"), *common)  # fmt: skip
    # A week later: one object new, one changed (its bytes and modification time).
    images = sorted(p for p in archive.rglob("*") if p.suffix in (".jpg", ".png") and p.stat().st_size > 1000)
    shutil.copyfile(images[0], archive / "new-this-week.png")
    os.utime(archive / "new-this-week.png", (1_700_000_000, 1_700_000_000))
    changed = images[1]
    changed.write_bytes(changed.read_bytes() + b"\0")
    os.utime(changed, (1_700_000_000, 1_700_000_000))
    _photosieve("audit", "-i", str(archive), "--archives", "--dihedral", *lists,
                "--previous", str(out / "audit"), "-o", str(out / "repeat"), *common)  # fmt: skip
    _photosieve("scan", "-i", str(archive), "-o", str(out / "scan"), *common)
    _photosieve("match", "--hashes", str(out / "scan"), *lists, "-o", str(out / "match"), *common)
    _photosieve("audit", "-i", str(archive), "--match-mode", "robust", *lists,
                "-o", str(out / "robust"), *common)  # fmt: skip


def _rows(run_dir: Path, table: str, root: Path) -> list[tuple]:
    """The table's rows, volatile columns dropped, the output root folded to ``ROOT``, sorted."""
    rows = []
    for path in sorted(glob.glob(str(run_dir / table / "*.parquet"))):
        data = pq.read_table(path)
        keep = [name for name in data.column_names if name not in VOLATILE_COLUMNS]
        for row in data.select(keep).to_pylist():
            rows.append(tuple((k, _fold(v, root)) for k, v in row.items()))
    return sorted(rows, key=repr)


def _fold(value, root: Path):
    """``value`` with the output root (the only path that differs between two runs) as ``ROOT``."""
    if isinstance(value, str):
        return value.replace(str(root), "ROOT")
    if isinstance(value, list):
        return [_fold(item, root) for item in value]
    if isinstance(value, dict):
        return {k: _fold(v, root) for k, v in value.items() if k not in VOLATILE_KEYS}
    return value


def _summary(run_dir: Path, root: Path) -> dict:
    with open(run_dir / "summary.json") as handle:
        return _fold(json.load(handle), root)


def _differences(a, b, where: str = "") -> list[str]:
    """Every path where two JSON values differ, with both values (shortened)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for key in sorted(set(a) | set(b))
            if a.get(key) != b.get(key)
            for line in _differences(a.get(key), b.get(key), f"{where}.{key}")
        ]
    first, second = (json.dumps(v, default=str)[:160] for v in (a, b))
    return [f"{where or '.'}: {first} -> {second}"]


def compare(first: Path, second: Path) -> int:
    """Print one line per table and summary; return the number of differences."""
    differences = 0
    for name in RUNS:
        for table in TABLES:
            a, b = _rows(first / name, table, first), _rows(second / name, table, second)
            same = a == b
            differences += not same
            detail = ""
            if not same:
                only_a = [dict(r) for r in a if r not in b][:2]
                only_b = [dict(r) for r in b if r not in a][:2]
                detail = f"\n    only in first: {only_a}\n    only in second: {only_b}"
            print(f"{name:>7} {table:<8} {len(a):>5} / {len(b):>5} rows  {'same' if same else 'DIFFERENT'}{detail}")
        a, b = _summary(first / name, first), _summary(second / name, second)
        changed = _differences(a, b)
        differences += bool(changed)
        print(f"{name:>7} summary.json  {'same' if not changed else 'DIFFERENT:'}")
        for line in changed:
            print(f"    {line}")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("data").add_argument("data", type=Path)
    runs = commands.add_parser("run")
    runs.add_argument("data", type=Path)
    runs.add_argument("out", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("first", type=Path)
    both.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    if args.command == "data":
        make_data(args.data)
        return 0
    if args.command == "run":
        run(args.data, args.out)
        return 0
    return 1 if compare(args.first, args.second) else 0


if __name__ == "__main__":
    sys.exit(main())
