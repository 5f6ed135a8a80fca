"""Tests for photosieve.robust.expansion: extra query hashes and list windows."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photosieve.errors import ConfigError
from photosieve.hashes import gradient, pdq, phash
from photosieve.hashes.value import HashValue
from photosieve.robust import expansion
from photosieve.robust.expansion import QueryExpansion, Window

NOTHING = QueryExpansion(dihedral=False, borders=False, region=False, rotation=False)


@pytest.fixture(scope="module")
def photo(pdq_reference_dir) -> np.ndarray:
    with Image.open(pdq_reference_dir / "images" / "bridge-mods" / "aaa-orig.jpg") as image:
        return np.asarray(image.convert("RGB").resize((480, 301), Image.Resampling.BICUBIC))


@pytest.fixture(scope="module")
def original_hash(photo) -> HashValue:
    return pdq.compute(photo).hash


def by_variant(results, kind: str, orientation: str = "") -> list:
    return [
        r for r in results if r.variant.partition(" ")[0] == kind and r.orientation == orientation
    ]


def crop(pixels: np.ndarray, window: Window) -> np.ndarray:
    h, w = pixels.shape[:2]
    return pixels[
        round(window.y * h) : round((window.y + window.h) * h),
        round(window.x * w) : round((window.x + window.w) * w),
    ]


# -- windows and options ----------------------------------------------------------------


def test_window_validation_and_label():
    assert Window(0.05, 0.1, 0.9, 0.8).label == "0.050,0.100,0.900,0.800"
    assert Window.parse("0.050,0.100,0.900,0.800") == Window(0.05, 0.1, 0.9, 0.8)
    with pytest.raises(ConfigError):
        Window(0.2, 0, 0.9, 1)  # past the right edge
    with pytest.raises(ConfigError):
        Window(0, 0, 0, 1)
    with pytest.raises(ConfigError):
        Window.parse("1,2,3")


def test_grid_windows_spans_corners_and_centre():
    windows = expansion.grid_windows((0.8, 0.9), (3, 2))
    assert len(windows) == 9 + 4
    assert Window(0, 0, 0.8, 0.8) in windows and Window(0.2, 0.2, 0.8, 0.8) in windows
    assert Window(0.1, 0.1, 0.8, 0.8) in windows  # the centre, for odd steps
    with pytest.raises(ConfigError):
        expansion.grid_windows((0.8, 0.9), (3,))


def test_query_expansion_rejects_unknown_second_opinion():
    with pytest.raises(ConfigError, match="second opinions"):
        QueryExpansion(second_opinions=("dhash",))


def test_nothing_requested_gives_nothing(photo):
    assert expansion.query_hashes(photo, None, NOTHING) == []
    assert expansion.query_hashes(np.zeros((3, 3, 3), np.uint8)) == []


# -- what the variants find --------------------------------------------------------------


def test_border_stripped_hash_matches_the_original(photo, original_hash):
    padded = np.pad(photo, ((40, 40), (0, 0), (0, 0)))  # black letterbox bars
    assert pdq.compute(padded).hash - original_hash > 60  # plain PDQ: lost
    results = expansion.query_hashes(
        padded, None, QueryExpansion(dihedral=False, region=False, rotation=False)
    )
    [stripped] = by_variant(results, expansion.BORDERS)
    assert stripped.variant == "borders 0.000,0.105,1.000,0.790"
    assert stripped.hash - original_hash <= 8
    assert stripped.quality == 100


def test_region_hash_finds_photo_in_canvas(photo, original_hash):
    canvas = np.full((500, 700, 3), 245, np.uint8)
    canvas[:40] = (30, 30, 40)  # title bar
    for y in range(100, 460, 60):  # a menu in the left margin
        canvas[y : y + 4, 20:110] = (80, 80, 80)
    canvas[120:421, 150:630] = photo
    results = expansion.query_hashes(canvas, None, QueryExpansion(dihedral=False, rotation=False))
    regions_found = by_variant(results, expansion.REGION)
    assert len(regions_found) == 1
    assert regions_found[0].hash - original_hash <= 8
    # The borders variant (title bar peeled off) is dropped: the region lies inside it.
    assert by_variant(results, expansion.BORDERS) == []


def test_rotation_hash_undoes_small_rotation(photo, original_hash):
    rotated = np.asarray(Image.fromarray(photo).rotate(5, resample=Image.Resampling.BICUBIC))
    plain = pdq.compute(rotated).hash - original_hash
    results = expansion.query_hashes(
        rotated, None, QueryExpansion(dihedral=False, borders=False, region=False)
    )
    [back] = by_variant(results, expansion.ROTATION)
    assert float(back.variant.split()[1]) == pytest.approx(5, abs=0.1)
    assert back.hash - original_hash < plain - 20


def test_uncrop_hypothesis_brings_a_centred_crop_back(photo, original_hash):
    window = Window(0.05, 0.05, 0.9, 0.9)
    cropped = np.ascontiguousarray(crop(photo, window))
    plain = pdq.compute(cropped).hash - original_hash
    options = QueryExpansion(
        dihedral=False, borders=False, region=False, rotation=False, uncrop=(window,)
    )
    [guess] = expansion.query_hashes(cropped, None, options)
    assert guess.variant == "uncrop 0.050,0.050,0.900,0.900"
    assert guess.hash - original_hash < plain - 25
    assert guess.hash - original_hash <= 40


def test_dihedral_variants_find_rotated_padded_copy(photo, original_hash):
    padded = np.pad(photo, ((30, 30), (0, 0), (0, 0)))
    turned = np.ascontiguousarray(np.rot90(padded))  # rotated 90 degrees, then hashed
    results = expansion.query_hashes(turned, None, QueryExpansion(region=False, rotation=False))
    stripped = [r for r in results if r.variant.startswith(expansion.BORDERS)]
    assert len(stripped) == 8
    assert {r.orientation for r in stripped} == set(pdq.ORIENTATIONS)
    # PDQ's dihedral hashes are exact only for square images; ~10 bits otherwise.
    assert min(r.hash - original_hash for r in stripped) <= 16


def test_uncrop_dihedral_is_optional(photo):
    window = Window(0.05, 0.05, 0.9, 0.9)
    base = QueryExpansion(borders=False, region=False, rotation=False, uncrop=(window,))
    assert len(expansion.query_hashes(photo, None, base)) == 1
    both = QueryExpansion(
        borders=False, region=False, rotation=False, uncrop=(window,), uncrop_dihedral=True
    )
    assert len(expansion.query_hashes(photo, None, both)) == 8


def test_reduced_decode_gives_nearly_the_same_variants(photo):
    """Variants of a 1/2 box-reduced decode (fast mode) ~ those of the full pixels."""
    big = np.asarray(Image.fromarray(photo).resize((960, 602), Image.Resampling.BICUBIC))
    padded = np.pad(big, ((80, 80), (0, 0), (0, 0)))
    reduced = np.asarray(Image.fromarray(padded).reduce(2))
    options = QueryExpansion(
        dihedral=False, region=False, rotation=False, uncrop=expansion.CENTRED_UNCROPS
    )
    full = {
        r.variant.partition(" ")[0] + r.variant[-5:]: r.hash
        for r in expansion.query_hashes(padded, None, options)
    }
    fast = {
        r.variant.partition(" ")[0] + r.variant[-5:]: r.hash
        for r in expansion.query_hashes(reduced, padded.shape[:2], options)
    }
    assert full.keys() == fast.keys() and len(full) == 3
    for key, value in full.items():
        assert value - fast[key] <= 12, key


# -- list windows ----------------------------------------------------------------------------


def test_window_hashes_agree_with_pdq_of_the_crop(photo):
    windows = (Window(0.1, 0.1, 0.8, 0.8), Window(0, 0.15, 0.85, 0.85))
    results = expansion.window_hashes(photo, None, windows)
    assert [r.variant for r in results] == [f"window {w.label}" for w in windows]
    for window, result in zip(windows, results):
        exact = pdq.compute(np.ascontiguousarray(crop(photo, window))).hash
        assert result.hash - exact <= 10  # fast float32 path vs the bit-exact reference


def test_crop_matches_its_window_not_the_whole(photo, original_hash):
    window = Window(0.1, 0.1, 0.8, 0.8)
    [listed] = expansion.window_hashes(photo, None, (window,))
    copy = pdq.compute(np.ascontiguousarray(crop(photo, window))).hash
    assert copy - listed.hash <= 10
    assert copy - original_hash > 60


def test_window_second_opinions_share_labels(photo):
    windows = (Window(0.1, 0.1, 0.8, 0.8),)
    results = expansion.window_hashes(photo, None, windows, ("gradient", "phash"))
    assert sorted(r.hash.algorithm for r in results) == ["gradient", "pdq", "phash"]
    assert {r.variant for r in results} == {f"window {windows[0].label}"}
    g = next(r for r in results if r.hash.algorithm == "gradient")
    assert g.hash == gradient.compute(np.ascontiguousarray(crop(photo, windows[0]))).hash


# -- second opinions --------------------------------------------------------------------------


def test_second_opinion_orientations_equal_hashes_of_transformed_images(photo):
    transforms = {
        "original": photo,
        "rotate90": np.rot90(photo, 1),
        "rotate180": np.rot90(photo, 2),
        "rotate270": np.rot90(photo, 3),
        "flipx": photo[::-1],
        "flipy": photo[:, ::-1],
        "flip_plus1": photo.transpose(1, 0, 2),
        "flip_minus1": np.rot90(photo, 2).transpose(1, 0, 2),
    }
    for algorithm, module in (("gradient", gradient), ("phash", phash)):
        results = expansion.second_opinion_hashes([photo], ["x"], algorithm, dihedral=True)
        assert [r.orientation for r in results] == list(pdq.ORIENTATIONS)
        for r in results:
            assert r.variant == "x"
            assert r.hash == module.compute(np.ascontiguousarray(transforms[r.orientation])).hash
        # And the PDQ orientation names mean the same transforms.
        pdq_dihedral = {r.orientation: r.hash for r in pdq.compute_dihedral(photo)}
        for name, pixels in transforms.items():
            assert pdq.compute(np.ascontiguousarray(pixels)).hash - pdq_dihedral[name] <= 12


def test_query_second_opinions_cover_plain_and_variants(photo):
    padded = np.pad(photo, ((40, 40), (0, 0), (0, 0)))
    options = QueryExpansion(
        dihedral=False, region=False, rotation=False, second_opinions=("gradient",)
    )
    results = expansion.query_hashes(padded, None, options)
    grads = {r.variant: r.hash for r in results if r.hash.algorithm == "gradient"}
    assert set(grads) == {"", "borders 0.000,0.105,1.000,0.790"}
    assert grads[""] == gradient.compute(padded).hash
    assert grads["borders 0.000,0.105,1.000,0.790"] - gradient.compute(photo).hash < 30
