"""Collision attacks on PDQ, alone and with pHash: does a second hash stop a white-box attacker?

Issue 12, item 4: "a benign photo perturbed to ~30 dB PSNR collides with a
listed PDQ hash in under a second of optimisation". This benchmark measures
that attack and what the matching modes do about it, with the product's own
code for everything but the attacker:

* **Pairs**: ``--pairs`` (benign, target) pairs of different photos from half
  B (:func:`benchmarks.bench_robustness.split_of`). Both are decoded and, when
  larger, reduced to at most :data:`MAX_SIDE` px on the long side (Lanczos):
  the attack works on the pixels the platform hashes, and 512 px keeps every
  step cheap (the audit of a 12 MP photo blurs it to PDQ's 64 x 64 grid
  anyway; a full-resolution attack would be the same linear problem, bigger).
* **The target's list** is what ``lists build --from-images -s gradient,phash``
  stores for the target (:func:`photosieve.lists.from_images.file_rows`, from
  the reduced target's PNG bytes, in memory): whole-image, window, borders
  and region PDQ hashes, each with its gradient and pHash.
* **Attack A (PDQ only)**: PDQ's 16 x 16 coefficients before the median are
  linear in the luma image (box blurs, decimation and the DCT are linear):
  ``C = A Y B^T`` with one matrix per axis (:class:`PdqOperator`). Projected
  gradient descent on ``sum relu(margin - s_i (C_i - median C))`` (``s_i`` the
  target's bit signs) plus an L2 penalty on the perturbation, added to all
  three channels (the luma weights sum to 1), clipped to 0..255 and rounded
  to uint8. It stops when the real PDQ (:func:`photosieve.hashes.pdq.compute`)
  of the uint8 image is within :data:`STOP_DISTANCE` of the target, or after
  ``--iterations``; the first image within 31 is recorded too.
* **Attack B (PDQ + pHash)**: the attacker knows the list also requires
  pHash. pHash's Lanczos resize to 32 x 32 is linear too; its matrices are
  measured from Pillow itself (resizing identity images in mode ``F``,
  :func:`pillow_resize_matrix`), so ``P = Dp R Y S^T Dp^T`` (:class:`PhashOperator`)
  and both hinge losses are minimised together until PDQ is within
  :data:`STOP_DISTANCE` and pHash within :data:`PHASH_STOP`.
* **Attack C (PDQ + pHash + gradient, opt-in)**: also the gradient hash's
  squared distance (:class:`GradientTerm`, backpropagated by hand: the hash
  is rectified and unit-normalised, not linear), until within
  :data:`GRADIENT_STOP`. Slow, and in the README's runs it never got there.
* **Matching**: each attacked image is encoded as PNG (lossless) and as JPEG
  q90 (what a platform may store), hashed by :class:`photosieve.hashing.ImageHasher`
  with each mode's plan (:func:`photosieve.robust.modes.plan_for_mode`, the
  audit's default decode) and matched by :func:`photosieve.robust.modes.match`
  with :func:`~photosieve.robust.modes.config_for_list`'s configuration: the
  rule ``match-files`` and the audit apply.

Nothing is written but the report: images live in memory only.

    .venv/bin/python -m benchmarks.bench_collision --photos ../shared/data/photos -o /tmp/collision.md
    .venv/bin/python -m benchmarks.bench_collision --photos ../shared/data/photos --pairs 5 --attacks C --iterations 1500
"""

from __future__ import annotations

import os

# One thread for every library, set before numpy loads its thread pools (2 shared cores).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import dataclasses
import io
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photosieve.hashes import gradient, pdq, phash
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.lists.from_images import ListBuildOptions, ListRow, file_rows
from photosieve.robust.modes import (
    ListEntries,
    MatchConfig,
    config_for_list,
    match,
    plan_for_mode,
    second_distance,
)

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
# Photos are reduced to this long side before the attack (see the module doc).
MAX_SIDE = 512
# The attack's goal: the "distance 24"; PDQ's own threshold is 31.
STOP_DISTANCE = 24
PLAIN_THRESHOLD = pdq.PDQ_MATCH_THRESHOLD
# Attack B's pHash goal: robust-windows-phash requires <= 16; a few bits of margin.
PHASH_STOP = 12
# Attack C's gradient goal: below gradient's own match threshold (230), with margin.
GRADIENT_STOP = 200.0
# How often (iterations) the real hashes of the uint8 image are checked.
CHECK_EVERY = 5
# Bisection steps shrinking a successful perturbation (see shrink).
SHRINK_STEPS = 6
SECOND_OPINIONS = ("gradient", "phash")
JPEG_QUALITY = 90

