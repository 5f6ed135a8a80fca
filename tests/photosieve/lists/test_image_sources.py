"""Tests for photosieve.lists.image_sources: what ``lists build`` reads, found as an audit finds it."""

from __future__ import annotations

import os

import pytest

from photosieve.errors import ConfigError
from photosieve.lists.image_sources import discover


@pytest.fixture()
def tree(tmp_path, monkeypatch):
    """known/{a.jpg, b.bin, sub/c.png, sub/deeper/d, pipe, loop, dirlink -> sub}; cwd = tmp_path."""
    root = tmp_path / "known"
    (root / "sub" / "deeper").mkdir(parents=True)
    for name in ("a.jpg", "b.bin", "sub/c.png", "sub/deeper/d"):
        (root / name).write_bytes(b"x" * 3)
    os.mkfifo(root / "pipe")
    os.symlink(root / "loop", root / "loop")
    os.symlink(root / "sub", root / "dirlink")
    monkeypatch.chdir(tmp_path)
    return root


def _relative(found):
    return [f.relative for f in found.files]


def test_a_folder_is_walked_recursively_every_extension_and_skips_counted(tree):
    found = discover(["known"])
    assert _relative(found) == ["a.jpg", "b.bin", "sub/c.png", "sub/deeper/d"]
    assert [f.size for f in found.files] == [3, 3, 3, 3]
    assert sorted((os.path.basename(s.uri), s.kind) for s in found.skipped) == [
        ("dirlink", "symlink"),
        ("loop", "link_loop"),
        ("pipe", "fifo"),
    ]


def test_files_and_globs_are_relative_to_their_fixed_directories(tree):
    found = discover(["known/sub/c.png", "known/**.png", "known/*.jpg"])
    # c.png is found by the file and again by the glob: listed once, as the file found it.
    assert _relative(found) == ["c.png", "a.jpg"]
    assert [f.name for f in discover(["known/sub/*/*"]).files] == ["d"]
    assert _relative(discover(["known/sub/*/*"])) == ["deeper/d"]


def test_a_folder_named_with_glob_characters_is_a_folder(tmp_path, monkeypatch):
    odd = tmp_path / "case[1]"
    odd.mkdir()
    (odd / "x.png").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert _relative(discover(["case[1]"])) == ["x.png"]


def test_inputs_that_match_nothing_or_are_remote_are_errors(tree):
    with pytest.raises(ConfigError, match=r"missing known/\*\.gif: matches no files"):
        discover(["known", "missing", "known/*.gif"])
    with pytest.raises(ConfigError, match="local files only"):
        discover(["gs://bucket/known"])


def test_names_are_escaped(tmp_path):
    (tmp_path / "bad\x1bname\udcff.png").write_bytes(b"x")
    [found] = discover([str(tmp_path)]).files
    assert found.relative == "bad%1Bname%FF.png"
