"""ImageHasher: decode once, every requested hash, failures as values."""

from __future__ import annotations

import hashlib
import io
import pickle

import numpy as np
import pytest
from PIL import Image

from photosieve.decode import DecodeOptions, decode
from photosieve.errors import ConfigError, FailureReason, HashFailure
from photosieve.hashes import pdq, phash
from photosieve.hashing import HashPlan, ImageHasher
from tests import multiframe_samples


def _jpeg(seed: int, size=(96, 64)) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _requested(plan: HashPlan) -> set[str]:
    return set(plan.algorithms)


def _accounted(result) -> list[str]:
    names = [d.hash.algorithm for d in result.digests]
    for frame in result.frames:
        names += sorted({r.hash.algorithm for r in frame.results})
    for failure in result.failures:
        names += list(failure.algorithms)
    return names


def test_plan_parse_orders_names_and_maps_dihedral():
    plan = HashPlan.parse("md5, PDQ-dihedral,phash")
    assert plan.algorithms == ("pdq", "phash", "md5")
    assert plan.pdq_dihedral
    assert plan.pixel_algorithms == ("pdq", "phash")
    assert plan.digest_algorithms == ("md5",)


@pytest.mark.parametrize("names", ["", "pdq,nope", "crc32"])
def test_plan_rejects_unknown_or_empty(names):
    with pytest.raises(ConfigError):
        HashPlan.parse(names)


def test_hashes_equal_the_algorithms_on_decoded_pixels():
    data = _jpeg(1)
    plan = HashPlan.parse("pdq,phash,md5,sha256", DecodeOptions(mode="exact"))
    result = ImageHasher(plan).hash_bytes("a.jpg", data)
    pixels = decode(data, plan.decode)[0].pixels
    by_algorithm = {r.hash.algorithm: r for r in result.frames[0].results}
    assert by_algorithm["pdq"] == pdq.compute(pixels)
    assert by_algorithm["phash"] == phash.compute(pixels)
    assert {d.hash.algorithm: d.hash.bits for d in result.digests} == {
        "md5": hashlib.md5(data).digest(),
        "sha256": hashlib.sha256(data).digest(),
    }
    assert result.failures == ()
    assert (result.frames[0].width, result.frames[0].height) == (96, 64)


def test_dihedral_gives_eight_named_pdq_hashes():
    data = _jpeg(2)
    exact = DecodeOptions(mode="exact")
    result = ImageHasher(HashPlan.parse("pdq-dihedral", exact)).hash_bytes("a.jpg", data)
    results = result.frames[0].results
    assert [r.orientation for r in results] == list(pdq.ORIENTATIONS)
    pixels = decode(data, exact)[0].pixels
    assert [r.hash for r in results] == [r.hash for r in pdq.compute_dihedral(pixels)]


def _photo_like(size, seed=5) -> Image.Image:
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(size, Image.Resampling.BICUBIC)
    detail = rng.normal(0, 12, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(coarse) + detail, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_fast_mode_pdq_stays_close_to_exact_mode(fmt):
    # Fast mode decodes at 1/k and applies the full-resolution PDQ filter to
    # the block means; it must land within a few bits of exact mode.
    buf = io.BytesIO()
    _photo_like((1600, 1200)).save(buf, fmt)
    data = buf.getvalue()
    fast = ImageHasher(HashPlan.parse("pdq")).hash_bytes("a", data)
    exact = ImageHasher(HashPlan.parse("pdq", DecodeOptions(mode="exact"))).hash_bytes("a", data)
    assert fast.frames[0].scale < 1  # the fast path really was taken
    assert fast.frames[0].results[0].hash - exact.frames[0].results[0].hash <= 6


def test_fast_mode_handles_exif_rotated_reduced_images():
    # EXIF orientation 6 (rotate 270): the decoded pixels are transposed
    # relative to the stored size; the fast filter must use the right axes.
    upright = _photo_like((600, 1000), seed=7)
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif)
    plain = io.BytesIO()
    upright.save(plain, "JPEG", quality=95)
    rotated = ImageHasher(HashPlan.parse("pdq")).hash_bytes("r", buf.getvalue()).frames[0]
    reference = ImageHasher(HashPlan.parse("pdq", DecodeOptions(mode="exact"))).hash_bytes("u", plain.getvalue())
    assert rotated.exif_transposed and rotated.scale < 1
    assert rotated.results[0].hash - reference.frames[0].results[0].hash <= 8


def test_undecodable_object_keeps_its_digests_and_fails_the_pixel_hashes():
    result = ImageHasher(HashPlan.parse("pdq,phash,md5")).hash_bytes("x.jpg", b"\xff\xd8\xff garbage")
    assert [d.hash.algorithm for d in result.digests] == ["md5"]
    assert result.frames == ()
    (failure,) = result.failures
    assert failure.stage == "decode" and failure.algorithms == ("pdq", "phash")
    assert failure.uri == "x.jpg"


def test_empty_object_is_an_empty_failure():
    (failure,) = ImageHasher(HashPlan.parse("pdq")).hash_bytes("e", b"").failures
    assert failure.reason is FailureReason.EMPTY


def test_image_below_pdq_minimum_fails_pdq_only():
    buf = io.BytesIO()
    Image.new("RGB", (3, 40), (10, 200, 30)).save(buf, "PNG")
    result = ImageHasher(HashPlan.parse("pdq,dhash")).hash_bytes("thin.png", buf.getvalue())
    assert [r.hash.algorithm for r in result.frames[0].results] == ["dhash"]
    (failure,) = result.failures
    assert failure.reason is FailureReason.TOO_SMALL and failure.algorithms == ("pdq",)


