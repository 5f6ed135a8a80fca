"""Sample data for ``make demo``: an archive with planted copies of listed images, and the lists.

    python -m photosieve.pipelines.demo_data make out/demo     # archive/, lists/, planted.json
    photosieve audit -i out/demo/archive -l known=out/demo/lists/known.csv ... -o out/demo/run
    python -m photosieve.pipelines.demo_data check out/demo    # every planted copy matched?

The images are Meta's BSD-licensed PDQ test images bundled in
``tests/data/pdq-reference/images`` (see the LICENSE there). Five of them
are "known": their PDQ and MD5 hashes make the sample list, computed with
photosieve's own hasher as a list maker would. The archive holds other
reference images, edited copies of the known ones (resized, recompressed,
trimmed, greyscale, mirrored, rotated, a byte-identical copy and one inside
a zip file), a known-benign image with its suppress list, and broken files.
One short video, made with PyAV when the data is made, shows a known image
for a few seconds between two other pictures: its frames are matched like
those of an animated image, and ``check`` wants its match (frame and time).
A known video's vPDQ hash file makes a video list (``lists/known-videos``),
and a trimmed, smaller, re-encoded copy of it is in the archive: ``check``
wants its video-to-video match (``--video-list``) too.
``check`` prints the matches and fails unless every planted copy is found.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image, ImageOps

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.names import split_member, unescape

REFERENCE_IMAGES = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "pdq-reference" / "images"
)
# name in the list -> reference image: the "known" images.
KNOWN = {
    "bridge": "bridge-mods/aaa-orig.jpg",
    "pen": "reg-test-input/pen-and-coaster.png",
    "street": "reg-test-input/labelme-subset/q2821.jpg",
    "portrait": "python-threatexchange/rgb.jpeg",
    "letterbox": "python-threatexchange/letterboxed_sample-b.jpg",
}
# Archive content that is on no list (one of them on the benign list).
OTHERS = [
    "reg-test-input/labelme-subset/q0003.jpg",
    "reg-test-input/labelme-subset/q0004.jpg",
    "reg-test-input/labelme-subset/q0122.jpg",
    "reg-test-input/labelme-subset/q0291.jpg",
    "reg-test-input/labelme-subset/q0746.jpg",
    "reg-test-input/labelme-subset/q1050.jpg",
    "misc-images/wee.jpg",
    "misc-images/small.jpg",  # PDQ quality 0: hashed, stored, never matched
]
BENIGN = "reg-test-input/labelme-subset/q0746.jpg"


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _cropped(image: Image.Image, keep: float) -> Image.Image:
    dx, dy = round(image.width * (1 - keep) / 2), round(image.height * (1 - keep) / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


# Planted copy file name -> (known image, edit producing its bytes).
EDITS: dict[str, tuple[str, Callable[[Image.Image, bytes], bytes]]] = {
    "bridge-copy.jpg": ("bridge", lambda image, data: data),  # byte-identical: MD5 too
    "bridge-half-size.jpg": ("bridge", lambda image, data: _jpeg(_scaled(image, 0.5), 85)),
    "bridge-trimmed.png": ("bridge", lambda image, data: _png(_cropped(image, 0.98))),
    "pen-recompressed.jpg": ("pen", lambda image, data: _jpeg(image, 30)),
    # Rotations and mirror images match through --dihedral. (PDQ's dihedral
    # hashes are exact only up to its box filter's edges: fine on photos of
    # a few hundred pixels and more, tens of bits off on 256 px thumbnails.)
    "pen-rotated.jpg": (
        "pen",
        lambda image, data: _jpeg(image.transpose(Image.Transpose.ROTATE_90), 90),
    ),
    "letterbox-mirrored.png": ("letterbox", lambda image, data: _png(ImageOps.mirror(image))),
    "letterbox-small.png": ("letterbox", lambda image, data: _png(_scaled(image, 0.3))),
    "street-greyscale.jpg": ("street", lambda image, data: _jpeg(ImageOps.grayscale(image), 90)),
    "portrait-recompressed.jpg": ("portrait", lambda image, data: _jpeg(image, 50)),
}
# A planted copy inside a zip file (read with --archives).
ZIPPED = (
    "holiday.zip",
    "2019/bridge-thumbnail.jpg",
    "bridge",
    lambda image, data: _jpeg(_scaled(image, 0.25), 75),
)
# A planted video: (file name, known image shown, the other image around it,
# seconds of other / known / other). 25 fps, H.264 in MP4.
VIDEO = ("uploads/street-clip.mp4", "street", OTHERS[1], (1, 2, 1))
VIDEO_FPS = 25
VIDEO_WIDTH = 320
# A known video (the list holds its vPDQ hash file, as Meta's tools write it)
# and a copy of it in the archive: seconds 1-5 of it, smaller, re-encoded.
# The video pans across two reference images, cut from one to the other.
KNOWN_VIDEO = ("case-v01", ("reg-test-input/labelme-subset/q0291.jpg", "reg-test-input/labelme-subset/q1050.jpg"))
KNOWN_VIDEO_SECONDS = 6
VIDEO_COPY = ("uploads/reposted-clip.mp4", 1, 5, 0.75)  # name, first and last second kept, scale
VIDEO_LIST = "known-videos"
BROKEN = {
    "broken/truncated.jpg": lambda data: data[: len(data) // 3],
    "broken/empty.png": lambda data: b"",
    "broken/readme.txt": lambda data: b"Not an image: the errors table says so.\n",
}


def _video_frame(data: bytes, size: tuple[int, int]):
    import numpy as np

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.LANCZOS))


def _encode(pictures, size: tuple[int, int], crf: int = 23) -> bytes:
    """H.264 in MP4 at VIDEO_FPS, the same bytes on every run."""
    import av  # only when making the data: a dependency, but a heavy import

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": str(crf)}
        stream.codec_context.thread_count = 1  # the same bytes on every run
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _pan(images: Path, paths: tuple[str, ...], seconds: int, size: tuple[int, int]):
    """Frames panning slowly across each image in turn (a hard cut between them), RGB arrays."""
    import numpy as np

    width, height = size
    per = seconds * VIDEO_FPS // len(paths)
    for path in paths:
        with Image.open(images / path) as image:
            scene = np.asarray(image.convert("RGB").resize((width * 3 // 2, height * 3 // 2), Image.Resampling.LANCZOS))
        for i in range(per):
            x = (width // 2) * i // per
            yield np.ascontiguousarray(scene[: height, x : x + width])


def known_video(images: Path = REFERENCE_IMAGES) -> list:
    """The known video's frames (320x240)."""
    return list(_pan(images, KNOWN_VIDEO[1], KNOWN_VIDEO_SECONDS, (VIDEO_WIDTH, 240)))


