"""Parquet and JSON Lines lists."""

from __future__ import annotations

import io

import numpy as np
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


@pytest.mark.parametrize(
    "values",
    [
        pa.array([{"hex": "00"}]),
        pa.array([[("k", "00")]], pa.map_(pa.string(), pa.string())),
        pa.array([["00"]]),
        pa.array([[["00"]]]),
    ],
    ids=["struct", "map", "list", "nested-list"],
)
def test_a_parquet_hash_column_that_is_not_one_hash_per_row_is_a_problem(write, values):
    path = write("list.parquet", _parquet(pa.table({"hash": values})))
    with pytest.raises(ListFormatError) as error:
        read_list(path, strict=False)
    (problem,) = error.value.problems
    assert problem.path == path and problem.kind is ProblemKind.UNREADABLE
    assert problem.reason.startswith("hash column 'hash' is ")
    assert "a hash column holds one hash per row, as text or bytes" in problem.reason


def test_nested_parquet_metadata_is_carried_as_json_text(write, pdq_hashes):
    table = pa.table(
        {
            "hash": [pdq_hashes[0], pdq_hashes[1]],
            "id": pa.array([{"case": 1, "sub": "a"}, None]),
            "label": pa.array([[["x", "y"]], [["z"]]]),
            "extra": pa.array([[("k", "v")], []], pa.map_(pa.string(), pa.string())),
        }
    )
    hash_list = read_list(write("list.parquet", _parquet(table)))
    rows = hash_list.group("pdq").metadata.to_pylist()
    assert rows[0]["ids"] == ['{"case": 1, "sub": "a"}'] and rows[1]["ids"] == []
    assert rows[0]["labels"] == ['[["x", "y"]]'] and rows[1]["labels"] == ['[["z"]]']
    assert rows[0]["extra"] == ['[["k", "v"]]'] and rows[1]["extra"] == ["[]"]


def test_bytes_outside_a_hash_column_are_carried_as_hex(write, pdq_hashes):
    # Not UTF-8: casting them to text failed with a pyarrow traceback.
    table = pa.table({"hash": [pdq_hashes[0]], "id": pa.array([b"\xff\xfe"], pa.binary())})
    hash_list = read_list(write("list.parquet", _parquet(table)))
    assert hash_list.group("pdq").ids_of(0) == ["fffe"]


def test_a_parquet_file_that_decodes_past_the_limit_is_refused(write, pdq_hashes):
    # One value repeated 200k times: a few KB stored, about 14 MB decoded.
    table = pa.table({"hash": [pdq_hashes[0]] * 200_000})
    stored = _parquet(table)
    assert len(stored) < 100_000
    path = write("list.parquet", stored)
    with pytest.raises(ListFormatError) as error:
        read_list(path, max_bytes=1 << 20)
    (problem,) = error.value.problems
    assert problem.kind is ProblemKind.TOO_LARGE
    assert problem.reason.startswith("decodes to more than 1048576 bytes")
    assert read_list(path).entries == 200_000


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_parquet_file_is_a_problem_of_the_file(write, pdq_hashes, keep):
    ids = [str(i) for i in range(len(pdq_hashes))]
    stored = _parquet(pa.table({"hash": pdq_hashes, "id": ids}))
    path = write("list.parquet", stored[: int(len(stored) * keep)])
    with pytest.raises(ListFormatError) as error:
        read_list(path, strict=False)
    assert error.value.path == path and "not a readable Parquet file" in error.value.reason


@pytest.mark.parametrize(
    "value,reason",
    [
        ("[" * 30_000 + "]" * 30_000, "maximum recursion depth exceeded"),
        ("1" * 5000, "Exceeds the limit (4300 digits)"),
    ],
    ids=["deep", "long-integer"],
)
def test_json_values_python_cannot_parse_are_problems_at_their_line(
    write, pdq_hashes, value, reason
):
    path = write(
        "list.jsonl",
        f'{{"hash": "{pdq_hashes[0]}"}}\n{{"hash": "{pdq_hashes[1]}", "x": {value}}}\n',
    )
    lenient = read_list(path, strict=False)
    (problem,) = lenient.problems
    assert problem.line == 2 and problem.kind is ProblemKind.BAD_JSON and reason in problem.reason
    assert lenient.distinct == 1 and lenient.rows == 2


def _unchecked_strings(values: list[bytes]) -> pa.Array:
    """A string array built from raw bytes without Arrow's UTF-8 check (as a foreign writer may)."""
    offsets = np.cumsum([0] + [len(value) for value in values]).astype(np.int32)
    return pa.Array.from_buffers(
        pa.string(),
        len(values),
        [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(values))],
    )


def test_parquet_strings_that_are_not_utf8_are_problems_at_their_row(write, pdq_hashes):
    table = pa.table(
        {
            "hash": _unchecked_strings(
                [
                    pdq_hashes[0].encode(),
                    b"\xff" + pdq_hashes[1].encode()[1:],
                    pdq_hashes[2].encode(),
                ]
            ),
            "id": _unchecked_strings([b"a", b"b", b"c\xc3"]),
        }
    )
    path = write("list.parquet", _parquet(table))
    with pytest.raises(ListFormatError) as error:
        read_list(path)
    assert [(p.line, p.kind) for p in error.value.problems] == [
        (2, ProblemKind.BAD_ENCODING),
        (3, ProblemKind.BAD_ENCODING),
    ]
    assert error.value.problems[0].reason == "column 'hash' is not UTF-8 (byte 1)"
    assert error.value.problems[1].reason == "column 'id' is not UTF-8 (byte 2)"
    lenient = read_list(path, strict=False)
    assert lenient.rows == 3 and lenient.distinct == 1 and lenient.group("pdq").ids_of(0) == ["a"]
