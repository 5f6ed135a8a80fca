"""Archive reading speed: skipping a tar.gz member over ``max_bytes``, before and after.

Makes a ``.tar.gz`` (in a temporary folder) of one small member, one member
of ``--size-mb`` MiB over the ``max_bytes`` limit, and one small member
after it, then times, best of ``--repeat``:

* ``tarfile r|* (before)``: the previous reader, tarfile's stream mode with
  its default 8 KiB buffer, skipping the big member;
* ``read_members (after)``: :func:`photosieve.archives.read_members`
  (zlib in 64 KiB pieces), and the same with other ``TAR_BUFSIZE`` values;
* ``GNU tar tzf``: the reference, when ``tar`` is on the PATH.

Two contents: ``random`` (incompressible, as JPEG is) and ``zeros`` (a
bomb's content). The peak Python memory of one read_members pass is
measured with tracemalloc. Generated data only.

A second table reads an overlapping-entry zip bomb (``--entries`` central
directory entries sharing one deflated stream of ``--kernel-mb`` MiB of
zeros, as in the issue): the previous reader inflated every entry; this
one names each an ``overlapping_entry`` error without inflating any.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_archives --size-mb 512 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
import zipfile
from collections import Counter

from photosieve.archives import tar_members
from photosieve.archives import MemberFailure, read_members

MAX_BYTES = 1024 * 1024  # the big member is over this


def _make(path: str, size: int, content: str) -> None:
    block = os.urandom(1024 * 1024) if content == "random" else bytes(1024 * 1024)

    class _Repeat(io.RawIOBase):
        """``size`` bytes of ``block`` repeated (random blocks differ: a fresh one per MiB)."""

        def __init__(self):
            self.left = size

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), self.left, len(block))
            data = os.urandom(n) if content == "random" else block[:n]
            buffer[:n] = data
            self.left -= n
            return n

    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for name, length, source in (
            ("first.jpg", 1000, io.BytesIO(b"f" * 1000)),
            ("big.bin", size, io.BufferedReader(_Repeat())),
            ("last.jpg", 1000, io.BytesIO(b"l" * 1000)),
        ):
            info = tarfile.TarInfo(name)
            info.size = length
            archive.addfile(info, source)


def _before(path: str) -> int:
    found = 0
    with open(path, "rb") as handle, tarfile.open(fileobj=handle, mode="r|*") as archive:
        for info in archive:
            found += 1
            if info.size <= MAX_BYTES:
                archive.extractfile(info).read()
    return found


def _after(path: str) -> int:
    return sum(1 for _ in read_members(path, lambda: open(path, "rb"), max_bytes=MAX_BYTES))


def _after_with(bufsize: int):
    def run(path: str) -> int:
        default, tar_members.TAR_BUFSIZE = tar_members.TAR_BUFSIZE, bufsize
        try:
            return _after(path)
        finally:
            tar_members.TAR_BUFSIZE = default

    return run


def _gnu_tar(path: str) -> int:
    out = subprocess.run(["tar", "tzf", path], check=True, capture_output=True, text=True)
    return len(out.stdout.split())


def _overlap_bomb(path: str, entries: int, kernel_mb: int) -> None:
    """One deflated member, its central-directory entry repeated ``entries`` times."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("k.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(kernel_mb):
                member.write(block)
    with open(path, "rb") as handle:
        data = handle.read()
    end = data.rfind(b"PK\x05\x06")
    fields = list(struct.unpack(zipfile.structEndArchive, data[end : end + 22]))
    offset_cd, size_cd = fields[6], fields[5]
    central = data[offset_cd : offset_cd + size_cd]
    fields[3] = fields[4] = entries
    fields[5] = size_cd * entries
    with open(path, "wb") as handle:
        handle.write(
            data[:offset_cd] + central * entries + struct.pack(zipfile.structEndArchive, *fields)
        )


def _bomb_table(entries: int, kernel_mb: int, folder: str) -> None:
    path = os.path.join(folder, "bomb.zip")
    _overlap_bomb(path, entries, kernel_mb)
    start = time.perf_counter()
    reasons = Counter(
        item.data.reason.value if isinstance(item.data, MemberFailure) else "read"
        for item in read_members(path, lambda: open(path, "rb"), max_bytes=2**30)
    )
    seconds = time.perf_counter() - start
    print(f"\nOverlapping-entry zip bomb: {entries} entries x {kernel_mb} MiB:\n")
    print("| file KB | declared inflated GiB | reader | seconds | rows |")
    print("|---|---|---|---|---|")
    size_kb = os.path.getsize(path) / 1024
    declared = entries * kernel_mb / 1024
    print(
        f"| {size_kb:.0f} | {declared:.0f} | zipfile (before) "
        f"| not run: inflates {declared:.0f} GiB | - |"
    )
    rows = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    print(f"| {size_kb:.0f} | {declared:.0f} | read_members (after) | {seconds:.2f} | {rows} |")


def _best(function, path: str, repeat: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = function(path)
        times.append(time.perf_counter() - start)
    return min(times), found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=512, help="Big member size. Default: 512.")
    parser.add_argument("--repeat", type=int, default=3, help="Best of this many. Default: 3.")
    parser.add_argument("--entries", type=int, default=10_000, help="Bomb entries. Default: 10000.")
    parser.add_argument("--kernel-mb", type=int, default=255, help="Bomb kernel MiB. Default: 255.")
    args = parser.parse_args(argv)
    print("$ " + " ".join([os.path.basename(sys.executable), "-m", "benchmarks.bench_archives",
                           *(argv if argv is not None else sys.argv[1:])]))  # fmt: skip
    readers = [
        ("tarfile r|* (before)", _before),
        (f"read_members (after, {tar_members.TAR_BUFSIZE // 1024} KiB)", _after),
        ("read_members, 16 KiB pieces", _after_with(16 * 1024)),
        ("read_members, 1 MiB pieces", _after_with(1024 * 1024)),
    ]
    if shutil.which("tar"):
        readers.append(("GNU tar tzf", _gnu_tar))
    print(
        f"\nSkipping a {args.size_mb} MiB tar.gz member (max_bytes {MAX_BYTES}), "
        f"best of {args.repeat}:\n"
    )
    print("| content | .tar.gz MiB | reader | seconds | MiB/s | members seen | peak Python MiB |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for content in ("random", "zeros"):
            path = os.path.join(folder, f"{content}.tar.gz")
            _make(path, args.size_mb * 1024 * 1024, content)
            on_disk = os.path.getsize(path) / 2**20
            for label, function in readers:
                seconds, found = _best(function, path, args.repeat)
                peak = "-"
                if function in (_before, _after):
                    tracemalloc.start()
                    function(path)
                    peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f}"
                    tracemalloc.stop()
                rate = args.size_mb / seconds
                print(
                    f"| {content} | {on_disk:.1f} | {label} | {seconds:.2f} | {rate:.0f} "
                    f"| {found} | {peak} |"
                )
        _bomb_table(args.entries, args.kernel_mb, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
