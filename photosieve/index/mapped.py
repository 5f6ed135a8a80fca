"""One list's indexes as an immutable file that worker processes map instead of building.

Building a list's indexes in every SDK process costs the list's memory once
per process (one per vCPU on Dataflow: ~10 GB each for a 10M-hash list). An
index file holds every array the indexes need, already built; each process
maps it read-only (:func:`open_index_file`), so the operating system keeps
one copy in its page cache for all processes on a machine, and a process
only pays for the pages its queries touch.

Layout (all integers little-endian)::

    magic  b"PSIDX\\0\\r\\n"             8 bytes ("not an index file" check)
    header length                      uint64
    header                             UTF-8 JSON, padded to ALIGN bytes
    data                               the arrays, each at an ALIGN-aligned offset

The header holds the format version, the list's name, version, role and
thresholds, and per algorithm the index kind (``multi``, ``euclidean`` or
``exact``), its parameters (geometry...), every array's dtype, shape and
offset, and the ids/labels table (an Arrow IPC file inside the data region,
read zero-copy). ``size`` and ``digest`` (SHA-256 of the data region) let a
reader reject a truncated or swapped file before using it.

Queries on a mapped index run the very same code as on the in-memory one
(the index classes are assembled around the mapped arrays), so they give
the same results; ``tests/photosieve/index/test_mapped.py`` checks it.

>>> import io, tempfile, numpy as np, pyarrow as pa
>>> from photosieve.lists.known import KnownList
>>> ids = pa.table({"ids": [["k1"], ["k2"]], "labels": [["a"], []]})
>>> hashes = np.array([[0x0F] * 32, [0xF0] * 32], dtype=np.uint8)
>>> known = KnownList("known", "v1", "match", {"pdq": 31.0}, {"pdq": (hashes, ids)})
>>> path = tempfile.mkdtemp() + "/known.psidx"
>>> summary = write_index_file(known, path)
>>> mapped = open_index_file(path, expected_version="v1")
>>> index, entries = mapped.groups["pdq"]
>>> index.query(hashes[1], threshold=31), entries.column("ids")[1].as_py()
([Match(item=1, distance=0)], ['k2'])
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from photosieve.errors import ConfigError
from photosieve.index import build_index
from photosieve.index.euclidean import EuclideanIndex
from photosieve.index.exact import ExactIndex
from photosieve.index.multi_index import MultiIndex
from photosieve.index.types import HashIndex

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "IndexSummary",
    "MappedList",
    "open_index_file",
    "read_header",
    "write_index_file",
]

MAGIC = b"PSIDX\0\r\n"
FORMAT_VERSION = 1
SUFFIX = ".psidx"
# Arrays start at multiples of this: aligned loads, and page-friendly.
ALIGN = 64
_PREFIX = len(MAGIC) + 8
# The header is small (a few kB); a larger claim means a damaged file.
_MAX_HEADER = 1 << 24
_COPY_CHUNK = 1 << 22

_KINDS: dict[str, type] = {
    "multi": MultiIndex,
    "euclidean": EuclideanIndex,
    "exact": ExactIndex,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}
_METADATA = "metadata"


@dataclass(frozen=True)
class IndexSummary:
    """What :func:`write_index_file` wrote: enough for a worker to find and check the file."""

    path: str
    size: int
    digest: str
    name: str
    version: str
    counts: dict


@dataclass(frozen=True)
class MappedList:
    """One list opened from an index file: ``groups`` maps algorithm -> (index, ids/labels table).

    The arrays of the indexes and the table are views of one read-only map
    of the file, which stays open while anything refers to them.
    """

    name: str
    version: str
    role: str
    thresholds: dict
    groups: dict
    size: int
    digest: str


def _pad(n: int) -> int:
    return -n % ALIGN


def _split_state(index: HashIndex) -> tuple[str, dict, dict[str, np.ndarray]]:
    """(kind, JSON-able parameters, arrays) of an index, from its pickled state."""
    kind = _KIND_OF.get(type(index))
    if kind is None:
        raise ConfigError(f"cannot write a {type(index).__name__} to an index file")
    params, arrays = {}, {}
    for key, value in index.__getstate__().items():
        if isinstance(value, np.ndarray):
            arrays[key] = np.ascontiguousarray(value)
        else:
            params[key] = value
    return kind, params, arrays


def _ipc_bytes(table: pa.Table) -> pa.Buffer:
    """The ids/labels table as an uncompressed Arrow IPC file (mapped zero-copy on read)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _layout(known: object) -> tuple[dict, list[memoryview]]:
    """The header (without digest) and the data blocks, in file order, of a KnownList."""
    groups, blocks, offset = {}, [], 0

    def place(data: memoryview) -> dict:
        nonlocal offset
        at = offset
        blocks.append(data)
        offset += data.nbytes
        padding = _pad(offset)
        if padding:
            blocks.append(memoryview(bytes(padding)))
            offset += padding
        return {"offset": at, "nbytes": data.nbytes}

    for algorithm, (hashes, metadata) in sorted(known.groups.items()):
        index = build_index(algorithm, hashes, threshold=known.thresholds[algorithm])
        kind, params, arrays = _split_state(index)
        described = {}
        for key, array in arrays.items():
            placed = place(memoryview(array).cast("B") if array.size else memoryview(b""))
            described[key] = {"dtype": array.dtype.str, "shape": list(array.shape), **placed}
        table = metadata.combine_chunks() if metadata.num_rows else metadata
        groups[algorithm] = {
            "kind": kind,
            "count": len(index),
            "params": params,
            "arrays": described,
            _METADATA: place(memoryview(_ipc_bytes(table))),
        }
    header = {
        "format": FORMAT_VERSION,
        "name": known.name,
        "version": known.version,
        "role": known.role,
        "thresholds": dict(known.thresholds),
        "groups": groups,
        "data_size": offset,
    }
    return header, blocks


