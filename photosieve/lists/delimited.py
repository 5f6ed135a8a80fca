"""CSV and TSV lists with a header row; also the engine of the fixed-layout CSV formats.

The header names the columns (see :mod:`photosieve.lists.columns` for the
names recognised as hash, algorithm, id, labels, bank, quality); every
other column is carried as metadata. A hash column may be named after its
algorithm (``pdq``, ``md5``...), and a file may have several, e.g.
``md5,pdq,id``: each row then gives one entry per non-empty hash column.

Rows with too few or too many fields are problems; blank lines are skipped.
A quoted value may not span lines (hash lists have none): when one does,
the file is read line by line and each line with an unbalanced quote is a
problem, so one stray quote cannot hide the lines after it.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from photosieve.errors import ListFormatError
from photosieve.lists.columns import HASH_OUTPUT_COLUMNS, Columns, unguard
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source, utf8_bytes
from photosieve.lists.validate import ReadResult

FORMATS = {"csv": ",", "tsv": "\t"}
# Anything but the ASCII white space bytes.strip() removes.
_NON_SPACE = re.compile(rb"\S")


def header_fields(first_line: str, delimiter: str) -> list[str]:
    """The fields of a header line by the stdlib csv rules (split plainly if it breaks them)."""
    try:
        return next(csv.reader([first_line], delimiter=delimiter), [])
    except csv.Error:  # e.g. a lone carriage return inside the line
        return first_line.split(delimiter)


def read(
    source: Source,
    *,
    delimiter: str,
    names: list[str] | None = None,
    columns: Columns | None = None,
) -> ReadResult:
    """Read a delimited file.

    Args:
        source: the file's content.
        delimiter: "," or "\\t".
        names: column names of a headerless file; None reads them from line 1.
        columns: roles of the columns; None recognises them by name.

    Raises:
        ListFormatError: no header, or no hash column in it.
    """
    data, problems = utf8_bytes(source)
    newline = data.find(b"\n")
    header_end = len(data) if newline < 0 else newline + 1
    header_lines = 0
    if names is None:
        first = data[:header_end].decode("utf-8").rstrip("\r\n")
        names = [name.strip() for name in header_fields(first, delimiter)]
        header_lines = 1
        if not any(names):
            header = [problem for problem in problems if problem.line == 1]  # too long, not UTF-8
            no_header = ListProblem.make(
                source.path, 1, ProblemKind.UNREADABLE, "no header row", first
            )
            raise ListFormatError(header or [no_header])
    names = _unique(names)
    if columns is None:
        columns = Columns.recognise(names)
    if not columns.hashes:
        reason = f"no hash column in the header (columns: {', '.join(names)})"
        raise ListFormatError([ListProblem.make(source.path, 1, ProblemKind.UNREADABLE, reason)])

    skipped: list[int] = []
    spanning: list[int | None] = []  # skipped rows that ran over a line end

    def invalid_row(row: pa_csv.InvalidRow) -> str:
        kind, reason = _field_count(names, row.actual_columns)
        if row.text.strip():
            problems.append(ListProblem.make(source.path, row.number, kind, reason, row.text))
        skipped.append(row.number)
        if row.number is None or "\n" in row.text or "\r" in row.text:
            spanning.append(row.number)
        return "skip"

    # (Searched in place: a list may be gigabytes, and slicing bytes copies them.)
    if _NON_SPACE.search(data, header_end if header_lines else 0) is None:
        # A header and nothing else: pyarrow refuses an empty body.
        empty = pa.table({name: pa.array([], pa.string()) for name in names})
        return ReadResult(empty, np.zeros(0, np.int64), columns, problems, len(problems))
    before = list(problems)
    try:
        table = _read_csv(data, names, header_lines, delimiter, invalid_row)
    except pa.ArrowInvalid as exc:
        reason = f"not readable as CSV: {exc}"
        problem = ListProblem.make(source.path, None, ProblemKind.UNREADABLE, reason)
        raise ListFormatError([problem]) from exc
    # (A file without a quote cannot have a value that spans lines: no check.)
    quoted = data.find(b'"', header_end if header_lines else 0) >= 0
    if quoted and (spanning or _spans_lines(table)):
        return _hash_output_paths(
            _read_line_by_line(data, names, header_lines, delimiter, columns, before, source.path)
        )
    # Records are numbered from 1 with the header; skipped ones are not in the table.
    first_record = header_lines + 1
    records = np.arange(first_record, first_record + table.num_rows + len(skipped), dtype=np.int64)
    lines = records[~np.isin(records, np.array(skipped, dtype=np.int64))]
    # Blank lines come through as rows of empty fields.
    blank = np.ones(table.num_rows, dtype=bool)
    for name in names:
        blank &= np.asarray(pc.equal(pc.utf8_trim_whitespace(table.column(name)), ""))
    keep = np.flatnonzero(~blank)
    rows = int(keep.size) + len(problems)  # so far, every problem is one dropped line
    return _hash_output_paths(
        ReadResult(
            table=table.take(pa.array(keep)),
            lines=lines[keep],
            columns=columns,
            problems=problems,
            rows=rows,
        )
    )


def _hash_output_paths(result: ReadResult) -> ReadResult:
    """``photosieve hash``'s own CSV with its paths as the tables name them (no ``'`` guard)."""
    names = result.table.column_names
    if tuple(names) == HASH_OUTPUT_COLUMNS:
        result.table = result.table.set_column(0, names[0], unguard(result.table.column(0)))
    return result


def _spans_lines(table: pa.Table) -> bool:
    """Whether a quoted value ran over a line end (an unterminated quote swallows what follows)."""
    return any(
        pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py() for column in table.columns
    )


def _read_line_by_line(
    data: bytes,
    names: list[str],
    header_lines: int,
    delimiter: str,
    columns: Columns,
    problems: list[ListProblem],
    path: str,
) -> ReadResult:
    """Each physical line one record, so a bad quote costs its own line and no other.

    The slow path (the stdlib csv module, line by line), taken only when the
    fast reader saw a quoted value run over a line end: hash lists have no
    such values, and one unbalanced quote would otherwise swallow every
    line after it into one field, unreported.
    """
    cells: list[list[str]] = [[] for _ in names]
    lines: list[int] = []
    for number, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        line = line[:-1] if line.endswith("\r") else line
        if number <= header_lines or not line.strip():
            continue
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            reason = f"bad quoting ({exc}): a quoted value must end on its own line"
            problems.append(ListProblem.make(path, number, ProblemKind.BAD_QUOTING, reason, line))
            continue
        if len(fields) != len(names):
            kind, reason = _field_count(names, len(fields))
            problems.append(ListProblem.make(path, number, kind, reason, line))
            continue
        for column, value in zip(cells, fields):
            column.append(value)
        lines.append(number)
    table = pa.table({name: pa.array(column, pa.string()) for name, column in zip(names, cells)})
    return ReadResult(
        table=table,
        lines=np.array(lines, dtype=np.int64),
        columns=columns,
        problems=problems,
        rows=len(lines) + len(problems),  # every problem is one dropped line
    )


def _read_csv(
    data: bytes, names: list[str], header_lines: int, delimiter: str, invalid_row
) -> pa.Table:
    """Every column as strings; bad rows go to ``invalid_row``; blank lines kept as empty rows."""
    return pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(
            use_threads=False, column_names=names, skip_rows=header_lines
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, invalid_row_handler=invalid_row, ignore_empty_lines=False
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _unique(names: list[str]) -> list[str]:
    """Header names made unique (``tag``, ``tag_2``...) so every column stays addressable."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "column"
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name}_{count}")
    return out


def _field_count(names: list[str], actual: int) -> tuple[ProblemKind, str]:
    """The problem of a row with ``actual`` fields where the header has ``names``."""
    kind = ProblemKind.MISSING_FIELD if actual < len(names) else ProblemKind.EXTRA_FIELDS
    return kind, f"expected {len(names)} fields ({', '.join(names)}), got {actual}"
