"""Which algorithm a line is, what counts as a problem, how duplicates merge."""

from __future__ import annotations

import numpy as np
import pytest

from photosieve import algorithms
from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import ProblemKind, read_list

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_unnamed_64_hex_is_pdq_and_sha256_must_be_named(write):
    assert read_list(write("a.txt", SHA256)).algorithms == ["pdq"]
    assert read_list(write("b.txt", f"sha256 {SHA256}")).algorithms == ["sha256"]
    assert read_list(write("c.txt", SHA256), algorithm="sha256").algorithms == ["sha256"]


def test_length_decides_when_unambiguous_and_16_hex_must_be_named(write):
    assert read_list(write("a.txt", MD5)).algorithms == ["md5"]
    hash_list = read_list(write("b.txt", "0123456789abcdef\n" + "ab" * 10), strict=False)
    assert [p.kind for p in hash_list.problems] == [
        ProblemKind.AMBIGUOUS_ALGORITHM,
        ProblemKind.WRONG_LENGTH,
    ]
    assert "name the algorithm" in hash_list.problems[0].reason
    assert "no algorithm has hashes of 20 characters" in hash_list.problems[1].reason


def test_explicit_algorithm_conflicting_with_a_line_is_a_problem(write, pdq_hashes):
    path = write("a.txt", f"pdq {pdq_hashes[0]}\nmd5 {MD5}\n{pdq_hashes[1]}\n")
    hash_list = read_list(path, algorithm="pdq", strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [(2, ProblemKind.ALGORITHM_CONFLICT)]
    assert len(hash_list.group("pdq")) == 2
    with pytest.raises(ConfigError, match="unknown hash algorithm"):
        read_list(path, algorithm="nope")


def test_duplicates_merge_keeping_every_id_label_and_line_in_order(write, pdq_hashes):
    upper = pdq_hashes[0].upper()  # same hash, other spelling
    path = write(
        "dups.csv",
        "hash,id,label\n"
        f"{pdq_hashes[0]},a,x\n"
        f"{pdq_hashes[1]},b,y\n"
        f"{upper},c,x\n"
        f"{pdq_hashes[0]},a,z\n",
    )
    group = read_list(path).group("pdq")
    assert (len(group), group.entries, group.duplicates) == (2, 4, 2)
    assert group.metadata.to_pylist()[0] == {
        "ids": ["a", "c"],
        "labels": ["x", "z"],
        "banks": [],
        "lines": [2, 4, 5],
        "quality": None,
    }
    assert group.hex_of(1) == pdq_hashes[1]


def test_many_identical_degenerate_hashes_merge(write):
    # Flat images give near-zero PDQ hashes: ties on the first word must still sort right.
    zero, one = "0" * 64, "0" * 63 + "1"
    lines = [zero, one] * 500 + ["f" + "0" * 63]
    group = read_list(write("flat.txt", "\n".join(lines))).group("pdq")
    assert [group.hex_of(i) for i in range(len(group))] == [zero, one, "f" + "0" * 63]
    assert [len(x) for x in group.metadata.column("lines").to_pylist()] == [500, 500, 1]


def test_bad_quality_is_a_problem(write, pdq_hashes):
    path = write(
        "q.csv", f"hash,quality\n{pdq_hashes[0]},101\n{pdq_hashes[1]},high\n{pdq_hashes[2]},0\n"
    )
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind) for p in hash_list.problems] == [
        (2, ProblemKind.BAD_QUALITY),
        (3, ProblemKind.BAD_QUALITY),
    ]
    assert hash_list.group("pdq").quality_of(0) == 0


def test_strict_error_lists_the_first_20_problems_and_the_total(write):
    path = write("bad.txt", "\n".join(["zz" * 32] * 25))
    with pytest.raises(ListFormatError) as caught:
        read_list(path)
    error = caught.value
    assert error.total == 25 and len(error.problems) == 25
    assert (error.line, error.text) == (1, "zz" * 32) and error.path == path
    message = str(error)
    assert "25 problem(s)" in message and f"{path}:20:" in message
    assert f"{path}:21:" not in message and "and 5 more" in message


def test_gradient_hex_and_base64(write):
    if "gradient" not in algorithms.names():
        pytest.skip("the gradient hash module is not registered yet")
    import base64

    nbytes = algorithms.get("gradient").nbytes
    raw = np.arange(nbytes, dtype=np.uint8).tobytes()
    encoded = base64.b64encode(raw).decode()
    path = write("g.txt", f"{raw.hex()}\ngradient {encoded}\ngradient {encoded[:-4]}!!!!\n")
    hash_list = read_list(path, strict=False)
    group = hash_list.group("gradient")
    assert (len(group), group.entries) == (1, 2)
    assert group.hashes[0].tobytes() == raw
    assert [(p.line, p.kind) for p in hash_list.problems] == [(3, ProblemKind.NOT_HEX)]
