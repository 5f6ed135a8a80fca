"""read: the format is sniffed from content, names default to the stem, errors say what to do."""

from __future__ import annotations

import gzip
import io

import pytest

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import FORMATS, ProblemKind, read_list
from photosieve.lists.read import default_name

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{hash}\n", "text"),
        ("pdq {hash}\n", "text"),
        ("pdq\t{hash}\n", "text"),
        ("# comment\n{hash}\n", "text"),
        ("hash,id\n{hash},1\n", "csv"),
        ("pdq\n{hash}\n", "csv"),  # a one-column CSV: its header is a hash column's name
        ("id\tsignal\n1\t{hash}\n", "tsv"),
        ("signal_type,signal_str,collab,category,tags\npdq,{hash},c,k,\n", "threatexchange"),
        ("{hash},1,2021,tag\n", "hma"),
        ('{{"hash": "{hash}"}}\n', "jsonl"),
    ],
)
def test_format_is_sniffed_from_content(write, pdq_hashes, content, expected):
    hash_list = read_list(write("list.dat", content.format(hash=pdq_hashes[0])))
    assert hash_list.format == expected
    assert hash_list.group("pdq").hex_of(0) == pdq_hashes[0]


def test_a_one_column_csv_reads_strictly(write):
    """Before: sniffed as plain text, its header was a bad hash on line 1."""
    hash_list = read_list(write("one.csv", f"hash\n{MD5}\n"))
    assert (hash_list.format, hash_list.algorithms, hash_list.problems) == ("csv", ["md5"], ())


def test_remote_paths_go_through_open_fn(pdq_hashes):
    stored = gzip.compress("\n".join(pdq_hashes[:3]).encode())
    opened = []

    def open_fn(path: str, mode: str):
        opened.append((path, mode))
        return io.BytesIO(stored)

    hash_list = read_list("gs://bucket/lists/ncmec.txt.gz", open_fn=open_fn)
    assert opened == [("gs://bucket/lists/ncmec.txt.gz", "rb")]
    assert (hash_list.name, len(hash_list.group("pdq"))) == ("ncmec", 3)
    with pytest.raises(ConfigError, match="pass open_fn"):
        read_list("gs://bucket/lists/ncmec.txt.gz")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read list file"):
        read_list(str(tmp_path / "nope.txt"))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a/b/ncmec-2024.csv.gz", "ncmec-2024"),
        ("gs://x/y/list.txt", "list"),
        ("plain", "plain"),
        (".hidden", ".hidden"),
    ],
)
def test_default_name(path, name):
    assert default_name(path) == name


def test_an_unknown_format_is_refused_before_the_file_is_opened(tmp_path):
    with pytest.raises(ConfigError) as error:
        read_list(str(tmp_path / "never-opened.txt"), format="xml")
    assert str(error.value) == f"unknown list format 'xml'; known: {', '.join(FORMATS)}"


def test_a_first_line_that_is_no_header_and_no_hash_is_one_problem_of_line_1(write):
    path = write("list.csv", "\n\nname,colour\nfoo,red\n")
    with pytest.raises(ListFormatError) as error:
        read_list(path, strict=False)
    (problem,) = error.value.problems
    assert (problem.line, problem.kind, problem.text) == (1, ProblemKind.UNREADABLE, "name,colour")
    assert problem.reason.startswith("cannot tell the list format")


def test_a_given_format_wins_over_sniffing_and_its_name_is_kept(write, pdq_hashes):
    path = write("list.csv", f"hash,id,time,tags\n{pdq_hashes[0]},1,2021,t\n")
    assert read_list(path).format == "csv"
    as_hma = read_list(path, format="hma", strict=False)
    assert as_hma.format == "hma" and [p.line for p in as_hma.problems] == [1]  # the header


def test_the_extension_under_gzip_names_the_format(write, pdq_hashes):
    path = write("list.jsonl.gz", f'{{"hash": "{pdq_hashes[0]}"}}\n')
    hash_list = read_list(path, name="given")
    assert (hash_list.format, hash_list.name) == ("jsonl", "given")


def test_strict_reading_raises_every_problem_lenient_reading_keeps_them(write, pdq_hashes):
    path = write("list.txt", f"{pdq_hashes[0]}\nnot-a-hash\n{pdq_hashes[1][:-1]}\n")
    with pytest.raises(ListFormatError) as error:
        read_list(path)
    assert error.value.total == 2 and [p.line for p in error.value.problems] == [2, 3]
    lenient = read_list(path, strict=False)
    assert (lenient.distinct, len(lenient.problems)) == (1, 2)