def _header_bytes(header: dict) -> bytes:
    text = json.dumps(header, sort_keys=True).encode()
    return text + b" " * _pad(_PREFIX + len(text))


def write_index_file(
    known: object, path: str, *, create: Callable[[str], BinaryIO] | None = None
) -> IndexSummary:
    """Build every index of ``known`` (a :class:`~photosieve.lists.known.KnownList`) into one file.

    Args:
        known: the list (name, version, role, thresholds, groups).
        path: where to write; written whole, so write to a temporary name and
            rename when readers may be looking (the pipeline does).
        create: opens ``path`` for binary writing; default: a local file.
            The pipeline passes Beam's ``FileSystems.create`` (GCS, S3...).

    Returns:
        The file's size, digest and per-algorithm counts.
    """
    header, blocks = _layout(known)
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(block)
    header["digest"] = digest.hexdigest()
    head = _header_bytes(header)
    header["size"] = size = _PREFIX + len(head) + header["data_size"]
    # The size is part of the header, so lay it out again with it (same length or longer).
    head = _header_bytes(header)
    size = _PREFIX + len(head) + header["data_size"]
    if size != header["size"]:
        header["size"] = size
        head = _header_bytes(header)
        size = _PREFIX + len(head) + header["data_size"]
        if size != header["size"]:  # pragma: no cover - two digit-count changes in a row
            raise AssertionError("index header size did not settle")
    opener = create or functools.partial(open, mode="wb")
    with opener(path) as out:
        out.write(MAGIC + struct.pack("<Q", len(head)) + head)
        for block in blocks:
            out.write(block)
    counts = {algorithm: group["count"] for algorithm, group in header["groups"].items()}
    return IndexSummary(path, size, header["digest"], known.name, known.version, counts)


