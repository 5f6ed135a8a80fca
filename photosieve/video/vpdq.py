"""vPDQ features, Meta's hash file formats, and vPDQ's matching rule.

A video's vPDQ hash is a list of features, one per sampled frame: the
frame's PDQ hash and quality, its frame number and timestamp (see
:mod:`photosieve.video.decode` for which frames). Meta's vpdq hashes each
frame's full-size RGB24 buffer with the C++ PDQ (bufferhasher.cpp):
float32 luma ``0.299f*R + 0.587f*G + 0.114f*B`` (float32 arithmetic, unlike
the Python ``pdqhash`` package's float64), then PDQ's blur, decimation and
DCT, which :mod:`photosieve.hashes.pdq` reproduces bit for bit. A frame
already 64x64 is used as the buffer without blurring, as in C++.

File formats:

* Meta's C++ tools (vpdq/cpp/io/vpdqio.cpp) write one line per feature,
  ``frame_number,quality,hash_hex,timestamp`` with the timestamp printed
  ``%.3f``: :func:`format_hash_file` / :func:`parse_hash_file`.
* python-threatexchange's VPDQ signal (vpdq_util.py) is a JSON list of
  ``"hash_hex,quality,timestamp"`` strings, the timestamp formatted with
  Python's ``{:.3}`` (three *significant* digits): :func:`to_signal` /
  :func:`from_signal`.

Matching (:func:`match`): the share of one video's features that have a
counterpart within a Hamming distance in the other, each way. Two
variants exist upstream and both are here:

* ``rule="threatexchange"`` (python-threatexchange vpdq_brute_matcher.py,
  what HMA uses): de-duplicate identical hashes, drop features below the
  quality tolerance, count a match at distance **<=** the tolerance;
* ``rule="cpp"`` (vpdq matchTwoHash.cpp): no de-duplication, distance
  strictly **<** the tolerance.

Where a side has no feature left after filtering, upstream divides by zero
(Python raises, C++ gives NaN); here that side's share is 0.0.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from photosieve.errors import PhotosieveError
from photosieve.hashes import pdq
from photosieve.hashes.value import HashValue
from photosieve.video.decode import SampledFrame, VideoDecodeOptions, sample_frames

# python-threatexchange's defaults (vpdq_util.py).
VPDQ_QUALITY_THRESHOLD = 50
VPDQ_DISTANCE_THRESHOLD = 31
VPDQ_QUERY_MATCH_THRESHOLD_PERCENT = 80.0
VPDQ_INDEX_MATCH_THRESHOLD_PERCENT = 0.0
MATCH_RULES = ("threatexchange", "cpp")
# Frames hashed per batched DCT call (the DCT/quality tail is vectorised).
_BATCH = 32
_LUMA = tuple(np.float32(c) for c in (pdq.LUMA_FROM_R_COEFF, pdq.LUMA_FROM_G_COEFF, pdq.LUMA_FROM_B_COEFF))


class VpdqFormatError(PhotosieveError, ValueError):
    """A vPDQ hash file or signal string that does not parse; names the line."""

    def __init__(self, message: str, *, line: int | None = None, text: str = ""):
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}" + (f" ({text[:120]!r})" if text else ""))
        self.line = line
        self.text = text


@dataclasses.dataclass(frozen=True)
class VpdqFeature:
    """One sampled frame's vPDQ feature (the fields of vpdq's ``VpdqFeature``)."""

    frame_number: int
    quality: int
    pdq: HashValue
    timestamp: float

    @property
    def hex(self) -> str:
        return self.pdq.to_hex()

    def distance(self, other: VpdqFeature) -> int:
        return int(self.pdq.distance(other.pdq))


def frame_luma(rgb: np.ndarray) -> np.ndarray:
    """Float32 luma exactly as the C++ fillFloatLumaFromRGB computes it (float32 throughout)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 frame, got {rgb.dtype} {rgb.shape}")
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    r *= _LUMA[0]
    g *= _LUMA[1]
    b *= _LUMA[2]
    r += g
    r += b
    return r


