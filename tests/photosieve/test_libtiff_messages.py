"""Tests for photosieve.libtiff_messages: libtiff's errors counted per thread, never on fd 2.

The inputs are LZW TIFFs generated here, damaged in their strip: libtiff
reports that through its error handler, which by default writes to file
descriptor 2 (no Python warning filter sees it). Subprocesses give a
process whose handler is libtiff's default, as a fresh worker's is.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photosieve import libtiff_messages
from photosieve.decode import DecodeOptions, decode_frames
from photosieve.errors import DecodeError, FailureReason

REPO = Path(__file__).resolve().parents[2]


def lzw_tiff(seed: int = 0, strip_bytes: float = 1.0) -> bytes:
    """A 64x64 RGB LZW TIFF whose StripByteCounts is scaled by ``strip_bytes``.

    Below 1 the strip is cut short: libtiff's LZW decoder runs out of data
    ("LZWDecode: Not enough data at scanline ...").
    """
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        buffer, "TIFF", compression="tiff_lzw"
    )
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for index in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * index
        tag, kind, count = struct.unpack("<HHI", data[entry : entry + 8])
        if tag == 279:  # StripByteCounts: one LONG, held in the entry
            assert (kind, count) == (4, 1)
            value = struct.unpack("<I", data[entry + 8 : entry + 12])[0]
            data[entry + 8 : entry + 12] = struct.pack("<I", int(value * strip_bytes))
            return bytes(data)
    raise AssertionError("no StripByteCounts tag")


# Run in a fresh interpreter: decode the cut TIFF through photosieve, or
# load it with Pillow alone (libtiff's default handler), and report.
_CHILD = r"""
import json, sys
sys.path[:0] = [sys.argv[1]]
from collections import Counter
from tests.photosieve.test_libtiff_messages import lzw_tiff
data = lzw_tiff(strip_bytes=0.5)
if sys.argv[2] == "pillow":
    import io
    from PIL import Image
    try:
        Image.open(io.BytesIO(data)).load()
        print(json.dumps({"error": None}))
    except OSError as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit()
from photosieve.decode import decode_frames
from photosieve.errors import DecodeError
counts = Counter()
try:
    decode_frames(data, warning_counts=counts)
    error = None
except DecodeError as exc:
    error = [exc.reason.value, exc.message]
print(json.dumps({"error": error, "counts": dict(counts)}))
"""


def _run(how: str) -> tuple[dict, str]:
    import json

    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO), how],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_cut_lzw_tiff_leaves_stderr_empty_and_its_libtiff_message_counted():
    result, stderr = _run("photosieve")
    assert stderr == ""
    assert result["counts"] == {"libtiff:LZWDecode": 1}
    assert result["error"][0] == FailureReason.CORRUPT.value


def test_pillow_alone_prints_the_message_and_fails_the_same_way():
    # The control: without the handler libtiff writes the line to fd 2; with
    # it, Pillow's exception (from libtiff's return code) is unchanged.
    pillow, stderr = _run("pillow")
    assert stderr.startswith("LZWDecode: ") and len(stderr.splitlines()) == 1
    photosieve, _ = _run("photosieve")
    assert pillow["error"] == "OSError: decoder error -2"
    assert photosieve["error"][1].endswith(pillow["error"])


def test_messages_are_counted_into_the_decoding_threads_own_counter(capfd):
    cut, whole = lzw_tiff(1, strip_bytes=0.5), lzw_tiff(2)
    counts = {name: Counter() for name in ("cut", "whole")}
    errors = {}
    barrier = threading.Barrier(2)

    def work(name: str, data: bytes) -> None:
        barrier.wait()
        for _ in range(20):
            try:
                decode_frames(data, DecodeOptions(), counts[name])
            except DecodeError as exc:
                errors[name] = exc.reason

    jobs = (("cut", cut), ("whole", whole))
    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert libtiff_messages.installed()
    assert counts == {"cut": Counter({"libtiff:LZWDecode": 20}), "whole": Counter()}
    assert errors == {"cut": FailureReason.CORRUPT}
    assert "LZWDecode" not in capfd.readouterr().err


def test_messages_outside_decoding_are_counted_apart_and_not_printed(capfd):
    decode_frames(lzw_tiff(3))  # installs the handler, if no earlier test did
    before = libtiff_messages.unattributed()["libtiff:LZWDecode"]
    with pytest.raises(OSError), Image.open(io.BytesIO(lzw_tiff(3, strip_bytes=0.5))) as image:
        image.load()
    assert libtiff_messages.unattributed()["libtiff:LZWDecode"] == before + 1
    assert "LZWDecode" not in capfd.readouterr().err



def test_the_hasher_reports_the_count_with_the_objects_decode_warnings(capfd):
    # What transforms.hashing tallies as ("warnings", "decode", key) in summary.json.
    from photosieve.hashing import HashPlan, ImageHasher

    result = ImageHasher(HashPlan.parse("pdq,md5")).hash_bytes("cut.tif", lzw_tiff(4, 0.5))
    assert dict(result.decode_warnings) == {"libtiff:LZWDecode": 1}
    assert [f.reason for f in result.failures] == [FailureReason.CORRUPT]
    assert capfd.readouterr().err == ""
