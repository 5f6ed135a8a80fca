"""From a format reader's table to a :class:`HashList`: algorithms, decoding, problems, merging.

Everything here is vectorised (pyarrow compute, numpy), so a list of tens of
millions of lines is validated in seconds: hex is decoded through a 256-entry
lookup table over the string column's data buffer, and per-row decisions
(which algorithm, which length) are made once per *distinct* value.

Which algorithm a row is, in order:

1. the row's algorithm column or ``<algorithm> <hash>`` prefix, or the hash
   column's name (``pdq``, ``md5``...); if the reader was also given an
   explicit ``algorithm`` that disagrees, the row is a problem;
2. the explicit ``algorithm``;
3. the hash's length, when exactly one algorithm has it. PDQ and SHA-256 are
   both 64 hex characters; an unnamed 64-character hash is PDQ (this is a
   perceptual-hash tool and PDQ lists are the common case): SHA-256 lists
   must say so. pHash, dHash and aHash are all 16 characters: they must be
   named.
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from photosieve import algorithms
from photosieve.lists.columns import Columns, as_strings, canonical_algorithm, split_labels
from photosieve.lists.hash_list import (
    BANKS,
    IDS,
    LABELS,
    LINES,
    QUALITY,
    AlgorithmHashes,
    HashList,
    ListProblem,
    ProblemKind,
)

# An unnamed hash of this many hex characters is taken as this algorithm (see above).
LENGTH_DEFAULTS = {64: "pdq"}
# PDQ quality is a percentage (ThreatExchange pdq_hasher: 0..100).
QUALITY_RANGE = (0, 100)

# Hex is decoded this many rows at a time (a few tens of MB of temporaries).
_DECODE_BLOCK_ROWS = 1 << 18
_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX_VALUES[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX_VALUES[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


@dataclass
class ReadResult:
    """What a format reader returns.

    Attributes:
        table: one row per data line; column roles in ``columns``.
        lines: int64 [rows], the 1-based line (or row) of each table row.
        columns: the roles of the table's columns.
        problems: problems the reader found itself (bad rows it dropped).
        rows: data lines seen, including the dropped bad ones.
    """

    table: pa.Table
    lines: np.ndarray
    columns: Columns
    problems: list[ListProblem]
    rows: int


def base64_length(nbytes: int) -> int:
    return 4 * math.ceil(nbytes / 3)


def build_hash_list(
    result: ReadResult,
    *,
    path: str,
    name: str,
    version: str,
    format: str,
    algorithm: str | None = None,
) -> HashList:
    """Validate and decode every row, merge duplicates, collect problems."""
    forced = algorithms.get(algorithm).name if algorithm else None
    table, lines, columns = result.table, np.asarray(result.lines, dtype=np.int64), result.columns
    problems = list(result.problems)
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)  # rows with any problem are dropped whole

    quality = _parse_quality(table, columns, lines, bad, problems, path)
    vocabulary = _Vocabulary()
    named = _named_algorithms(table, columns, vocabulary)
    decoded: list[tuple[str, np.ndarray, np.ndarray]] = []  # (algorithm, rows, hashes)
    has_hash = np.zeros(n, dtype=bool)
    for column, implied in columns.hashes:
        values = table.column(column)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        binary = pa.types.is_binary(values.type) or pa.types.is_fixed_size_binary(values.type)
        binary = binary or pa.types.is_large_binary(values.type)
        if not binary:
            values = pc.utf8_trim_whitespace(as_strings(values))
        present = np.asarray(pc.fill_null(pc.greater(pc.binary_length(values), 0), False))
        has_hash |= present
        decoded += _decode_column(
            values, present, binary, named, implied, forced, vocabulary, lines, bad, problems, path
        )
    failed = _failure_rows(table, columns) & ~has_hash
    bad |= failed  # a failure's record, not a hash: dropped, and no problem
    for row in np.flatnonzero(~has_hash & ~failed):
        if not bad[row]:
            reason = (
                "no hash on this line" if len(columns.hashes) == 1 else "no hash in any hash column"
            )
            problems.append(
                ListProblem.make(path, int(lines[row]), ProblemKind.MISSING_FIELD, reason)
            )
        bad[row] = True

    groups = {}
    by_algorithm: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name_, rows, hashes in decoded:
        keep = ~bad[rows]
        by_algorithm.setdefault(name_, []).append((rows[keep], hashes[keep]))
    for name_, parts in by_algorithm.items():
        rows = np.concatenate([p[0] for p in parts])
        hashes = np.concatenate([p[1] for p in parts])
        if rows.size:
            groups[name_] = _merge(name_, rows, hashes, table, columns, lines, quality)
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return HashList(
        name=name,
        path=path,
        version=version,
        format=format,
        groups=groups,
        problems=tuple(problems),
        rows=result.rows - int(failed.sum()),  # like comments, not lines of the list
    )


def _failure_rows(table: pa.Table, columns: Columns) -> np.ndarray:
    """Rows that record a failure (a non-empty ``error`` cell): ``photosieve hash``'s error rows."""
    if columns.error is None:
        return np.zeros(table.num_rows, dtype=bool)
    values = pc.utf8_trim_whitespace(as_strings(table.column(columns.error)))
    return np.asarray(pc.fill_null(pc.greater(pc.binary_length(values), 0), False))


