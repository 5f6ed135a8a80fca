"""Bordered and cropped copies of videos: found by the audit's hashing (whole frames and insides)?

vPDQ hashes whole frames, so a letterboxed or pillarboxed copy of a listed
video moves every frame far from the original's (``bench_video_matching``:
0 of 12 found). An audit also hashes each video frame inside its uniform
borders (``HashPlan.video_borders``: the box found most often in the video
so far) and matches a second track of frames with them
(:mod:`photosieve.video.match_rows`). This benchmark makes originals and
copies as ``bench_video_matching`` does (Ken Burns clips of the photos'
half B, the same edits), hashes the copies with
:class:`photosieve.hashing.ImageHasher` with and without ``video_borders``,
matches them against a video list of every original (vPDQ's defaults,
:class:`photosieve.video.video_match.VideoIndex`), and counts per edit the
copies found, how many through the borders track, and false matches (a copy
matched to another original). Re-encoded copies are the control.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.bench_video_borders --clips 12
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from benchmarks import bench_video_matching as clips_bench
from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.video import vpdq
from photosieve.video.match_rows import features_by_orientation, video_frame, video_rows
from photosieve.video.video_list import VideoList
from photosieve.video.video_match import VideoIndex

EDITS = ("crf38", "letterbox", "letterbox-thin", "pillarbox", "crop-95")


def found_rows(hasher: ImageHasher, data: bytes, index: VideoIndex) -> list[dict]:
    """The copy's matches rows against the list, as an audit makes them."""
    rows = schemas.hash_rows(hasher.hash_bytes("copy", data), mtime_us=None, run_id="bench")
    frames = [frame for frame in map(video_frame, rows) if frame is not None]
    return list(video_rows("copy", features_by_orientation(frames), index, run_id="bench", matched_at_us=0))


def run(photos: Path, clips: int, size: tuple[int, int], seed: int) -> list[dict]:
    pictures = clips_bench.load_photos(photos, 4 * clips, seed)
    originals = [clips_bench.encode_frames(clips_bench.clip_frames(pictures[4 * i : 4 * i + 4], size, 30, 4, seed + i),
                                           clips_bench.H264, 30) for i in range(clips)]
    ids = tuple(f"original-{i}" for i in range(clips))
    listed = VideoList("originals", "bench", 31, ids, tuple(() for _ in ids),
                       tuple(tuple(vpdq.hash_video(data)) for data in originals))
    index = VideoIndex.build(listed)
    kinds = [edit for edit in clips_bench.edits(size) if edit.name in EDITS]
    copies = {edit.name: [clips_bench.make_copy(data, edit) for data in originals] for edit in kinds}
    out = []
    for borders in (False, True):
        hasher = ImageHasher(dataclasses.replace(HashPlan.parse("pdq"), video_borders=borders))
        for edit in kinds:
            found = inside = false = 0
            start = time.process_time()
            for number, data in enumerate(copies[edit.name]):
                rows = found_rows(hasher, data, index)
                own = [r for r in rows if r[schemas.ENTRY_IDS] == [ids[number]]]
                found += bool(own)
                inside += bool(own and own[0][schemas.VARIANT])
                false += len(rows) - len(own)
            out.append({"borders": borders, "edit": edit.name, "describe": edit.describe, "copies": clips,
                        "found": found, "inside": inside, "false": false,
                        "cpu_per_copy_s": (time.process_time() - start) / clips})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=None, help="Photo folder. Default: as bench_video_matching.")
    parser.add_argument("--clips", type=int, default=12, help="Originals (4 photos each, 16 s).")
    parser.add_argument("--size", default="640x360", help="Frame size of the originals.")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    rows = run(args.photos or clips_bench.default_photos(), args.clips, (width, height), args.seed)
    print("| video_borders | edit | copies | found | through the insides | false matches | CPU s per copy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {'on' if r['borders'] else 'off'} | {r['describe']} | {r['copies']} | {r['found']} | "
              f"{r['inside']} | {r['false']} | {r['cpu_per_copy_s']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
