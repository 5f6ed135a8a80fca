"""Parquet lists: one row per entry, columns named as in CSV headers.

Hash columns may hold hex text or raw bytes (``binary`` /
``fixed_size_binary``); id, label and tag columns may be strings or lists
of strings. Problems cite the 1-based row number as their line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from photosieve.errors import ListFormatError
from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source
from photosieve.lists.validate import ReadResult

FORMAT = "parquet"
MAGIC = b"PAR1"


def read(source: Source) -> ReadResult:
    try:
        # Arrow's own buffer, not a Python file object: its I/O threads must not need the GIL
        # (a pre-buffering thread alive at interpreter exit aborts it, apache/arrow#34314).
        table = pq.read_table(pa.BufferReader(source.data))
    except (pa.ArrowException, OSError) as exc:
        problem = ListProblem.make(
            source.path, None, ProblemKind.UNREADABLE, f"not a readable Parquet file: {exc}"
        )
        raise ListFormatError([problem]) from exc
    columns = Columns.recognise(table.column_names)
    if not columns.hashes:
        reason = f"no hash column (columns: {', '.join(table.column_names)})"
        raise ListFormatError([ListProblem.make(source.path, None, ProblemKind.UNREADABLE, reason)])
    return ReadResult(
        table=table,
        lines=np.arange(1, table.num_rows + 1, dtype=np.int64),
        columns=columns,
        problems=[],
        rows=table.num_rows,
    )
