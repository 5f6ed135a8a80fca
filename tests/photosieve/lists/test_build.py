"""Tests for photosieve.lists.build: files in, a list out, every file accounted for."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from photosieve.errors import ConfigError, FailureReason
from photosieve.lists import read_list
from photosieve.lists.build import NotListed, build_list, build_rows
from photosieve.lists.from_images import ListBuildOptions, ListRow, has_windows
from photosieve.robust.expansion import Window

WINDOWS = (Window(0.1, 0.1, 0.8, 0.8), Window(0, 0, 0.9, 0.9))


@pytest.fixture(scope="module")
def photo(pdq_reference_dir) -> np.ndarray:
    with Image.open(pdq_reference_dir / "images" / "bridge-mods" / "aaa-orig.jpg") as image:
        return np.asarray(image.convert("RGB").resize((600, 376), Image.Resampling.BICUBIC))


@pytest.fixture()
def folder(tmp_path, photo, pdq_reference_dir):
    images = tmp_path / "known"
    (images / "sub").mkdir(parents=True)
    Image.fromarray(photo).save(images / "bridge.png")
    with Image.open(pdq_reference_dir / "images" / "misc-images" / "small.jpg") as image:
        image.convert("RGB").save(images / "sub" / "small.jpg", quality=95)
    (images / "notes.txt").write_text("not an image")
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return images


def test_build_rows_lists_images_and_reports_failures(folder):
    items = list(build_rows(folder, ListBuildOptions(windows=WINDOWS)))
    rows = [i for i in items if isinstance(i, ListRow)]
    failures = [i for i in items if isinstance(i, NotListed)]
    assert sorted({r.id for r in rows}) == ["bridge.png", "sub/small.jpg"]
    assert [(os.path.basename(f.uri), f.reason, f.is_image) for f in failures] == [
        ("broken.jpg", FailureReason.TRUNCATED, True),
        ("notes.txt", FailureReason.NOT_AN_IMAGE, False),
    ]
    assert len(rows) == 2 * (1 + len(WINDOWS))


@pytest.mark.parametrize("name", ["list.csv", "list.tsv.gz", "list.jsonl", "list.parquet"])
def test_written_list_reads_back_with_variants(folder, tmp_path, name):
    output = str(tmp_path / name)
    report = build_list(
        folder, output, ListBuildOptions(windows=WINDOWS, second_opinions=("phash",))
    )
    assert report.images == 2 and report.files == 4
    assert [os.path.basename(f.uri) for f in report.failed_images] == ["broken.jpg"]
    assert [os.path.basename(f.uri) for f in report.not_images] == ["notes.txt"]
    hash_list = read_list(output)
    group = hash_list.group("pdq")
    assert len(group) == 2 * (1 + len(WINDOWS))
    variants = [
        v for values in group.metadata.column("variant").to_pylist() for v in (values or [""])
    ]
    assert has_windows(variants)
    ids = {i for values in group.metadata.column("ids").to_pylist() for i in values}
    assert ids == {"bridge.png", "sub/small.jpg"}
    assert len(hash_list.group("phash")) >= 2


def test_build_list_needs_files_and_writes_no_empty_list(tmp_path):
    with pytest.raises(ConfigError, match="matches no files"):
        build_list(tmp_path, str(tmp_path / "out.csv"))
    with pytest.raises(ConfigError, match="missing: matches no files"):
        build_list(tmp_path / "missing", str(tmp_path / "out.csv"))
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ConfigError, match="jsn"):  # before any file is read
        build_list(tmp_path, str(tmp_path / "out.jsn"))
    report = build_list(tmp_path, str(tmp_path / "out.csv"))
    assert not report.written and report.files == 1 and len(report.not_images) == 1
    assert not (tmp_path / "out.csv").exists()


@pytest.fixture()
def mixed(tmp_path, photo):
    """Nested folders: an image with an unknown extension, a text file, a FIFO, a broken link."""
    root = tmp_path / "mixed"
    (root / "a" / "b").mkdir(parents=True)
    Image.fromarray(photo).save(root / "top.png")
    Image.fromarray(photo[::-1]).save(root / "a" / "b" / "flipped.data", "PNG")
    (root / "a" / "readme.txt").write_text("not an image")
    os.mkfifo(root / "a" / "pipe.jpg")
    os.symlink(root / "gone.jpg", root / "dangling.jpg")
    return root


def test_every_regular_file_is_decoded_whatever_its_extension(mixed):
    """An image named .data is listed (it used to be skipped unseen); the FIFO is never opened."""
    report = build_list(mixed, str(mixed.parent / "out.csv"), ListBuildOptions(windows=()))
    assert (report.files, report.images) == (3, 2)
    assert sorted((os.path.basename(s.uri), s.kind) for s in report.skipped) == [
        ("dangling.jpg", "dangling_link"),
        ("pipe.jpg", "fifo"),
    ]
    assert [os.path.basename(f.uri) for f in report.not_images] == ["readme.txt"]
    assert report.failed_images == ()
    group = read_list(str(mixed.parent / "out.csv")).group("pdq")
    ids = {i for values in group.metadata.column("ids").to_pylist() for i in values}
    assert ids == {"top.png", "a/b/flipped.data"}


@pytest.mark.parametrize(
    "id_from, expected",
    [
        ("path", {"top.png", "a/b/flipped.data"}),
        ("name", {"top.png", "flipped.data"}),
        ("digest", "digests"),
    ],
)
def test_ids_follow_id_from(mixed, id_from, expected):
    options = ListBuildOptions(windows=(), borders=False, id_from=id_from)
    rows = [r for r in build_rows(mixed, options) if isinstance(r, ListRow)]
    if expected == "digests":
        expected = {
            hashlib.sha256((mixed / p).read_bytes()).hexdigest() for p in ("top.png", "a/b/flipped.data")
        }
    assert {r.id for r in rows} == expected


def test_name_ids_shared_by_two_files_are_reported(tmp_path, photo):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        Image.fromarray(photo[:, :: 1 if sub == "x" else -1]).save(tmp_path / sub / "same.png")
    output = str(tmp_path / "out.csv")
    options = ListBuildOptions(windows=(), borders=False, id_from="name")
    assert build_list(tmp_path, output, options).shared_ids == ("same.png",)
    path_ids = ListBuildOptions(windows=(), borders=False)
    assert build_list(tmp_path, output, path_ids).shared_ids == ()


@pytest.mark.parametrize("name", ["labelled.csv", "labelled.jsonl.gz", "labelled.parquet"])
def test_labels_are_on_every_entry(mixed, tmp_path, name):
    output = str(tmp_path / name)
    options = ListBuildOptions(windows=WINDOWS, labels=("csam", "case-17"))
    build_list(mixed, output, options)
    group = read_list(output).group("pdq")
    assert len(group) >= 2 * (1 + len(WINDOWS))
    assert all(group.labels_of(i) == ["csam", "case-17"] for i in range(len(group)))


def test_a_tiny_image_is_a_failed_image(tmp_path):
    Image.new("RGB", (4, 40)).save(tmp_path / "tiny.png")
    [failure] = build_rows(tmp_path)
    assert (failure.reason, failure.message) == (FailureReason.TOO_SMALL, "too small to hash: 4x40")
    assert failure.is_image


@pytest.mark.parametrize(
    "name, reason, is_image",
    [
        ("notes.txt", FailureReason.NOT_AN_IMAGE, False),
        ("empty", FailureReason.EMPTY, False),
        ("fake.JPG", FailureReason.NOT_AN_IMAGE, True),
        ("damaged.bin", FailureReason.TRUNCATED, True),
        ("huge.bin", FailureReason.TOO_LARGE, True),
    ],
)
def test_what_counts_as_a_failed_image(name, reason, is_image):
    assert NotListed(f"dir/{name}", reason, "...").is_image is is_image


def test_files_over_max_bytes_are_not_read(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "a.png")
    [failure] = build_rows(tmp_path, ListBuildOptions(max_bytes=100))
    assert failure.reason is FailureReason.TOO_LARGE
