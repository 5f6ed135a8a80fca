"""photosieve.lists.entries: each distinct hash's entries, with id, variant and labels of their own line."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from photosieve.lists import entries as entries_module
from photosieve.lists import read_list
from photosieve.lists.entries import read_list_entries

A, B, C = "a" * 64, "b" * 64, "c" * 64

# Lines of one list: A is shared by an image and another image's window (the
# case a merged HashList cannot pair), B is listed twice for one id.
LINES = [
    {"hash": A, "id": "one", "variant": "", "labels": "x y"},
    {"hash": B, "id": "two", "variant": "window 0.1,0.1,0.9,0.9", "labels": "z"},
    {"hash": A, "id": "two", "variant": "window 0,0,0.8,0.8", "labels": "w"},
    {"hash": C, "id": "three", "variant": "", "labels": ""},
    {"hash": B, "id": "two", "variant": "window 0.1,0.1,0.9,0.9", "labels": "v"},
]
EXPECTED = {
    A: [("one", "", ("x", "y")), ("two", "window 0,0,0.8,0.8", ("w",))],
    B: [("two", "window 0.1,0.1,0.9,0.9", ("z",)), ("two", "window 0.1,0.1,0.9,0.9", ("v",))],
    C: [("three", "", ())],
}


def _write(path, fmt: str) -> None:
    if fmt == "csv":
        rows = ["hash,id,variant,labels"] + [
            f'{r["hash"]},{r["id"]},"{r["variant"]}",{r["labels"]}' for r in LINES
        ]
        path.write_text("\n".join(rows) + "\n")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in LINES))
    else:
        pq.write_table(pa.Table.from_pylist(LINES), path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_entry_keeps_its_own_id_variant_and_labels(tmp_path, fmt):
    path = tmp_path / f"list.{fmt}"
    _write(path, fmt)
    hash_list, entries = read_list_entries(str(path))
    group, pdq = hash_list.group("pdq"), entries["pdq"]
    assert pdq.items == len(group) == 3 and len(pdq) == len(LINES)
    got = {group.hex_of(item): pdq.of(item) for item in range(pdq.items)}
    assert got == EXPECTED
    # The merged HashList cannot say that "one" is a whole image: its row for A
    # holds both ids and only the non-empty variant.
    merged = group.metadata.select(["ids", "variant"]).slice(0, 1).to_pylist()[0]
    assert merged == {"ids": ["one", "two"], "variant": ["window 0,0,0.8,0.8"]}


def test_entries_follow_the_items_and_lines(tmp_path):
    path = tmp_path / "list.csv"
    _write(path, "csv")
    hash_list, entries = read_list_entries(str(path))
    pdq = entries["pdq"]
    assert pdq.item_of_entries().tolist() == [0, 0, 1, 1, 2]
    group_lines = hash_list.group("pdq").metadata.column("lines").to_pylist()
    assert pdq.lines.tolist() == [line for lines in group_lines for line in lines]
    assert hash_list.version == read_list(str(path)).version


def test_a_list_without_ids_or_variants(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(f"pdq {A}\npdq {B}\n")
    _, entries = read_list_entries(str(path))
    assert entries["pdq"].of(0) == [(None, "", ())]
    assert entries["pdq"].id_codes.tolist() == [entries_module.NO_ID] * 2


def test_every_algorithm_gets_its_entries(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(f"algorithm,hash,id,variant\npdq,{A},one,\nphash,{'d' * 16},one,\n")
    _, entries = read_list_entries(str(path))
    assert entries["phash"].of(0) == [("one", "", ())]


def test_module_example_runs():
    assert doctest.testmod(entries_module).failed == 0


def test_codes_are_compact_integers(tmp_path):
    path = tmp_path / "list.csv"
    _write(path, "csv")
    pdq = read_list_entries(str(path))[1]["pdq"]
    for codes in (pdq.id_codes, pdq.variant_codes, pdq.label_codes):
        assert codes.dtype == np.int32
    assert pdq.ids == ("one", "two", "three")
