"""``photosieve hash``'s own output read back as a list: ids from ``path``, error rows skipped.

The CSV and JSON Lines here are what ``photosieve hash`` writes (made by its
``main`` on generated images), so a change of its columns shows up here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photosieve.lists import read_list
from photosieve.lists.hash_list import IDS
from photosieve.pipelines import hash_cli


@pytest.fixture
def hashed(tmp_path, monkeypatch):
    """(CSV path, JSON Lines path) of ``photosieve hash`` over two images and one broken file."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(name)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    files = ["a.png", "b.png", "broken.jpg"]
    assert hash_cli.main([*files, "-a", "pdq,md5", "-o", "hashes.csv"]) == 0
    assert hash_cli.main([*files, "-a", "pdq,md5", "-f", "jsonl", "-o", "hashes.jsonl"]) == 0
    return tmp_path / "hashes.csv", tmp_path / "hashes.jsonl"


@pytest.mark.parametrize("which", [0, 1], ids=["csv", "jsonl"])
def test_hash_output_is_a_list_whose_ids_are_the_paths(hashed, which):
    path = hashed[which]
    assert "broken.jpg" in path.read_text() and "truncated" in path.read_text()  # its error row
    hash_list = read_list(str(path))  # strict: any bad line would raise
    assert hash_list.problems == ()
    assert hash_list.rows == 5  # 2 x (pdq, md5) + broken.jpg's md5; its pdq error row is no line
    ids = {a: sorted(i for ids in g.metadata.column(IDS).to_pylist() for i in ids)
           for a, g in hash_list.groups.items()}
    assert ids == {"pdq": ["a.png", "b.png"], "md5": ["a.png", "b.png", "broken.jpg"]}


def test_a_row_with_neither_hash_nor_error_is_still_a_bad_line(write):
    path = write("l.csv", "path,hash,error\na.png,,\nb.png,,corrupt\nc.png," + "0f" * 32 + ",\n")
    hash_list = read_list(path, strict=False)
    assert [(p.line, p.kind.value) for p in hash_list.problems] == [(2, "missing_field")]
    assert hash_list.rows == 2


def test_formula_like_paths_come_back_as_named_without_the_spreadsheet_guard(tmp_path, monkeypatch, write):
    monkeypatch.chdir(tmp_path)
    names = ["=1+2.png", "-x.png", "'q.png", "@a.png"]
    rng = np.random.default_rng(4)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(name, format="PNG")
    assert hash_cli.main(["-a", "md5", "-o", "hashes.csv", "--", *names]) == 0
    assert "'=1+2.png" in (tmp_path / "hashes.csv").read_text()  # guarded as written
    ids = read_list("hashes.csv").groups["md5"].metadata.column(IDS).to_pylist()
    assert sorted(i for entry in ids for i in entry) == sorted(names)
    # Another tool's CSV keeps its cells as they are.
    other = write("other.csv", "path,md5\n'=kept.png," + "ab" * 16 + "\n")
    assert read_list(other).groups["md5"].metadata.column(IDS).to_pylist() == [["'=kept.png"]]
