"""JSON Lines lists: one JSON object per line, keys named as in CSV headers.

``{"hash": "f8f8...", "algorithm": "pdq", "id": "case-1", "tags": ["a", "b"]}``.
List values (ids, labels) are kept item by item; nested objects are carried
as JSON text. A line that is not a JSON object (or nests too deep, or holds
an integer of thousands of digits) is a problem; blank lines are skipped.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from photosieve.errors import ListFormatError
from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source, decode_text
from photosieve.lists.validate import ReadResult

FORMAT = "jsonl"


def read(source: Source) -> ReadResult:
    text, problems = decode_text(source)
    rows = len(problems)  # lines blanked for their encoding
    records: list[dict] = []
    lines: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        rows += 1
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            # Besides malformed text: nesting deeper than the interpreter's recursion
            # limit, and integers longer than its digit limit (4300 digits).
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            problems.append(
                ListProblem.make(
                    source.path, number, ProblemKind.BAD_JSON, f"not JSON: {reason}", line
                )
            )
            continue
        if not isinstance(record, dict):
            problems.append(
                ListProblem.make(
                    source.path, number, ProblemKind.BAD_JSON, "not a JSON object", line
                )
            )
            continue
        records.append(record)
        lines.append(number)
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    names = list(keys)
    columns = Columns.recognise(names)
    if records and not columns.hashes:
        reason = f"no hash key in the objects (keys: {', '.join(names)})"
        raise ListFormatError([ListProblem.make(source.path, None, ProblemKind.UNREADABLE, reason)])
    if not records:
        columns = Columns(hashes=[("hash", None)])
        names = ["hash"]
    table = pa.table({name: _column([record.get(name) for record in records]) for name in names})
    return ReadResult(
        table=table,
        lines=np.array(lines, dtype=np.int64),
        columns=columns,
        problems=problems,
        rows=rows,
    )


def _column(values: list) -> pa.Array:
    """Strings, or lists of strings if any value is a list (scalars become 1-item lists)."""
    if any(isinstance(value, list) for value in values):
        return pa.array(
            [
                None if v is None else [_text(x) for x in (v if isinstance(v, list) else [v])]
                for v in values
            ],
            pa.list_(pa.string()),
        )
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
