"""local_files: what ``hash`` and ``match-files`` read: files, folders, skipped entries and ``-``."""

from __future__ import annotations

import io
import os

import pytest

from photosieve.errors import HashFailure
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.pipelines import local_files
from photosieve.reading import ReadError


def test_standard_input_is_one_object_named_stdin_and_may_be_given_once():
    assert local_files.check_paths(["a.jpg", "-"]) is None
    assert "once" in local_files.check_paths(["-", "x", "-"])
    hasher = ImageHasher(HashPlan.parse("md5"))
    got = list(local_files.objects(["-"], hasher, max_bytes=10, command="t", stdin=io.BytesIO(b"abc")))
    assert got == [("<stdin>", b"abc")]


def test_standard_input_past_the_limit_is_a_read_failure_not_a_crash():
    with pytest.raises(ReadError) as info:
        local_files.read_stdin(io.BytesIO(b"x" * 11), 10)
    assert info.value.reason.value == "too_large"
    hasher = ImageHasher(HashPlan.parse("md5"))
    ((uri, failure),) = local_files.objects(["-"], hasher, max_bytes=10, command="t", stdin=io.BytesIO(b"x" * 11))
    assert uri == "<stdin>" and isinstance(failure, HashFailure) and failure.algorithms == ("md5",)


def test_folders_are_walked_missing_files_fail_and_fifos_are_skipped_with_a_note(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.bin").write_bytes(b"a")
    os.mkfifo(tmp_path / "d" / "pipe")
    hasher = ImageHasher(HashPlan.parse("md5"))
    paths = [str(tmp_path / "d"), str(tmp_path / "gone.jpg")]
    got = dict(local_files.objects(paths, hasher, max_bytes=10, command="match-files"))
    assert got[str(tmp_path / "d" / "a.bin")] == b"a"
    assert got[str(tmp_path / "gone.jpg")].reason.value == "not_found"
    assert len(got) == 2
    assert "photosieve match-files: skipped" in capsys.readouterr().err
