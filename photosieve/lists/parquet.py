"""Parquet lists: one row per entry, columns named as in CSV headers.

Hash columns may hold hex text or raw bytes (``binary`` /
``fixed_size_binary``); id, label and tag columns may be strings or lists
of strings. Problems cite the 1-based row number as their line.

A file from outside may hold any Arrow type in any column: a hash column
that is not text, bytes or a number (a struct, map or list) is a problem
naming the column; any other column of a nested type (struct, map, list of
lists...) is carried as JSON text, and bytes outside a hash column as hex,
the way JSON Lines carries nested values. Decoded columns may not exceed
the list's byte limit: a small file of run-length-encoded values can decode
to far more than it stores.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from photosieve.errors import ListFormatError
from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source, too_large
from photosieve.lists.validate import ReadResult

FORMAT = "parquet"
MAGIC = b"PAR1"
# Rows decoded at a time, so the byte limit is checked before a column is whole.
_BATCH_ROWS = 64 * 1024
_FLAT_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_decimal,
    pa.types.is_temporal,
    pa.types.is_null,
)
_BYTES_TYPES = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary)


def read(source: Source) -> ReadResult:
    try:
        # Arrow's own buffer, not a Python file object: its I/O threads must not need the GIL
        # (a pre-buffering thread alive at interpreter exit aborts it, apache/arrow#34314).
        table = _read_table(pq.ParquetFile(pa.BufferReader(source.data)), source)
        names = table.column_names  # (Arrow decodes them only here: they may not be UTF-8)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        problem = ListProblem.make(
            source.path, None, ProblemKind.UNREADABLE, f"not a readable Parquet file: {exc}"
        )
        raise ListFormatError([problem]) from exc
    columns = Columns.recognise(names)
    if not columns.hashes:
        reason = f"no hash column (columns: {', '.join(names)})"
        raise ListFormatError([ListProblem.make(source.path, None, ProblemKind.UNREADABLE, reason)])
    table = _usable_columns(table, {name for name, _ in columns.hashes}, source.path)
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    bad, problems = _undecodable_rows(table, source.path)
    if problems:
        table, lines = table.filter(pa.array(~bad)), lines[~bad]
    return ReadResult(
        table=table,
        lines=lines,
        columns=columns,
        problems=problems,
        rows=len(bad),
    )


def _read_table(parquet_file: pq.ParquetFile, source: Source) -> pa.Table:
    """The whole file, decoded batch by batch up to ``source.max_bytes``."""
    batches, total = [], 0
    for batch in parquet_file.iter_batches(batch_size=_BATCH_ROWS, use_threads=False):
        total += batch.nbytes
        if total > source.max_bytes:
            raise too_large(source.path, source.max_bytes, "decodes to")
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=parquet_file.schema_arrow)


def _usable_columns(table: pa.Table, hash_columns: set[str], path: str) -> pa.Table:
    """Every column in a type validation reads; a hash column that cannot be one is a problem."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
            column = column.cast(kind)
        flat = any(test(kind) for test in _FLAT_TYPES)
        as_bytes = any(test(kind) for test in _BYTES_TYPES)
        if field.name in hash_columns:
            if not (flat or as_bytes):
                reason = (
                    f"hash column {field.name!r} is {kind}: a hash column holds one hash"
                    " per row, as text or bytes"
                )
                problem = ListProblem.make(path, None, ProblemKind.UNREADABLE, reason)
                raise ListFormatError([problem])
        elif as_bytes:
            column = _text_column(column, lambda value: value.hex())
        elif not (flat or _is_list_of_text(kind)):
            column = _text_column(column, _json_text)
        table = table.set_column(index, field.name, column)
    return table


def _undecodable_rows(table: pa.Table, path: str) -> tuple[np.ndarray, list[ListProblem]]:
    """Rows with a string that is not UTF-8 (Parquet readers do not check): a problem each.

    Arrow's full validation finds out whether a column has any, in one pass;
    only a column that has is searched row by row.
    """
    bad = np.zeros(table.num_rows, dtype=bool)
    problems = []
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        listed = pa.types.is_list(kind) or pa.types.is_large_list(kind)
        inner = kind.value_type if listed else kind
        if not (pa.types.is_string(inner) or pa.types.is_large_string(inner)):
            continue
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        as_bytes = pa.large_binary() if pa.types.is_large_string(inner) else pa.binary()
        raw = column.cast(pa.list_(as_bytes) if listed else as_bytes).to_pylist()
        for row, value in enumerate(raw):
            for item in (value or []) if listed else [value]:
                try:
                    item is None or item.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if not bad[row]:
                        reason = f"column {name!r} is not UTF-8 (byte {exc.start + 1})"
                        text = item.decode("utf-8", errors="replace")
                        problems.append(
                            ListProblem.make(path, row + 1, ProblemKind.BAD_ENCODING, reason, text)
                        )
                    bad[row] = True
                    break
    return bad, problems


def _is_list_of_text(kind: pa.DataType) -> bool:
    """Lists of flat values: ids, labels, tags as the validation reads them."""
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return False
    return any(test(kind.value_type) for test in _FLAT_TYPES)


def _text_column(column: pa.ChunkedArray, text) -> pa.Array:
    return pa.array(
        [None if value is None else text(value) for value in column.to_pylist()], pa.string()
    )


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)
