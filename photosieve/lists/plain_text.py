"""Plain text lists: one hash a line, or ``<algorithm> <hash>`` (ThreatExchange's local-file form).

Blank lines and lines starting with ``#`` are skipped. Tokens are separated
by any whitespace, so ``\\r\\n`` endings and tab-separated pairs work too::

    # my case 1234
    f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    md5 d41d8cd98f00b204e9800998ecf8427e
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.source import Source, decode_text
from photosieve.lists.validate import ReadResult

FORMAT = "text"
COMMENT = "#"


def read(source: Source) -> ReadResult:
    text, problems = decode_text(source)
    encoding_problems = len(problems)  # those lines were blanked
    lines = pa.array(text.split("\n"), pa.string())
    trimmed = pc.utf8_trim_whitespace(lines)
    tokens = pc.utf8_split_whitespace(trimmed)  # "" splits to [""]: blank lines are masked
    counts = np.asarray(pc.list_value_length(tokens))
    blank = np.asarray(pc.equal(trimmed, ""))
    comment = np.asarray(pc.starts_with(trimmed, COMMENT))
    data = ~blank & ~comment
    for row in np.flatnonzero(data & (counts > 2)):
        problems.append(
            ListProblem.make(
                source.path,
                int(row) + 1,
                ProblemKind.EXTRA_FIELDS,
                "expected '<hash>' or '<algorithm> <hash>'",
                lines[int(row)].as_py().strip(),
            )
        )
    keep = np.flatnonzero(data & (counts <= 2))
    kept = tokens.take(pa.array(keep))
    lengths = counts[keep]
    flat = pc.list_flatten(kept)
    ends = np.cumsum(lengths)
    hashes = flat.take(pa.array(ends - 1))
    # Two tokens: the first names the algorithm.
    named = flat.take(pa.array(ends - lengths))
    algorithm = pc.if_else(pa.array(lengths == 2), named, pa.scalar("", pa.string()))
    return ReadResult(
        table=pa.table({"algorithm": algorithm, "hash": hashes}),
        lines=keep + 1,
        columns=Columns(hashes=[("hash", None)], algorithm="algorithm"),
        problems=problems,
        rows=int(data.sum()) + encoding_problems,
    )
