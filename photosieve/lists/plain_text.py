"""Plain text lists: one hash a line, or ``<algorithm> <hash>`` (ThreatExchange's local-file form).

Blank lines and lines starting with ``#`` are skipped. Tokens are separated
by any whitespace, so ``\\r\\n`` endings and tab-separated pairs work too::

    # my case 1234
    f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    md5 d41d8cd98f00b204e9800998ecf8427e
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source, utf8_bytes
from photosieve.lists.validate import ReadResult

FORMAT = "text"
COMMENT = "#"
_NEVER = "\x1f"  # ASCII unit separator: the CSV reader's delimiter, never in a list


def read(source: Source) -> ReadResult:
    data, problems = utf8_bytes(source)
    lines, problems = _physical_lines(data, source.path, problems)
    blanked = len(problems)  # lines too long, not UTF-8 or with 0x1f: blank now, but seen
    trimmed = pc.utf8_trim_whitespace(lines)
    data_rows = ~np.asarray(pc.equal(trimmed, "")) & ~np.asarray(pc.starts_with(trimmed, COMMENT))
    # Most lines are one hash: only lines with inner whitespace are split.
    spaced = np.asarray(pc.match_substring_regex(trimmed, r"\s"))
    single = np.flatnonzero(data_rows & ~spaced)
    several = np.flatnonzero(data_rows & spaced)
    tokens = pc.utf8_split_whitespace(trimmed.take(pa.array(several)))
    counts = np.asarray(pc.list_value_length(tokens))
    for row in several[counts > 2]:
        problems.append(
            ListProblem.make(
                source.path,
                int(row) + 1,
                ProblemKind.EXTRA_FIELDS,
                "expected '<hash>' or '<algorithm> <hash>'",
                trimmed[int(row)].as_py(),
            )
        )
    pairs = tokens.filter(pa.array(counts == 2))
    rows = np.concatenate([single, several[counts == 2]])
    order = np.argsort(rows, kind="stable")  # back to file order
    algorithm = pa.concat_arrays(
        [pa.nulls(single.size, pa.string()).fill_null(""), pc.list_element(pairs, 0)]
    )
    hashes = pa.concat_arrays([trimmed.take(pa.array(single)), pc.list_element(pairs, 1)])
    order_array = pa.array(order)
    return ReadResult(
        table=pa.table(
            {"algorithm": algorithm.take(order_array), "hash": hashes.take(order_array)}
        ),
        lines=rows[order] + 1,
        columns=Columns(hashes=[("hash", None)], algorithm="algorithm"),
        problems=problems,
        rows=int(data_rows.sum()) + blanked,
    )


def _physical_lines(
    data: bytes, path: str, problems: list[ListProblem]
) -> tuple[pa.StringArray, list[ListProblem]]:
    """One string per line (``\n``, ``\r\n``), split by pyarrow's CSV reader.

    No quoting and a delimiter that text lists never contain (the ASCII unit
    separator); a line that does contain it is a problem and left blank.
    """
    if not data:
        return pa.array([], pa.string()), problems  # pyarrow refuses an empty CSV
    bad: list[int] = []

    def invalid_row(row: pa_csv.InvalidRow) -> str:
        problems.append(
            ListProblem.make(
                path,
                row.number,
                ProblemKind.EXTRA_FIELDS,
                "control character 0x1f in the line",
                row.text,
            )
        )
        bad.append(row.number)
        return "skip"

    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(use_threads=False, column_names=["line"]),
        parse_options=pa_csv.ParseOptions(
            delimiter=_NEVER,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=invalid_row,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    lines = table.column("line").combine_chunks() if table.num_rows else pa.array([], pa.string())
    if bad:  # put the skipped lines back, blank, so row i stays line i + 1
        total = table.num_rows + len(bad)
        keep = np.setdiff1d(np.arange(1, total + 1), np.array(bad)) - 1
        full = np.full(total, "", dtype=object)
        full[keep] = lines.to_numpy(zero_copy_only=False)
        lines = pa.array(full, pa.string())
    return lines, problems
