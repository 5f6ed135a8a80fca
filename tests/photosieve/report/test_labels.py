"""The words for how a match was found: each column's value named, no edited copy shown as a plain match."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.report.labels import (
    distance_caption,
    how_matched,
    listed_part,
    started_label,
    status_label,
    variant_label,
)
from tests.photosieve.report.samples import match
from tests.transforms import samples


@pytest.mark.parametrize(("columns", "words"), [
    ({schemas.ORIENTATION: "flipy"}, "mirrored copy"),
    ({schemas.ORIENTATION: "rotate270"}, "rotated 90° (anticlockwise)"),
    ({schemas.ORIENTATION: "rotate180"}, "rotated 180°"),
    ({schemas.VARIANT: "borders 0.100,0.143,0.800,0.717"}, "border removed (the inner 80% × 72%)"),
    ({schemas.VARIANT: "region 0.2,0.1,0.5,0.6"}, "inside a screenshot"),
    ({schemas.VARIANT: "uncrop 0.125,0.125,0.750,0.750"}, "crop of the listed image (75% × 75% of it)"),
    ({schemas.LIST_VARIANT: "window 0,0,0.75,0.75"}, "crop of the listed image (75% × 75%)"),
    ({schemas.VARIANT: "rotation 8"}, "tilted 8°, straightened"),
])
def test_each_edit_is_named_even_at_distance_0(columns, words):
    label = how_matched(match("a.jpg", 0, **columns))
    assert words in label
    assert "same picture" not in label  # a border or crop hit at 0 is not the whole picture


def test_plain_rows_say_same_or_similar_and_digests_say_exact():
    assert how_matched(match("a.jpg", 0, orientation="original")) == "same picture"
    assert how_matched(match("a.jpg", 7)) == "similar picture"
    assert how_matched(match("a.jpg", 0, algorithm="md5")) == "exact copy (same bytes)"
    assert how_matched(match("a.jpg", 2, orientation="flipy", variant="borders 0.1,0.1,0.8,0.8")) == (
        "mirrored copy; border removed (the inner 80% × 80%)")


def test_unknown_values_are_shown_not_dropped():
    assert how_matched(match("a.jpg", 3, orientation="skew7")) == "orientation skew7"
    assert variant_label("lens 0.1") == "variant lens 0.1"
    assert listed_part("tile 3") == "tile 3"
    assert listed_part(None) == "whole image"
    assert listed_part("window 0.25,0,0.75,1") == "part: 75% × 100% at 25%, 0% from the top left"


def test_status_names_the_suppress_lists():
    assert status_label(match("a.jpg", 1, status="suppressed", suppressed_by=["benign"])) == "suppressed by benign"
    assert status_label(match("a.jpg", 1, status="suppress", lst="benign")) == "benign (suppress list hit)"
    assert status_label(match("a.jpg", 1)) == "match"


def _encode(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("transpose", "words"), [
    (Image.Transpose.ROTATE_90, "rotated 90° (anticlockwise)"),  # Pillow's ROTATE_90 turns anticlockwise
    (Image.Transpose.ROTATE_270, "rotated 90° (clockwise)"),
    (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored copy"),
])
def test_orientation_words_match_what_was_done_to_the_copy(transpose, words):
    """The label of the orientation a dihedral hash of the copy matches in says what the copy is."""
    picture = samples.picture(7, (320, 240))
    hasher = ImageHasher(HashPlan.parse("pdq-dihedral"))
    listed = hasher.hash_bytes("", _encode(picture)).frames[0].results[0].hash.bits
    copy = hasher.hash_bytes("", _encode(picture.transpose(transpose))).frames[0].results

    def distance(result):
        return sum(bin(a ^ b).count("1") for a, b in zip(result.hash.bits, listed))

    best = min(copy, key=distance)
    assert how_matched(match("copy.png", distance(best), orientation=best.orientation)) == words


def test_started_label_and_the_distance_caption_in_sentences():
    assert started_label("2026-12-02T03:41:00.358575+00:00") == "2026-12-02 03:41 UTC"
    assert started_label("last week") == "last week"
    caption = distance_caption("pdq", [2, 4, 30], 31)
    assert "bits that differ" in caption and "31 (the list's threshold) is the most that still counts" in caption
    assert "1 of 3 are close to the threshold (above 24.8)" in caption
    assert "top fifth" not in caption
    assert "None is close to the threshold" in distance_caption("pdq", [1], 31)


def test_a_scored_plot_says_score_and_other_metrics_no_bits():
    scored = distance_caption("pdq", [10, 20], 40, scored=True)
    assert "the match mode's score" in scored and "bits" not in scored
    other = distance_caption("phash", [3], 10)
    assert "bits that differ" not in other and "10 (the list's threshold)" in other