def test_every_requested_algorithm_is_accounted_for_exactly_once():
    plan = HashPlan.parse("pdq,dhash,md5")
    good = [(f"ok{i}.jpg", _jpeg(i)) for i in range(5)]
    bad = [("empty", b""), ("text", b"hello"), ("trunc.jpg", _jpeg(9)[:200])]
    read_fail = ("gone.jpg", HashFailure("gone.jpg", "read", FailureReason.NOT_FOUND, "gone", plan.algorithms))
    for result in ImageHasher(plan, batch_size=3).hash_many(good + bad + [read_fail]):
        assert sorted(_accounted(result)) == sorted(_requested(plan)), result.uri


def test_hash_many_batches_without_changing_results_or_order():
    items = [(f"{i}.jpg", _jpeg(i, size=(40 + 7 * i, 50))) for i in range(11)]
    hasher = ImageHasher(HashPlan.parse("pdq-dihedral,phash"), batch_size=4)
    many = list(hasher.hash_many(items))
    assert [r.uri for r in many] == [uri for uri, _ in items]
    assert many == [hasher.hash_bytes(uri, data) for uri, data in items]


def test_hasher_pickles_for_beam():
    hasher = ImageHasher(HashPlan.parse("pdq,md5"))
    clone = pickle.loads(pickle.dumps(hasher))
    data = _jpeg(4)
    assert clone.hash_bytes("a", data) == hasher.hash_bytes("a", data)


@pytest.mark.parametrize(
    "orientation, name",
    [(2, "flipy"), (3, "rotate180"), (4, "flipx"), (5, "flip_plus1"), (6, "rotate90"), (7, "flip_minus1"), (8, "rotate270")],
)
def test_exif_rotated_photo_also_gets_its_as_stored_hash(orientation, name):
    # Lists made by tools that ignore EXIF hold the hash of the stored pixels.
    stored = _photo_like((400, 300), seed=orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif)
    exact = DecodeOptions(mode="exact")
    frame = ImageHasher(HashPlan.parse("pdq", exact)).hash_bytes("r", buf.getvalue()).frames[0]
    assert [r.orientation for r in frame.results] == ["", name]
    as_stored = pdq.compute(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))).hash
    assert frame.results[1].hash == as_stored  # exact mode: pdqhash's bits on the stored pixels
    assert frame.results[0].hash - as_stored > 31
    fast = ImageHasher(HashPlan.parse("pdq")).hash_bytes("r", buf.getvalue()).frames[0]
    assert fast.results[1].orientation == name and fast.results[1].hash - as_stored <= 6
    off = HashPlan.parse("pdq", exact)
    off = HashPlan(off.algorithms, off.pdq_dihedral, off.decode, pdq_as_stored=False)
    assert len(ImageHasher(off).hash_bytes("r", buf.getvalue()).frames[0].results) == 1


# -- frames and decoder limits ------------------------------------------------

ALL_FRAMES = DecodeOptions(all_frames=True)


@pytest.mark.parametrize(
    "make", [multiframe_samples.cut_gif, multiframe_samples.tiff_with_bad_page], ids=["gif", "tiff"]
)
def test_a_damaged_later_frame_leaves_frame_0_hashed(make):
    data = make()
    first = ImageHasher(HashPlan.parse("pdq,md5")).hash_bytes("a", data)
    assert [f.frame for f in first.frames] == [0] and first.failures == ()
    # All frames: frame 0's hashes are kept, frame 1 is the pixel hashes' error.
    every = ImageHasher(HashPlan.parse("pdq,md5", ALL_FRAMES)).hash_bytes("a", data)
    assert [f.frame for f in every.frames] == [0]
    assert every.frames[0].results == first.frames[0].results
    (failure,) = every.failures
    assert (failure.stage, failure.reason, failure.algorithms) == (
        "decode", FailureReason.TRUNCATED, ("pdq",))
    assert "frame 1" in failure.message and "reading stopped here" in failure.message


def test_frames_past_max_frames_are_a_cut_off_failure():
    data = multiframe_samples.many_page_tiff(50)
    plan = HashPlan.parse("pdq,dhash", DecodeOptions(all_frames=True, max_frames=20))
    result = ImageHasher(plan).hash_bytes("pages.tif", data)
    assert [f.frame for f in result.frames] == list(range(20))
    (failure,) = result.failures
    assert (failure.reason, failure.algorithms) == (FailureReason.FRAMES_CUT_OFF, ("pdq", "dhash"))
    assert "frame 20" in failure.message


def test_pixel_budget_over_all_frames_is_a_typed_failure():
    data = multiframe_samples.many_page_tiff(50)  # 50 pages of 8x8
    plan = HashPlan.parse("dhash", DecodeOptions(all_frames=True, max_pixels=64 * 10))
    result = ImageHasher(plan).hash_bytes("pages.tif", data)
    assert len(result.frames) == 10
    (failure,) = result.failures
    assert failure.reason is FailureReason.OVER_BUDGET and "frame 10" in failure.message


def test_decoder_warnings_are_reported_with_the_object():
    data = multiframe_samples.tiff_with_bad_page()
    result = ImageHasher(HashPlan.parse("pdq", ALL_FRAMES)).hash_bytes("a.tif", data)
    warned = dict(result.decode_warnings)
    assert warned.get("UserWarning", 0) >= 1
    assert ImageHasher(HashPlan.parse("pdq")).hash_bytes("b.jpg", _jpeg(1)).decode_warnings == ()
