"""errors: failure reasons are stable values, and a ListFormatError message shows what is wrong."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from photosieve.errors import (
    ConfigError,
    DecodeError,
    FailureReason,
    HashFailure,
    HashFormatError,
    ListFormatError,
    PhotosieveError,
)
from photosieve.lists import ListProblem, ProblemKind


def _problem(path: str, line: int | None, text: str = "x") -> ListProblem:
    return ListProblem.make(path, line, ProblemKind.NOT_HEX, "not hex", text)


def test_failure_reasons_keep_the_values_written_to_parquet():
    # Stored in the errors table and read back by repeat audits: renaming one breaks them.
    assert [reason.value for reason in FailureReason] == [
        "empty",
        "not_an_image",
        "unsupported_format",
        "corrupt",
        "truncated",
        "decompression_bomb",
        "too_large",
        "too_small",
        "unreadable",
        "not_found",
        "hash_error",
        "over_budget",
        "frames_cut_off",
        "encrypted",
        "overlapping_entry",
        "archive_limit",
        "no_video_stream",
    ]


def test_errors_raised_on_purpose_share_one_base_and_bad_values_are_value_errors():
    for error in (ConfigError("x"), HashFormatError("x"), _list_error([_problem("a", 1)])):
        assert isinstance(error, PhotosieveError) and isinstance(error, ValueError)
    decode = DecodeError(FailureReason.TRUNCATED, "ends early")
    assert isinstance(decode, PhotosieveError) and not isinstance(decode, ValueError)
    assert (decode.reason, decode.message, str(decode)) == (
        FailureReason.TRUNCATED,
        "ends early",
        "ends early",
    )


def test_a_hash_format_error_carries_its_input():
    error = HashFormatError("bad pdq", text="zz", algorithm="pdq")
    assert (str(error), error.text, error.algorithm) == ("bad pdq", "zz", "pdq")
    assert (HashFormatError("bad").text, HashFormatError("bad").algorithm) == ("", None)


def test_a_hash_failure_is_a_frozen_value_that_pickles():
    failure = HashFailure("a.jpg", "decode", FailureReason.CORRUPT, "broken")
    assert failure.algorithms == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        failure.uri = "b.jpg"
    assert pickle.loads(pickle.dumps(failure)) == failure


def _list_error(problems, **kwargs) -> ListFormatError:
    return ListFormatError(problems, **kwargs)


def test_a_list_error_needs_a_problem():
    with pytest.raises(ValueError, match="needs at least one problem"):
        ListFormatError([])


def test_a_list_error_names_its_first_problem_and_its_file():
    error = _list_error([_problem("l.txt", 4, "zz"), _problem("l.txt", 9)])
    assert (error.path, error.line, error.reason, error.text, error.total) == (
        "l.txt",
        4,
        "not hex",
        "zz",
        2,
    )
    assert str(error) == "2 problem(s) in l.txt:\n  l.txt:4: not hex: 'zz'\n  l.txt:9: not hex: 'x'"


def test_a_long_list_error_shows_the_first_twenty_and_counts_the_rest():
    problems = [_problem("l.txt", line) for line in range(1, 31)]
    lines = str(_list_error(problems)).split("\n")
    assert lines[0] == "30 problem(s) in l.txt:" and len(lines) == 1 + 20 + 1
    assert lines[20] == "  l.txt:20: not hex: 'x'" and lines[-1] == "  ... and 10 more"
    counted = str(_list_error(problems[:3], total=50)).split("\n")
    assert counted[0] == "50 problem(s) in l.txt:" and counted[-1] == "  ... and 47 more"


def test_problems_of_several_files_say_how_many_files():
    error = _list_error([_problem("b.txt", 1), _problem("a.txt", 2), _problem("b.txt", 3)])
    assert str(error).startswith("3 problem(s) in 2 list files:\n")
    assert error.path == "b.txt"  # the first problem's, not the first in name order


def test_only_a_single_problem_of_the_whole_file_is_shown_as_one_line():
    assert _list_error([_problem("l.txt", None)]).whole_file
    assert not _list_error([_problem("l.txt", 3)]).whole_file
    assert not _list_error([_problem("l.txt", None), _problem("l.txt", None)]).whole_file
    assert not _list_error([_problem("l.txt", None)], total=2).whole_file
