"""photosieve.listing: regular files are entries, the rest named skips; Beam's glob syntax."""

from __future__ import annotations

import os
import socket

import pytest

from photosieve import listing
from photosieve.listing import Entry, Skip, list_paths, list_pattern, normalise
from photosieve.names import to_bytes


@pytest.fixture()
def tree(tmp_path):
    """A folder with one of each kind of entry the lister tells apart."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.jpg").write_bytes(b"a")
    (tmp_path / "sub" / "b.jpg").write_bytes(b"bb")
    os.mkfifo(tmp_path / "pipe.jpg")
    os.symlink("a.jpg", tmp_path / "link.jpg")  # followed: a regular file
    os.symlink("missing.jpg", tmp_path / "dangling.jpg")
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    os.symlink("sub", tmp_path / "dirlink")  # not walked
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
    return tmp_path


def _found(items, root):
    return sorted(
        (os.path.relpath(f.uri, root), f.kind if isinstance(f, Skip) else f.size) for f in items
    )


def test_every_entry_is_a_file_or_a_named_skip(tree):
    found = _found(list_pattern(str(tree / "**")), tree)
    assert found == [
        ("a.jpg", 1),
        ("dangling.jpg", "dangling_link"),
        ("dirlink", "symlink"),
        ("link.jpg", 1),
        ("loop.jpg", "link_loop"),
        ("pipe.jpg", "fifo"),
        ("sock", "socket"),
        ("sub/b.jpg", 2),
    ]


def test_a_path_given_is_followed_and_classified(tree):
    assert list(list_pattern(str(tree / "pipe.jpg"))) == [Skip(str(tree / "pipe.jpg"), "fifo")]
    assert _found(list_pattern(str(tree / "dirlink" / "*")), tree) == [("dirlink/b.jpg", 2)]
    assert list(list_pattern(str(tree / "nothing.jpg"))) == []


def test_a_device_is_a_skip():
    assert list(list_pattern("/dev/null")) == [Skip("/dev/null", "device")]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("*.jpg", ["a.jpg", "dangling.jpg", "link.jpg", "loop.jpg", "pipe.jpg"]),
        ("*/*.jpg", ["sub/b.jpg"]),
        ("[al]*", ["a.jpg", "link.jpg", "loop.jpg"]),
        ("?.jpg", ["a.jpg"]),
        ("**b.jpg", ["sub/b.jpg"]),
    ],
)
def test_beam_glob_syntax(tree, pattern, expected):
    # '*' stays within a directory, '**' crosses them, as Beam's FileSystems.match.
    found = list_pattern(str(tree / pattern))
    assert sorted(os.path.relpath(f.uri, tree) for f in found) == expected


def test_undecodable_names_are_escaped_and_round_trip(tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9 100%.jpg"
    with open(raw, "wb") as out:
        out.write(b"x")
    (entry,) = list_pattern(str(tmp_path / "*"))
    assert entry.uri.endswith("/caf%E9 100%25.jpg")
    assert to_bytes(entry.uri) == raw
    entry.uri.encode("utf-8")  # what Beam's str coder does: no surrogates left


def test_a_folder_named_like_an_archive_member_is_escaped(tmp_path):
    (tmp_path / "a.zip!").mkdir()
    (tmp_path / "a.zip!" / "m.jpg").write_bytes(b"x")
    (entry,) = list_pattern(str(tmp_path / "**"))
    assert entry.uri == str(tmp_path / "a.zip%21" / "m.jpg")


def test_list_paths_sorts_walks_and_keeps_missing(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.jpg", "b/1.jpg", "a.jpg"):
        (tmp_path / name).write_bytes(b"")
    os.mkfifo(tmp_path / "b" / "p")
    missing = str(tmp_path / "nope.jpg")
    assert list(list_paths([str(tmp_path), missing])) == [
        Entry(str(tmp_path / "a.jpg"), 0, os.stat(tmp_path / "a.jpg").st_mtime),
        Entry(str(tmp_path / "b" / "1.jpg"), 0, os.stat(tmp_path / "b" / "1.jpg").st_mtime),
        Entry(str(tmp_path / "b" / "2.jpg"), 0, os.stat(tmp_path / "b" / "2.jpg").st_mtime),
        Skip(str(tmp_path / "b" / "p"), "fifo"),
        Entry(missing, None, None),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any directory")
def test_an_unlistable_directory_is_an_entry_not_a_gap(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.jpg").write_bytes(b"x")
    locked.chmod(0)
    try:
        assert list(list_pattern(str(tmp_path / "**"))) == [Entry(str(locked), None, None)]
    finally:
        locked.chmod(0o700)


def test_normalise_gives_one_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert normalise("ph") == normalise("./ph/") == normalise(str(tmp_path / "ph")) == str(
        tmp_path / "ph"
    )
    assert normalise("gs://b/ph/") == "gs://b/ph"


def test_skip_examples_leave_the_ledger():
    ledger = {"skip_examples": {"listing": {"fifo": {"/b": 1, "/a": 1}}}, "skipped": {}}
    assert listing.pop_skip_examples(ledger, limit=1) == {"listing": {"fifo": ["/a"]}}
    assert "skip_examples" not in ledger