def frame_buffer(rgb: np.ndarray) -> np.ndarray:
    """The 64x64 float32 buffer C++ PDQ hashes a frame from (blur and decimate, unless 64x64)."""
    y = frame_luma(rgb)
    if min(y.shape) < pdq.PDQ_MIN_HASHABLE_DIM:
        raise ValueError(f"frame of {y.shape[1]}x{y.shape[0]} is below PDQ's minimum size")
    if y.shape == (pdq.PDQ_BUFFER_SIZE, pdq.PDQ_BUFFER_SIZE):
        return y
    return pdq.downsample(y)


def hash_frames(frames: Iterable[SampledFrame]) -> list[VpdqFeature]:
    """vPDQ features of sampled frames, in batches (frames are dropped once buffered)."""
    features: list[VpdqFeature] = []
    pending: list[tuple[SampledFrame, np.ndarray]] = []

    def flush() -> None:
        hashes, quality = pdq.hash_buffers(np.stack([b for _, b in pending]))
        for (frame, _), h, q in zip(pending, hashes, quality):
            features.append(VpdqFeature(frame.frame_number, int(q), HashValue("pdq", h.tobytes()),
                                        frame.timestamp))
        pending.clear()

    for frame in frames:
        pending.append((dataclasses.replace(frame, rgb=_EMPTY), frame_buffer(frame.rgb)))
        if len(pending) == _BATCH:
            flush()
    if pending:
        flush()
    return features


_EMPTY = np.zeros((0, 0, 3), dtype=np.uint8)


def hash_video(data: bytes, options: VideoDecodeOptions | None = None) -> list[VpdqFeature]:
    """The vPDQ hash of one video object (raises VideoDecodeError)."""
    return hash_frames(sample_frames(data, options))


# --- Meta's C++ hash file: frame_number,quality,hash,timestamp --------------------------


def format_hash_file(features: Iterable[VpdqFeature]) -> str:
    """The text vpdq's C++ ``outputVPDQFeatureToFile`` writes."""
    return "".join(f"{f.frame_number},{f.quality},{f.hex},{f.timestamp:.3f}\n" for f in features)


def parse_hash_file(text: str) -> list[VpdqFeature]:
    """Features from a C++ vPDQ hash file; strict where the C++ reader is lenient (atoi)."""
    features = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 4:
            raise VpdqFormatError("expected frame_number,quality,hash,timestamp", line=number, text=line)
        frame, quality, hex_hash, stamp = parts
        features.append(_feature(number, line, hex_hash, quality, stamp, frame))
    if not features:
        raise VpdqFormatError("empty vPDQ hash file (the C++ reader rejects it too)")
    return features


def write_hash_file(path: str | Path, features: Iterable[VpdqFeature]) -> None:
    Path(path).write_text(format_hash_file(features), encoding="ascii")


def read_hash_file(path: str | Path) -> list[VpdqFeature]:
    return parse_hash_file(Path(path).read_text(encoding="ascii"))


# --- python-threatexchange's signal: JSON list of "hash,quality,timestamp" ---------------


def to_signal(features: Iterable[VpdqFeature]) -> str:
    """python-threatexchange's ``vpdq_to_json`` (no frame numbers: they are not kept)."""
    return json.dumps([f"{f.hex},{f.quality},{f.timestamp:.3}" for f in features])


