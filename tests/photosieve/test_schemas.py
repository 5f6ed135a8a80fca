"""The table schemas and the rows built from the core's results."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa

from photosieve import schemas
from photosieve.hashes import pdq
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import FrameHashes, HashPlan, ImageHasher, ObjectHashes
from tests.transforms import samples


def test_rows_fit_the_schemas():
    hasher = ImageHasher(HashPlan.parse("pdq-dihedral,phash,md5"))
    good = hasher.hash_bytes("a.png", samples.encode(samples.picture(1), "PNG"))
    bad = hasher.hash_bytes("b.jpg", b"")
    hashes = pa.Table.from_pylist(
        schemas.hash_rows(good, mtime_us=5, run_id="r"), schema=schemas.HASHES_SCHEMA
    )
    errors = pa.Table.from_pylist(
        schemas.error_rows(bad, mtime_us=None, run_id="r"), schema=schemas.ERRORS_SCHEMA
    )
    assert hashes.num_rows == 1 + 8 + 1  # md5, eight PDQ orientations, pHash
    assert errors.column(schemas.ERROR).to_pylist() == ["empty"]


def test_hash_rows_follow_the_core_result():
    hasher = ImageHasher(HashPlan.parse("pdq-dihedral,md5"))
    data = samples.encode(samples.picture(2), "PNG")
    result = hasher.hash_bytes("a.png", data)
    rows = schemas.hash_rows(result, mtime_us=None, run_id="r")
    assert rows[0][schemas.ALGORITHM] == "md5" and schemas.FRAME not in rows[0]
    pdq_rows = [r for r in rows if r[schemas.ALGORITHM] == "pdq"]
    assert [r[schemas.ORIENTATION] for r in pdq_rows] == list(pdq.ORIENTATIONS)
    frame_results = {r.orientation: r for r in result.frames[0].results}
    for row in pdq_rows:
        assert row[schemas.HASH] == frame_results[row[schemas.ORIENTATION]].hash.to_hex()
        assert row[schemas.QUALITY] == frame_results[row[schemas.ORIENTATION]].quality
        assert (row[schemas.WIDTH], row[schemas.HEIGHT], row[schemas.FORMAT]) == (160, 120, "PNG")


def test_plain_pdq_rows_have_no_orientation():
    result = ImageHasher(HashPlan.parse("pdq")).hash_bytes(
        "a.png", samples.encode(samples.picture(2), "PNG")
    )
    [row] = schemas.hash_rows(result, mtime_us=None, run_id="r")
    assert row[schemas.ORIENTATION] is None


def test_error_rows_prefer_the_listed_size():
    result = ImageHasher(HashPlan.parse("pdq")).hash_bytes("x", b"")
    assert schemas.error_rows(result, mtime_us=None, run_id="r", size=99)[0][schemas.SIZE] == 99
    assert schemas.error_rows(result, mtime_us=None, run_id="r")[0][schemas.SIZE] == 0


def test_the_core_does_not_import_beam():
    code = (
        "import sys, photosieve.schemas, photosieve.hashing; sys.exit('apache_beam' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_robust_query_variants_are_kept_apart():
    whole = HashResult(HashValue("pdq", bytes(32)), quality=90)
    bordered = HashResult(
        HashValue("pdq", bytes(31) + b"\x01"), quality=90, variant="borders 4,4,90,60"
    )
    frame = FrameHashes(0, 98, 68, 98, 68, "PNG", "RGB", False, 1.0, (whole, bordered))
    rows = schemas.hash_rows(ObjectHashes("a.png", 10, frames=(frame,)), mtime_us=None, run_id="r")
    assert [row[schemas.VARIANT] for row in rows] == [None, "borders 4,4,90,60"]
