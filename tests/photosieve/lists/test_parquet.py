"""parquet: hex or raw-byte hashes, nested metadata as JSON text, hostile files named problems."""

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


def test_a_parquet_file_without_a_hash_column_names_its_columns(write):
    path = write("list.parquet", _parquet(pa.table({"name": ["a"], "id": [1]})))
    with pytest.raises(ListFormatError) as error:
        read_list(path, strict=False)
    (problem,) = error.value.problems
    assert problem.kind is ProblemKind.UNREADABLE and problem.line is None
    assert problem.reason == "no hash column (columns: name, id)"


def test_a_parquet_file_with_no_rows_is_an_empty_list(write):
    path = write("empty.parquet", _parquet(pa.table({"hash": pa.array([], pa.string())})))
    hash_list = read_list(path)
    assert (hash_list.format, hash_list.rows, hash_list.entries, hash_list.problems) == (
        "parquet",
        0,
        0,
        (),
    )


def test_problems_cite_the_row_across_row_groups(write, pdq_hashes):
    hashes = list(pdq_hashes[:5])
    hashes[3] = "zz" + hashes[3][2:]
    sink = io.BytesIO()
    pq.write_table(pa.table({"hash": hashes}), sink, row_group_size=2)
    hash_list = read_list(write("groups.parquet", sink.getvalue()), strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [(4, ProblemKind.NOT_HEX)]
    assert hash_list.group("pdq").metadata.column("lines").to_pylist() == [[1], [2], [3], [5]]
