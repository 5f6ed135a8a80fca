"""The algorithm registry: one tuple of specs, everything else derived from it."""

from __future__ import annotations

import io
import math
import pickle
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import photosieve.hashes
from photosieve import algorithms
from photosieve.algorithm_spec import AlgorithmSpec, Metric
from photosieve.errors import ConfigError
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import ALGORITHM_CHOICES, HashPlan, ImageHasher
from tests.photosieve.test_algorithm_spec import imported_modules

_CORE = Path(__file__).resolve().parents[2] / "photosieve"
# The CLI's order before the specs carried it; plans and columns follow it.
_CHOICES_BEFORE = ("pdq", "pdq-dihedral", "gradient", "phash", "dhash", "ahash", "md5", "sha256")


def _image(seed: int = 0, size=(48, 40)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC))


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


# -- the built-in registry ------------------------------------------------------


def test_choices_are_the_tuple_in_the_order_the_cli_had():
    assert ALGORITHM_CHOICES == _CHOICES_BEFORE
    assert tuple(spec.cli_name for spec in photosieve.hashes.BUILTIN) == _CHOICES_BEFORE
    assert algorithms.choices() == _CHOICES_BEFORE


def test_names_are_the_stored_names_sorted_without_the_dihedral_form():
    assert algorithms.names() == sorted(set(_CHOICES_BEFORE) - {"pdq-dihedral"})


@pytest.mark.parametrize("name", ["pdq", "PDQ", "Sha256", "gradient"])
def test_lookup_is_case_insensitive(name):
    assert algorithms.get(name) is algorithms.get(name.lower())
    assert algorithms.get(name).name == name.lower()


@pytest.mark.parametrize("name", ["crc32", "pdq-dihedral", ""])
def test_an_unknown_stored_name_is_a_config_error_naming_the_known_ones(name):
    with pytest.raises(ConfigError) as caught:
        algorithms.get(name)
    assert f"{name!r}" in str(caught.value)
    assert "known: " + ", ".join(algorithms.names()) in str(caught.value)


def test_an_unknown_cli_name_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="choose from pdq, pdq-dihedral, gradient"):
        algorithms.choice("crc32")


def test_pdq_dihedral_asks_for_the_stored_pdq_hashes_of_eight_orientations():
    spec = algorithms.choice("PDQ-Dihedral")
    assert (spec.name, spec.dihedral, spec.cli_name) == ("pdq", True, "pdq-dihedral")
    assert algorithms.get("pdq") is photosieve.hashes.pdq.SPEC
    assert not algorithms.get("pdq").dihedral
    plan = HashPlan.parse("md5,pdq-dihedral")
    assert (plan.algorithms, plan.pdq_dihedral) == (("pdq", "md5"), True)
    assert len(spec.compute([_image()])[0]) == len(photosieve.hashes.pdq.ORIENTATIONS)


@pytest.mark.parametrize("spec", photosieve.hashes.BUILTIN, ids=lambda s: s.cli_name)
def test_every_builtin_spec_is_consistent(spec):
    assert spec.name == spec.name.lower() and spec.nbytes > 0 and spec.version >= 1
    assert spec.hex_len == 2 * spec.nbytes and spec.nbits == 8 * spec.nbytes
    # A threshold beyond the largest possible distance would match everything.
    largest = {Metric.HAMMING: spec.nbits, Metric.EUCLIDEAN: 255 * math.sqrt(spec.nbytes),
               Metric.EXACT: 0}[spec.metric]
    assert 0 <= spec.default_threshold <= largest
    assert algorithms.get(spec.name).nbytes == spec.nbytes
    if spec.needs_pixels:
        (out,) = spec.compute([_image()])
        results = out if spec.dihedral else [out]
    else:
        results = [spec.compute(b"photosieve")]
    for result in results:
        assert isinstance(result, HashResult)
        assert result.hash.algorithm == spec.name and len(result.hash.bits) == spec.nbytes
    assert pickle.loads(pickle.dumps(spec)) == spec  # specs travel inside plans and DoFns


