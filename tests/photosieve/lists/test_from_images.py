"""Tests for photosieve.lists.from_images: lists built from images, with window hashes."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os

import numpy as np
import pytest
from PIL import Image

from photosieve.decode import DecodeOptions
from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.hashes import pdq
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.lists import read_list
from photosieve.robust.expansion import Window
from photosieve.lists.from_images import (
    ListBuildOptions,
    ListRow,
    NotListed,
    _box_of,
    build_list,
    build_rows,
    decode_options,
    file_rows,
    has_windows,
    image_rows,
    write_rows,
)
from photosieve.robust.regions import Box

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


def test_image_rows_plain_hash_is_bit_exact_and_windows_are_labelled(photo):
    rows = image_rows("a.png", photo, ListBuildOptions(windows=WINDOWS))
    assert rows[0] == ListRow(
        "pdq", pdq.compute(photo).hash.to_hex(), "a.png", pdq.compute(photo).quality, ""
    )
    assert [r.variant for r in rows[1:]] == [f"window {w.label}" for w in WINDOWS]
    assert all(r.algorithm == "pdq" and r.quality is not None for r in rows)


def test_image_rows_with_borders_and_second_opinions(photo):
    padded = np.pad(photo, ((40, 40), (0, 0), (0, 0)))
    rows = image_rows(
        "p.png", padded, ListBuildOptions(windows=WINDOWS[:1], second_opinions=("gradient",))
    )
    pdq_variants = [r.variant for r in rows if r.algorithm == "pdq"]
    assert pdq_variants[0] == "" and pdq_variants[1].startswith("borders ")
    assert len(pdq_variants) == 3
    # Every PDQ picture has its gradient hash, under the same variant.
    assert sorted(r.variant for r in rows if r.algorithm == "gradient") == sorted(pdq_variants)
    assert all(r.quality is None for r in rows if r.algorithm == "gradient")


def test_box_of_a_label_rounded_past_the_edge_is_clipped():
    """Shares rounded to 3 decimals can add up to 1.001 (0.1675 + 0.8325 of 400 rows)."""
    assert _box_of("region 0.000,0.168,1.000,0.833", (400, 600, 3)) == Box(0, 67, 600, 400)


def test_options_reject_unknown_second_opinion():
    with pytest.raises(ConfigError):
        ListBuildOptions(second_opinions=("md5",))


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


def test_file_rows_are_the_rows_of_the_decoded_file(photo, tmp_path):
    """What build_rows writes per file (benchmarks calibrate on file_rows)."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG")
    options = ListBuildOptions(windows=WINDOWS)
    assert file_rows("a.png", buffer.getvalue(), options) == image_rows("a.png", photo, options)
    tiny = io.BytesIO()
    Image.new("RGB", (4, 40)).save(tiny, "PNG")
    with pytest.raises(DecodeError) as caught:
        file_rows("tiny.png", tiny.getvalue(), options)
    assert caught.value.reason is FailureReason.TOO_SMALL
    (tmp_path / "tiny.png").write_bytes(tiny.getvalue())
    [failure] = build_rows(tmp_path, options)
    assert (failure.reason, failure.message) == (FailureReason.TOO_SMALL, "too small to hash: 4x40")


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


def test_write_rows_rejects_unknown_extension(tmp_path):
    with pytest.raises(ConfigError, match="csv"):
        write_rows([], str(tmp_path / "list.xyz"))


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


def test_has_windows():
    assert not has_windows(["", "borders 0.000,0.100,1.000,0.800"])
    assert has_windows(["", "window 0.000,0.000,0.900,0.900"])


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


def test_no_labels_column_without_labels(folder, tmp_path):
    """A list built without --label has the columns (and bytes) it had before the flag."""
    output = tmp_path / "plain.csv"
    build_list(folder, str(output), ListBuildOptions(windows=()))
    assert output.read_text().splitlines()[0] == "algorithm,hash,id,quality,variant"


@pytest.mark.parametrize("label", ["", "two words", "a,b", "a;b", "a|b"])
def test_labels_the_reader_would_split_are_refused(label):
    with pytest.raises(ConfigError, match="label"):
        ListBuildOptions(labels=(label,))


def test_fast_decode_stores_what_a_fast_audit_hashes(tmp_path, photo):
    """Fast: the plain hash is fast PDQ's (an audit's in fast mode), a few bits from exact.

    A 2400 x 1504 JPEG is decoded at 1/2 scale (its shorter side stays >= 512),
    so fast and exact differ in how pixels are read, not in what is listed.
    """
    big = Image.fromarray(photo).resize((2400, 1504), Image.Resampling.BICUBIC)
    big.save(tmp_path / "big.jpg", quality=92)
    data = (tmp_path / "big.jpg").read_bytes()
    plain = ListBuildOptions(windows=WINDOWS, borders=False)
    exact = file_rows("big.jpg", data, plain)
    fast = file_rows("big.jpg", data, dataclasses.replace(plain, decode=decode_options("fast")))
    def audit_pdq(decode: DecodeOptions) -> str:
        hashed = ImageHasher(HashPlan.parse("pdq,phash", decode)).hash_bytes("big.jpg", data)
        return next(r.hash.to_hex() for r in hashed.frames[0].results if r.hash.algorithm == "pdq")

    assert fast[0].hash == audit_pdq(DecodeOptions(mode="fast", fast_min_side=512))
    assert exact[0].hash == audit_pdq(DecodeOptions(mode="exact"))
    distance = bin(int(fast[0].hash, 16) ^ int(exact[0].hash, 16)).count("1")
    assert distance <= 8  # README: fast PDQ is within a few bits of exact (max 4 measured)
    assert [r.variant for r in fast] == [r.variant for r in exact]
    for f, e in zip(fast[1:], exact[1:]):
        assert bin(int(f.hash, 16) ^ int(e.hash, 16)).count("1") <= 16
    with pytest.raises(ConfigError, match="decode"):
        decode_options("quick")
