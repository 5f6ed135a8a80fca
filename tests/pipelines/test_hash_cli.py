"""``photosieve hash``: rows for hashes and for failures; exit 2 only for usage errors."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from photosieve.hashes import pdq
from pipelines import cli


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (tmp_path / "sub" / "empty.gif").write_bytes(b"")
    return tmp_path, pixels


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_rows_for_hashes_and_errors(folder, capsys):
    root, pixels = folder
    missing = str(root / "missing.jpg")
    assert cli.main(["hash", str(root), missing, "-a", "pdq,md5", "-d", "exact"]) == 0
    rows = _csv(capsys.readouterr().out)
    by_key = {(r["path"].split("/")[-1], r["algorithm"]): r for r in rows}
    assert by_key[("a.png", "pdq")]["hash"] == pdq.compute(pixels).hash.to_hex()
    assert by_key[("a.png", "pdq")]["quality"] == str(pdq.compute(pixels).quality)
    assert by_key[("broken.jpg", "pdq")]["error"] in {"corrupt", "truncated"}
    assert by_key[("broken.jpg", "md5")]["hash"]  # digests survive bad pixels
    assert by_key[("empty.gif", "pdq")]["error"] == "empty"
    assert by_key[("missing.jpg", "pdq")]["error"] == "not_found"
    assert by_key[("missing.jpg", "md5")]["error"] == "not_found"
    assert len(rows) == 8


def test_jsonl_output(folder, capsys):
    root, _ = folder
    assert cli.main(["hash", str(root / "a.png"), "-a", "pdq-dihedral", "-f", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["orientation"] for r in rows] == list(pdq.ORIENTATIONS)
    assert all(r["algorithm"] == "pdq" and len(r["hash"]) == 64 for r in rows)


@pytest.mark.parametrize("argv", [["hash"], ["hash", "x", "-a", "bogus"], ["hash", "x", "--decode", "slow"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2


def test_unknown_command_exits_2(capsys):
    assert cli.main(["frobnicate"]) == 2
