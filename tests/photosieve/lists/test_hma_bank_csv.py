"""hma_bank_csv: HMA's headerless ``hash,id,timestamp,tags`` bank files."""

from __future__ import annotations

from photosieve.lists import ProblemKind, read_list


def test_hma_bank_csv_without_header(write, pdq_hashes):
    path = write(
        "bank.csv",
        f'{pdq_hashes[0]},1001,2021-03-01T00:00:00,"bridge,sample"\n'
        f"{pdq_hashes[1]},1002,2021-03-02T00:00:00\n"
        f"{pdq_hashes[2]},1003,2021-03-03T00:00:00,other\n",
    )
    hash_list = read_list(path, strict=False)
    assert hash_list.format == "hma"
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.MISSING_FIELD)]
    rows = hash_list.group("pdq").metadata.to_pylist()
    assert rows[0]["ids"] == ["1001"] and rows[0]["labels"] == ["bridge", "sample"]
    assert rows[0]["timestamp"] == ["2021-03-01T00:00:00"]
    assert [r["lines"] for r in rows] == [[1], [3]]


def test_a_line_with_a_fifth_field_is_a_problem_and_the_rest_are_read(write, pdq_hashes):
    path = write(
        "bank.csv",
        f"{pdq_hashes[0]},1,2021,a\n{pdq_hashes[1]},2,2021,b,surplus\n{pdq_hashes[2]},3,2021,c\n",
    )
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.EXTRA_FIELDS)]
    assert [row["ids"] for row in hash_list.group("pdq").metadata.to_pylist()] == [["1"], ["3"]]


def test_the_algorithm_comes_from_the_length_or_the_option(write, pdq_hashes):
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    path = write("bank.csv", f"{pdq_hashes[0]},1,2021,a\n{md5},2,2021,b\n")
    assert read_list(path).algorithms == ["md5", "pdq"]
    only_md5 = read_list(path, algorithm="md5", strict=False)
    assert only_md5.algorithms == ["md5"] and [p.line for p in only_md5.problems] == [1]
