"""The collision benchmark's attacker: its linear models of PDQ and pHash, the attack, the report.

Synthetic pictures only (tests/transforms/samples.py): the benchmark's
photos are not part of the repository.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks import bench_collision as bc
from photosieve.hashes import gradient, pdq, phash
from tests.transforms.samples import picture


def _rgb(seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    return np.asarray(picture(seed, size).convert("RGB"))


@pytest.mark.parametrize("length", [100, 240, 333, 512])
def test_box_matrix_is_one_reference_box_pass(length):
    """Each column of the matrix is photosieve's box pass of a unit impulse."""
    window = pdq.jarosz_window(length)
    eye = np.eye(length, dtype=np.float32)
    reference = pdq._box_along_last(eye, window).T  # row r of the output filters e_r
    np.testing.assert_allclose(bc.box_matrix(length, window), reference, rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [(320, 240), (500, 383), (230, 160)])
def test_pdq_operator_matches_photosieve_dct(size):
    """A Y B^T on the float luma equals photosieve's pre-threshold DCT to float32 precision."""
    image = _rgb(3, size)
    linear = bc.pdq_operator(image.shape[:2]).forward(pdq.luma(image).astype(np.float64))
    real = bc.pdq_coefficients(image)
    scale = np.abs(real).max()
    np.testing.assert_allclose(linear, real, rtol=0, atol=1e-5 * scale)
    assert (bc.signs_of(linear) == bc.signs_of(real)).mean() > 0.98


@pytest.mark.parametrize("make", [bc.pdq_operator, bc.phash_operator])
def test_adjoint(make):
    """<A x, y> == <x, A^T y> for random x, y."""
    rng = np.random.default_rng(0)
    op = make((240, 320))
    x = rng.normal(size=(240, 320))
    y = rng.normal(size=op.forward(x).shape)
    lhs = float(np.sum(op.forward(x) * y))
    rhs = float(np.sum(x * op.adjoint(y)))
    assert lhs == pytest.approx(rhs, rel=1e-9)


def test_gradient_term_models_the_hash_and_its_derivative():
    """Its distance is the real hash's (before rounding to bytes); its gradient is the loss's slope."""
    benign, target = _rgb(8), _rgb(9)
    term = bc.GradientTerm.of(gradient.compute(target).hash.bits, benign.shape[:2])
    luma = pdq.luma(benign).astype(np.float64)
    loss, grad = term.loss_and_gradient(luma)
    real = gradient.compute(benign).hash - gradient.compute(target).hash
    assert np.sqrt(loss) == pytest.approx(real, abs=3.0)  # quantisation: <= 0.5 per byte
    direction = np.random.default_rng(1).normal(size=luma.shape)
    eps = 1e-3
    slope = (
        term.loss_and_gradient(luma + eps * direction)[0]
        - term.loss_and_gradient(luma - eps * direction)[0]
    ) / (2 * eps)
    assert float(np.sum(grad * direction)) == pytest.approx(slope, rel=1e-4)


def test_goal_checks_only_the_attacked_hashes():
    done = bc.goal((24, None, 200.0))
    assert done((24, 64, 199.0))
    assert not done((26, 0, 0.0))
    assert not done((0, 0, 201.0))


def test_phash_resize_matches_pillow_thumbnail():
    """The measured Lanczos matrices give imagehash's 32 x 32 thumbnail up to its uint8 rounding."""
    image = _rgb(4)
    grey = np.asarray(Image.fromarray(image).convert("L"), dtype=np.float64)
    rows = bc.pillow_resize_matrix(grey.shape[0], phash.PHASH_IMAGE_SIZE)
    cols = bc.pillow_resize_matrix(grey.shape[1], phash.PHASH_IMAGE_SIZE)
    thumb = phash.grey_thumbnail(image, 32, 32, "phash").astype(np.float64)
    assert np.abs(rows @ grey @ cols.T - thumb).max() <= 1.0
    linear = bc.phash_operator(grey.shape).forward(grey)
    assert (bc.signs_of(linear) == bc.signs_of(bc.phash_coefficients(image))).mean() > 0.95


def test_signs_from_hash_bits_follow_each_hash_layout():
    """Unpacking a hash gives the signs of the coefficients it was computed from."""
    image = _rgb(5)
    np.testing.assert_array_equal(
        bc.pdq_signs(pdq.compute(image).hash.bits), bc.signs_of(bc.pdq_coefficients(image))
    )
    np.testing.assert_array_equal(
        bc.phash_signs(phash.compute(image).hash.bits), bc.signs_of(bc.phash_coefficients(image))
    )


def test_attack_a_reaches_pdq_threshold_between_two_pictures():
    benign, target = _rgb(1), _rgb(2)
    targets = tuple(m.compute(target).hash for m in (pdq, phash, gradient))
    target_pdq = targets[0]
    assert pdq.compute(benign).hash - target_pdq > 60  # unrelated to start with
    terms = [bc.pdq_term(target_pdq.bits, benign.shape[:2], 10.0, 0)]
    result = bc.attack(benign, terms, bc.goal((bc.PLAIN_THRESHOLD, None, None)), targets)
    assert result.success
    assert result.distances[0] <= bc.PLAIN_THRESHOLD
    assert pdq.compute(result.image).hash - target_pdq <= bc.PLAIN_THRESHOLD
    assert result.image.dtype == np.uint8 and result.image.shape == benign.shape
    assert result.psnr > 15


def test_run_pair_matches_through_the_product():
    """Attack B on synthetic pictures: the PNG upload matches plain PDQ and the pHash-require mode."""
    result = bc.run_pair(_rgb(6), _rgb(7), "B", bc.Settings())
    assert result.success
    assert result.png.pdq_distance <= bc.STOP_DISTANCE + 4  # the audit decodes fast; a few bits
    assert result.png.phash_distance <= 16
    assert result.png.matched["robust-windows 83"]
    assert result.png.matched["+pHash require 93"]


def test_report_formats_a_tiny_result():
    matched = {label: label == "PDQ 31" for label, _, _ in bc.MODES}
    outcome = bc.MatchOutcome(matched, 20, 30, 400.0)
    before = bc.MatchOutcome(dict.fromkeys(matched, False), 120, 32, 410.0)
    results = [bc.PairResult("A: PDQ only", True, 30.0, 0.5, 28.0, 0.4, outcome, outcome, before)]
    text = bc.report(results, header="Title\n")
    lines = text.splitlines()
    assert lines[0] == "Title"
    assert lines[2].startswith("| attack | upload | pairs |")
    assert lines[4] == (
        "| none (the benign photo) | PNG (lossless) | 1 | - | 0 | 0 | 0 | 0 | 0 | 0 | "
        "120.0 / 32.0 / 410.0 | - | - |"
    )
    assert lines[5] == (
        "| A: PDQ only | PNG (lossless) | 1 | 1 | 1 | 0 | 0 | 0 | 0 | 0 | "
        "20.0 / 30.0 / 400.0 | 30.0 (30.0) | 0.5 |"
    )
    assert lines[6].startswith("| A: PDQ only | JPEG q90 | 1 |")
    assert "first image within PDQ 31: 1 pairs, median (worst) PSNR 28.0 (28.0) dB" in text
    assert "min 400.0, median 400.0, 0 of 2 within gradient's own match threshold 230" in text
    assert "missed the goal" not in text
    failed = [bc.PairResult("C: x", False, 14.0, 9.0, None, None, outcome, outcome, before)]
    assert "C: x: 1 attempts missed the goal; their last images: median (worst) PSNR 14.0 (14.0) dB" in (
        bc.report(failed)
    )
