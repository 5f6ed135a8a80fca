"""Video copy detection: share of edited copies vPDQ finds, false matches between clips, cost per hour.

Every video is generated here. An *original* is made of K photos, each shown
a few seconds with a slow pan and zoom (Ken Burns) and a hard cut to the next,
encoded as H.264/MP4 with PyAV. Each original is then decoded and edited into
separate files (:data:`EDITS`: lower quality, half size, other frame rates,
trims, borders, a crop, a mirror, VP9/WebM), each hashed once with
:func:`photosieve.video.vpdq.hash_video`'s frame choice (all eight dihedral
orientations come from the same DCT, see :func:`hash_orientations`).

Measures, at python-threatexchange's defaults (distance <= 31, quality >= 50,
query share >= 80%, compared share >= 0%):

* per edit kind, the share of copies found: ``match(query=copy,
  compared=original).is_match()``, and how far each query frame is from
  its nearest original frame (the distance <= 31 is tried on). That direction is the one an audit runs:
  the query is the archive's video, the compared side the list's known
  original. Trims are also shown the other way round (query = original),
  which is how a list of short clips would miss long archive videos;
* false matches: every ordered pair of different originals, and every copy
  against every other original (different originals use disjoint photos),
  with the query shares of those pairs, and the per-frame PDQ distances
  between frames of different originals (how many are <= 31);
* mirrored copies: vPDQ hashes one orientation, so a flip is a new video; the
  ``mirror, any orientation`` row matches each of the query's 8 dihedral
  orientations separately and takes the best (and the false-match table has
  the same rule's row);
* cost: process CPU seconds (all threads) of photosieve's hashing per hour
  of video, against Meta's ``vpdq.computeHash`` (one thread) on the same files.

No parameter is tuned or picked on the photos: all thresholds are upstream
defaults. Photos are drawn from a seeded permutation of half B of the folder
(bench_robustness.split_of; half A holds the false-match curve's counts), the
first ``K x clips`` of it, so different originals share no photo.

    .venv/bin/python -m benchmarks.bench_video_matching --photos /work/shared/data/photos \\
        --clips 10 --size 640x360 --cost-sizes 640x360,1280x720 --out /tmp/video_matching.json
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

from benchmarks.bench_robustness import split_of
from photosieve.hashes import pdq
from photosieve.hashes.value import HashValue
from photosieve.video.decode import VideoDecodeOptions, sample_frames
from photosieve.video.vpdq import (
    VPDQ_DISTANCE_THRESHOLD,
    VPDQ_QUALITY_THRESHOLD,
    VpdqFeature,
    VpdqMatch,
    frame_buffer,
    hash_video,
    match,
)
from tests.photosieve.video.videos import Recipe

try:
    import vpdq
except ImportError:  # the oracle is optional (pip install -e '.[vpdq-oracle]')
    vpdq = None

# x264 as in the tests' recipes: no scene-cut key frames and mbtree off, so the bytes are the same
# from run to run (thread_count=1 as well); "veryfast" keeps generation within minutes on 2 cores.
_X264 = (("preset", "veryfast"), ("g", "60"), ("sc_threshold", "0"), ("mbtree", "0"))
H264 = Recipe("mp4-h264", "mp4", "libx264", options=(*_X264, ("crf", "20")))
H264_LOW = Recipe("mp4-h264-crf38", "mp4", "libx264", options=(*_X264, ("crf", "38")))
VP9 = Recipe("webm-vp9", "webm", "libvpx-vp9",
             options=(("g", "60"), ("deadline", "realtime"), ("cpu-used", "8"), ("crf", "36"), ("b", "0")))
# The orientation whose hash is nearest the left-right mirror's (checked by _check_mirror_orientation:
# in the reference's names "flipx" is the top-bottom flip). Not always equal: the blur is not symmetric.
MIRROR = "flipy"
# What an edit does to the frames: (decoded frames, their count) -> frames to encode.
FrameEdit = Callable[[Iterator[np.ndarray], int], Iterator[np.ndarray]]


# --- generating originals -------------------------------------------------------------------------


def ken_burns(photo: Image.Image, size: tuple[int, int], count: int,
              rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``count`` frames of ``size`` panning and zooming slowly across one photo.

    The window has the frame's aspect ratio; it starts and ends at random
    places, between the largest window that fits and 80% of it, so a clip
    neither shows the whole photo nor stands still (vPDQ samples once a second).
    """
    width, height = size
    pw, ph = photo.size
    full = min(pw / width, ph / height)  # scale of the largest window that fits
    boxes = []
    for _ in range(2):
        scale = full * rng.uniform(0.8, 1.0)
        w, h = width * scale, height * scale
        x, y = rng.uniform(0, pw - w), rng.uniform(0, ph - h)
        boxes.append((x, y, w, h))
    (x0, y0, w0, h0), (x1, y1, w1, h1) = boxes
    for i in range(count):
        t = i / max(count - 1, 1)
        x, y, w, h = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, w0 + (w1 - w0) * t, h0 + (h1 - h0) * t
        yield np.asarray(photo.resize(size, Image.Resampling.BILINEAR, box=(x, y, x + w, y + h)))