def from_signal(text: str) -> list[VpdqFeature]:
    """Features from a python-threatexchange VPDQ signal; frame numbers are -1 (unknown)."""
    try:
        items = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise VpdqFormatError(f"not JSON: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise VpdqFormatError("expected a JSON list of strings")
    features = []
    for number, item in enumerate(items, start=1):
        parts = item.split(",")
        if len(parts) != 3:
            raise VpdqFormatError("expected hash,quality,timestamp", line=number, text=item)
        features.append(_feature(number, item, parts[0], parts[1], parts[2], "-1"))
    return features


def _feature(number: int, line: str, hex_hash: str, quality: str, stamp: str, frame: str) -> VpdqFeature:
    try:
        frame_number, q = int(frame), int(quality)
        timestamp = float(stamp)
    except ValueError as exc:
        raise VpdqFormatError(f"bad number: {exc}", line=number, text=line) from exc
    if len(hex_hash) != pdq.PDQ_HEX_LEN:
        raise VpdqFormatError(f"PDQ hash must be {pdq.PDQ_HEX_LEN} hex digits", line=number, text=line)
    try:
        value = HashValue("pdq", bytes.fromhex(hex_hash))
    except ValueError as exc:
        raise VpdqFormatError("PDQ hash is not hex", line=number, text=line) from exc
    if not 0 <= q <= 100:
        raise VpdqFormatError(f"quality {q} outside 0..100", line=number, text=line)
    if not (math.isfinite(timestamp) and timestamp >= 0):
        raise VpdqFormatError(f"timestamp {stamp} must be finite and >= 0", line=number, text=line)
    return VpdqFeature(frame_number, q, value, timestamp)


# --- matching -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VpdqMatch:
    """Percent of each side's (filtered) features with a counterpart in the other."""

    query_match_percent: float
    compared_match_percent: float

    def is_match(
        self,
        query_threshold: float = VPDQ_QUERY_MATCH_THRESHOLD_PERCENT,
        compared_threshold: float = VPDQ_INDEX_MATCH_THRESHOLD_PERCENT,
    ) -> bool:
        """python-threatexchange's decision: both shares at or above their thresholds."""
        return self.query_match_percent >= query_threshold and self.compared_match_percent >= compared_threshold


def match(
    query: Sequence[VpdqFeature],
    compared: Sequence[VpdqFeature],
    *,
    distance_tolerance: int = VPDQ_DISTANCE_THRESHOLD,
    quality_tolerance: int = VPDQ_QUALITY_THRESHOLD,
    rule: str = "threatexchange",
) -> VpdqMatch:
    """vPDQ's brute-force comparison of two videos' features (see the module docstring)."""
    if rule not in MATCH_RULES:
        raise ValueError(f"rule must be one of {MATCH_RULES}, got {rule!r}")
    q = _prepare(query, quality_tolerance, dedupe=rule == "threatexchange")
    c = _prepare(compared, quality_tolerance, dedupe=rule == "threatexchange")
    if not len(q) or not len(c):
        return VpdqMatch(0.0, 0.0)
    dist = _distances(q, c)
    close = dist <= distance_tolerance if rule == "threatexchange" else dist < distance_tolerance
    return VpdqMatch(
        int(close.any(axis=1).sum()) * 100 / len(q),
        int(close.any(axis=0).sum()) * 100 / len(c),
    )


def _prepare(features: Sequence[VpdqFeature], quality_tolerance: int, *, dedupe: bool) -> np.ndarray:
    """Hash bits of the kept features as (N, 4) uint64 words (de-duplicated first, as upstream)."""
    kept, seen = [], set()
    for f in features:
        if dedupe:
            if f.pdq.bits in seen:
                continue
            seen.add(f.pdq.bits)
        if f.quality >= quality_tolerance:
            kept.append(f.pdq.bits)
    return np.frombuffer(b"".join(kept), dtype=">u8").reshape(-1, 4).astype(np.uint64)


def _distances(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """All pairwise Hamming distances, (len(a), len(b)) uint16, in row chunks."""
    out = np.empty((len(a), len(b)), dtype=np.uint16)
    for start in range(0, len(a), chunk):
        x = a[start : start + chunk, None, :] ^ b[None, :, :]
        out[start : start + chunk] = np.bitwise_count(x).sum(axis=2, dtype=np.uint16)
    return out