def _video(known: bytes, other: bytes, seconds: tuple[int, int, int]) -> bytes:
    """An H.264 MP4 showing ``other``, then ``known``, then ``other`` (seconds of each), at 25 fps."""
    import av  # only when making the data: a dependency, but a heavy import

    with Image.open(io.BytesIO(known)) as image:
        height = round(image.height * VIDEO_WIDTH / image.width / 2) * 2  # yuv420p needs even sides
    size = (VIDEO_WIDTH, height)
    pictures = [_video_frame(other, size), _video_frame(known, size), _video_frame(other, size)]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.thread_count = 1  # the same bytes on every run
        index = 0
        for picture, count in zip(pictures, seconds):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            for _ in range(count * VIDEO_FPS):
                frame.pts = index
                index += 1
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def make(root: Path, images: Path = REFERENCE_IMAGES) -> dict:
    """Write ``root/archive``, ``root/lists`` and ``root/planted.json``; return the planted names."""
    archive, lists = root / "archive", root / "lists"
    import numpy as np

    for directory in (archive / "photos", archive / "uploads", archive / "broken", lists):
        directory.mkdir(parents=True, exist_ok=True)
    hasher = ImageHasher(HashPlan.parse("pdq,md5"))
    originals = {name: (images / path).read_bytes() for name, path in KNOWN.items()}
    rows = ["hash,algorithm,id,labels"]
    for number, (name, data) in enumerate(originals.items(), start=1):
        result = hasher.hash_bytes(name, data)
        rows.append(f"{result.frames[0].results[0].hash.to_hex()},pdq,case-{number:03d},{name}")
        rows.append(f"{result.digests[0].hash.to_hex()},md5,case-{number:03d},{name}")
    (lists / "known.csv").write_text("\n".join(rows) + "\n")
    benign = hasher.hash_bytes(BENIGN, (images / BENIGN).read_bytes()).frames[0].results[0]
    (lists / "benign.txt").write_text(
        f"# a known-benign image: its matches are suppressed\npdq {benign.hash.to_hex()}\n"
    )

    for path in OTHERS:
        (archive / "photos" / Path(path).name).write_bytes((images / path).read_bytes())
    planted = {}
    for file_name, (name, edit) in EDITS.items():
        data = originals[name]
        with Image.open(io.BytesIO(data)) as image:
            (archive / "uploads" / file_name).write_bytes(edit(image.convert("RGB"), data))
        planted[f"uploads/{file_name}"] = name
    zip_name, member, name, edit = ZIPPED
    with (
        Image.open(io.BytesIO(originals[name])) as image,
        zipfile.ZipFile(archive / zip_name, "w") as zipped,
    ):
        zipped.writestr(member, edit(image.convert("RGB"), originals[name]))
    planted[f"{zip_name}!/{member}"] = name
    video_name, name, other, seconds = VIDEO
    (archive / video_name).write_bytes(_video(originals[name], (images / other).read_bytes(), seconds))
    planted[video_name] = name
    frames = known_video(images)
    from photosieve.video import vpdq

    (lists / VIDEO_LIST).mkdir(exist_ok=True)
    original = _encode(frames, (VIDEO_WIDTH, 240))
    vpdq.write_hash_file(lists / VIDEO_LIST / f"{KNOWN_VIDEO[0]}.txt", vpdq.hash_video(original))
    copy_name, first, last, scale = VIDEO_COPY
    size = (round(VIDEO_WIDTH * scale / 2) * 2, round(240 * scale / 2) * 2)
    kept = [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BILINEAR))
            for f in frames[first * VIDEO_FPS : (last + 1) * VIDEO_FPS]]
    (archive / copy_name).write_bytes(_encode(kept, size, crf=30))
    (root / "planted-videos.json").write_text(json.dumps({copy_name: KNOWN_VIDEO[0]}, indent=2) + "\n")
    sample = (images / OTHERS[0]).read_bytes()
    for path, damage in BROKEN.items():
        (archive / path).write_bytes(damage(sample))
    (root / "planted.json").write_text(json.dumps(planted, indent=2) + "\n")
    return planted


