"""delimited: CSV/TSV with a header; roles by name, quoting, encodings and field counts."""

from __future__ import annotations

import pytest

from photosieve.errors import ListFormatError
from photosieve.lists import ProblemKind, read_list

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_csv_header_roles_labels_banks_quality_and_extra_columns(write, pdq_hashes):
    path = write(
        "cases.csv",
        "ID,Hash,Tags,List,Quality,Source\n"
        f"c1,{pdq_hashes[0]},csam  known,bank-a,90,upload\n"
        f'c2,{pdq_hashes[1]},"a,b;c|d",bank-b,,\n',
    )
    hash_list = read_list(path)
    assert hash_list.format == "csv"
    group = hash_list.group("pdq")
    rows = group.metadata.to_pylist()
    assert rows[0] == {
        "ids": ["c1"],
        "labels": ["csam", "known"],
        "banks": ["bank-a"],
        "lines": [2],
        "quality": 90,
        "Source": ["upload"],
    }
    assert rows[1]["labels"] == ["a", "b", "c", "d"] and rows[1]["quality"] is None
    assert rows[1]["Source"] == []


def test_tsv_with_algorithm_named_columns_gives_one_entry_per_hash_column(write, pdq_hashes):
    path = write(
        "multi.tsv", f"md5\tpdq\tlabel\n{MD5}\t{pdq_hashes[0]}\tone label\n\t{pdq_hashes[1]}\tx\n"
    )
    hash_list = read_list(path)
    assert hash_list.format == "tsv" and hash_list.algorithms == ["md5", "pdq"]
    assert hash_list.group("md5").metadata.column("labels").to_pylist() == [["one label"]]
    assert len(hash_list.group("pdq")) == 2


def test_rows_with_missing_or_extra_fields_are_problems_with_their_line(write, pdq_hashes):
    path = write(
        "short.csv",
        f"hash,id\n{pdq_hashes[0]},1\n\n{pdq_hashes[1]}\n"
        f"{pdq_hashes[2]},3,oops\n,5\n{pdq_hashes[3]},6\n",
    )
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [
        (4, ProblemKind.MISSING_FIELD),
        (5, ProblemKind.EXTRA_FIELDS),
        (6, ProblemKind.MISSING_FIELD),  # the hash cell is empty
    ]
    assert hash_list.group("pdq").metadata.column("lines").to_pylist() == [[2], [7]]


def test_header_without_a_hash_column_is_unreadable(write):
    path = write("nohash.csv", "name,id\nfoo,1\n")
    with pytest.raises(ListFormatError, match="neither a header naming a hash column"):
        read_list(path)
    with pytest.raises(ListFormatError, match="no hash column"):
        read_list(path, format="csv")


def test_excel_style_csv_with_bom_and_crlf(write, pdq_hashes):
    content = f"\ufeffHash,Label\r\n{pdq_hashes[0]},a\r\n{pdq_hashes[1]},b\r\n".encode()
    hash_list = read_list(write("excel.csv", content))
    assert hash_list.format == "csv"
    group = hash_list.group("pdq")
    assert group.metadata.column("labels").to_pylist() == [["a"], ["b"]]
    assert group.metadata.column("lines").to_pylist() == [[2], [3]]


def test_empty_file_is_an_empty_list(write):
    hash_list = read_list(write("empty.txt", ""))
    assert (hash_list.algorithms, hash_list.rows, hash_list.problems) == ([], 0, ())


@pytest.mark.parametrize("content", ["hash,id\n", "hash,id"])
def test_header_only_csv_is_an_empty_list(write, content):
    hash_list = read_list(write("header.csv", content))
    assert (hash_list.format, hash_list.algorithms, hash_list.rows) == ("csv", [], 0)


def test_an_unterminated_quote_costs_its_own_line_only(write, pdq_hashes):
    # pyarrow's reader lets a quoted value run to the end of the file: lines 3
    # and 4 would vanish into line 2's id, with no problem reported.
    path = write(
        "cases.csv",
        "hash,id\n"
        f'{pdq_hashes[0]},"open\n'
        f"{pdq_hashes[1]},b\n"
        f'{pdq_hashes[2]},"c, quoted"\n',
    )
    with pytest.raises(ListFormatError) as error:
        read_list(path)
    assert [(p.line, p.kind) for p in error.value.problems] == [(2, ProblemKind.BAD_QUOTING)]
    lenient = read_list(path, strict=False)
    assert lenient.rows == 3 and lenient.distinct == 2
    assert lenient.group("pdq").metadata.column("ids").to_pylist() == [["b"], ["c, quoted"]]
    assert lenient.group("pdq").metadata.column("lines").to_pylist() == [[3], [4]]


def test_a_quote_opening_a_line_does_not_swallow_the_next_ones(write, pdq_hashes):
    path = write(
        "cases.csv",
        f'hash,id\n{pdq_hashes[0]},a\n"{pdq_hashes[1]},b\n{pdq_hashes[2]},c\n{pdq_hashes[3]},d\n',
    )
    lenient = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in lenient.problems] == [(3, ProblemKind.BAD_QUOTING)]
    assert lenient.rows == 4 and lenient.distinct == 3
    assert lenient.group("pdq").metadata.column("lines").to_pylist() == [[2], [4], [5]]


def test_rows_with_wrong_field_counts_keep_their_lines_on_the_line_by_line_path(write, pdq_hashes):
    path = write(
        "cases.csv",
        f'hash,id\n{pdq_hashes[0]},"a\n{pdq_hashes[1]}\n'
        f"{pdq_hashes[2]},c,extra\n{pdq_hashes[3]},d\n",
    )
    lenient = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in lenient.problems] == [
        (2, ProblemKind.BAD_QUOTING),
        (3, ProblemKind.MISSING_FIELD),
        (4, ProblemKind.EXTRA_FIELDS),
    ]
    assert lenient.rows == 4 and lenient.distinct == 1
