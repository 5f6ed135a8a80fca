"""json_lines: one object a line, list values item by item, bad lines as problems at their line."""

from __future__ import annotations

import pytest

from photosieve.errors import ListFormatError
from photosieve.lists import ProblemKind, read_list


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


def test_objects_without_a_hash_key_name_the_keys_they_have(write):
    path = write("list.jsonl", '{"name": "a", "id": 1}\n{"id": 2, "note": "x"}\n')
    with pytest.raises(ListFormatError) as error:
        read_list(path, strict=False)
    assert error.value.reason == "no hash key in the objects (keys: name, id, note)"
    assert error.value.whole_file


def test_scalars_are_written_as_json_and_mixed_with_lists_become_one_item_lists(write, pdq_hashes):
    path = write(
        "list.jsonl",
        f'{{"hash": "{pdq_hashes[0]}", "id": true, "tags": "solo", "n": 1.5, "x": null}}\n'
        f'{{"hash": "{pdq_hashes[1]}", "id": 7, "tags": ["a", 2], "n": false}}\n',
    )
    rows = read_list(path).group("pdq").metadata.to_pylist()
    assert [row["ids"] for row in rows] == [["true"], ["7"]]
    assert [row["labels"] for row in rows] == [["solo"], ["a", "2"]]
    assert [row["n"] for row in rows] == [["1.5"], ["false"]]
    assert [row["x"] for row in rows] == [[], []]  # null is no value


def test_a_file_of_blank_lines_is_an_empty_list(write):
    hash_list = read_list(write("empty.jsonl", "\n  \n\n"))
    assert (hash_list.format, hash_list.rows, hash_list.entries) == ("jsonl", 0, 0)
