"""Tests for photosieve.robust.modes: modes, second opinions and the reference matcher."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from photosieve.errors import ConfigError
from photosieve.hashes import pdq
from photosieve.lists.from_images import ListBuildOptions, image_rows
from photosieve.robust import expansion, modes
from photosieve.robust.modes import CONFIGS, ListEntries, MatchConfig, SecondOpinion

WINDOWS = expansion.grid_windows((0.8,), 3)


@pytest.fixture(scope="module")
def photos(pdq_reference_dir) -> dict[str, np.ndarray]:
    folder = pdq_reference_dir / "images"
    out = {}
    for name, path in (
        ("bridge", "bridge-mods/aaa-orig.jpg"),
        ("coaster", "reg-test-input/pen-and-coaster.png"),
        ("small", "misc-images/small.jpg"),
    ):
        with Image.open(folder / path) as image:
            image = image.convert("RGB")
            image.thumbnail((500, 500))
            out[name] = np.asarray(image)
    return out


@pytest.fixture(scope="module")
def image_list(photos) -> ListEntries:
    options = ListBuildOptions(windows=WINDOWS, second_opinions=("gradient",))
    rows = [row for name, pixels in photos.items() for row in image_rows(name, pixels, options)]
    return ListEntries.from_rows(rows)


@pytest.fixture(scope="module")
def hash_list(photos) -> ListEntries:
    rows = [
        row
        for name, pixels in photos.items()
        for row in image_rows(name, pixels, ListBuildOptions(windows=()))
    ]
    return ListEntries.from_rows(rows)


def query(pixels: np.ndarray, config: MatchConfig):
    """All hashes a pipeline would compute for ``config``: the plain one(s) and the extras."""
    pixels = np.ascontiguousarray(pixels)
    plain = pdq.compute_dihedral(pixels) if config.expansion.dihedral else [pdq.compute(pixels)]
    return plain + expansion.query_hashes(pixels, None, config.expansion)


def test_configs_are_named_and_consistent():
    assert set(CONFIGS) == {
        "pdq",
        "pdq-dihedral",
        "robust",
        "robust-windows",
        "robust-windows-gradient",
        "robust-windows-phash",
    }
    for name, config in CONFIGS.items():
        assert config.name == name
    assert not CONFIGS["robust"].windows and CONFIGS["robust-windows"].windows
    # Every extra hash costs false positives: thresholds never rise with more hashes.
    assert (
        CONFIGS["pdq"].threshold >= CONFIGS["pdq-dihedral"].threshold >= CONFIGS["robust"].threshold
    )


def test_config_validation():
    with pytest.raises(ConfigError):
        MatchConfig("x", threshold=-1)
    with pytest.raises(ConfigError, match="second_opinions"):
        MatchConfig("x", second_opinion=SecondOpinion("gradient", "require", 100))
    with pytest.raises(ConfigError):
        SecondOpinion("md5", "require", 1)
    with pytest.raises(ConfigError):
        SecondOpinion("gradient", "vote", 1)


def test_second_opinion_scores():
    require = SecondOpinion("gradient", "require", 100)
    assert require.score(40, 90) == 40 and require.score(40, 101) == np.inf
    combine = SecondOpinion("phash", "combine", 2.0)
    assert combine.score(40, 5) == 50


def test_original_matches_itself_only(photos, hash_list):
    for name, pixels in photos.items():
        found = modes.match(query(pixels, CONFIGS["pdq"]), hash_list, CONFIGS["pdq"])
        assert [m.id for m in found] == [name]
        assert found[0].distance == 0 and found[0].list_variant == ""


def test_rotated_copy_needs_dihedral(photos, hash_list):
    turned = np.rot90(photos["bridge"])
    assert modes.match(query(turned, CONFIGS["pdq"]), hash_list, CONFIGS["pdq"]) == []
    found = modes.match(
        query(turned, CONFIGS["pdq-dihedral"]), hash_list, CONFIGS["pdq-dihedral"]
    )
    assert [m.id for m in found] == ["bridge"]
    assert found[0].query_orientation != "original"


def test_padded_copy_matches_through_its_border_stripped_hash(photos, hash_list):
    padded = np.pad(photos["coaster"], ((60, 60), (0, 0), (0, 0)), constant_values=255)
    plain = modes.match(
        query(padded, CONFIGS["pdq-dihedral"]), hash_list, CONFIGS["pdq-dihedral"]
    )
    assert all(m.distance > 60 for m in plain)  # at best a weak match on the whole picture
    found = modes.match(query(padded, CONFIGS["robust"]), hash_list, CONFIGS["robust"])
    assert [m.id for m in found] == ["coaster"]
    assert found[0].query_variant.startswith("borders ") and found[0].distance <= 10


def test_crop_matches_a_window_and_says_which(photos, image_list):
    h, w = photos["bridge"].shape[:2]
    window = WINDOWS[0]  # top-left 80%
    crop = photos["bridge"][: round(0.8 * h), : round(0.8 * w)]
    config = dataclasses.replace(CONFIGS["robust-windows"], windows=WINDOWS)
    found = modes.match(query(crop, config), image_list, config)
    assert [m.id for m in found] == ["bridge"]
    assert found[0].list_variant == f"window {window.label}"
    assert found[0].distance <= 20


def test_windows_need_an_upright_query_unless_windows_dihedral(photos, image_list):
    h, w = photos["bridge"].shape[:2]
    crop = np.rot90(photos["bridge"][: round(0.8 * h), : round(0.8 * w)])
    config = dataclasses.replace(CONFIGS["robust-windows"], windows=WINDOWS, windows_dihedral=False)
    upright_only = modes.match(query(crop, config), image_list, config)
    assert all(
        m.list_variant == "" or m.query_orientation in ("", "original") for m in upright_only
    )
    config = dataclasses.replace(config, windows_dihedral=True)
    found = modes.match(query(crop, config), image_list, config)
    assert [m.id for m in found] == ["bridge"] and found[0].list_variant.startswith("window ")


def test_second_opinion_require_can_veto(photos, image_list):
    base = CONFIGS["robust-windows-gradient"]
    config = dataclasses.replace(base, windows=WINDOWS)
    copy = photos["small"]
    found = modes.match(query(copy, config), image_list, config)
    assert [m.id for m in found] == ["small"] and found[0].second_distance == 0
    # A threshold of 0 on the score lets only identical pictures through; a
    # gradient threshold below any real distance vetoes a near copy.
    brighter = np.rint(255 * (copy / 255) ** 0.7).astype(
        np.uint8
    )  # gamma: gradients change a little
    near = modes.match(query(brighter, config), image_list, config)
    assert [m.id for m in near] == ["small"] and near[0].second_distance > 0.5
    strict = dataclasses.replace(config, second_opinion=SecondOpinion("gradient", "require", 0.5))
    assert modes.match(query(brighter, strict), image_list, strict) == []


def test_second_opinion_needs_second_hashes_on_both_sides(photos, hash_list):
    config = CONFIGS["robust-windows-gradient"]
    # The hash-only list has no gradient hashes: nothing can be confirmed.
    assert modes.match(query(photos["small"], config), hash_list, config) == []


def test_a_combined_score_cannot_carry_a_pdq_distance_beyond_max_pdq(photos, image_list):
    config = dataclasses.replace(CONFIGS["robust-windows-gradient"], windows=WINDOWS)
    brighter = np.rint(255 * (photos["small"] / 255) ** 0.5).astype(np.uint8)
    [found] = modes.match(query(brighter, config), image_list, config)
    d = found.distance
    assert d > 0 and found.score <= config.threshold
    at = dataclasses.replace(config, max_pdq=d)
    assert [m.id for m in modes.match(query(brighter, at), image_list, at)] == ["small"]
    # One bit stricter: that pair is out whatever its score (another pair may remain, farther off).
    below = dataclasses.replace(config, max_pdq=d - 1)
    assert all(m.distance <= d - 1 for m in modes.match(query(brighter, below), image_list, below))
    assert below.pdq_radius == d - 1 and below.threshold == config.threshold


def test_a_lower_threshold_caps_pdq_in_a_combined_mode_and_lowers_the_rest():
    combined = modes.config_for_list(
        "robust-windows-gradient", has_windows=True, second_algorithms=["gradient"], threshold=57
    )
    assert (combined.threshold, combined.max_pdq, combined.pdq_radius) == (100, 57, 57)
    required = modes.config_for_list(
        "robust-windows-phash", has_windows=True, second_algorithms=["phash"], threshold=57
    )
    assert (required.threshold, required.max_pdq, required.pdq_radius) == (57, None, 57)
    with pytest.raises(ConfigError, match="max_pdq must be >= 0"):
        dataclasses.replace(combined, max_pdq=-1)