def check(root: Path, run: Path | None = None) -> int:
    """Print the run's matches; return 0 if every planted copy matched the known list, 1 if not."""
    run = run or root / "run"
    planted = json.loads((root / "planted.json").read_text())
    archive = str((root / "archive").resolve())
    rows = sorted(
        pq.read_table(run / schemas.MATCHES).to_pylist(),
        key=lambda r: (r[schemas.URI], r[schemas.LIST_NAME], r[schemas.ALGORITHM]),
    )
    lines = [
        f"{'object':<42} {'list':<7} {'algo':<4} {'dist':>4}  {'orientation':<11} {'labels':<10} status"
    ]
    found, found_videos = set(), set()
    for row in rows:
        # Uris are absolute and escaped: the archive's own path, resolved, is cut off.
        outer, member = split_member(row[schemas.URI])
        relative = str(Path(unescape(outer)).resolve())[len(archive) + 1 :]
        relative += "" if member is None else f"!/{member}"
        if row[schemas.LIST_NAME] == "known" and row[schemas.STATUS] == schemas.STATUS_MATCH:
            found.add(relative)
        if row[schemas.LIST_NAME] == VIDEO_LIST and row[schemas.ALGORITHM] == schemas.VPDQ:
            found_videos.add((relative, tuple(row[schemas.ENTRY_IDS])))
            relative = (f"{relative} {row[schemas.SEGMENT_START]:.0f}-{row[schemas.SEGMENT_END]:.0f}s = "
                        f"{row[schemas.LIST_SEGMENT_START]:.0f}-{row[schemas.LIST_SEGMENT_END]:.0f}s of it")
        if row.get(schemas.FRAME_TIMESTAMP) is not None and row[schemas.ALGORITHM] != schemas.VPDQ:
            # a video frame matching an image: say when
            relative = f"{relative} @{row[schemas.FRAME_TIMESTAMP]:.1f}s"
        lines.append(
            f"{relative:<42} {row[schemas.LIST_NAME]:<7} {row[schemas.ALGORITHM]:<4} {row[schemas.DISTANCE]:>4.0f}  "
            f"{row[schemas.ORIENTATION] or '-':<11} {','.join(row[schemas.LABELS]) or '-':<10} {row[schemas.STATUS]}"
        )
    summary = json.loads((run / "summary.json").read_text())
    errors = summary["counts"].get("errors", {}).get("class", {})
    print("\n".join(lines))
    print(
        f"\n{summary['tables']['hashes']} hashes, {summary['tables']['errors']} errors "
        f"({', '.join(f'{n} {c}' for c, n in sorted(errors.items()))}), {summary['tables']['matches']} match rows "
        f"in {summary['wall_seconds']:.1f} s; accounting {'balanced' if summary['accounting']['balanced'] else 'NOT balanced'}"
    )
    videos_path = root / "planted-videos.json"
    planted_videos = json.loads(videos_path.read_text()) if videos_path.exists() else {}
    missing = sorted(set(planted) - found) + sorted(
        f"{path} (video {video})" for path, video in planted_videos.items() if (path, (video,)) not in found_videos)
    unexpected = sorted(found - set(planted))
    if missing:
        print(f"MISSED {len(missing)} planted copies: {', '.join(missing)}")
    if unexpected:
        print(f"{len(unexpected)} unexpected matches: {', '.join(unexpected)}")
    if not missing:
        print(f"all {len(planted)} planted copies found"
              + (f", and the {len(planted_videos)} planted copy of a known video" if planted_videos else ""))
    return 1 if missing or not summary["accounting"]["balanced"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m photosieve.pipelines.demo_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "action", choices=("make", "check"), help="make the sample data, or check a run on it"
    )
    parser.add_argument("root", type=Path, help="The demo directory (e.g. out/demo).")
    parser.add_argument("--run", type=Path, help="The audit's output directory. Default: ROOT/run.")
    args = parser.parse_args(argv)
    if args.action == "make":
        planted = make(args.root)
        print(f"wrote {args.root}/archive ({len(planted)} planted copies) and {args.root}/lists")
        return 0
    return check(args.root, args.run)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