def test_the_hasher_computes_each_pixel_hash_with_its_specs_function():
    pixels = _image(3)
    plan = HashPlan.parse(",".join(_CHOICES_BEFORE[2:]))  # every algorithm but PDQ's own path
    (frame,) = ImageHasher(plan).hash_bytes("a.png", _png(pixels)).frames
    for result in frame.results:
        assert result == algorithms.get(result.hash.algorithm).compute([pixels])[0]


# -- adding an algorithm is one module and one line -----------------------------


def _toy_compute(images):
    """A 1-byte hash: which of 8 vertical bands is brighter than the image's mean."""
    out = []
    for image in images:
        grey = np.asarray(image, dtype=np.float64).mean(axis=2)
        bands = np.array([band.mean() for band in np.array_split(grey, 8, axis=1)])
        out.append(HashResult(HashValue("toy", np.packbits(bands > grey.mean()).tobytes())))
    return out


def _crc32(data: bytes) -> HashResult:
    return HashResult(HashValue("crc32", zlib.crc32(data).to_bytes(4, "big")))


_TOY = AlgorithmSpec("toy", 1, Metric.HAMMING, 1, compute=_toy_compute)
_CRC32 = AlgorithmSpec("crc32", 4, Metric.EXACT, 0, needs_pixels=False, compute=_crc32)


@pytest.fixture
def with_toys(monkeypatch):
    """The built-in tuple with two more specs, and nothing else changed."""
    monkeypatch.setattr(photosieve.hashes, "BUILTIN", photosieve.hashes.BUILTIN + (_TOY, _CRC32))
    monkeypatch.setattr(algorithms, "_BUILTIN", None)  # forget the registry read before
    monkeypatch.setattr(algorithms, "_REGISTRY", {})


def test_a_spec_added_to_the_tuple_is_looked_up_parsed_and_hashed(with_toys):
    assert algorithms.choices() == _CHOICES_BEFORE + ("toy", "crc32")
    assert algorithms.get("TOY") is _TOY and "crc32" in algorithms.names()
    assert HashValue.from_hex("crc32", "0000002a").bits == b"\0\0\0\x2a"  # list files read it
    pixels = _image(7)
    data = _png(pixels)
    plan = HashPlan.parse("crc32,toy,pdq")
    assert (plan.algorithms, plan.pixel_algorithms) == (("pdq", "toy", "crc32"), ("pdq", "toy"))
    hasher = pickle.loads(pickle.dumps(ImageHasher(plan)))  # as a worker gets it
    out = hasher.hash_bytes("toy.png", data)
    assert out.failures == ()
    assert [d.hash.to_hex() for d in out.digests] == [f"{zlib.crc32(data):08x}"]
    (frame,) = out.frames
    assert [r.hash.algorithm for r in frame.results] == ["pdq", "toy"]
    assert frame.results[1] == _toy_compute([pixels])[0]


def test_the_registry_reads_the_tuple_again_when_it_is_restored():
    # The fixture above put the built-in registry back: the toys are gone.
    with pytest.raises(ConfigError):
        algorithms.get("toy")
    assert algorithms.choices() == _CHOICES_BEFORE


# -- no import circle -----------------------------------------------------------


@pytest.mark.parametrize("module", ["photosieve.algorithms", "photosieve.algorithm_spec"])
def test_importing_the_registry_imports_no_hash_module(module):
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('photosieve.hashes'))\n"
        "sys.exit(' '.join(loaded) or None)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_algorithm_modules_import_the_spec_type_not_the_registry():
    # The registry reads the tuple, which imports these modules: they must not import it back.
    modules = [p for p in (_CORE / "hashes").glob("*.py") if "SPEC" in p.read_text()]
    assert {p.stem for p in modules} >= {"pdq", "gradient", "phash", "dhash", "ahash", "digest"}
    for path in modules:
        assert "photosieve.algorithms" not in imported_modules(path), path.name
