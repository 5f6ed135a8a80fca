"""ImageHasher with a query expansion: extra PDQ hashes labelled with their variant."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from photosieve.decode import DecodeOptions
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.robust.expansion import CENTRED_UNCROPS, QueryExpansion


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def padded(pdq_reference_dir) -> np.ndarray:
    with Image.open(pdq_reference_dir / "images" / "bridge-mods" / "aaa-orig.jpg") as image:
        photo = np.asarray(image.convert("RGB").resize((800, 502)))
    return np.pad(photo, ((100, 100), (0, 0), (0, 0)))


def test_plan_validates_expansion():
    with pytest.raises(ConfigError, match="pdq"):
        HashPlan(("md5",), query_expansion=QueryExpansion(dihedral=False))
    with pytest.raises(ConfigError, match="dihedral"):
        HashPlan(("pdq",), pdq_dihedral=False, query_expansion=QueryExpansion(dihedral=True))


def test_no_expansion_no_variants(padded):
    out = ImageHasher(HashPlan(("pdq",))).hash_bytes("a.png", png(padded))
    assert [r.variant for r in out.frames[0].results] == [""]


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_expansion_adds_labelled_hashes(padded, mode):
    expansion = QueryExpansion(
        dihedral=False, region=False, rotation=False, uncrop=CENTRED_UNCROPS
    )
    plan = HashPlan(("pdq", "md5"), decode=DecodeOptions(mode=mode), query_expansion=expansion)
    out = ImageHasher(plan).hash_bytes("a.png", png(padded))
    results = out.frames[0].results
    assert results[0].variant == ""  # the plain hash comes first, unchanged
    variants = [r.variant.partition(" ")[0] for r in results[1:]]
    assert variants == ["borders", "uncrop", "uncrop"]
    stripped = results[1]
    # The stripped hash is the hash of the photo without its bars.
    photo = padded[100:-100]
    plain = ImageHasher(HashPlan(("pdq",), decode=DecodeOptions(mode=mode))).hash_bytes(
        "b.png", png(photo)
    )
    assert stripped.hash - plain.frames[0].results[0].hash <= 8