def clip_frames(photos: Sequence[Image.Image], size: tuple[int, int], fps: int, seconds_per_photo: float,
                seed: int) -> Iterator[np.ndarray]:
    """An original clip: each photo for ``seconds_per_photo`` (Ken Burns), hard cuts between them."""
    rng = np.random.default_rng(seed)
    for photo in photos:
        yield from ken_burns(photo, size, round(seconds_per_photo * fps), rng)


def encode_frames(frames: Iterable[np.ndarray], recipe: Recipe, fps: int | Fraction) -> bytes:
    """Encode a stream of RGB frames (all one size; even sides) in the recipe's container.

    As tests.photosieve.video.videos.encode, but frames are consumed one at a
    time (a 720p clip would not fit in memory as a list) and the recipe's
    options may set the quality.
    """
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=recipe.container, options={"fflags": "+bitexact"}) as container:
        stream = None
        for index, rgb in enumerate(frames):
            if stream is None:
                stream = container.add_stream(recipe.codec, rate=fps)
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = recipe.pix_fmt
                stream.options = dict(recipe.options)
                stream.codec_context.thread_count = 1  # x264 with threads is not deterministic
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = index, 1 / Fraction(fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is None:
            raise ValueError("no frames to encode")
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def decode_frames(data: bytes) -> tuple[Fraction, int, Iterator[np.ndarray]]:
    """(frame rate, frame count, RGB frames) of a video's first stream, decoded one at a time."""
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    rate, count = stream.average_rate or stream.guessed_rate, stream.frames

    def frames() -> Iterator[np.ndarray]:
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
        finally:
            container.close()

    return Fraction(rate), count, frames()


# --- edits ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Edit:
    """One kind of copy: what happens to the original's frames, at what rate, in which recipe."""

    name: str
    describe: str
    frames: FrameEdit = lambda frames, count: frames
    fps: Callable[[Fraction], Fraction] = lambda fps: fps
    recipe: Recipe = H264


def trim(start: float, stop: float) -> FrameEdit:
    """Keep frames ``[start, stop)`` of the clip, as fractions of its frame count."""

    def frames(source: Iterator[np.ndarray], count: int) -> Iterator[np.ndarray]:
        first, last = round(start * count), round(stop * count)
        for index, rgb in enumerate(source):
            if first <= index < last:
                yield rgb

    return frames


def resample(source_fps: Fraction, target_fps: Fraction) -> FrameEdit:
    """Frames at ``target_fps``: output frame j shows the source frame on screen at time j / target."""

    def frames(source: Iterator[np.ndarray], count: int) -> Iterator[np.ndarray]:
        wanted = 0
        for index, rgb in enumerate(source):
            while math.floor(wanted * source_fps / target_fps) == index:
                yield rgb
                wanted += 1

    return frames


def _mapped(fn: Callable[[np.ndarray], np.ndarray]) -> FrameEdit:
    return lambda source, count: (fn(rgb) for rgb in source)


def _scaled(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    def fn(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        size = (2 * round(w * factor / 2), 2 * round(h * factor / 2))
        return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))

    return fn


def _padded(top: int, left: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda rgb: np.pad(rgb, ((top, top), (left, left), (0, 0)))


def _cropped(keep: float) -> Callable[[np.ndarray], np.ndarray]:
    def fn(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        ch, cw = 2 * round(h * keep / 2), 2 * round(w * keep / 2)
        y, x = (h - ch) // 2, (w - cw) // 2
        return rgb[y : y + ch, x : x + cw]

    return fn


def edits(size: tuple[int, int]) -> tuple[Edit, ...]:
    """The copies made of each original; borders are sized from the original's frame size."""
    width, height = size
    bar = 2 * round(height / 6 / 2)  # letterbox: 16:9 in ~4:3; pillarbox: 1/8 of the width each side
    thin = 2 * round(height / 24 / 2)  # ~4% of the height each side: where PDQ's tolerance is tried
    side = 2 * round(width / 8 / 2)
    return (
        Edit("crf38", "H.264 re-encoded at CRF 38 (original CRF 20)", recipe=H264_LOW),
        Edit("half-size", "downscaled 0.5x", _mapped(_scaled(0.5))),
        Edit("fps24", "30 -> 24 fps", fps=lambda fps: fps * Fraction(4, 5)),
        Edit("fps15", "30 -> 15 fps", fps=lambda fps: fps / 2),
        Edit("trim-middle-50", "middle 50% (25% to 75%)", trim(0.25, 0.75)),
        Edit("trim-first-30", "first 30%", trim(0.0, 0.30)),
        Edit("letterbox", f"black bars {bar} px top and bottom", _mapped(_padded(bar, 0))),
        Edit("letterbox-thin", f"black bars {thin} px top and bottom", _mapped(_padded(thin, 0))),
        Edit("pillarbox", f"black bars {side} px left and right", _mapped(_padded(0, side))),
        Edit("crop-80", "central 80% crop (not rescaled)", _mapped(_cropped(0.8))),
        Edit("crop-95", "central 95% crop (not rescaled)", _mapped(_cropped(0.95))),
        Edit("webm-vp9", "VP9 in WebM (CRF 36, realtime)", recipe=VP9),
        Edit("mirror", "left-right mirror", _mapped(lambda rgb: rgb[:, ::-1])),
    )


def make_copy(original: bytes, edit: Edit) -> bytes:
    """The original decoded, edited and re-encoded: one separate file per edit."""
    fps, count, frames = decode_frames(original)
    target = edit.fps(fps)
    source = frames if target == fps else resample(fps, target)(frames, count)
    return encode_frames(edit.frames(source, count), edit.recipe, target)


# --- hashing --------------------------------------------------------------------------------------


def hash_orientations(data: bytes, options: VideoDecodeOptions | None = None) -> dict[str, list[VpdqFeature]]:
    """vPDQ features of each of the 8 dihedral orientations, from one decode and one DCT per frame.

    ``["original"]`` equals :func:`hash_video`'s features (same buffer, same
    DCT); the others are the features the transformed video would have,
    e.g. ``[MIRROR]`` those of the video mirrored left to right.
    """
    sampled, buffers = [], []
    for frame in sample_frames(data, options):
        sampled.append((frame.frame_number, frame.timestamp))
        buffers.append(frame_buffer(frame.rgb))
    out: dict[str, list[VpdqFeature]] = {name: [] for name in pdq.ORIENTATIONS}
    if not buffers:
        return out
    hashes, quality = pdq.hash_buffers(np.stack(buffers), dihedral=True)
    for (number, stamp), rows, q in zip(sampled, hashes, quality):
        for name, row in zip(pdq.ORIENTATIONS, rows):
            out[name].append(VpdqFeature(number, int(q), HashValue("pdq", row.tobytes()), stamp))
    return out


def best_orientation(query: dict[str, list[VpdqFeature]],
                     compared: Sequence[VpdqFeature]) -> tuple[str, VpdqMatch]:
    """The query orientation with the highest query share against ``compared`` (ties: first)."""
    results = {name: match(features, compared) for name, features in query.items()}
    name = max(results, key=lambda n: (results[n].query_match_percent, results[n].compared_match_percent))
    return name, results[name]


def distance_matrix(a: Sequence[VpdqFeature], b: Sequence[VpdqFeature],
                    quality: int = VPDQ_QUALITY_THRESHOLD) -> np.ndarray:
    """Hamming distances between the frames of ``a`` and of ``b`` kept by vPDQ's quality filter."""
    def bits(features: Sequence[VpdqFeature]) -> np.ndarray:
        kept = [np.frombuffer(f.pdq.bits, dtype=np.uint8) for f in features if f.quality >= quality]
        return np.unpackbits(np.stack(kept), axis=1) if kept else np.zeros((0, 256), dtype=np.uint8)

    x, y = bits(a), bits(b)
    return (x[:, None, :] != y[None, :, :]).sum(axis=2, dtype=np.int64)


def frame_distances(a: Sequence[VpdqFeature], b: Sequence[VpdqFeature],
                    quality: int = VPDQ_QUALITY_THRESHOLD) -> np.ndarray:
    """Every pair's distance (:func:`distance_matrix`), flattened."""
    return distance_matrix(a, b, quality).ravel()


def nearest_distances(query: Sequence[VpdqFeature], compared: Sequence[VpdqFeature]) -> np.ndarray:
    """For each kept query frame, the distance to the nearest kept compared frame (what <= 31 is tried on)."""
    d = distance_matrix(query, compared)
    return d.min(axis=1) if d.size else np.zeros(0, dtype=np.int64)


# --- photos ---------------------------------------------------------------------------------------


def default_photos() -> Path:
    """$PHOTOSIEVE_PHOTOS, else ``<repo>/../shared/data/photos``.

    The repository is git's top level (a worktree's own folder), else this file's parent's parent.
    """
    if os.environ.get("PHOTOSIEVE_PHOTOS"):
        return Path(os.environ["PHOTOSIEVE_PHOTOS"])
    here = Path(__file__).resolve().parent
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=here, capture_output=True,
                             text=True, check=True).stdout.strip()
        repo = Path(top)
    except (OSError, subprocess.CalledProcessError):
        repo = here.parent
    return repo.parent / "shared" / "data" / "photos"


def load_photos(folder: Path, count: int, seed: int, half: str = "B") -> list[Image.Image]:
    """``count`` photos in a seeded order of one half's images (RGB, EXIF orientation applied).

    ``half`` is bench_robustness's split by name ("A", "B" or "all"); B, the
    half the false-match curve was not counted on, by default.
    """
    names = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
                   and half in ("all", split_of(p)))
    if len(names) < count:
        raise SystemExit(f"need {count} photos, {folder} has {len(names)} in half {half}")
    order = np.random.default_rng(seed).permutation(len(names))
    out = []
    for i in order[:count]:
        with Image.open(names[i]) as image:
            out.append(ImageOps.exif_transpose(image).convert("RGB"))
    return out


# --- measures -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Corpus:
    """Every generated file's features (hashed once): originals, and copies by edit name."""

    originals: list[dict[str, list[VpdqFeature]]]
    copies: dict[str, list[dict[str, list[VpdqFeature]]]]
    seconds: dict[str, list[float]]  # video seconds of each file, by "original" / edit name


def build_corpus(clips: Sequence[bytes], kinds: Sequence[Edit], log=None) -> Corpus:
    originals, copies, seconds = [], {e.name: [] for e in kinds}, {"original": []}
    seconds.update({e.name: [] for e in kinds})
    for number, data in enumerate(clips):
        originals.append(hash_orientations(data))
        seconds["original"].append(_duration(data))
        for edit in kinds:
            copy = make_copy(data, edit)
            copies[edit.name].append(hash_orientations(copy))
            seconds[edit.name].append(_duration(copy))
        if log:
            log(f"clip {number + 1}/{len(clips)} hashed with {len(kinds)} copies")
    return Corpus(originals, copies, seconds)


def _duration(data: bytes) -> float:
    """Seconds of video: packets (one per frame for these encoders) over the frame rate; no decoding."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return sum(1 for packet in container.demux(stream) if packet.size) / float(rate)


def recall_rows(corpus: Corpus) -> list[dict]:
    """Per edit kind: copies found (query = copy, compared = its original), and the extra rows."""
    rows = []
    originals = [o["original"] for o in corpus.originals]
    for name, copies in corpus.copies.items():
        pairs = [(c["original"], o) for c, o in zip(copies, originals)]
        rows.append(_recall(name, pairs, corpus.seconds[name]))
        if name.startswith("trim"):
            rows.append(_recall(f"{name}, reversed (query = original)",
                                [(o, c["original"]) for c, o in zip(copies, originals)],
                                corpus.seconds["original"]))
        if name == "mirror":
            best = [best_orientation(c, o)[0] for c, o in zip(copies, originals)]
            row = _recall(f"{name}, any of 8 orientations",
                          [(c[b], o) for c, o, b in zip(copies, originals, best)], corpus.seconds[name])
            row["orientations"] = sorted(set(best))
            rows.append(row)
    return rows


def _recall(name: str, pairs: Sequence[tuple[Sequence[VpdqFeature], Sequence[VpdqFeature]]],
            seconds: Sequence[float]) -> dict:
    """One row: decisions and shares of (query, compared) pairs, and the query frames' nearest distances."""
    results = [match(query, compared) for query, compared in pairs]
    q = [m.query_match_percent for m in results]
    c = [m.compared_match_percent for m in results]
    nearest = np.concatenate([nearest_distances(query, compared) for query, compared in pairs])
    return {
        "edit": name, "copies": len(results), "found": sum(m.is_match() for m in results),
        "mean_query": statistics.fmean(q), "min_query": min(q), "mean_compared": statistics.fmean(c),
        "nearest_median": float(np.median(nearest)) if len(nearest) else None,
        "nearest_p90": float(np.percentile(nearest, 90)) if len(nearest) else None,
        "mean_seconds": statistics.fmean(seconds),
    }


def false_match_rows(corpus: Corpus) -> list[dict]:
    """Pairs of different clips: decisions that say match, and the query shares (all pairs)."""
    n = len(corpus.originals)
    originals = [o["original"] for o in corpus.originals]
    pairs = {
        "original vs other original": [match(originals[i], originals[j])
                                       for i in range(n) for j in range(n) if i != j],
        "copy vs other original": [match(c["original"], originals[j]) for copies in corpus.copies.values()
                                   for i, c in enumerate(copies) for j in range(n) if i != j],
        "any clip, any of 8 orientations, vs other original": [
            best_orientation(q, originals[j])[1]
            for i, q in enumerate(corpus.originals + [c for copies in corpus.copies.values() for c in copies])
            for j in range(n) if i % n != j
        ],
    }
    return [_false(name, results) for name, results in pairs.items()]


def _false(name: str, results: Sequence[VpdqMatch]) -> dict:
    q = np.array([m.query_match_percent for m in results])
    return {
        "pairs": name, "count": len(results), "matches": sum(m.is_match() for m in results),
        "max_query": float(q.max()) if len(q) else 0.0,
        "p99_query": float(np.percentile(q, 99)) if len(q) else 0.0,
        "nonzero_query": int((q > 0).sum()),
    }


def frame_row(corpus: Corpus) -> dict:
    """Per-frame PDQ distances between frames of different originals (quality >= 50 on both sides)."""
    originals = [o["original"] for o in corpus.originals]
    parts = [frame_distances(originals[i], originals[j])
             for i in range(len(originals)) for j in range(i + 1, len(originals))]
    d = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    close = int((d <= VPDQ_DISTANCE_THRESHOLD).sum())
    return {
        "frame_pairs": len(d), "within_31": close, "rate": close / len(d) if len(d) else 0.0,
        "min": int(d.min()) if len(d) else None, "p01": float(np.percentile(d, 1)) if len(d) else None,
        "median": float(np.median(d)) if len(d) else None,
        "kept_frames": sum(sum(f.quality >= VPDQ_QUALITY_THRESHOLD for f in o) for o in originals),
        "all_frames": sum(len(o) for o in originals),
    }


def cost_rows(clips: Sequence[bytes], label: str, repeats: int = 1) -> list[dict]:
    """CPU seconds per hour of video: photosieve's hash_video and, if importable, vpdq (1 thread)."""
    seconds = sum(_duration(d) for d in clips)
    rows = [{"size": label, "method": "photosieve (threads=1)", "video_seconds": seconds,
             "cpu": _cpu_of(lambda: [hash_video(d, VideoDecodeOptions(threads=1)) for d in clips], repeats)}]
    if vpdq is not None:
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, data in enumerate(clips):
                paths.append(Path(tmp) / f"clip{i}.mp4")
                paths[-1].write_bytes(data)
            rows.append({"size": label, "method": "vpdq (thread_count=1)", "video_seconds": seconds,
                         "cpu": _cpu_of(lambda: [_vpdq_hash(p) for p in paths], repeats)})
    for row in rows:
        row["cpu_per_hour"] = row["cpu"] / seconds * 3600
    if len(rows) == 2:
        rows[0]["x_vs_vpdq"] = rows[1]["cpu"] / rows[0]["cpu"]
    return rows


def _vpdq_hash(path: Path) -> list:
    return vpdq.computeHash(input_video_filename=str(path), seconds_per_hash=1, thread_count=1)


def _cpu_of(fn: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


# --- output ---------------------------------------------------------------------------------------


def markdown(rows: Sequence[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    """A Markdown table: ``columns`` are (header, key, format spec); a missing key prints blank."""
    lines = ["| " + " | ".join(h for h, _, _ in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for _, key, spec in columns:
            value = row.get(key)
            if value is None:
                cells.append("")
            elif isinstance(value, (list, tuple)):
                cells.append(", ".join(str(v) for v in value))
            else:
                cells.append(format(value, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


RECALL_COLUMNS = (("edit", "edit", ""), ("copies", "copies", "d"), ("found (80/0)", "found", "d"),
                  ("mean query %", "mean_query", ".1f"), ("min query %", "min_query", ".1f"),
                  ("mean compared %", "mean_compared", ".1f"),
                  ("nearest bits, median", "nearest_median", ".0f"),
                  ("90th pct", "nearest_p90", ".0f"), ("mean s", "mean_seconds", ".1f"),
                  ("best orientation", "orientations", ""))
FALSE_COLUMNS = (("pairs", "pairs", ""), ("count", "count", "d"), ("say match", "matches", "d"),
                 ("max query %", "max_query", ".1f"), ("99th pct query %", "p99_query", ".1f"),
                 ("pairs with query % > 0", "nonzero_query", "d"))
FRAME_COLUMNS = (("frame pairs (quality >= 50)", "frame_pairs", "d"), ("<= 31 bits", "within_31", "d"),
                 ("rate", "rate", ".2e"), ("min bits", "min", "d"), ("1st pct", "p01", ".0f"),
                 ("median", "median", ".0f"), ("frames kept / all", "kept", ""))
COST_COLUMNS = (("size", "size", ""), ("method", "method", ""), ("video s", "video_seconds", ".0f"),
                ("CPU s", "cpu", ".2f"), ("CPU s / hour of video", "cpu_per_hour", ".0f"),
                ("x vs vpdq", "x_vs_vpdq", ".2f"))


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    if width % 2 or height % 2:
        raise argparse.ArgumentTypeError("width and height must be even (yuv420p)")
    return width, height


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_video_matching",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=None,
                        help="Photo folder (default: $PHOTOSIEVE_PHOTOS, else <repo>/../shared/data/photos).")
    parser.add_argument("--clips", type=int, default=10, help="Originals (default: 10).")
    parser.add_argument("--photos-per-clip", type=int, default=4, help="Photos in one original (default: 4).")
    parser.add_argument("--seconds-per-photo", type=float, default=4.0, help="(default: 4).")
    parser.add_argument("--fps", type=int, default=30, help="Originals' frame rate (default: 30).")
    parser.add_argument("--size", type=_size, default=(640, 360), help="Originals' size (default: 640x360).")
    parser.add_argument("--cost-sizes", default="640x360,1280x720",
                        help="Sizes of the cost rows, comma-separated (default: 640x360,1280x720).")
    parser.add_argument("--cost-clips", type=int, default=3,
                        help="Originals hashed per cost size (default: 3).")
    parser.add_argument("--seed", type=int, default=1, help="Photo order and camera paths (default: 1).")
    parser.add_argument("--half", choices=("A", "B", "all"), default="B",
                        help="Half of the photos to draw from (bench_robustness.split_of; default: B).")
    parser.add_argument("--out", type=Path, help="Write every figure to this JSON file.")
    args = parser.parse_args(argv)
    folder = args.photos or default_photos()
    if not folder.is_dir():
        raise SystemExit(f"no photo folder at {folder} (give --photos or set PHOTOSIEVE_PHOTOS)")
    _check_mirror_orientation()
    k = args.photos_per_clip
    photos = load_photos(folder, k * args.clips, args.seed, args.half)

    def originals(size: tuple[int, int], count: int) -> list[bytes]:
        return [encode_frames(clip_frames(photos[i * k : (i + 1) * k], size, args.fps, args.seconds_per_photo,
                                          args.seed * 1000 + i), H264, args.fps) for i in range(count)]

    clock = time.monotonic()
    clips = originals(args.size, args.clips)
    kinds = edits(args.size)
    corpus = build_corpus(clips, kinds, lambda text: print(text, file=sys.stderr, flush=True))
    recall, false, frames = recall_rows(corpus), false_match_rows(corpus), frame_row(corpus)
    frames["kept"] = f"{frames['kept_frames']} / {frames['all_frames']}"
    cost = []
    for text in args.cost_sizes.split(",") if args.cost_sizes else ():
        size = _size(text)
        count = min(args.cost_clips, args.clips)
        files = clips[:count] if size == args.size else originals(size, count)
        cost += cost_rows(files, f"{size[0]}x{size[1]}")
    header = (f"{args.clips} originals of {k} photos x {args.seconds_per_photo:g} s, "
              f"{args.size[0]}x{args.size[1]}, {args.fps} fps H.264 CRF 20; {len(kinds)} copies each; "
              f"photos of half {args.half}; seed {args.seed}; "
              f"vpdq {'present' if vpdq is not None else 'absent'}; {time.monotonic() - clock:.0f} s")
    print(header, "\n")
    print(markdown(recall, RECALL_COLUMNS), "\n")
    print(markdown(false, FALSE_COLUMNS), "\n")
    print(markdown([frames], FRAME_COLUMNS), "\n")
    if cost:
        print(markdown(cost, COST_COLUMNS))
    if args.out:
        args.out.write_text(json.dumps({"header": header, "edits": {e.name: e.describe for e in kinds},
                                        "recall": recall, "false_matches": false, "frames": frames,
                                        "cost": cost}, indent=1))


def _check_mirror_orientation() -> None:
    """MIRROR names the orientation nearest the left-right mirror's hash (the names are the reference's)."""
    rng = np.random.default_rng(0)
    image = np.asarray(Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((128, 96)))
    mirrored = pdq.compute(np.ascontiguousarray(image[:, ::-1])).hash
    nearest = min(pdq.compute_dihedral(image), key=lambda r: r.hash.distance(mirrored))
    if nearest.orientation != MIRROR:
        raise AssertionError(f"the left-right mirror is orientation {nearest.orientation}, not {MIRROR}")


if __name__ == "__main__":
    main()
