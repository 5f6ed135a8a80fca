"""hash_list: problems quoted and cut, merged entries counted, a missing algorithm named."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pyarrow as pa
import pytest

from photosieve.errors import ConfigError
from photosieve.lists.hash_list import (
    MAX_PROBLEM_TEXT,
    AlgorithmHashes,
    HashList,
    ListProblem,
    ProblemKind,
)


def _group(algorithm: str, hexes: list[str], entries: int) -> AlgorithmHashes:
    hashes = np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in hexes])
    metadata = pa.table(
        {
            "ids": [[f"id{i}"] for i in range(len(hexes))],
            "labels": [["a", "b"]] + [[]] * (len(hexes) - 1),
            "banks": [[]] * len(hexes),
            "lines": [[i + 1] for i in range(len(hexes))],
            "quality": pa.array([90] + [None] * (len(hexes) - 1), pa.int32()),
        }
    )
    return AlgorithmHashes(algorithm, hashes, metadata, entries)


def _problem(line, kind, text="x"):
    return ListProblem.make("l.txt", line, kind, "bad", text)


def test_problem_text_is_cut_to_its_limit_with_a_mark():
    problem = _problem(3, ProblemKind.NOT_HEX, "z" * 500)
    assert len(problem.text) == MAX_PROBLEM_TEXT and problem.text.endswith("zz...")
    assert _problem(3, ProblemKind.NOT_HEX, "z" * MAX_PROBLEM_TEXT).text == "z" * MAX_PROBLEM_TEXT
    assert _problem(3, ProblemKind.NOT_HEX, None).text == ""
    assert _problem(3, ProblemKind.NOT_HEX, 42).text == "42"


def test_a_problem_reads_as_where_why_and_what():
    assert str(_problem(3, ProblemKind.NOT_HEX, "zz")) == "l.txt:3: bad: 'zz'"
    assert str(_problem(None, ProblemKind.UNREADABLE, "")) == "l.txt: bad"


def test_merged_hashes_count_their_entries_and_are_read_only():
    group = _group("md5", ["00" * 16, "ff" * 16], entries=5)
    assert (len(group), group.duplicates) == (2, 3)
    assert (group.hex_of(1), group.ids_of(1)) == ("ff" * 16, ["id1"])
    assert group.labels_of(0) == ["a", "b"]
    assert (group.quality_of(0), group.quality_of(1)) == (90, None)
    with pytest.raises(ValueError, match="read-only"):
        group.hashes[0, 0] = 1


def test_a_list_without_the_algorithm_asked_for_names_what_it_has():
    hash_list = HashList("known", "k.txt", "v1", "text", {"md5": _group("md5", ["00" * 16], 1)})
    assert hash_list.group("md5").hex_of(0) == "00" * 16
    with pytest.raises(ConfigError) as error:
        hash_list.group("pdq")
    assert str(error.value) == "list 'known' has no pdq hashes (it has: md5)"
    with pytest.raises(ConfigError, match=r"\(it has: none\)"):
        HashList("empty", "e.txt", "v0", "text", {}).group("pdq")


def test_the_summary_counts_every_algorithm_and_problem_kind_and_is_json():
    groups = {
        "pdq": _group("pdq", ["11" * 32], entries=3),
        "md5": _group("md5", ["00" * 16, "ff" * 16], entries=2),
    }
    problems = [_problem(4, ProblemKind.WRONG_LENGTH), _problem(2, ProblemKind.BAD_QUOTING)]
    problems.append(_problem(9, ProblemKind.WRONG_LENGTH))
    hash_list = HashList("known", "k.csv", "v1", "csv", groups, problems, rows=8)
    assert hash_list.algorithms == ["md5", "pdq"]
    assert (hash_list.entries, hash_list.distinct, hash_list.duplicates) == (5, 3, 2)
    summary = json.loads(json.dumps(hash_list.summary()))
    assert summary == {
        "name": "known",
        "path": "k.csv",
        "format": "csv",
        "version": "v1",
        "rows": 8,
        "entries": 5,
        "distinct": 3,
        "duplicates": 2,
        "problems": 3,
        "problem_counts": {"bad_quoting": 1, "wrong_length": 2},
        "algorithms": {
            "md5": {"entries": 2, "distinct": 2, "duplicates": 0},
            "pdq": {"entries": 3, "distinct": 1, "duplicates": 2},
        },
    }


def test_a_hash_list_pickles_for_beam_workers():
    groups = {"md5": _group("md5", ["00" * 16, "ff" * 16], entries=2)}
    hash_list = HashList("known", "k.txt", "v1", "text", groups, [_problem(1, ProblemKind.NOT_HEX)])
    assert isinstance(hash_list.groups, dict) and isinstance(hash_list.problems, tuple)
    again = pickle.loads(pickle.dumps(hash_list))
    assert again.summary() == hash_list.summary()
    assert (again.group("md5").hashes == groups["md5"].hashes).all()
    assert again.group("md5").metadata.equals(groups["md5"].metadata)