def read_header(prefix: bytes, *, what: str = "index file") -> tuple[dict, int]:
    """Parse (header, data offset) from the first bytes of an index file.

    ``prefix`` must hold at least the magic, the length and the header.

    Raises:
        ConfigError: not an index file, another format version, a damaged header.
    """
    if len(prefix) < _PREFIX or prefix[: len(MAGIC)] != MAGIC:
        raise ConfigError(f"{what} is not a photosieve index file (no {MAGIC!r} at its start)")
    (length,) = struct.unpack("<Q", prefix[len(MAGIC) : _PREFIX])
    if length > _MAX_HEADER:
        raise ConfigError(f"{what} is damaged: its header claims {length} bytes")
    if len(prefix) < _PREFIX + length:
        raise ConfigError(f"{what} is truncated: it ends inside its header")
    try:
        header = json.loads(prefix[_PREFIX : _PREFIX + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{what} is damaged: its header is not JSON ({exc})") from None
    if not isinstance(header, dict) or "format" not in header:
        raise ConfigError(f"{what} is damaged: its header has no format version")
    if header["format"] != FORMAT_VERSION:
        raise ConfigError(
            f"{what} is index format {header['format']!r}; this photosieve reads format "
            f"{FORMAT_VERSION}: rebuild it with `photosieve lists index`"
        )
    for key in ("name", "version", "role", "thresholds", "groups", "data_size", "size", "digest"):
        if key not in header:
            raise ConfigError(f"{what} is damaged: its header has no {key!r}")
    return header, _PREFIX + length


def _read_prefix(path: str) -> bytes:
    with open(path, "rb") as f:
        start = f.read(_PREFIX)
        if len(start) == _PREFIX and start[: len(MAGIC)] == MAGIC:
            (length,) = struct.unpack("<Q", start[len(MAGIC) :])
            return start + f.read(min(length, _MAX_HEADER))
        return start


def _view(buffer: pa.Buffer, base: int, spec: dict, size: int, what: str) -> np.ndarray:
    dtype = np.dtype(spec["dtype"])
    shape = tuple(int(s) for s in spec["shape"])
    count = int(np.prod(shape, dtype=np.int64))
    start = base + int(spec["offset"])
    if count * dtype.itemsize != int(spec["nbytes"]) or start + spec["nbytes"] > size:
        raise ConfigError(f"{what} is damaged: an array does not fit the file")
    array = np.frombuffer(buffer, dtype=dtype, count=count, offset=start)
    return array.reshape(shape)


def _digest_of(buffer: pa.Buffer, start: int, end: int) -> str:
    digest = hashlib.sha256()
    view = memoryview(buffer)
    for lo in range(start, end, _COPY_CHUNK):
        digest.update(view[lo : min(end, lo + _COPY_CHUNK)])
    return digest.hexdigest()


def open_index_file(
    path: str,
    *,
    expected_version: str | None = None,
    expected_digest: str | None = None,
    verify: bool = False,
) -> MappedList:
    """Map a local index file read-only and assemble its indexes around the mapped arrays.

    Nothing is copied: the arrays are views of the map, so processes that
    open the same file share its pages.

    Args:
        path: a local file written by :func:`write_index_file`.
        expected_version: the list version the run checked; another fails.
        expected_digest: the digest the file must have (the build step's).
        verify: also hash the data region against the header's digest
            (reads the whole file; the pipeline does it when it copies a
            remote file, so local opens need not).

    Raises:
        ConfigError: not an index file, another format version, truncated,
            another list version or digest, damaged content.
    """
    what = f"index file {path}"
    try:
        header, base = read_header(_read_prefix(path), what=what)
        source = pa.memory_map(path, "r")
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}") from None
    size = source.size()
    if size != header["size"] or base + header["data_size"] != size:
        raise ConfigError(
            f"{what} is truncated or padded: {size} bytes, its header says {header['size']}"
        )
    if expected_version is not None and header["version"] != expected_version:
        raise ConfigError(
            f"{what} indexes version {str(header['version'])[:12]}... of list "
            f"{header['name']}, the run checked {expected_version[:12]}...: rebuild it"
        )
    if expected_digest is not None and header["digest"] != expected_digest:
        raise ConfigError(f"{what} is not the file the run built (another digest)")
    buffer = source.read_buffer(size)
    if verify and _digest_of(buffer, base, size) != header["digest"]:
        raise ConfigError(f"{what} is damaged: its content does not match its digest")
    groups = {}
    for algorithm, group in header["groups"].items():
        groups[algorithm] = _open_group(buffer, base, size, group, f"{what} ({algorithm})")
    return MappedList(
        name=header["name"],
        version=header["version"],
        role=header["role"],
        thresholds=dict(header["thresholds"]),
        groups=groups,
        size=size,
        digest=header["digest"],
    )


def _open_group(
    buffer: pa.Buffer, base: int, size: int, group: dict, what: str
) -> tuple[HashIndex, pa.Table]:
    cls = _KINDS.get(group.get("kind"))
    if cls is None:
        raise ConfigError(f"{what} is damaged: unknown index kind {group.get('kind')!r}")
    arrays = {key: _view(buffer, base, spec, size, what) for key, spec in group["arrays"].items()}
    index = cls.__new__(cls)
    index.__setstate__({**group["params"], **arrays})
    placed = group[_METADATA]
    start = base + int(placed["offset"])
    if start + int(placed["nbytes"]) > size:
        raise ConfigError(f"{what} is damaged: its ids table does not fit the file")
    try:
        table = pa.ipc.open_file(buffer.slice(start, int(placed["nbytes"]))).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ConfigError(f"{what} is damaged: its ids table does not read ({exc})") from None
    if table.num_rows != len(index) or len(index) != int(group["count"]):
        raise ConfigError(f"{what} is damaged: {table.num_rows} ids rows for {len(index)} hashes")
    return index, table


def copy_verified(
    read: Callable[[], BinaryIO], destination: str, *, size: int, digest: str
) -> None:
    """Copy an index file from ``read()`` to the local ``destination``, checking size and digest.

    Writes a temporary file beside ``destination`` and renames it into place
    (atomic on one filesystem), so processes of one machine that copy at the
    same time never see a partial file: the last rename wins, with the same bytes.

    Raises:
        ConfigError: the copy's size or digest differs from the expected one.
    """
    folder = os.path.dirname(destination) or "."
    os.makedirs(folder, exist_ok=True)
    temporary = f"{destination}.part-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        with read() as source, open(temporary, "wb") as out:
            out.writelines(_chunks(source))
        got = os.path.getsize(temporary)
        if got != size:
            raise ConfigError(f"copy of an index file has {got} bytes, expected {size}")
        prefix = _read_prefix(temporary)
        header, base = read_header(prefix, what=f"copied index file {destination}")
        mapped = pa.memory_map(temporary, "r")
        try:
            actual = _digest_of(mapped.read_buffer(got), base, got)
        finally:
            mapped.close()
        if actual != digest or header["digest"] != digest:
            raise ConfigError(f"copy of an index file does not match its digest {digest[:12]}...")
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(_COPY_CHUNK):
        yield chunk
