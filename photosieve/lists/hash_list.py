"""The in-memory form of one known-hash list, whatever file format it came from.

A :class:`HashList` holds, per algorithm, the *distinct* hashes as one
compact ``uint8 [n, nbytes]`` array and, parallel to it, a ``pyarrow`` table
of what the list says about each hash: every id, label, bank and source line
of the entries that carried it (duplicated hashes are merged, nothing is
dropped), the PDQ quality when given, and any other columns. Indexes are built
from the array; a match on row ``i`` cites ``metadata`` row ``i``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from photosieve.errors import ConfigError

# Metadata columns every AlgorithmHashes has, in this order; extra columns follow.
IDS = "ids"
LABELS = "labels"
BANKS = "banks"
LINES = "lines"
QUALITY = "quality"
METADATA_COLUMNS = (IDS, LABELS, BANKS, LINES, QUALITY)

# Bad text is quoted in problems up to this many characters.
MAX_PROBLEM_TEXT = 120


class ProblemKind(enum.Enum):
    """What is wrong with one line. Values are stable: they appear in outputs."""

    WRONG_LENGTH = "wrong_length"  # hash text of a length no (or not this) algorithm has
    NOT_HEX = "not_hex"  # characters outside 0-9a-f (or base64 for gradient)
    UNKNOWN_ALGORITHM = "unknown_algorithm"  # a named algorithm photosieve does not know
    AMBIGUOUS_ALGORITHM = "ambiguous_algorithm"  # the length fits several; name it
    ALGORITHM_CONFLICT = "algorithm_conflict"  # the line names another algorithm than --algorithm
    MISSING_FIELD = "missing_field"  # no hash on the line, or too few fields
    EXTRA_FIELDS = "extra_fields"  # more fields than the format has
    BAD_QUOTING = "bad_quoting"  # a CSV line whose quotes do not close on it
    BAD_QUALITY = "bad_quality"  # quality not an integer 0..100
    BAD_JSON = "bad_json"  # a JSON Lines line that is not a JSON object
    BAD_ENCODING = "bad_encoding"  # not UTF-8
    UNREADABLE = "unreadable"  # the whole file: no hash column, not Parquet, not a file...
    TOO_LARGE = "too_large"  # the whole file: more content than the limit (--max-list-bytes)
    LINE_TOO_LONG = "line_too_long"  # a line over the limit (source.MAX_LINE_BYTES)


@dataclass(frozen=True)
class ListProblem:
    """One bad line of a list file.

    Attributes:
        path: the file, as given.
        line: 1-based line number (Parquet: row number; None: the whole file).
        reason: human-readable, e.g. "pdq hash must be 64 hex characters, got 63".
        text: the offending text, truncated to ``MAX_PROBLEM_TEXT`` characters.
        kind: the class of problem, for counting.
    """

    path: str
    line: int | None
    reason: str
    text: str
    kind: ProblemKind

    @classmethod
    def make(
        cls, path: str, line: int | None, kind: ProblemKind, reason: str, text: object = ""
    ) -> ListProblem:
        text = "" if text is None else str(text)
        if len(text) > MAX_PROBLEM_TEXT:
            text = text[: MAX_PROBLEM_TEXT - 3] + "..."
        return cls(path, line, reason, text, kind)

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}" + (f": {self.text!r}" if self.text else "")


@dataclass(frozen=True, eq=False)  # arrays: equality is identity
class AlgorithmHashes:
    """The distinct hashes of one algorithm in one list, with their merged entries.

    Attributes:
        algorithm: canonical algorithm name.
        hashes: ``uint8 [n, nbytes]``, distinct, in order of first appearance.
        metadata: ``n`` rows parallel to ``hashes``: ``ids``, ``labels``,
            ``banks`` (list<string>: every value of the merged entries, each
            once, in order of appearance), ``lines`` (list<int64>: where the
            entries were), ``quality`` (int32, the highest given, or null),
            then one list<string> column per extra input column.
        entries: how many valid entries (lines) carried these hashes.
    """

    algorithm: str
    hashes: np.ndarray
    metadata: pa.Table
    entries: int

    def __post_init__(self) -> None:
        self.hashes.setflags(write=False)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    @property
    def duplicates(self) -> int:
        """Entries merged into an earlier entry with the same hash."""
        return self.entries - len(self)

    def ids_of(self, item: int) -> list[str]:
        return self.metadata.column(IDS)[item].as_py()

    def labels_of(self, item: int) -> list[str]:
        return self.metadata.column(LABELS)[item].as_py()

    def quality_of(self, item: int) -> int | None:
        return self.metadata.column(QUALITY)[item].as_py()

    def hex_of(self, item: int) -> str:
        return self.hashes[item].tobytes().hex()


@dataclass(frozen=True)
class HashList:
    """One list file, read and validated.

    Attributes:
        name: what match rows call this list (defaults to the file's stem).
        path: the file, as given (local path or ``gs://``/``s3://`` URI).
        version: SHA-256 of the file's bytes as stored (``sha256sum`` of the
            file, compressed or not): match rows cite it, so a result can be
            traced to the exact list content it was matched against.
        format: the format it was read as (see :data:`photosieve.lists.FORMATS`).
        groups: algorithm -> :class:`AlgorithmHashes`.
        problems: the bad lines (empty unless read with ``strict=False``).
        rows: data lines or rows seen (blank and comment lines excluded).
    """

    name: str
    path: str
    version: str
    format: str
    groups: Mapping[str, AlgorithmHashes] = field(hash=False)
    problems: tuple[ListProblem, ...] = ()
    rows: int = 0

    def __post_init__(self) -> None:
        # A plain dict (copied): frozen-ish, and it pickles for Beam.
        object.__setattr__(self, "groups", dict(self.groups))
        object.__setattr__(self, "problems", tuple(self.problems))

    @property
    def algorithms(self) -> list[str]:
        return sorted(self.groups)

    def group(self, algorithm: str) -> AlgorithmHashes:
        try:
            return self.groups[algorithm]
        except KeyError:
            have = ", ".join(self.algorithms) or "none"
            raise ConfigError(
                f"list {self.name!r} has no {algorithm} hashes (it has: {have})"
            ) from None

    @property
    def entries(self) -> int:
        return sum(group.entries for group in self.groups.values())

    @property
    def distinct(self) -> int:
        return sum(len(group) for group in self.groups.values())

    @property
    def duplicates(self) -> int:
        return sum(group.duplicates for group in self.groups.values())

    def problem_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.kind.value] = counts.get(problem.kind.value, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> dict:
        """Counts for reports and run outputs (JSON-ready)."""
        return {
            "name": self.name,
            "path": self.path,
            "format": self.format,
            "version": self.version,
            "rows": self.rows,
            "entries": self.entries,
            "distinct": self.distinct,
            "duplicates": self.duplicates,
            "problems": len(self.problems),
            "problem_counts": self.problem_counts(),
            "algorithms": {
                name: {
                    "entries": group.entries,
                    "distinct": len(group),
                    "duplicates": group.duplicates,
                }
                for name, group in sorted(self.groups.items())
            },
        }
