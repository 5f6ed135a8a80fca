"""Parquet and JSON Lines lists."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from photosieve.errors import ListFormatError
from photosieve.lists import ProblemKind, read_list


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_parquet_with_hex_hashes_and_list_labels(write, pdq_hashes):
    table = pa.table(
        {
            "hash": [pdq_hashes[0], pdq_hashes[1][:10], pdq_hashes[0]],
            "id": [7, 8, 9],
            "labels": [["known bad", "x"], [], None],
            "quality": [80, 70, 95],
        }
    )
    hash_list = read_list(write("list.parquet", _parquet(table)), strict=False)
    assert hash_list.format == "parquet"
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.WRONG_LENGTH)]
    assert hash_list.group("pdq").metadata.to_pylist()[0] == {
        "ids": ["7", "9"],
        "labels": ["known bad", "x"],  # list items are kept whole
        "banks": [],
        "lines": [1, 3],
        "quality": 95,
    }


def test_parquet_with_raw_byte_hashes_is_sniffed_without_extension(write, pdq_hashes):
    raw = [bytes.fromhex(h) for h in pdq_hashes[:3]] + [b"\x00" * 31]
    table = pa.table({"pdq": pa.array(raw, pa.binary())})
    hash_list = read_list(write("raw.bin", _parquet(table)), strict=False)
    assert [h for h in map(hash_list.group("pdq").hex_of, range(3))] == pdq_hashes[:3]
    assert [(p.line, p.kind) for p in hash_list.problems] == [(4, ProblemKind.WRONG_LENGTH)]


def test_corrupt_parquet_is_unreadable(write):
    with pytest.raises(ListFormatError, match="not a readable Parquet file"):
        read_list(write("broken.parquet", b"PAR1 this is not parquet"))


def test_json_lines(write, pdq_hashes):
    path = write(
        "list.jsonl",
        f'{{"hash": "{pdq_hashes[0]}", "algorithm": "pdq", "id": 12, "tags": ["a", "b c"]}}\n'
        "\n"
        "not json\n"
        '["a list"]\n'
        f'{{"signal_str": "{pdq_hashes[1]}", "note": {{"k": 1}}}}\n',
    )
    hash_list = read_list(path, strict=False)
    assert hash_list.format == "jsonl"
    assert [(p.line, p.kind) for p in hash_list.problems] == [
        (3, ProblemKind.BAD_JSON),
        (4, ProblemKind.BAD_JSON),
    ]
    rows = hash_list.group("pdq").metadata.to_pylist()
    assert rows[0]["ids"] == ["12"] and rows[0]["labels"] == ["a", "b c"]
    assert rows[1]["note"] == ['{"k": 1}'] and rows[1]["lines"] == [5]
