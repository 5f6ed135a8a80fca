"""``photosieve lists build --from-images``."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from photosieve.lists import read_list
from photosieve.pipelines import lists_cli


def test_build_from_images_writes_a_readable_list(tmp_path, pdq_reference_dir, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    with Image.open(pdq_reference_dir / "images" / "bridge-mods" / "aaa-orig.jpg") as image:
        image.convert("RGB").resize((400, 251)).save(folder / "bridge.jpg", quality=95)
    output = tmp_path / "known.csv"
    assert lists_cli.main(["build", "--from-images", str(folder), "-o", str(output)]) == 0
    assert "1 images" in capsys.readouterr().out
    group = read_list(str(output)).group("pdq")
    variants = {v for values in group.metadata.column("variant").to_pylist() for v in values}
    assert any(v.startswith("window ") for v in variants)
    # The list is also valid for `lists check`.
    assert lists_cli.main(["check", str(output)]) == 0


def test_build_without_windows_and_with_second_opinions(tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(folder / "noise.png")
    output = tmp_path / "known.jsonl"
    argv = [
        "build",
        "--from-images",
        str(folder),
        "-o",
        str(output),
        "--windows",
        "none",
        "-s",
        "phash",
    ]
    assert lists_cli.main(argv) == 0
    hash_list = read_list(str(output))
    assert len(hash_list.group("pdq")) == 1 and len(hash_list.group("phash")) == 1


def test_build_errors(tmp_path, capsys):
    assert (
        lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(tmp_path / "x.csv")])
        == 2
    )
    assert "no image files" in capsys.readouterr().err
    (tmp_path / "a.png").write_bytes(b"not a png")
    assert (
        lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(tmp_path / "x.csv")])
        == 1
    )
    assert "0 images" in capsys.readouterr().out
    Image.new("RGB", (64, 64)).save(tmp_path / "b.png")
    assert (
        lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(tmp_path / "x.csv")])
        == 1
    )
    assert "a.png" in capsys.readouterr().out


def test_build_prints_no_control_characters_from_file_names(tmp_path, capsys, caplog):
    Image.new("RGB", (64, 64)).save(tmp_path / "ok.png")
    (tmp_path / "\x1b[2J\x1b]0;t\x07\u202egnp.png").write_bytes(b"not a png")
    output = tmp_path / "x.csv"
    assert lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(output)]) == 1
    out, err = capsys.readouterr()
    control = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    assert "\\x1b[2J" in out and not control.search(out + err + caplog.text)