# The modes measured, as (column label, mode, threshold or None for the shipped one).
# 57: the threshold every mode falls back to at the default false-match budget
# (benchmarks/README.md, "Recall at a false-match budget").
MODES: tuple[tuple[str, str | None, float | None], ...] = (
    ("PDQ 31", None, PLAIN_THRESHOLD),
    ("robust-windows 57", "robust-windows", 57),
    ("robust-windows 83", "robust-windows", None),
    ("+pHash require 57", "robust-windows-phash", 57),
    ("+pHash require 93", "robust-windows-phash", None),
    ("+gradient combine 100", "robust-windows-gradient", None),
)


# -- linear operators ------------------------------------------------------------------


def box_matrix(length: int, window: int) -> np.ndarray:
    """One Jarosz box pass as a (length x length) matrix: output i averages a clipped window.

    Output ``i`` is the mean of inputs ``i - (window - half + 1) + 1 .. i + half - 1``
    clipped to the array, ``half = (window + 2) // 2``: the reference's four
    phases (:func:`photosieve.hashes.pdq._box_plan`) written as one rule.
    """
    n1 = (window + 2) // 2 - 1
    i = np.arange(length)
    lo = np.maximum(0, i - (window - n1) + 1)
    hi = np.minimum(length - 1, i + n1)
    j = np.arange(length)
    inside = (j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None])
    return inside / (hi - lo + 1)[:, None]


def pdq_axis_matrix(length: int) -> np.ndarray:
    """(16 x length): one axis of PDQ's pre-threshold DCT: DCT rows @ decimation @ two box passes."""
    box = box_matrix(length, pdq.jarosz_window(length))
    decimate = np.zeros((pdq.PDQ_BUFFER_SIZE, length))
    decimate[np.arange(pdq.PDQ_BUFFER_SIZE), pdq._decimation_indices(length)] = 1.0
    dct = pdq._DCT.astype(np.float64)
    return dct @ decimate @ box @ box


@dataclass(frozen=True)
class SeparableOperator:
    """``X -> A X B^T`` and its adjoint ``G -> A^T G B``: a linear map of an image, per axis."""

    rows: np.ndarray  # A: (m, H)
    cols: np.ndarray  # B: (n, W)

    def forward(self, image: np.ndarray) -> np.ndarray:
        return self.rows @ image @ self.cols.T

    def adjoint(self, coefficients: np.ndarray) -> np.ndarray:
        return self.rows.T @ coefficients @ self.cols


def pdq_operator(shape: tuple[int, int]) -> SeparableOperator:
    """PDQ's 16 x 16 coefficients of an (H, W) luma image (images larger than 64 x 64)."""
    return SeparableOperator(pdq_axis_matrix(shape[0]), pdq_axis_matrix(shape[1]))


def pillow_resize_matrix(length: int, size: int) -> np.ndarray:
    """(size x length): Pillow's LANCZOS resize of one axis, measured on identity images.

    Pillow resamples mode ``F`` images in float with the same filter weights
    as ``L`` (which adds fixed-point rounding): resizing a length x length
    identity along one axis gives the matrix's columns.
    """
    eye = Image.fromarray(np.eye(length, dtype=np.float32), mode="F")
    out = np.asarray(eye.resize((size, length), phash.IMAGEHASH_RESAMPLE), dtype=np.float64)
    return out.T  # out[r, :] = M @ e_r


def phash_dct_matrix() -> np.ndarray:
    """(8 x 32): the low rows of scipy's unnormalised DCT-II, ``2 cos(pi k (2n + 1) / 2N)``."""
    n = phash.PHASH_IMAGE_SIZE
    k = np.arange(phash.PHASH_HASH_SIZE)[:, None]
    j = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))


def phash_operator(shape: tuple[int, int]) -> SeparableOperator:
    """pHash's 8 x 8 low DCT block of an (H, W) grey image, with the resize made linear."""
    size = phash.PHASH_IMAGE_SIZE
    dct = phash_dct_matrix()
    return SeparableOperator(
        dct @ pillow_resize_matrix(shape[0], size), dct @ pillow_resize_matrix(shape[1], size)
    )


