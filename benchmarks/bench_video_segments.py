"""Long videos in a pipeline: wall time hashed whole in one element against cut into segments.

One generated video (a panning synthetic scene, ``tests.photosieve.video.videos``;
H.264 in MP4, x264 defaults plus a key frame every 2 s) goes through
:class:`photosieve.transforms.hashing.HashImages` on the DirectRunner with
``--direct_running_mode=multi_processing --direct_num_workers=N``, once with
segments too long to cut it (``video_segment_frames`` above its sampled
frames: one worker hashes it whole) and once with ``--segment-frames`` (the
segments are spread over the workers). Wall time of each pipeline, best of
``--repeats``, and whether the two runs' hash rows are equal. The video is
cached in ``--cache`` (encoding 20 minutes takes a few minutes).

    .venv/bin/python -m benchmarks.bench_video_segments --minutes 20 --workers 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from photosieve.hashing import HashPlan
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.reading import ObjectRecord
from tests.photosieve.video.videos import Recipe, encode, frames

H264 = Recipe("mp4-h264", "mp4", "libx264", options=(("g", "50"),))
FPS = 25


def _video(minutes: float, size: tuple[int, int], cache: Path) -> bytes:
    path = cache / f"pan-{minutes:g}min-{size[0]}x{size[1]}-{FPS}fps.mp4"
    if not path.exists():
        count = round(minutes * 60 * FPS)
        chunk = [f for f in frames(min(count, 600), size)]  # the pan repeats: encode its frames cyclically
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode([chunk[i % len(chunk)] for i in range(count)], H264, FPS))
    return path.read_bytes()


def _rows_of_pipeline(data: bytes, plan: HashPlan, workers: int, out: Path) -> float:
    options = PipelineOptions([
        "--runner=DirectRunner", "--direct_running_mode=multi_processing",
        f"--direct_num_workers={workers}", "--default_sdk_harness_log_level=WARNING",
    ])
    start = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        hashed = p | beam.Create([ObjectRecord("mem://long.mp4", len(data), None, data)]) | HashImages(
            plan, run_id="bench")
        _ = (hashed.hashes
             | beam.Map(lambda r: f"{r['algorithm']},{r.get('frame')},{r.get('timestamp')},{r['hash']}")
             | beam.io.WriteToText(str(out), shard_name_template=""))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--segment-frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/photosieve-bench-video"))
    args = parser.parse_args(argv)
    width, height = map(int, args.size.split("x"))
    data = _video(args.minutes, (width, height), args.cache)
    sampled = round(args.minutes * 60)
    print(f"video: {args.minutes:g} min {width}x{height} {FPS} fps H.264, {len(data) / 1e6:.1f} MB, "
          f"{sampled} sampled frames; {args.workers} workers")
    outputs = {}
    for label, segment_frames in (("whole", sampled * 2), ("segments", args.segment_frames)):
        plan = HashPlan.parse("pdq,md5", video_segment_frames=segment_frames)
        out = args.cache / f"rows-{label}.txt"
        wall = min(_rows_of_pipeline(data, plan, args.workers, out) for _ in range(args.repeats))
        outputs[label] = sorted(out.read_text().splitlines())
        print(f"{label:>9} (segment_frames={segment_frames}): {wall:.1f} s wall, {len(outputs[label])} rows")
    print("same rows:", outputs["whole"] == outputs["segments"])


if __name__ == "__main__":
    main()
