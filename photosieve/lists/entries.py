"""The entries (lines) behind each distinct hash of a list, with their id, variant and labels paired.

A :class:`~photosieve.lists.HashList` merges equal hashes into one row and
keeps, per row, the distinct values of each metadata column as separate
lists: when two lines share a hash, which id went with which ``variant`` is
lost. The matching modes need that pairing: a match is reported per listed
image (id), says which part of it matched (the line's ``variant``, for
lists built with ``photosieve lists build``), and a second
opinion is looked up by (id, variant). :func:`read_list_entries` reads a
list once and recovers it through the HashList's ``lines`` column.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "l.csv")
>>> lines = ["hash,id,variant", "ab" * 32 + ",a,", "ab" * 32 + ',b,"window 0,0,1,1"']
>>> _ = open(path, "w").write("\\n".join(lines) + "\\n")
>>> hash_list, entries = read_list_entries(path)
>>> entries["pdq"].of(0)
[('a', '', ()), ('b', 'window 0,0,1,1', ())]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from photosieve.lists.columns import as_strings, normalise_name, split_labels
from photosieve.lists.hash_list import LINES, AlgorithmHashes, HashList
from photosieve.lists.read import read_list_with_rows
from photosieve.lists.validate import ReadResult

__all__ = ["NO_ID", "VARIANT_COLUMN", "ItemEntries", "item_entries", "read_list_entries"]

# The column lists built from images use to say what each hash is of
# (photosieve.lists.from_images.VARIANT; not imported: that module decodes images).
VARIANT_COLUMN = "variant"
# Code of an entry without an id (a list with no id column, or an empty cell).
NO_ID = -1


@dataclass(frozen=True, eq=False)  # arrays: equality is identity
class ItemEntries:
    """The entries of each distinct hash of one algorithm group, in file order.

    Columnar (codes into small vocabularies), so a list built from images
    (~76 entries per image) stays compact in a worker and pickles cheaply.

    Attributes:
        offsets: int64 ``[n_items + 1]``; the entries of item ``i`` (row
            ``i`` of the group's ``hashes``) are ``offsets[i]:offsets[i + 1]``.
        id_codes: int32 ``[n_entries]`` into ``ids`` (:data:`NO_ID`: none).
        variant_codes: int32 ``[n_entries]`` into ``variants`` (``""``: the
            whole image, or a list without a variant column).
        label_codes: int32 ``[n_entries]`` into ``labels``.
        lines: int64 ``[n_entries]``, where each entry is in the file.
        ids, variants, labels: the vocabularies.
    """

    offsets: np.ndarray
    id_codes: np.ndarray
    variant_codes: np.ndarray
    label_codes: np.ndarray
    lines: np.ndarray
    ids: tuple[str, ...]
    variants: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        """Number of entries (lines)."""
        return int(self.id_codes.size)

    @property
    def items(self) -> int:
        return int(self.offsets.size - 1)

    def item_of_entries(self) -> np.ndarray:
        """int64 ``[n_entries]``: the item (distinct hash) of each entry."""
        return np.repeat(np.arange(self.items, dtype=np.int64), np.diff(self.offsets))

    def id_of(self, entry: int) -> str | None:
        code = int(self.id_codes[entry])
        return None if code == NO_ID else self.ids[code]

    def of(self, item: int) -> list[tuple[str | None, str, tuple[str, ...]]]:
        """(id, variant, labels) of each entry of ``item``, in file order."""
        return [
            (self.id_of(e), self.variants[self.variant_codes[e]], self.labels[self.label_codes[e]])
            for e in range(int(self.offsets[item]), int(self.offsets[item + 1]))
        ]


def _codes(values: list, *, missing: object = None) -> tuple[np.ndarray, tuple]:
    """Values -> (int32 codes by first appearance, vocabulary); ``missing`` values -> NO_ID."""
    vocabulary: dict = {}
    codes = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        if missing is not None and value == missing:
            codes[i] = NO_ID
            continue
        code = vocabulary.get(value)
        if code is None:
            code = vocabulary[value] = len(vocabulary)
        codes[i] = code
    return codes, tuple(vocabulary)


def _string_column(table: pa.Table, column: str | None, rows: pa.Array) -> list[str]:
    if column is None:
        return [""] * len(rows)
    values = as_strings(table.column(column).take(rows))
    return pc.utf8_trim_whitespace(pc.fill_null(values, "")).to_pylist()


def item_entries(group: AlgorithmHashes, result: ReadResult) -> ItemEntries:
    """Pair each entry of ``group`` with its own line's id, variant and labels.

    Args:
        group: one algorithm of the HashList built from ``result``.
        result: the format reader's table (see
            :func:`~photosieve.lists.read.read_list_with_rows`).
    """
    lines_column = group.metadata.column(LINES).combine_chunks()
    offsets = np.asarray(lines_column.offsets, dtype=np.int64)
    offsets = offsets - offsets[0]
    lines = np.asarray(pc.list_flatten(lines_column), dtype=np.int64)
    # Each table row is one line: find the row of every entry's line.
    table_lines = np.asarray(result.lines, dtype=np.int64)
    order = np.argsort(table_lines, kind="stable")
    rows = order[np.searchsorted(table_lines, lines, sorter=order)]
    taken = pa.array(rows)
    table, columns = result.table, result.columns
    ids = _string_column(table, columns.id, taken)
    variant = next((c for c in columns.extra if normalise_name(c) == VARIANT_COLUMN), None)
    variants = _string_column(table, variant, taken)
    labels: list[tuple[str, ...]] = [() for _ in rows]
    for column, split in ((columns.labels, True), (columns.label, False)):
        if column is None:
            continue
        parts = split_labels(table.column(column).take(taken), split=split).to_pylist()
        labels = [tuple(dict.fromkeys(have + tuple(more))) for have, more in zip(labels, parts)]
    id_codes, id_vocabulary = _codes(ids, missing="")
    variant_codes, variant_vocabulary = _codes(variants)
    label_codes, label_vocabulary = _codes(labels)
    return ItemEntries(
        offsets=offsets,
        id_codes=id_codes,
        variant_codes=variant_codes,
        label_codes=label_codes,
        lines=lines,
        ids=id_vocabulary,
        variants=variant_vocabulary,
        labels=label_vocabulary,
    )


def read_list_entries(path: str, **options) -> tuple[HashList, dict[str, ItemEntries]]:
    """Read a list (as :func:`~photosieve.lists.read_list` does, with its keyword arguments)
    and pair its entries, per algorithm."""
    hash_list, result = read_list_with_rows(path, **options)
    return hash_list, {
        algorithm: item_entries(group, result) for algorithm, group in hash_list.groups.items()
    }
