"""Tests for photosieve.lists.from_images: lists built from images, with window hashes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.hashes import pdq
from photosieve.lists import read_list
from photosieve.robust.expansion import Window
from photosieve.lists.from_images import (
    ListBuildOptions,
    ListRow,
    _box_of,
    build_list,
    build_rows,
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
    failures = [i for i in items if not isinstance(i, ListRow)]
    assert sorted({r.id for r in rows}) == ["bridge.png", "sub/small.jpg"]
    assert [f[0] for f in failures] == ["broken.jpg"]
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
    assert list(build_rows(tmp_path, options)) == [("tiny.png", "too small to hash: 4x40")]


@pytest.mark.parametrize("name", ["list.csv", "list.tsv.gz", "list.jsonl", "list.parquet"])
def test_written_list_reads_back_with_variants(folder, tmp_path, name):
    output = str(tmp_path / name)
    report = build_list(
        folder, output, ListBuildOptions(windows=WINDOWS, second_opinions=("phash",))
    )
    assert report.images == 2 and [f[0] for f in report.failures] == ["broken.jpg"]
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


def test_build_list_needs_images(tmp_path):
    with pytest.raises(ConfigError, match="no image files"):
        build_list(tmp_path, str(tmp_path / "out.csv"))
    with pytest.raises(ConfigError, match="not a folder"):
        build_list(tmp_path / "missing", str(tmp_path / "out.csv"))


def test_has_windows():
    assert not has_windows(["", "borders 0.000,0.100,1.000,0.800"])
    assert has_windows(["", "window 0.000,0.000,0.900,0.900"])