class _Vocabulary:
    """Algorithm names as small integer codes: 0 = none, known names, then unknown texts."""

    def __init__(self) -> None:
        self.names = [""] + algorithms.names()
        self.unknown = [False] * len(self.names)

    def code(self, text: str) -> int:
        """Code of a user-spelled name (registering unknown ones)."""
        if not text:
            return 0
        name = canonical_algorithm(text)
        key = name if name is not None else text
        if key not in self.names:
            self.names.append(key)
            self.unknown.append(name is None)
        return self.names.index(key)


def _named_algorithms(
    table: pa.Table, columns: Columns, vocabulary: _Vocabulary
) -> np.ndarray | None:
    """Per row, the code of the algorithm its algorithm column names (0: none)."""
    if columns.algorithm is None:
        return None
    values = pc.utf8_trim_whitespace(as_strings(table.column(columns.algorithm)))
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    codes = np.array(
        [vocabulary.code(text) for text in encoded.dictionary.to_pylist()], dtype=np.int32
    )
    return codes[np.asarray(encoded.indices)] if codes.size else np.zeros(0, np.int32)


def _decode_column(
    values: pa.Array,
    present: np.ndarray,
    binary: bool,
    named: np.ndarray | None,
    implied: str | None,
    forced: str | None,
    vocabulary: _Vocabulary,
    lines: np.ndarray,
    bad: np.ndarray,
    problems: list[ListProblem],
    path: str,
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Decide each present row's algorithm, check its length and digits, decode it."""
    lengths = np.asarray(pc.fill_null(pc.binary_length(values), 0), dtype=np.int64)
    n = len(values)
    names = vocabulary.names
    # Per row: the algorithm it names (column/prefix, else the column's name), 0 if none.
    implied_code = vocabulary.code(implied) if implied else 0
    row_named = np.full(n, implied_code, dtype=np.int32) if named is None else named.copy()
    if named is not None and implied_code:
        row_named[row_named == 0] = implied_code
    decided = np.zeros(n, dtype=np.int32)
    rows_all = np.flatnonzero(present)

    def report(rows: np.ndarray, kind: ProblemKind, reason_of) -> None:
        for row in rows:
            if not bad[row]:
                problems.append(
                    ListProblem.make(
                        path, int(lines[row]), kind, reason_of(row), _text(values, row)
                    )
                )
            bad[row] = True

    is_unknown = np.array(vocabulary.unknown, dtype=bool)
    unknown = rows_all[is_unknown[row_named[rows_all]]]
    report(
        unknown,
        ProblemKind.UNKNOWN_ALGORITHM,
        lambda r: (
            f"unknown algorithm {names[row_named[r]]!r}; known: {', '.join(algorithms.names())}"
        ),
    )
    rows_all = rows_all[~is_unknown[row_named[rows_all]]]
    if forced is not None:
        forced_code = vocabulary.code(forced)
        conflict = rows_all[(row_named[rows_all] != 0) & (row_named[rows_all] != forced_code)]
        report(
            conflict,
            ProblemKind.ALGORITHM_CONFLICT,
            lambda r: f"line says {names[row_named[r]]}, but the list is read as {forced}",
        )
        rows_all = rows_all[(row_named[rows_all] == 0) | (row_named[rows_all] == forced_code)]
        decided[rows_all] = forced_code
    else:
        decided[rows_all] = row_named[rows_all]
        unnamed = rows_all[row_named[rows_all] == 0]
        for length in np.unique(lengths[unnamed]):
            at = unnamed[lengths[unnamed] == length]
            choice, why = _by_length(int(length), binary)
            if choice is None:
                kind = (
                    ProblemKind.AMBIGUOUS_ALGORITHM if "name" in why else ProblemKind.WRONG_LENGTH
                )
                report(at, kind, lambda r, why=why: why)
            else:
                decided[at] = vocabulary.code(choice)

    out = []
    for code in np.unique(decided[rows_all]):
        if code == 0:
            continue
        name = names[code]
        spec = algorithms.get(name)
        rows = rows_all[decided[rows_all] == code]
        rows = rows[~bad[rows]]
        if binary:
            ok = rows[lengths[rows] == spec.nbytes]
            report(
                rows[lengths[rows] != spec.nbytes],
                ProblemKind.WRONG_LENGTH,
                lambda r, s=spec: f"{s.name} hash must be {s.nbytes} bytes, got {lengths[r]}",
            )
            if ok.size:
                out.append((name, ok, _fixed_width(values.take(pa.array(ok)), spec.nbytes).copy()))
            continue
        hex_rows = rows[lengths[rows] == spec.hex_len]
        b64_rows = np.zeros(0, dtype=np.int64)
        if spec.metric is algorithms.Metric.EUCLIDEAN:
            b64_rows = rows[lengths[rows] == base64_length(spec.nbytes)]
        wrong = rows[~np.isin(rows, np.concatenate([hex_rows, b64_rows]))]
        also = (
            f" or {base64_length(spec.nbytes)} base64"
            if b64_rows.size or spec.metric is algorithms.Metric.EUCLIDEAN
            else ""
        )
        report(
            wrong,
            ProblemKind.WRONG_LENGTH,
            lambda r, s=spec, also=also: (
                f"{s.name} hash must be {s.hex_len} hex{also} characters, got {lengths[r]}"
            ),
        )
        for start in range(0, hex_rows.size, _DECODE_BLOCK_ROWS):  # bounded temporaries
            block = hex_rows[start : start + _DECODE_BLOCK_ROWS]
            chars = _fixed_width(values.take(pa.array(block)), spec.hex_len)
            nibbles = np.take(_HEX_VALUES, chars)
            not_hex = (nibbles == 255).any(axis=1)
            report(
                block[not_hex],
                ProblemKind.NOT_HEX,
                lambda r, s=spec: f"{s.name} hash is not hexadecimal",
            )
            good = nibbles[~not_hex]
            out.append((name, block[~not_hex], (good[:, 0::2] << 4) | good[:, 1::2]))
        if b64_rows.size:
            decoded_rows, decoded = [], []
            for row in b64_rows:
                try:
                    raw = binascii.a2b_base64(values[int(row)].as_py(), strict_mode=True)
                except (binascii.Error, ValueError):
                    raw = b""
                if len(raw) != spec.nbytes:
                    report(
                        np.array([row]),
                        ProblemKind.NOT_HEX,
                        lambda r, s=spec: f"{s.name} hash is neither hex nor base64",
                    )
                    continue
                decoded_rows.append(row)
                decoded.append(np.frombuffer(raw, dtype=np.uint8))
            if decoded_rows:
                out.append((name, np.array(decoded_rows, dtype=np.int64), np.stack(decoded)))
    return out


def _by_length(length: int, binary: bool) -> tuple[str | None, str]:
    """The algorithm an unnamed hash of this length must be, or (None, why not)."""
    specs = [algorithms.get(name) for name in algorithms.names()]
    if binary:
        fits = [s.name for s in specs if s.nbytes == length]
        unit, describe = "bytes", lambda s: f"{s.nbytes} ({s.name})"
    else:
        fits = [s.name for s in specs if s.hex_len == length]
        fits += [
            s.name
            for s in specs
            if s.metric is algorithms.Metric.EUCLIDEAN and base64_length(s.nbytes) == length
        ]
        unit, describe = "characters", lambda s: f"{s.hex_len} ({s.name})"
    if len(fits) == 1:
        return fits[0], ""
    if len(fits) > 1:
        if not binary and length in LENGTH_DEFAULTS:
            return LENGTH_DEFAULTS[length], ""
        return None, f"{length} {unit} fits {', '.join(sorted(fits))}: name the algorithm"
    sizes = ", ".join(describe(s) for s in sorted(specs, key=lambda s: (s.nbytes, s.name)))
    return None, f"no algorithm has hashes of {length} {unit} (known: {sizes})"


def _fixed_width(values: pa.Array, width: int) -> np.ndarray:
    """The bytes of a string/binary array of ``width``-long values, as uint8 [n, width]."""
    n = len(values)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    if pa.types.is_fixed_size_binary(values.type):
        data = np.frombuffer(values.buffers()[1], dtype=np.uint8)
        start = values.offset * width
        return data[start : start + n * width].reshape(n, width)
    large = pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[values.offset : values.offset + n + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    assert int(offsets[-1]) - start == n * width, "values must all be the same width"
    return data[start : start + n * width].reshape(n, width)


def _text(values: pa.Array, row: int) -> str:
    value = values[int(row)].as_py()
    if isinstance(value, bytes):
        return value.hex()
    return "" if value is None else str(value)


def _parse_quality(
    table: pa.Table,
    columns: Columns,
    lines: np.ndarray,
    bad: np.ndarray,
    problems: list[ListProblem],
    path: str,
) -> np.ndarray | None:
    """The quality column as int32 (-1 where empty); bad values are problems."""
    if columns.quality is None:
        return None
    values = pc.utf8_trim_whitespace(as_strings(table.column(columns.quality)))
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    parsed = []
    for text in encoded.dictionary.to_pylist():
        try:
            number = -1 if text == "" else int(text)
        except ValueError:
            number = -2
        if number != -1 and not QUALITY_RANGE[0] <= number <= QUALITY_RANGE[1]:
            number = -2
        parsed.append(number)
    quality = (
        np.array(parsed, dtype=np.int32)[np.asarray(encoded.indices)]
        if parsed
        else np.zeros(0, np.int32)
    )
    for row in np.flatnonzero(quality == -2):
        problems.append(
            ListProblem.make(
                path,
                int(lines[row]),
                ProblemKind.BAD_QUALITY,
                f"quality must be an integer {QUALITY_RANGE[0]}..{QUALITY_RANGE[1]}",
                values[int(row)].as_py(),
            )
        )
        bad[row] = True
    return quality


def _merge(
    algorithm: str,
    rows: np.ndarray,
    hashes: np.ndarray,
    table: pa.Table,
    columns: Columns,
    lines: np.ndarray,
    quality: np.ndarray | None,
) -> AlgorithmHashes:
    """Merge entries with the same hash: one row per distinct hash, in order of first appearance."""
    # Put entries in file order, then number distinct hashes by first appearance.
    order = np.argsort(lines[rows], kind="stable")
    rows, hashes = rows[order], np.ascontiguousarray(hashes[order])
    group = _distinct_groups(hashes)
    _, firsts = np.unique(group, return_index=True)
    distinct = hashes[firsts]
    n_groups = distinct.shape[0]
    # Entries sorted by group (stable: file order inside a group).
    by_group = np.argsort(group, kind="stable")
    entry_rows = rows[by_group]
    entry_group = group[by_group]
    offsets = np.searchsorted(entry_group, np.arange(n_groups + 1)).astype(np.int32)

    def lists_of(column: str | None, *, split: bool) -> pa.ListArray:
        if column is None:
            return pa.ListArray.from_arrays(
                pa.array(np.zeros(n_groups + 1, np.int32)), pa.array([], pa.string())
            )
        per_row = split_labels(table.column(column).take(pa.array(entry_rows)), split=split)
        parent = entry_group[np.asarray(pc.list_parent_indices(per_row))]
        return _distinct_lists(pc.list_flatten(per_row), parent, n_groups)

    metadata = {
        IDS: lists_of(columns.id, split=False),
        LABELS: _concat_lists(
            lists_of(columns.labels, split=True), lists_of(columns.label, split=False)
        ),
        BANKS: lists_of(columns.bank, split=False),
        LINES: pa.ListArray.from_arrays(pa.array(offsets), pa.array(lines[entry_rows])),
    }
    if quality is None:
        metadata[QUALITY] = pa.nulls(n_groups, pa.int32())
    else:
        best = np.full(n_groups, -1, dtype=np.int32)
        np.maximum.at(best, entry_group, quality[entry_rows])
        metadata[QUALITY] = pa.array(best, mask=best < 0)
    for column in columns.extra:
        metadata[column] = lists_of(column, split=False)
    return AlgorithmHashes(
        algorithm=algorithm,
        hashes=distinct,
        metadata=pa.table(metadata),
        entries=int(rows.size),
    )


def _distinct_groups(hashes: np.ndarray) -> np.ndarray:
    """Group number per row of equal rows, numbered 0, 1, ... by first appearance."""
    n = hashes.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    columns = hashes.view(">u8").astype(np.uint64) if hashes.shape[1] % 8 == 0 else hashes
    # Sort on the first word; only rows tied on it (rare but for degenerate
    # hashes) need the full lexicographic sort, done on those rows alone.
    order = np.argsort(columns[:, 0])
    first = columns[order, 0]
    tied = np.zeros(n, dtype=bool)
    same = first[1:] == first[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any() and columns.shape[1] > 1:
        at = np.flatnonzero(tied)
        rows = order[at]
        order[at] = rows[
            np.lexsort([columns[rows, i] for i in range(columns.shape[1] - 1, -1, -1)])
        ]
    ordered = columns[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(new)
    earliest = np.minimum.reduceat(order, starts)  # each distinct hash's first row
    rank = np.empty(starts.size, dtype=np.int64)
    rank[np.argsort(earliest)] = np.arange(starts.size)
    group = np.empty(n, dtype=np.int64)
    group[order] = rank[np.cumsum(new) - 1]
    return group


def _distinct_lists(values: pa.Array, parent: np.ndarray, n_groups: int) -> pa.ListArray:
    """list<string> per group of the values with that parent, each once, in order."""
    if len(values) == 0:
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(n_groups + 1, np.int32)), pa.array([], pa.string())
        )
    encoded = pc.dictionary_encode(values)
    codes = np.asarray(encoded.indices, dtype=np.int64)
    key = parent.astype(np.int64) * len(encoded.dictionary) + codes
    _, first = np.unique(key, return_index=True)
    first.sort()  # keep order of appearance; parents are non-decreasing
    kept = values.take(pa.array(first))
    offsets = np.searchsorted(parent[first], np.arange(n_groups + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), kept)


def _concat_lists(a: pa.ListArray, b: pa.ListArray) -> pa.ListArray:
    """Row-wise a + b (items of b not already in a)."""
    if len(pc.list_flatten(b)) == 0:
        return a
    if len(pc.list_flatten(a)) == 0:
        return b
    n = len(a)
    values = pa.concat_arrays([pc.list_flatten(a), pc.list_flatten(b)])
    parent = np.concatenate(
        [np.asarray(pc.list_parent_indices(a)), np.asarray(pc.list_parent_indices(b))]
    )
    order = np.argsort(parent, kind="stable")
    return _distinct_lists(values.take(pa.array(order)), parent[order], n)
