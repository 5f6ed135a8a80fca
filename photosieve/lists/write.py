"""Writing a HashList back out, in any of the readable formats.

Writers emit one line (row, object) per *distinct* hash with its merged
metadata, except CSV/TSV, which repeat a hash once per id so that every id
survives a round trip. Plain text keeps only ``<algorithm> <hash>``; CSV/TSV
join multiple labels and banks with ``;`` (read back by the label
splitter); JSON Lines and Parquet keep every list as a list. A path ending
in ``.gz`` is gzip-compressed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from photosieve.errors import ConfigError
from photosieve.lists import json_lines, parquet, plain_text
from photosieve.lists.hash_list import BANKS, IDS, LABELS, LINES, QUALITY, HashList

WRITE_FORMATS = (plain_text.FORMAT, "csv", "tsv", json_lines.FORMAT, parquet.FORMAT)
_BY_EXTENSION = {
    ".txt": "text",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}
JOIN = ";"


def _local_open(path: str, mode: str) -> IO[bytes]:
    return open(path, mode)


def write_list(
    hash_list: HashList,
    path: str,
    *,
    format: str | None = None,
    open_fn: Callable[[str, str], IO[bytes]] | None = None,
) -> None:
    """Write ``hash_list`` to ``path`` (format from ``format`` or the extension; default text)."""
    base = path[:-3] if path.endswith(".gz") else path
    if format is None:
        format = next((f for ext, f in _BY_EXTENSION.items() if base.endswith(ext)), "text")
    if format not in WRITE_FORMATS:
        raise ConfigError(f"cannot write list format {format!r}; known: {', '.join(WRITE_FORMATS)}")
    data = {
        "text": _text,
        "csv": lambda h: _delimited(h, ","),
        "tsv": lambda h: _delimited(h, "\t"),
        "jsonl": _json_lines,
        "parquet": _parquet,
    }[format](hash_list)
    if path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime 0: same list, same bytes, same version
    with (open_fn or _local_open)(path, "wb") as handle:
        handle.write(data)


def _entries(hash_list: HashList):
    """(algorithm, hex, metadata dict) per distinct hash, algorithms in name order."""
    for algorithm in hash_list.algorithms:
        group = hash_list.groups[algorithm]
        hexes = group.hashes
        rows = group.metadata.to_pylist()
        for i, row in enumerate(rows):
            yield algorithm, hexes[i].tobytes().hex(), row


def _extra_names(hash_list: HashList) -> list[str]:
    fixed = {IDS, LABELS, BANKS, LINES, QUALITY}
    names: dict[str, None] = {}
    for group in hash_list.groups.values():
        names.update(dict.fromkeys(n for n in group.metadata.column_names if n not in fixed))
    return list(names)


def _text(hash_list: HashList) -> bytes:
    lines = [
        f"# {hash_list.name}: written by photosieve from {hash_list.path} ({hash_list.version})"
    ]
    lines += [f"{algorithm} {hex_}" for algorithm, hex_, _ in _entries(hash_list)]
    return ("\n".join(lines) + "\n").encode()


def _delimited(hash_list: HashList, delimiter: str) -> bytes:
    extra = _extra_names(hash_list)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["algorithm", "hash", "id", "labels", "bank", "quality", *extra])
    for algorithm, hex_, row in _entries(hash_list):
        common = [
            JOIN.join(row[LABELS]),
            JOIN.join(row[BANKS]),
            "" if row[QUALITY] is None else row[QUALITY],
            *(JOIN.join(row.get(name) or []) for name in extra),
        ]
        for id_ in row[IDS] or [""]:
            writer.writerow([algorithm, hex_, id_, *common])
    return out.getvalue().encode()


def _json_lines(hash_list: HashList) -> bytes:
    extra = _extra_names(hash_list)
    lines = []
    for algorithm, hex_, row in _entries(hash_list):
        record = {
            "algorithm": algorithm,
            "hash": hex_,
            "ids": row[IDS],
            "labels": row[LABELS],
            "banks": row[BANKS],
        }
        if row[QUALITY] is not None:
            record["quality"] = row[QUALITY]
        record.update({name: row[name] for name in extra if row.get(name)})
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _parquet(hash_list: HashList) -> bytes:
    tables = []
    for algorithm in hash_list.algorithms:
        group = hash_list.groups[algorithm]
        metadata = group.metadata.drop_columns([LINES])
        hexes = pa.array([row.tobytes().hex() for row in group.hashes], pa.string())
        table = metadata.add_column(0, "hash", hexes).add_column(
            0, "algorithm", pa.array([algorithm] * len(group), pa.string())
        )
        tables.append(table)
    if tables:
        table = pa.concat_tables(tables, promote_options="default")
    else:
        table = pa.table(
            {"algorithm": pa.array([], pa.string()), "hash": pa.array([], pa.string())}
        )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
