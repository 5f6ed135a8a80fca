"""Plain-text lists: bare hashes and ``<algorithm> <hash>`` lines."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from photosieve.errors import ListFormatError
from photosieve.lists import ProblemKind, read_list

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("haystack.txt", 1350),
        ("needles.txt", 100),
        ("long256.dat", 50),
        ("short256.dat", 6),
        ("order256.dat", 2),
    ],
)
def test_reference_lists_read_as_pdq(hash_lists_dir, name, count):
    path = hash_lists_dir / name
    hash_list = read_list(str(path))
    group = hash_list.group("pdq")
    assert (len(group), group.entries, hash_list.algorithms, hash_list.format) == (
        count,
        count,
        ["pdq"],
        "text",
    )
    assert hash_list.version == hashlib.sha256(path.read_bytes()).hexdigest()
    first = path.read_text().split()[0]
    assert group.hex_of(0) == first.lower()
    assert group.hashes.dtype == np.uint8 and group.hashes.shape == (count, 32)


def test_64_bit_reference_list_needs_its_algorithm_named(hash_lists_dir):
    path = str(hash_lists_dir / "long64.dat")
    with pytest.raises(ListFormatError) as caught:
        read_list(path)
    assert caught.value.total == 667 and "name the algorithm" in caught.value.reason
    assert len(read_list(path, algorithm="dhash").group("dhash")) == 667


def test_algorithm_prefix_comments_blank_lines_and_crlf(write, pdq_hashes):
    path = write(
        "mixed.txt",
        f"# a comment\r\n\r\npdq {pdq_hashes[0]}\r\n  md5\t{MD5.upper()}  \r\n{pdq_hashes[1]}\r\n",
    )
    hash_list = read_list(path)
    assert hash_list.algorithms == ["md5", "pdq"]
    assert hash_list.group("md5").hex_of(0) == MD5
    assert hash_list.group("pdq").metadata.column("lines").to_pylist() == [[3], [5]]
    assert hash_list.rows == 3


def test_bad_lines_are_reported_with_line_numbers_and_skipped_when_lenient(write, pdq_hashes):
    path = write(
        "bad.txt",
        "\n".join(
            [
                pdq_hashes[0],
                pdq_hashes[1][:-1],  # 63 characters
                "pdq " + "g" * 64,  # not hex
                f"url {pdq_hashes[2]}",  # unknown algorithm
                f"pdq {pdq_hashes[3]} extra",  # three tokens
                "md5 " + pdq_hashes[4],  # md5 of the wrong length
                pdq_hashes[5],
            ]
        ),
    )
    with pytest.raises(ListFormatError) as caught:
        read_list(path)
    assert caught.value.total == 5 and caught.value.line == 2
    hash_list = read_list(path, strict=False)
    assert len(hash_list.group("pdq")) == 2
    found = [(p.line, p.kind) for p in hash_list.problems]
    assert found == [
        (2, ProblemKind.WRONG_LENGTH),
        (3, ProblemKind.NOT_HEX),
        (4, ProblemKind.UNKNOWN_ALGORITHM),
        (5, ProblemKind.EXTRA_FIELDS),
        (6, ProblemKind.WRONG_LENGTH),
    ]
    assert hash_list.problems[0].text == pdq_hashes[1][:-1]
    assert "63" in hash_list.problems[0].reason
    assert hash_list.rows == 7


def test_gzip_is_transparent_and_the_version_is_of_the_stored_bytes(write, pdq_hashes, tmp_path):
    path = write("list.txt.gz", "\n".join(pdq_hashes[:10]))
    hash_list = read_list(path)
    assert len(hash_list.group("pdq")) == 10 and hash_list.name == "list"
    stored = (tmp_path / "list.txt.gz").read_bytes()
    assert hash_list.version == hashlib.sha256(stored).hexdigest()


def test_invalid_utf8_line_is_a_problem_and_other_lines_keep_their_numbers(write, pdq_hashes):
    path = write(
        "latin1.txt", pdq_hashes[0].encode() + b"\ncaf\xe9\n" + pdq_hashes[1].encode() + b"\n"
    )
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.BAD_ENCODING)]
    assert hash_list.group("pdq").metadata.column("lines").to_pylist() == [[1], [3]]


def test_control_character_line_is_a_problem_and_numbering_holds(write, pdq_hashes):
    path = write("ctl.txt", f"{pdq_hashes[0]}\nab\x1fcd\n\n{pdq_hashes[1]}\n")
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.EXTRA_FIELDS)]
    assert hash_list.group("pdq").metadata.column("lines").to_pylist() == [[1], [4]]
