"""``photosieve hash``: rows for hashes and for failures; exit 2 only for usage errors."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from photosieve.hashes import pdq
from photosieve.pipelines import cli, hash_cli


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


# -- untrusted names: no control character on the terminal, no formula in a spreadsheet --

TERMINAL_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA_NAMES = ["=1+2.png", "+SUM(A1).png", "-2+3.png", "@cmd.png", "'quoted.png"]


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A folder of files whose names are formulas or carry terminal escape sequences; cwd is the folder."""
    rng = np.random.default_rng(1)
    png = tmp_path / "seed.png"
    Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(png)
    for name in [*FORMULA_NAMES, "\x1b[31mred\x1b]0;title\x07\u202egnp.exe.png"]:
        (tmp_path / name).write_bytes(png.read_bytes())
    (tmp_path / "=bad\x1b[2J.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    png.unlink()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_csv_neutralises_formula_cells_and_keeps_numbers(hostile, capsys):
    assert cli.main(["hash", "-a", "pdq,md5", "--", *FORMULA_NAMES, "=bad\x1b[2J.jpg"]) == 0
    rows = _csv(capsys.readouterr().out)
    paths = {r["path"] for r in rows}
    # The ESC shows as an escape (\x1b, or %1B where names are escaped as in the tables).
    bad = {p for p in paths if p.startswith("'=bad")}
    assert len(bad) == 1 and not TERMINAL_CONTROL.search(bad.pop())
    assert paths - {p for p in paths if p.startswith("'=bad")} == {"'" + name for name in FORMULA_NAMES}
    for name in FORMULA_NAMES:
        pdq_row = next(r for r in rows if r["path"] == "'" + name and r["algorithm"] == "pdq")
        # Number columns are numbers, untouched.
        assert (pdq_row["frame"], pdq_row["width"], pdq_row["height"]) == ("0", "48", "40")
        assert int(pdq_row["quality"]) >= 0 and pdq_row["format"] == "PNG"
    assert all(not r[c].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for c in r)


def test_csv_row_neutralises_text_columns_only():
    row = {"path": "=HYPERLINK(\"http://x\")", "frame": -1, "message": "-1\x1b[2J", "format": "@x",
           "scale": -0.5, "quality": "", "error": "", "orientation": None}
    assert hash_cli.csv_row(row) == {"path": "'=HYPERLINK(\"http://x\")", "frame": -1, "message": "'-1\\x1b[2J",
                                     "format": "'@x", "scale": -0.5, "quality": "", "error": "", "orientation": None}


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
def test_terminal_gets_no_control_characters(hostile, capsys, output_format):
    assert cli.main(["hash", ".", "-a", "pdq,md5", "-f", output_format]) == 0
    out, err = capsys.readouterr()
    out = out.replace("\r\n", "\n")  # CSV's own line ends (RFC 4180); a CR inside a cell would be a fault
    assert out.count("\n") == 7 * 2 + (output_format == "csv")  # 7 files, 2 algorithms, and the header
    assert not TERMINAL_CONTROL.search(out) and not TERMINAL_CONTROL.search(err)
    assert "red" in out and "gnp.exe.png" in out


# -- standard input and threatexchange's output --


class _Stdin:
    """A stand-in for sys.stdin with the binary ``buffer`` hash reads."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_dash_reads_one_object_from_standard_input(folder, capsys, monkeypatch):
    root, pixels = folder
    monkeypatch.setattr("sys.stdin", _Stdin((root / "a.png").read_bytes()))
    assert cli.main(["hash", "-", str(root / "a.png"), "-a", "pdq,md5", "-d", "exact"]) == 0
    rows = _csv(capsys.readouterr().out)
    by_path = {}
    for r in rows:
        by_path.setdefault(r["path"], {})[r["algorithm"]] = r["hash"]
    assert by_path["<stdin>"] == by_path[str(root / "a.png")]
    assert by_path["<stdin>"]["pdq"] == pdq.compute(pixels).hash.to_hex()


def test_standard_input_over_max_bytes_is_a_too_large_row(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", _Stdin(b"x" * 200))
    assert cli.main(["hash", "-", "-a", "md5", "--max-bytes", "100"]) == 0
    (row,) = _csv(capsys.readouterr().out)
    assert (row["path"], row["error"], row["hash"]) == ("<stdin>", "too_large", "")


def test_standard_input_given_twice_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        cli.main(["hash", "-", "-"])
    assert info.value.code == 2


def test_te_format_prints_algorithm_and_hash_lines_and_failures_on_stderr(folder, capsys):
    root, pixels = folder
    argv = ["hash", str(root / "a.png"), str(root / "sub" / "empty.gif"), "-a", "pdq,md5", "-d", "exact", "-f", "te"]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    lines = [line.split(" ") for line in out.splitlines()]
    assert sorted(a for a, _ in lines) == ["md5", "md5", "pdq"]  # empty.gif has an md5, no pdq
    assert ["pdq", pdq.compute(pixels).hash.to_hex()] in lines
    assert "empty.gif: pdq empty:" in err


def test_te_output_reads_back_as_a_plain_text_list(folder, capsys, tmp_path):
    from photosieve.lists import read_list

    root, _ = folder
    out = tmp_path / "te.txt"
    assert cli.main(["hash", str(root), "-a", "pdq,md5", "-f", "te", "-o", str(out)]) == 0
    hash_list = read_list(str(out))
    assert hash_list.format == "text" and sorted(hash_list.groups) == ["md5", "pdq"]


def test_video_frames_have_their_timestamp_and_images_none(folder, capsys):
    from tests.photosieve.video import videos

    root, _ = folder
    (root / "clip.mp4").write_bytes(videos.video("mp4-h264", seconds=3))
    assert cli.main(["hash", str(root / "clip.mp4"), str(root / "a.png"), "-a", "pdq"]) == 0
    rows = _csv(capsys.readouterr().out)
    stamps = [(r["path"].split("/")[-1], r["frame"], r["timestamp"]) for r in rows if r["hash"]]
    assert stamps == [("clip.mp4", "0", "0.0"), ("clip.mp4", "25", "1.0"), ("clip.mp4", "50", "2.0"),
                      ("a.png", "0", "")]


def test_video_list_format_writes_a_list_the_audit_reads(folder, capsys, tmp_path):
    from photosieve.video import vpdq
    from photosieve.video.video_list import VideoListSpec, read_video_list
    from tests.photosieve.video import videos

    root, _ = folder
    data = videos.video("mp4-h264", seconds=3)
    (root / "clip.mp4").write_bytes(data)
    out = tmp_path / "videos.jsonl"
    assert cli.main(["hash", str(root / "clip.mp4"), str(root / "a.png"), "--format", "video-list",
                     "-o", str(out)]) == 0
    assert "a.png: not a video" in capsys.readouterr().err
    listed = read_video_list(VideoListSpec(str(out)))
    assert listed.ids == (str(root / "clip.mp4"),)
    expected = vpdq.hash_video(data)
    got = listed.features[0]
    assert [(f.hex, f.quality, f.timestamp) for f in got] == [(f.hex, f.quality, f.timestamp) for f in expected]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["hash", str(root / "clip.mp4"), "-a", "md5", "--format", "video-list"])
    assert exit_.value.code == 2 and "needs pdq" in capsys.readouterr().err


def test_vpdq_format_writes_meta_s_hash_file_of_one_video(folder, capsys, tmp_path):
    from photosieve.video import vpdq
    from tests.photosieve.video import videos

    root, _ = folder
    data = videos.video("mp4-h264", seconds=3)
    (root / "clip.mp4").write_bytes(data)
    out = tmp_path / "clip.txt"
    assert cli.main(["hash", str(root / "clip.mp4"), "--format", "vpdq", "-o", str(out)]) == 0
    assert out.read_text() == vpdq.format_hash_file(vpdq.hash_video(data))
    assert out.read_text().splitlines()[1].startswith("25,")  # frame_number,quality,hash,timestamp
    assert cli.main(["hash", str(root), "--format", "vpdq", "-o", str(tmp_path / "x.txt")]) == 0  # one video
    (root / "clip2.mp4").write_bytes(data)
    assert cli.main(["hash", str(root), "--format", "vpdq", "-o", str(tmp_path / "y.txt")]) == 2
    assert "2 videos were hashed" in capsys.readouterr().err