def pdq_coefficients(image: np.ndarray) -> np.ndarray:
    """photosieve's own pre-threshold PDQ DCT of a uint8 RGB image (what the bits compare)."""
    return pdq.dct_batch(pdq.buffer64(image)[None])[0]


def phash_coefficients(image: np.ndarray) -> np.ndarray:
    """photosieve's own pHash low block (8 x 8) of a uint8 RGB image."""
    size = phash.PHASH_IMAGE_SIZE
    thumb = phash.grey_thumbnail(image, size, size, "phash")
    cols = phash.dct2(thumb, axis=0)[: phash.PHASH_HASH_SIZE, :]
    return phash.dct2(cols, axis=1)[:, : phash.PHASH_HASH_SIZE]


# -- the attack ------------------------------------------------------------------------


@dataclass(frozen=True)
class HingeTerm:
    """One hash's hinge loss: push each coefficient to its target side of the median by ``margin``.

    The median is taken as a constant in the gradient (it moves by one
    coefficient's share: the next step corrects it).
    """

    operator: SeparableOperator
    signs: np.ndarray  # +1 / -1 per coefficient: the target's bits
    margin: float
    weight: float = 1.0
    skip_dc: bool = False  # pHash's DC coefficient is always above the median
    free_bits: int = 0  # the goal allows this many wrong bits: leave the hardest ones alone

    def loss_and_gradient(self, luma: np.ndarray) -> tuple[float, np.ndarray]:
        c = self.operator.forward(luma)
        z = self.signs * (c - np.median(c))
        active = (z < self.margin).astype(np.float64)
        if self.skip_dc:
            active[0, 0] = 0.0
        if self.free_bits:
            # The coefficients furthest on the wrong side cost the most to move:
            # a goal of distance d lets d of them stay wrong.
            hardest = np.argsort(z, axis=None)[: self.free_bits]
            active.flat[hardest] = 0.0
        loss = float(np.sum(active * (self.margin - z)))
        return self.weight * loss, self.weight * self.operator.adjoint(-active * self.signs)


def signs_of(coefficients: np.ndarray) -> np.ndarray:
    """+1 where a coefficient is above the median (a set bit), -1 elsewhere."""
    return np.where(coefficients > np.median(coefficients), 1.0, -1.0)


def pdq_signs(hash_bytes: bytes) -> np.ndarray:
    """(16, 16) +-1 signs of a PDQ hash's coefficients (bit 16 i + j, packed last-first)."""
    bits = np.unpackbits(np.frombuffer(hash_bytes, np.uint8))[::-1]
    return np.where(bits.reshape(pdq.PDQ_DCT_SIZE, pdq.PDQ_DCT_SIZE) == 1, 1.0, -1.0)


