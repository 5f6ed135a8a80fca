"""Small videos generated in the tests with PyAV: moving synthetic scenes in several containers.

Nothing is read from disk: each video pans a window across a larger
``picture()`` scene, so consecutive frames differ a little and frames a
second apart differ a lot, as in real footage.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from tests.transforms.samples import picture


@dataclass(frozen=True)
class Recipe:
    """A container/codec pair the av wheel can write, and the pixel format its encoder takes."""

    name: str
    container: str
    codec: str
    pix_fmt: str = "yuv420p"
    options: tuple[tuple[str, str], ...] = ()


# x264: a key frame every 24 frames and no scene-cut key frames (the keyframe
# tests count on it), B-frames (reordering); mbtree off because with it this
# x264 build gave different bytes from run to run.
_X264 = (("bframes", "3"), ("g", "24"), ("sc_threshold", "0"), ("mbtree", "0"))
RECIPES = {
    "mp4-h264": Recipe("mp4-h264", "mp4", "libx264", options=_X264),
    "mov-mpeg4": Recipe("mov-mpeg4", "mov", "mpeg4"),
    "webm-vp8": Recipe("webm-vp8", "webm", "libvpx"),
    "webm-vp9": Recipe("webm-vp9", "webm", "libvpx-vp9"),
    "mkv-h264": Recipe("mkv-h264", "matroska", "libx264", options=_X264),
    "avi-mjpeg": Recipe("avi-mjpeg", "avi", "mjpeg", pix_fmt="yuvj420p"),
    "ts-mpeg2": Recipe("ts-mpeg2", "mpegts", "mpeg2video"),
}
# H.264 with Annex B start codes (not length prefixes): the other packet layout
# photosieve.video.nonref parses. Kept out of RECIPES, whose tests it would only repeat.
TS_H264 = Recipe("ts-h264", "mpegts", "libx264", options=_X264)


def frames(count: int, size: tuple[int, int] = (160, 120), seed: int = 7, start: int = 0) -> list[np.ndarray]:
    """``count`` RGB frames panning over one scene, from pan position ``start``."""
    width, height = size
    scene = np.asarray(picture(seed, (width * 2, height * 2)))
    out = []
    for i in range(start, start + count):
        x, y = (i * 3) % width, (i * 2) % height
        out.append(np.ascontiguousarray(scene[y : y + height, x : x + width]))
    return out


def encode(pictures: list[np.ndarray], recipe: Recipe | str = "mp4-h264", fps: int | Fraction = 25) -> bytes:
    """The pictures as one video stream in the recipe's container."""
    recipe = RECIPES[recipe] if isinstance(recipe, str) else recipe
    height, width = pictures[0].shape[:2]
    buffer = io.BytesIO()
    # bitexact: no random Matroska UIDs or version strings, so each recipe gives the same bytes.
    with av.open(buffer, "w", format=recipe.container, options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(recipe.codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, recipe.pix_fmt
        stream.options = dict(recipe.options)
        stream.codec_context.thread_count = 1  # x264 with threads is not deterministic
        for index, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, 1 / Fraction(fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def video(recipe: str = "mp4-h264", seconds: float = 3, fps: int = 25, size=(160, 120), seed: int = 7) -> bytes:
    return encode(frames(round(seconds * fps), size, seed), recipe, fps)


def audio_only(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """An MP4 (M4A) holding one AAC audio stream and no video."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = int(seconds * rate)
        tone = (np.sin(np.arange(samples) * 0.05) * 0.3).astype(np.float32)[None, :]
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(tone[:, start : start + 1024], format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
