"""``photosieve lists build``: files, folders and globs in, a list out, every file accounted for."""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import pytest
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
    assert "1 images listed" in capsys.readouterr().out
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
    assert "matches no files" in capsys.readouterr().err
    assert lists_cli.main(["build", "-o", str(tmp_path / "x.csv")]) == 2
    assert "at least one INPUT" in capsys.readouterr().err
    (tmp_path / "a.png").write_bytes(b"not a png")
    assert (
        lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(tmp_path / "x.csv")])
        == 1
    )
    assert "not written: no image listed" in capsys.readouterr().out
    assert not (tmp_path / "x.csv").exists()
    Image.new("RGB", (64, 64)).save(tmp_path / "b.png")
    # a.png is named like an image and is none: a failure (exit 1), named
    assert (
        lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(tmp_path / "x.csv")])
        == 1
    )
    out = capsys.readouterr().out
    assert "1 images listed" in out and re.search(r"a\.png: not_an_image", out)
    assert lists_cli.main(["build", str(tmp_path), "--label", "a b", "-o", str(tmp_path / "y.csv")]) == 2
    assert "label 'a b'" in capsys.readouterr().err


def _photo(seed: int, size=(160, 120)) -> Image.Image:
    """A smooth random picture (noise PDQ-hashes at quality below 50, never matched)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


@pytest.fixture()
def mixed(tmp_path):
    """Nested folders with an image named .bin, a text file, a FIFO and a broken link."""
    root = tmp_path / "known"
    (root / "x" / "y").mkdir(parents=True)
    _photo(1).save(root / "top.jpg", quality=95)
    _photo(2).save(root / "x" / "y" / "deep.bin", "PNG")
    (root / "x" / "notes.txt").write_text("a text file")
    os.mkfifo(root / "x" / "pipe.png")
    os.symlink(root / "nowhere.png", root / "broken-link.png")
    return root


def _section(out: str, heading: str) -> str:
    """The line of ``out`` that starts (after indentation) with a count and ``heading``."""
    return next(line for line in out.splitlines() if re.match(rf"\s+\d+ {heading}", line))


def test_build_reads_every_file_of_nested_folders_and_says_what_it_left(mixed, tmp_path, capsys):
    """The .bin image is listed (it used to be skipped without a word); the rest is named."""
    output = tmp_path / "known.csv"
    assert lists_cli.main(["build", str(mixed), "-o", str(output), "-w", "none"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"known\.csv: 2 images listed, \d+ hashes \(3 files read", out)
    assert _section(out, "not images").strip().endswith("x/notes.txt")
    skipped = _section(out, "skipped")
    assert "1 dangling_link" in skipped and "1 fifo" in skipped
    group = read_list(str(output)).group("pdq")
    ids = {i for values in group.metadata.column("ids").to_pylist() for i in values}
    assert ids == {"top.jpg", "x/y/deep.bin"}


def test_build_takes_files_and_globs(mixed, tmp_path, capsys):
    output = tmp_path / "known.jsonl"
    argv = ["build", str(mixed / "top.jpg"), str(mixed / "**.bin"), "-o", str(output), "-w", "none"]
    assert lists_cli.main(argv) == 0
    assert "2 images listed" in capsys.readouterr().out
    group = read_list(str(output)).group("pdq")
    ids = {i for values in group.metadata.column("ids").to_pylist() for i in values}
    assert ids == {"top.jpg", "x/y/deep.bin"}


@pytest.mark.parametrize("id_from", ["path", "name", "digest"])
def test_build_ids_from(mixed, tmp_path, capsys, id_from):
    output = tmp_path / "known.csv"
    argv = ["build", str(mixed), "-o", str(output), "-w", "none", "--id-from", id_from]
    assert lists_cli.main(argv) == 0
    assert f"ids from {id_from}" in capsys.readouterr().out
    expected = {
        "path": {"top.jpg", "x/y/deep.bin"},
        "name": {"top.jpg", "deep.bin"},
        "digest": {
            hashlib.sha256((mixed / p).read_bytes()).hexdigest() for p in ("top.jpg", "x/y/deep.bin")
        },
    }[id_from]
    group = read_list(str(output)).group("pdq")
    assert {i for values in group.metadata.column("ids").to_pylist() for i in values} == expected


def test_build_labels_every_entry(mixed, tmp_path, capsys):
    output = tmp_path / "known.parquet"
    argv = ["build", str(mixed), "-o", str(output), "--label", "csam", "--label", "case-17"]
    assert lists_cli.main(argv) == 0
    group = read_list(str(output)).group("pdq")
    assert len(group) > 2  # windows too
    assert all(group.labels_of(i) == ["csam", "case-17"] for i in range(len(group)))


def test_build_decode_fast_and_exact(tmp_path, capsys):
    """Exact (the default) is the PDQ of full-resolution pixels; fast is a few bits from it."""
    from photosieve.hashes import pdq

    folder = tmp_path / "big"
    folder.mkdir()
    picture = _photo(3, (2400, 1800))
    picture.save(folder / "big.jpg", quality=92)
    hashes = {}
    for decode in ("exact", "fast"):
        output = tmp_path / f"{decode}.csv"
        argv = ["build", str(folder), "-o", str(output), "-w", "none", "--no-borders"]
        assert lists_cli.main(argv + ([] if decode == "exact" else ["--decode", "fast"])) == 0
        assert f"decode {decode}" in capsys.readouterr().out
        group = read_list(str(output)).group("pdq")
        assert len(group) == 1
        hashes[decode] = group.hex_of(0)
    with Image.open(folder / "big.jpg") as image:
        assert hashes["exact"] == pdq.compute(np.asarray(image.convert("RGB"))).hash.to_hex()
    assert bin(int(hashes["exact"], 16) ^ int(hashes["fast"], 16)).count("1") <= 8


def test_build_prints_no_control_characters_from_file_names(tmp_path, capsys, caplog):
    Image.new("RGB", (64, 64)).save(tmp_path / "ok.png")
    (tmp_path / "\x1b[2J\x1b]0;t\x07\u202egnp.png").write_bytes(b"not a png")
    output = tmp_path / "x.csv"
    assert lists_cli.main(["build", "--from-images", str(tmp_path), "-o", str(output)]) == 1
    out, err = capsys.readouterr()
    control = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    assert "%1B[2J" in out and not control.search(out + err + caplog.text)