def phash_signs(hash_bytes: bytes) -> np.ndarray:
    """(8, 8) +-1 signs of a pHash's low DCT block (row-major, most significant bit first)."""
    bits = np.unpackbits(np.frombuffer(hash_bytes, np.uint8))
    return np.where(bits.reshape(phash.PHASH_HASH_SIZE, phash.PHASH_HASH_SIZE) == 1, 1.0, -1.0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@dataclass
class AttackResult:
    """One attack's outcome: the final image (memory only) and the numbers the report keeps."""

    image: np.ndarray
    distances: tuple[float, ...]  # PDQ, pHash, gradient, to the target's hashes
    psnr: float
    seconds: float
    iterations: int
    success: bool
    first31_psnr: float | None = None  # the first image within PDQ 31 (None: never)
    first31_seconds: float | None = None


def hash_distances(image: np.ndarray, targets: Sequence[HashValue]) -> tuple[float, ...]:
    """Real PDQ, pHash and gradient distances of a uint8 image to the target's hashes."""
    return tuple(
        module.compute(image).hash - target
        for module, target in zip((pdq, phash, gradient), targets)
    )


def attack(
    benign: np.ndarray,
    terms: Sequence[HingeTerm | GradientTerm],
    done: Callable[[tuple[float, ...]], bool],
    targets: Sequence[HashValue],
    *,
    iterations: int = 300,
    step: float = 0.2,
    l2: float = 1e-5,
) -> AttackResult:
    """Projected gradient descent on the summed hinge terms plus ``l2 * |delta|^2``.

    The perturbation is one luma plane added to R, G and B (luma weights sum to
    1, so the luma moves by it exactly until a channel clips). Steps are
    normalised to ``step`` grey levels RMS so one setting suits every photo;
    the iterate is projected so that no channel leaves 0..255. Every
    :data:`CHECK_EVERY` iterations the real hashes of the rounded uint8 image
    decide whether to stop (``done((pdq, phash, gradient distances))``).
    """
    start = time.perf_counter()
    base = benign.astype(np.float64)
    luma0 = pdq.luma(benign).astype(np.float64)
    low = -base.min(axis=2)  # delta range keeping every channel in 0..255
    high = 255.0 - base.max(axis=2)
    delta = np.zeros(benign.shape[:2])
    first31: tuple[float, float] | None = None
    image, distances = benign, hash_distances(benign, targets)
    it = 0
    for it in range(1, iterations + 1):
        grad = 2 * l2 * delta
        for term in terms:
            grad += term.loss_and_gradient(luma0 + delta)[1]
        norm = float(np.sqrt(np.mean(grad**2)))
        if norm == 0:
            break
        delta = np.clip(delta - step * grad / norm, low, high)
        if it % CHECK_EVERY:
            continue
        image = perturbed(base, delta)
        distances = hash_distances(image, targets)
        if first31 is None and distances[0] <= PLAIN_THRESHOLD:
            first31 = (psnr(benign, image), time.perf_counter() - start)
        if done(distances):
            image, distances = shrink(base, delta, done, targets)
            break
    return AttackResult(
        image,
        distances,
        psnr(benign, image),
        time.perf_counter() - start,
        it,
        done(distances),
        *(first31 or (None, None)),
    )


def perturbed(base: np.ndarray, delta: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The uint8 image ``base + scale * delta`` on every channel, rounded and clipped."""
    return np.clip(np.rint(base + scale * delta[..., None]), 0, 255).astype(np.uint8)


def shrink(
    base: np.ndarray,
    delta: np.ndarray,
    done: Callable[[tuple[float, ...]], bool],
    targets: Sequence[HashValue],
    steps: int = SHRINK_STEPS,
) -> tuple[np.ndarray, tuple[float, ...]]:
    """The smallest ``scale * delta`` (bisection on the scale) whose image still meets the goal.

    Descent overshoots: its last steps push bits well past the median. The
    real hashes are checked at each scale, so the result meets the goal.
    """
    lo, hi = 0.0, 1.0
    best = perturbed(base, delta)
    best_d = hash_distances(best, targets)
    for _ in range(steps):
        mid = (lo + hi) / 2
        image = perturbed(base, delta, mid)
        d = hash_distances(image, targets)
        if done(d):
            hi, best, best_d = mid, image, d
        else:
            lo = mid
    return best, best_d


def pdq_term(
    target_hash: bytes, shape: tuple[int, int], margin: float, free_bits: int = 0
) -> HingeTerm:
    """Attack A's loss: the listed PDQ hash's signs, margin in coefficient units."""
    return HingeTerm(pdq_operator(shape), pdq_signs(target_hash), margin, free_bits=free_bits)


def phash_term(
    target_hash: bytes, shape: tuple[int, int], margin: float, weight: float, free_bits: int = 0
) -> HingeTerm:
    """Attack B's second loss: the listed pHash's signs (DC skipped: always set)."""
    return HingeTerm(
        phash_operator(shape), phash_signs(target_hash), margin, weight, True, free_bits
    )


# -- the gradient hash (attack C) ------------------------------------------------------


def _blur_matrix(size: int) -> np.ndarray:
    """((size - 2) x size): gradient's [1, 2, 1] / 4 blur, valid part, as a matrix."""
    out = np.zeros((size - 2, size))
    for k, tap in enumerate(gradient.GRADIENT_BLUR_TAPS.astype(np.float64)):
        out[np.arange(size - 2), np.arange(size - 2) + k] = tap
    return out


def _cell_matrix() -> np.ndarray:
    """(6 x 28): which gradient pixels each grid cell sums along one axis."""
    lo = np.arange(gradient.GRADIENT_GRID) * gradient.GRADIENT_CELL_STRIDE
    j = np.arange(gradient.GRADIENT_MAP_SIZE)
    return ((j[None, :] >= lo[:, None]) & (j[None, :] < lo[:, None] + gradient.GRADIENT_CELL_SIZE)).astype(
        np.float64
    )


def _unit_backward(y: np.ndarray, norm: float, g: np.ndarray) -> np.ndarray:
    """Gradient through ``y = x / |x|``: ``(g - y (y . g)) / |x|``."""
    return (g - y * float(y @ g)) / norm if norm > 0 else np.zeros_like(g)


@dataclass(frozen=True)
class GradientTerm:
    """The gradient hash's squared distance to a target, before quantisation, and its gradient.

    The hash is linear up to its gradient maps (area resample, blur,
    differences), then piecewise (rectify, dead zone, clip) and smooth (unit
    norms): differentiable almost everywhere, backpropagated by hand here.
    """

    rows: np.ndarray  # (32, H) area weights, then the blur: (30, H)
    cols: np.ndarray  # (30, W)
    target: np.ndarray  # (144,) target hash bytes as floats
    weight: float = 1.0

    @classmethod
    def of(cls, target_hash: bytes, shape: tuple[int, int], weight: float = 1.0) -> GradientTerm:
        size = gradient.GRADIENT_NORM_SIZE
        blur = _blur_matrix(size)
        rows = blur @ gradient._area_weights(shape[0], size).astype(np.float64)
        cols = blur @ gradient._area_weights(shape[1], size).astype(np.float64)
        return cls(rows, cols, np.frombuffer(target_hash, np.uint8).astype(np.float64), weight)

    def loss_and_gradient(self, luma: np.ndarray) -> tuple[float, np.ndarray]:
        blurred = self.rows @ luma @ self.cols.T  # (30, 30)
        dx = blurred[1:-1, 2:] - blurred[1:-1, :-2]
        dy = blurred[2:, 1:-1] - blurred[:-2, 1:-1]
        live_x = np.abs(dx) >= gradient.GRADIENT_DEADZONE
        live_y = np.abs(dy) >= gradient.GRADIENT_DEADZONE
        dx, dy = dx * live_x, dy * live_y
        cells = _cell_matrix()
        maps = (np.maximum(dx, 0), np.maximum(-dx, 0), np.maximum(dy, 0), np.maximum(-dy, 0))
        sums = np.stack([cells @ m @ cells.T for m in maps], axis=-1).reshape(-1)  # cell-major
        n1 = float(np.linalg.norm(sums))
        u = sums / n1 if n1 > 0 else np.zeros_like(sums)
        kept = u < gradient.GRADIENT_CLIP
        w = np.minimum(u, gradient.GRADIENT_CLIP)
        n2 = float(np.linalg.norm(w))
        y = w / n2 if n2 > 0 else np.zeros_like(w)
        diff = gradient.GRADIENT_QUANT_SCALE * y - self.target
        loss = float(diff @ diff)
        g = _unit_backward(y, n2, 2 * gradient.GRADIENT_QUANT_SCALE * diff) * kept
        g = _unit_backward(u, n1, g).reshape(gradient.GRADIENT_GRID, gradient.GRADIENT_GRID, 4)
        g_maps = [cells.T @ g[:, :, k] @ cells for k in range(4)]
        g_dx = (g_maps[0] * (dx > 0) - g_maps[1] * (dx < 0)) * live_x
        g_dy = (g_maps[2] * (dy > 0) - g_maps[3] * (dy < 0)) * live_y
        g_blurred = np.zeros_like(blurred)
        g_blurred[1:-1, 2:] += g_dx
        g_blurred[1:-1, :-2] -= g_dx
        g_blurred[2:, 1:-1] += g_dy
        g_blurred[:-2, 1:-1] -= g_dy
        return self.weight * loss, self.weight * (self.rows.T @ g_blurred @ self.cols)


# -- matching the product's way --------------------------------------------------------


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def target_list(target: np.ndarray, image_id: str = "target") -> list[ListRow]:
    """The rows ``lists build --from-images -s gradient,phash`` writes for the target image."""
    options = ListBuildOptions(second_opinions=SECOND_OPINIONS)
    return file_rows(image_id, png_bytes(target), options)


@dataclass(frozen=True)
class ListedTarget:
    """The target's list as each mode's matcher sees it, and its whole-image second hashes."""

    entries: ListEntries
    configs: dict[str, MatchConfig]
    whole: dict[str, bytes]  # algorithm -> hash bytes of the whole-image entry

    @classmethod
    def of(cls, rows: Sequence[ListRow]) -> ListedTarget:
        entries = ListEntries.from_rows(rows)
        configs = {}
        for label, mode, threshold in MODES:
            if mode is None:  # an audit without --match-mode: every listed PDQ hash, at 31
                configs[label] = MatchConfig(label, threshold=float(threshold))
            else:
                configs[label] = config_for_list(
                    mode, has_windows=True, second_algorithms=SECOND_OPINIONS, threshold=threshold
                )
        whole = {r.algorithm: bytes.fromhex(r.hash) for r in rows if not r.variant}
        return cls(entries, configs, whole)


_HASHERS: dict[str | None, ImageHasher] = {}


def query_hashes(data: bytes, mode: str | None) -> list[HashResult]:
    """An uploaded file's hashes as an audit in ``mode`` computes them (default decode)."""
    if mode not in _HASHERS:
        plan = HashPlan(("pdq", *SECOND_OPINIONS))
        _HASHERS[mode] = ImageHasher(plan if mode is None else plan_for_mode(plan, mode))
    result = _HASHERS[mode].hash_bytes("upload", data)
    return list(result.frames[0].results)


@dataclass(frozen=True)
class MatchOutcome:
    """Which modes matched one uploaded file, and its whole-image distances to the target."""

    matched: dict[str, bool]
    pdq_distance: int
    phash_distance: int
    gradient_distance: float


def match_upload(data: bytes, listed: ListedTarget) -> MatchOutcome:
    """Match one file against the target's list in every mode of :data:`MODES`."""
    matched = {}
    plain: list[HashResult] = []
    for label, mode, _ in MODES:
        results = query_hashes(data, mode)
        if mode is None:
            plain = results
            quality_ok = all(
                r.quality >= pdq.PDQ_QUALITY_THRESHOLD for r in results if r.hash.algorithm == "pdq"
            )
            matched[label] = quality_ok and bool(match(results, listed.entries, listed.configs[label]))
        else:
            matched[label] = bool(match(results, listed.entries, listed.configs[label]))
    upright = {r.hash.algorithm: r.hash.bits for r in plain if not r.variant}
    return MatchOutcome(
        matched,
        int(second_distance("phash", upright["pdq"], listed.whole["pdq"])),
        int(second_distance("phash", upright["phash"], listed.whole["phash"])),
        second_distance("gradient", upright["gradient"], listed.whole["gradient"]),
    )


# -- the benchmark ---------------------------------------------------------------------


@dataclass
class PairResult:
    """One attack on one pair: the attack's numbers and what each upload matched."""

    attack: str
    success: bool
    psnr: float
    seconds: float
    first31_psnr: float | None
    first31_seconds: float | None
    png: MatchOutcome
    jpeg: MatchOutcome
    before: MatchOutcome | None = None  # the benign photo itself (PNG): what it matched unattacked


@dataclass(frozen=True)
class Settings:
    """The attack's knobs, tuned by hand on four pairs of half A (the report is on half B).

    Steps are normalised (RMS grey levels per iteration), so the L2 penalty
    only breaks ties; what keeps the PSNR up is the small step, stopping at the
    goal and :func:`shrink`. Margins are in coefficient units (PDQ's reach
    ~900, pHash's ~50,000); ``*_free_bits`` below the goal distance (24, 12).
    """

    iterations: int = 400
    step: float = 0.2
    l2: float = 1e-5
    pdq_margin: float = 10.0
    pdq_free_bits: int = 16
    phash_margin: float = 100.0
    phash_weight: float = 0.1
    phash_free_bits: int = 4
    gradient_weight: float = 1e-2


def load(path: Path, max_side: int = MAX_SIDE) -> np.ndarray:
    """A photo as RGB uint8, reduced (Lanczos) so its long side is at most ``max_side``."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        scale = max_side / max(image.size)
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        return np.asarray(image).copy()


# The attacks: name, and the goal per hash (PDQ, pHash, gradient; None: not attacked).
ATTACKS: dict[str, tuple[str, tuple[float | None, ...]]] = {
    "A": ("A: PDQ only", (STOP_DISTANCE, None, None)),
    "B": ("B: PDQ + pHash", (STOP_DISTANCE, PHASH_STOP, None)),
    "C": ("C: PDQ + pHash + gradient", (STOP_DISTANCE, PHASH_STOP, GRADIENT_STOP)),
}


def goal(limits: Sequence[float | None]) -> Callable[[tuple[float, ...]], bool]:
    """The stop test: every attacked hash within its limit."""

    def done(distances: tuple[float, ...]) -> bool:
        return all(lim is None or d <= lim for d, lim in zip(distances, limits))

    return done


def attack_terms(kind: str, targets: Sequence[HashValue], shape: tuple[int, int], settings: Settings):
    """The loss terms of attack ``kind``: PDQ's, then pHash's (B, C), then gradient's (C)."""
    limits = ATTACKS[kind][1]
    terms: list[HingeTerm | GradientTerm] = [
        pdq_term(targets[0].bits, shape, settings.pdq_margin, settings.pdq_free_bits)
    ]
    if limits[1] is not None:
        terms.append(
            phash_term(
                targets[1].bits, shape, settings.phash_margin, settings.phash_weight,
                settings.phash_free_bits,
            )
        )
    if limits[2] is not None:
        terms.append(GradientTerm.of(targets[2].bits, shape, settings.gradient_weight))
    return terms


def run_pair(benign: np.ndarray, target: np.ndarray, kind: str, settings: Settings) -> PairResult:
    """Attack one pair (``kind``: a key of :data:`ATTACKS`) and match both uploads against the target's list."""
    listed = ListedTarget.of(target_list(target))
    targets = tuple(module.compute(target).hash for module in (pdq, phash, gradient))
    terms = attack_terms(kind, targets, benign.shape[:2], settings)
    result = attack(
        benign, terms, goal(ATTACKS[kind][1]), targets,
        iterations=settings.iterations, step=settings.step, l2=settings.l2,
    )
    return PairResult(
        ATTACKS[kind][0],
        result.success,
        result.psnr,
        result.seconds,
        result.first31_psnr,
        result.first31_seconds,
        match_upload(png_bytes(result.image), listed),
        match_upload(jpeg_bytes(result.image), listed),
        match_upload(png_bytes(benign), listed),
    )


def pick_pairs(photos: Sequence[Path], n: int, seed: int) -> list[tuple[Path, Path]]:
    """``n`` (benign, target) pairs of different photos, drawn without repeating a benign photo."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(photos))
    pairs = []
    for k in range(min(n, len(photos) // 2)):
        pairs.append((photos[order[2 * k]], photos[order[2 * k + 1]]))
    return pairs


# -- the report ------------------------------------------------------------------------


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "-"


def _worst(values: Sequence[float]) -> str:
    return f"{min(values):.1f}" if values else "-"


def _row(
    attack_name: str,
    upload: str,
    pairs: int,
    reached: str,
    outcomes: Sequence[MatchOutcome],
    labels: Sequence[str],
    psnr_text: str,
    seconds: str,
) -> str:
    """One table row: matches per mode and the median whole-image distances of the uploads."""
    counts = " | ".join(str(sum(o.matched[label] for o in outcomes)) for label in labels)
    medians = [
        _median([getattr(o, name) for o in outcomes])
        for name in ("pdq_distance", "phash_distance", "gradient_distance")
    ]
    return (
        f"| {attack_name} | {upload} | {pairs} | {reached} | {counts} | {' / '.join(medians)} | "
        f"{psnr_text} | {seconds} |"
    )


def report(results: Sequence[PairResult], *, header: str = "") -> str:
    """The Markdown tables: per attack and upload, successes per mode, PSNR, seconds, distances."""
    labels = [label for label, _, _ in MODES]
    lines = [header] if header else []
    lines += [
        "| attack | upload | pairs | attack reached its goal | "
        + " | ".join(f"matches {label}" for label in labels)
        + " | median PDQ / pHash / gradient distance | median (worst) PSNR dB | median s |",
        "|---|---|---|---|" + "---|" * len(labels) + "---|---|---|",
    ]
    unattacked = [r.before for r in results if r.before is not None and r.attack.startswith("A")]
    if unattacked:
        lines.append(_row("none (the benign photo)", "PNG (lossless)", len(unattacked), "-",
                          unattacked, labels, "-", "-"))
    for name in dict.fromkeys(r.attack for r in results):
        group = [r for r in results if r.attack == name]
        done = [r for r in group if r.success]
        psnrs = [r.psnr for r in done]
        for upload in ("png", "jpeg"):
            what = "PNG (lossless)" if upload == "png" else f"JPEG q{JPEG_QUALITY}"
            lines.append(
                _row(name, what, len(group), str(len(done)), [getattr(r, upload) for r in group],
                     labels, f"{_median(psnrs)} ({_worst(psnrs)})",
                     _median([r.seconds for r in done]))
            )
    for name in dict.fromkeys(r.attack for r in results):
        missed = [r for r in results if r.attack == name and not r.success]
        if missed:
            lines.append("")
            lines.append(
                f"{name}: {len(missed)} attempts missed the goal; their last images: median (worst) "
                f"PSNR {_median([r.psnr for r in missed])} ({_worst([r.psnr for r in missed])}) dB, "
                f"median {_median([r.seconds for r in missed])} s."
            )
    first = [r for r in results if r.first31_psnr is not None and r.attack.startswith("A")]
    if first:
        lines.append("")
        lines.append(
            f"Attack A, first image within PDQ {PLAIN_THRESHOLD}: {len(first)} pairs, median (worst) "
            f"PSNR {_median([r.first31_psnr for r in first])} ({_worst([r.first31_psnr for r in first])}) dB, "
            f"median {_median([r.first31_seconds for r in first])} s."
        )
    uploads = [o for r in results for o in (r.png, r.jpeg)]
    if uploads:
        grad = [o.gradient_distance for o in uploads]
        lines.append(
            f"Gradient distance of the attacked uploads to the target's whole-image entry: "
            f"min {min(grad):.1f}, median {statistics.median(grad):.1f}, "
            f"{sum(g <= gradient.GRADIENT_MATCH_THRESHOLD for g in grad)} of {len(grad)} within "
            f"gradient's own match threshold {gradient.GRADIENT_MATCH_THRESHOLD:g} (no shipped mode "
            "requires it)."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="Folder of photos.")
    parser.add_argument("--pairs", type=int, default=20, help="(benign, target) pairs. Default: 20.")
    parser.add_argument("--seed", type=int, default=0, help="Pair draw. Default: 0.")
    parser.add_argument("--split", default="B", help="Half of the photos (A or B). Default: B.")
    parser.add_argument("--iterations", type=int, default=Settings.iterations)
    parser.add_argument(
        "--attacks", default="AB",
        help="Which attacks, of A, B, C (C, on the gradient hash too, is slow). Default: AB.",
    )
    parser.add_argument("-o", "--output", type=Path, help="Also write the report here.")
    args = parser.parse_args(argv)
    from benchmarks.bench_robustness import list_photos, split_of

    photos = [p for p in list_photos(args.photos) if split_of(p) == args.split]
    settings = dataclasses.replace(Settings(), iterations=args.iterations)
    results: list[PairResult] = []
    for benign_path, target_path in pick_pairs(photos, args.pairs, args.seed):
        benign, target = load(benign_path), load(target_path)
        for kind in args.attacks:
            result = run_pair(benign, target, kind, settings)
            results.append(result)
            print(
                f"{result.attack}: goal {'reached' if result.success else 'missed'}, "
                f"PSNR {result.psnr:.1f} dB, {result.seconds:.2f} s, PNG PDQ/pHash "
                f"{result.png.pdq_distance}/{result.png.phash_distance}, JPEG PDQ/pHash "
                f"{result.jpeg.pdq_distance}/{result.jpeg.phash_distance}, gradient "
                f"{result.png.gradient_distance:.1f}/{result.jpeg.gradient_distance:.1f}",
                flush=True,
            )
    header = (
        f"Collision attacks: {len(results)} attacks on pairs of half {args.split} "
        f"(seed {args.seed}, long side <= {MAX_SIDE} px, goal PDQ <= {STOP_DISTANCE}"
        f", pHash <= {PHASH_STOP} for B and C, gradient <= {GRADIENT_STOP:g} for C, "
        f"{settings.iterations} iterations at most)\n"
    )
    text = report(results, header=header)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
