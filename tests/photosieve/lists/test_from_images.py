"""Tests for photosieve.lists.from_images: lists built from images, with window hashes."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from photosieve.decode import DecodeOptions
from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.hashes import pdq
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.robust.expansion import Window
from photosieve.lists.from_images import (
    ListBuildOptions,
    ListRow,
    _box_of,
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


def test_file_rows_are_the_rows_of_the_decoded_file(photo, tmp_path):
    """What lists build writes per file (benchmarks calibrate on file_rows)."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG")
    options = ListBuildOptions(windows=WINDOWS)
    assert file_rows("a.png", buffer.getvalue(), options) == image_rows("a.png", photo, options)
    tiny = io.BytesIO()
    Image.new("RGB", (4, 40)).save(tiny, "PNG")
    with pytest.raises(DecodeError) as caught:
        file_rows("tiny.png", tiny.getvalue(), options)
    assert caught.value.reason is FailureReason.TOO_SMALL
    assert caught.value.message == "too small to hash: 4x40"


def test_write_rows_rejects_unknown_extension(tmp_path):
    with pytest.raises(ConfigError, match="csv"):
        write_rows([], str(tmp_path / "list.xyz"))


def test_has_windows():
    assert not has_windows(["", "borders 0.000,0.100,1.000,0.800"])
    assert has_windows(["", "window 0.000,0.000,0.900,0.900"])


def test_labels_column_only_with_labels(photo, tmp_path):
    """A list built without --label has the columns (and bytes) it had before the flag."""
    output = tmp_path / "plain.csv"
    write_rows(image_rows("a.png", photo, ListBuildOptions(windows=())), str(output))
    assert output.read_text().splitlines()[0] == "algorithm,hash,id,quality,variant"
    labelled = ListBuildOptions(windows=(), labels=("csam", "case-17"))
    write_rows(image_rows("a.png", photo, labelled), str(output))
    lines = output.read_text().splitlines()
    assert lines[0].endswith(",labels") and all(line.endswith(',"csam,case-17"') for line in lines[1:])


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

