"""The borders benchmark's matching step, on generated clips (no photos)."""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmarks import bench_video_borders as bench
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.video import vpdq
from photosieve.video.video_list import VideoList
from photosieve.video.video_match import VideoIndex
from tests.photosieve.video import videos


def test_found_rows_finds_a_letterboxed_copy_only_with_video_borders():
    frames = videos.frames(200, seed=7)
    original = videos.encode(frames, "mp4-h264")
    index = VideoIndex.build(VideoList("l", "v", 31, ("o",), ((),), (tuple(vpdq.hash_video(original)),)))
    copy = videos.encode([np.pad(f, ((24, 24), (0, 0), (0, 0))) for f in frames], "mp4-h264")
    on = ImageHasher(HashPlan.parse("pdq"))
    off = ImageHasher(dataclasses.replace(HashPlan.parse("pdq"), video_borders=False))
    (row,) = bench.found_rows(on, copy, index)
    assert row["entry_ids"] == ["o"] and row["variant"].startswith("borders ")
    assert bench.found_rows(off, copy, index) == []
    assert [r["variant"] for r in bench.found_rows(on, original, index)] == [None]
