"""The hashing and decoding flags shared by ``photosieve hash``, ``scan`` and ``audit``.

Beam-free, so ``photosieve hash`` starts without importing Beam. One place
defines each flag, its default (taken from the core's constants) and its help.
"""

from __future__ import annotations

import argparse

from photosieve.decode import (
    DEFAULT_FAST_MIN_SIDE,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    DecodeOptions,
)
from photosieve.hashing import (
    ALGORITHM_CHOICES,
    DEFAULT_ALGORITHMS,
    DEFAULT_VIDEO_INTERVAL_S,
    DEFAULT_VIDEO_MAX_FRAMES,
    DEFAULT_VIDEO_SEGMENT_FRAMES,
)
from photosieve.reading import DEFAULT_MAX_OBJECT_BYTES
from photosieve.cli.values import at_least


def add_hash_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add -a/--algorithms, -d/--decode and the decoder's limits to ``parser``."""
    parser.add_argument(
        "-a", "--algorithms", default=",".join(DEFAULT_ALGORITHMS),
        help=f"Comma-separated, from: {', '.join(ALGORITHM_CHOICES)}. Default: {','.join(DEFAULT_ALGORITHMS)}.",
    )
    parser.add_argument(
        "-d", "--decode", choices=("fast", "exact"), default="fast",
        help="fast: decode JPEGs at reduced size (DCT scaling), shrink others, and apply PDQ's "
        "full-resolution filter to the result (within a few bits of exact); exact: hash "
        "full-resolution pixels (PDQ bit-identical to Meta's reference). Default: fast.",
    )
    parser.add_argument(
        "--exif-transpose", action=argparse.BooleanOptionalAction, default=True,
        help="Hash pixels as displayed (EXIF orientation applied); --no-exif-transpose hashes them "
        "as stored. Default: on.",
    )
    parser.add_argument("--all-frames", action="store_true",
                        help="Hash every frame of animated images and multi-page TIFFs, in order, "
                        "until the last, a damaged frame (an error row; earlier frames keep their "
                        "hashes) or --max-frames. Default: first frame only (frame count not read).")
    parser.add_argument("--max-frames", type=at_least(1), default=DEFAULT_MAX_FRAMES,
                        help="With --all-frames, hash at most this many frames per object; an object "
                        "with more gets a frames_cut_off error row (counted in summary.json). "
                        f"Default: {DEFAULT_MAX_FRAMES}.")
    parser.add_argument("--video-interval", type=_seconds, default=DEFAULT_VIDEO_INTERVAL_S, metavar="SECONDS",
                        help="Hash video objects (MP4, MOV, WebM, MKV, AVI, MPEG-TS/PS) as vPDQ does: the "
                        "pixel algorithms on one frame every SECONDS (vPDQ's frame choice; 0 = every "
                        "frame), at most --max-video-frames frames. Default: "
                        f"{DEFAULT_VIDEO_INTERVAL_S:g}.")
    parser.add_argument("--max-video-frames", type=at_least(1), default=DEFAULT_VIDEO_MAX_FRAMES, metavar="N",
                        help="Hash at most N sampled frames per video; a longer one gets a frames_cut_off "
                        "error row (its earlier frames are hashed). --max-frames is for images. Default: "
                        f"{DEFAULT_VIDEO_MAX_FRAMES} (4 hours at one frame a second).")
    parser.add_argument("--video-segment-frames", type=at_least(1), default=DEFAULT_VIDEO_SEGMENT_FRAMES,
                        metavar="N",
                        help="Pipelines cut a video of more than N sampled frames into segments of about N, "
                        "hashed by different workers (H.264 and intra-only codecs such as MJPEG; others are "
                        "hashed whole). The decoder's CPU-time limit applies per segment. Changes no hash. "
                        f"Default: {DEFAULT_VIDEO_SEGMENT_FRAMES}.")
    parser.add_argument("--no-videos", action="store_true",
                        help="Do not decode videos: their bytes' digests only, and a not_an_image error row. "
                        "Default: videos are hashed.")
    parser.add_argument("--no-video-borders", action="store_true",
                        help="Do not also hash video frames inside their uniform borders. By default a frame "
                        "with borders (letterbox, pillarbox, a frame around a re-posted clip) gets a second PDQ "
                        "row (variant 'borders x,y,w,h', the box most often found in the video so far), so "
                        "bordered copies of listed videos and images match; vPDQ alone misses them. "
                        "Default: borders hashed.")
    parser.add_argument("--max-pixels", type=at_least(1), default=DEFAULT_MAX_PIXELS,
                        help=f"Decompression-bomb limit in pixels. Default: {DEFAULT_MAX_PIXELS}.")
    parser.add_argument("--max-bytes", type=at_least(1), default=DEFAULT_MAX_OBJECT_BYTES,
                        help=f"Objects larger than this are reported, unread. Default: {DEFAULT_MAX_OBJECT_BYTES}.")
    parser.add_argument("--fast-min-side", type=at_least(1), default=DEFAULT_FAST_MIN_SIDE,
                        help=f"Fast decode shrinks no further than this shorter side. Default: {DEFAULT_FAST_MIN_SIDE}.")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, got {text!r}")
    return value


def video_interval(args: argparse.Namespace) -> float | None:
    """The plan's ``video_interval_s`` from --video-interval / --no-videos (None: videos not hashed)."""
    if getattr(args, "no_videos", False):
        return None
    return getattr(args, "video_interval", DEFAULT_VIDEO_INTERVAL_S)


def video_settings(args: argparse.Namespace) -> dict:
    """HashPlan.parse's video keywords from --video-interval, --no-videos, --max-video-frames and
    --video-segment-frames (defaults for namespaces without them)."""
    return {
        "video_interval_s": video_interval(args),
        "video_max_frames": getattr(args, "max_video_frames", DEFAULT_VIDEO_MAX_FRAMES),
        "video_segment_frames": getattr(args, "video_segment_frames", DEFAULT_VIDEO_SEGMENT_FRAMES),
        "video_borders": not getattr(args, "no_video_borders", False),
    }


def decode_options(args: argparse.Namespace) -> DecodeOptions:
    """The DecodeOptions the flags ask for (raises ConfigError for bad values)."""
    return DecodeOptions(mode=args.decode, exif_transpose=args.exif_transpose, max_pixels=args.max_pixels,
                         all_frames=args.all_frames, max_frames=args.max_frames,
                         fast_min_side=args.fast_min_side)
