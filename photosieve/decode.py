"""Decode image bytes into the H x W x 3 uint8 RGB arrays the hashes take.

The pipeline hands :func:`decode_frames` the bytes of one object from any
filesystem; it returns one :class:`DecodedImage` per frame (only the first
frame unless ``DecodeOptions.all_frames``), with a :class:`FrameStop` when
reading ended before the last frame, or raises
:class:`~photosieve.errors.DecodeError` with a
:class:`~photosieve.errors.FailureReason` when the first frame fails. Nothing
else escapes: empty, unknown, truncated, corrupt, oversized and unsupported
inputs are all typed. :func:`decode` is the strict form (a list, or raise).

Work per object is bounded. The frame count is never read (Pillow finds it
by walking every TIFF page or GIF frame, quadratic in the page count for
TIFF): first-frame decoding reads frame 0 and nothing after it, so a damaged
later frame cannot fail it, and ``all_frames`` walks forward one frame at a
time, at most ``max_frames`` frames decoded and one more looked at. All frames
together may decode at most ``max_pixels`` pixels, and reading stops between
frames once the object has used ``max_cpu_seconds`` of its thread's CPU time.

Warnings raised while decoding (Pillow's DecompressionBombWarning, "Corrupt
EXIF data" and other plugin ``UserWarning``s) are counted per category into
the caller's Counter, never printed: on an archive of millions of hostile
objects, stderr would otherwise fill with lines nobody can attribute. libtiff's
error messages, which it writes to file descriptor 2 itself, are counted there
too, as ``"libtiff:<module>"`` (see :mod:`photosieve.libtiff_messages`).

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO()
>>> Image.new("L", (2048, 1024), 128).save(buffer, "PNG")
>>> [frame] = decode(buffer.getvalue())
>>> frame.pixels.shape, frame.format, frame.source_mode, frame.scale
((256, 512, 3), 'PNG', 'L', 0.25)
>>> decode(buffer.getvalue(), DecodeOptions(mode="exact"))[0].pixels.shape
(1024, 2048, 3)

Mode conversion follows the references: python-threatexchange and the PyPI
``pdqhash`` lists are built from Pillow's ``Image.convert("RGB")``, so
:func:`image_to_rgb` is exactly that (see its docstring for what it does to
alpha, 16-bit and float images, with the evidence).

Decoding is the main cost of the product, hence the fast path: JPEGs are
scaled in the DCT domain by libjpeg (``Image.draft``), everything else is
box-reduced in C (``Image.reduce``), never below ``fast_min_side`` pixels on
the shorter side. PDQ works on a 64x64 downsample anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError, features

from photosieve import libtiff_messages
from photosieve.errors import ConfigError, DecodeError, FailureReason

__all__ = [
    "DECODER_VERSION",
    "DEFAULT_FAST_MIN_SIDE",
    "DEFAULT_MAX_CPU_SECONDS",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "DecodeOptions",
    "DecodedFrames",
    "DecodedImage",
    "FrameStop",
    "decode",
    "decode_frames",
    "image_to_rgb",
]

_LOG = logging.getLogger(__name__)

# Twice Pillow's default Image.MAX_IMAGE_PIXELS (89_478_485), which is where
# Pillow itself raises DecompressionBombError in Image.open: the largest limit
# honoured without touching that process-global setting. It admits 150 MP
# medium-format photos (Phase One IQ4: 14204 x 10652 = 151 MP) and 100-108 MP
# sensors; 200 MP phone modes (16320 x 12240) are reported as bombs. Memory at
# the limit: decoding holds Pillow's RGB image at 4 bytes/pixel (716 MB) and
# the 537 MB packed array (copied out in strips, see _as_array), 1.25 GB; then
# exact-mode PDQ holds the array, its float32 luma (716 MB) and 64 MB strips.
# Measured peak RSS of one worker hashing pdq,md5 at the limit (13376 x 13376,
# benchmarks/bench_decode_limits.py): exact 1.37 GiB (was 6.5 GiB), fast
# 0.71 GiB. WebP and AVIF decoders hold more per pixel and get a lower limit
# (see _LOAD_BYTES_PER_PIXEL); P, RGBA and other modes are converted to RGB by
# strips, EXIF turns are applied by strips, so neither adds a full-size copy.
# Other pixel hashes add their own work on the same array. Between
# 1x and 2x Pillow's default, Pillow emits a DecompressionBombWarning from
# Image.open; it is counted, not printed (see decode_frames()).
DEFAULT_MAX_PIXELS = 2 * 89_478_485

# Animated images: hashing every frame of a 10,000-frame GIF would cost as much
# as thousands of photos. 100 frames of a typical 500x500 GIF cost about as much
# as decoding two 12 MP photos, and cover 10 s at 10 fps. Frames past the cap
# are reported (FailureReason.FRAMES_CUT_OFF), not silently dropped.
DEFAULT_MAX_FRAMES = 100

# Second line of defence after the pixel budget, checked between frames with
# --all-frames: CPU time of the decoding thread. Not deterministic (machine
# speed decides), so generous: the pixel budget alone keeps a well-formed
# object far below it (179 MP decode in about 2 s here), and it only cuts
# pathological ones, such as many tiny frames each costing a full recomposite.
DEFAULT_MAX_CPU_SECONDS = 60.0

# Memory of decoding, per declared pixel. The documented bound is what an RGB
# frame costs at max_pixels: Pillow holds RGB as RGBX (4 bytes/pixel, all that
# fast mode keeps at full size), and exact mode adds the 3 bytes/pixel array.
# Pillow cannot reduce while loading, so a format whose decoder holds more at
# full size gets a lower pixel limit, checked before load: WebP goes through
# libwebp's animation decoder even for stills, which composes the canvas as
# RGBA twice (the current and the previous, disposed frame), and Pillow copies
# that into a bytes object and then into its image: 16 bytes/pixel, measured
# (peak RSS of fast-mode decoding of a 6000x6000 WebP: 553 MB, 16.1 B/px;
# 13376x13376 from a 1.7 KB animated WebP: 2.8 GB). AVIF: libavif keeps its
# YUV planes while Pillow takes the RGB as bytes and then as its image:
# measured 9.3 bytes/pixel for 8-bit 4:2:0 and 10.9 for 4:4:4 (7000x7000);
# 10- and 12-bit planes take 2 bytes a sample, so 14 covers 4:4:4 at any depth.
# GIF, PNG, TIFF, BMP and JPEG hold at most the 4 bytes/pixel frame (P and L
# canvases 1: their conversion goes by strips, see _as_array).
_RGB_BYTES_PER_PIXEL = 4
_ARRAY_BYTES_PER_PIXEL = 3
_LOAD_BYTES_PER_PIXEL = {"WEBP": 16, "AVIF": 14}

# Fast mode never reduces the shorter side below this. PDQ downsamples to 64x64
# after a Jarosz box filter sized from the input; 256 keeps 4x that resolution.
# Tunable: benchmarks measure hash agreement with exact mode against speed.
DEFAULT_FAST_MIN_SIDE = 256

# Bump with any change here that alters decoded pixels (scaling, colour or
# mode conversion, EXIF handling): every pixel hash depends on them, so
# incremental audits re-hash objects whose stored hashes came from another
# decoder version (see photosieve.incremental).
DECODER_VERSION = 1

# Pillow format names photosieve opens, in the order Image.open tries them.
# Restricting Image.open to these keeps Pillow's weaker identifiers (TGA has
# no signature, so random bytes can "open") and its riskier plugins (EPS runs
# Ghostscript) away from untrusted archive content. "MPO" (camera JPEGs with a
# multi-picture index) is opened by the JPEG plugin. AVIF and HEIF appear only
# when a decoder is installed (see _Registry).
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF")

_MODES = ("fast", "exact")

# libjpeg's DCT-domain scalings available through Image.draft (1/8 .. 1/1).
_DCT_FACTORS = (8, 4, 2, 1)

# Modes in which Image.reduce before convert("RGB") gives the same pixels as
# after it (the conversion is per-pixel and linear: identity or replication).
# Every other mode is converted first: clipping (I;16, I, F), palettes (P),
# dithering (1), alpha (reduce premultiplies RGBA) and colour matrices are not
# linear, and the references convert at full resolution.
_REDUCE_BEFORE_CONVERT = frozenset({"RGB", "L"})

# EXIF Orientation -> transpose, as PIL.ImageOps.exif_transpose maps it.
_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_INVERSE_TRANSPOSE = {
    **{method: method for method in _TRANSPOSE_FOR_ORIENTATION.values()},
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
}

# ISO-BMFF (ftyp) brands. "mif1"/"msf1" are generic HEIF image/sequence brands
# that AVIF files also list, so AVIF brands are looked for first.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_INSTALL_HINT = {
    "HEIF": "install the optional extra: pip install 'photosieve[heif]' (pillow-heif)",
    "AVIF": "use Pillow >= 11.3 built with libavif, or pip install 'photosieve[avif]'",
}
# Image formats recognised by signature that photosieve does not decode.
_UNSUPPORTED_SIGNATURES = (
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000 codestream"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL codestream"),
    (b"8BPS", "Photoshop PSD"),
)
# Valid BMP DIB header sizes (BITMAPCOREHEADER .. BITMAPV5HEADER); "BM" alone is
# too weak a signature (any text starting with "BM").
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# Exception text is quoted in messages; Pillow's are short, but cap them.
_MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode. Validated at construction (ConfigError names the field).

    Attributes:
        mode: ``"fast"`` scales down while decoding (JPEG DCT scaling, else
            an integer box reduction) as far as ``fast_min_side`` allows;
            ``"exact"`` decodes at full resolution with no resampling.
        exif_transpose: apply the EXIF Orientation tag (ImageOps.exif_transpose
            semantics), so the pixels are as displayed. Note that
            python-threatexchange and the C++ reference hash the stored
            pixels, ignoring EXIF; lists built with them match EXIF-rotated
            photos only through dihedral (rotated) PDQ hashes. Pillow 12's
            TIFF plugin applies the orientation while loading; with False,
            decode undoes that so every format gives the stored pixels.
        max_pixels: decompression-bomb limit on each frame's declared
            width x height, checked before any pixel is decoded; with
            ``all_frames`` also the budget for all decoded frames together
            (the frame that would exceed it ends reading: OVER_BUDGET).
            Limits above 2x Pillow's ``Image.MAX_IMAGE_PIXELS`` are cut to
            that by Pillow itself (its process-global setting, left alone).
            It also sets the memory bound, checked before load: what an RGB
            frame at the limit holds (4 bytes/pixel fast, 7 exact). Formats
            whose decoders hold more per pixel may declare fewer pixels: WebP
            (16 bytes/pixel) a quarter of max_pixels in fast mode and 7/19 in
            exact mode, AVIF (14) 2/7 and 7/17.
        all_frames: return every frame of animated GIF/WebP/PNG and every page
            of multi-page TIFF/MPO, not just the first.
        max_frames: with ``all_frames``, decode at most this many frames; a
            frame beyond them ends reading with FRAMES_CUT_OFF.
        max_cpu_seconds: with ``all_frames``, CPU seconds of the decoding
            thread after which no further frame is started (OVER_BUDGET).
        fast_min_side: fast mode keeps the shorter side at least this long.
        luma: return H x W uint8 luma instead of RGB. JPEGs then decode
            straight to their Y channel (libjpeg skips chroma upsampling and
            colour conversion: measured 35% faster on 500x375 photos); other
            formats convert with Pillow's ``convert("L")`` (ITU-R 601, the
            weights PDQ uses, rounded to integers). For hashes that only need
            luma and tolerate +-0.5 rounding, i.e. fast-mode PDQ.
    """

    mode: str = "fast"
    exif_transpose: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    all_frames: bool = False
    max_frames: int = DEFAULT_MAX_FRAMES
    fast_min_side: int = DEFAULT_FAST_MIN_SIDE
    luma: bool = False
    max_cpu_seconds: float = DEFAULT_MAX_CPU_SECONDS

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ConfigError(f"decode mode must be one of {', '.join(_MODES)}; got {self.mode!r}")
        for name in ("max_pixels", "max_frames", "fast_min_side"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"decode option {name} must be an integer >= 1; got {value!r}")
        for name in ("exif_transpose", "all_frames", "luma"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ConfigError(f"decode option {name} must be True or False; got {value!r}")
        seconds = self.max_cpu_seconds
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
            raise ConfigError(
                f"decode option max_cpu_seconds must be a number > 0; got {seconds!r}"
            )


@dataclass(frozen=True)
class DecodedImage:
    """One decoded frame, ready for the hash functions.

    Attributes:
        pixels: H x W x 3 uint8 RGB (H x W luma with ``DecodeOptions.luma``),
            C-contiguous, read-only (a view of the bytes Pillow produced;
            ``np.array(pixels)`` for a writable copy).
        format: Pillow's format name ("JPEG", "MPO", "PNG", "WEBP", ...).
        source_mode: the frame's Pillow mode as stored ("RGB", "P", "I;16"...).
        source_size: (width, height) as stored, before draft, reduce or EXIF.
        exif_transposed: True iff an EXIF orientation other than 1 was applied.
        exif_orientation: the EXIF Orientation found (1..8; 1 when absent),
            whether or not it was applied.
        frame: index of this frame in the file (0 for stills).
        n_frames: number of frames in the file when it is known, else None.
            Known only with ``all_frames`` when reading reached the end (no
            FrameStop); first-frame decoding never counts frames (counting
            means walking the whole file), so it is None there, stills too.
        scale: linear factor from the stored size to the decoded one before
            EXIF transposition: 1.0 means none, 0.25 means each side is
            ceil(side / 4). Always 1.0 in exact mode.
    """

    pixels: np.ndarray
    format: str
    source_mode: str
    source_size: tuple[int, int]
    exif_transposed: bool
    frame: int
    n_frames: int | None
    scale: float
    exif_orientation: int = 1


def image_to_rgb(image: Image.Image) -> np.ndarray:
    """Convert a Pillow image of any mode to H x W x 3 uint8 RGB, as the references do.

    This is ``Image.convert("RGB")``, the conversion python-threatexchange
    applies before ``pdqhash.compute``, so hashes agree with lists built by it:

    * ``1``: 0 / 255. ``L``: grey copied to the three channels.
    * ``LA``, ``RGBA``, ``PA``, ``RGBa``: alpha is dropped, not composited onto
      a background; fully transparent pixels keep whatever colour they store.
    * ``P``: palette lookup; a transparency index is ignored like alpha.
    * ``I;16`` (and ``I;16L``/``I;16B``/``I;16N``), ``I``, ``F``: values are
      clipped to 0..255, not rescaled, so a typical 16-bit image turns almost
      white and a 0..1 float image almost black. Evidence: the reference hash
      of python-threatexchange's ``I16.png`` (de2ef0e9...1763, quality 36) is
      reproduced exactly by clipping; rescaling (``>> 8``) gives 628dbaa8...
      with quality 100, wrapping (``& 255``) gives ab5f69b6....
    * ``CMYK``: Pillow's naive formula (no ICC profile), Adobe-inverted JPEGs
      already un-inverted by the decoder. ``YCbCr``, ``LAB``, ``HSV``:
      Pillow's built-in conversions.

    Returns the array without a second copy: ``np.asarray`` wraps the bytes
    Pillow produces (so it is read-only) and ``np.ascontiguousarray`` is a no-op
    on it. Large images are copied out in strips instead (see :func:`_as_array`).

    Raises:
        DecodeError: UNSUPPORTED_FORMAT for a mode Pillow cannot convert to RGB.
    """
    return _as_array(image, "RGB")


def image_to_luma(image: Image.Image) -> np.ndarray:
    """H x W uint8 luma of a Pillow image of any mode (``convert("L")``).

    Same clipping and alpha rules as :func:`image_to_rgb`; RGB goes through
    Pillow's integer ITU-R 601 weights (0.299, 0.587, 0.114), so the result
    is PDQ's float luma rounded. Modes Pillow converts to L only via RGB
    (e.g. HSV, LAB) go through RGB first.
    """
    return _as_array(image, "L")


# Images of more pixels than this leave Pillow in strips of about this many.
# np.asarray goes through Image.tobytes, which joins a list of encoded chunks:
# at the 179 MP limit Pillow's RGBX image (716 MB), the chunks (537 MB) and the
# joined bytes (537 MB) coexist, 1.79 GB; by strips, 1.25 GB. Modes other than
# the target are converted strip by strip too (every conversion to RGB or L is
# per pixel): a full-size convert("RGB") of a P or L canvas would add Pillow's
# 4 bytes/pixel RGBX copy to the 1 byte/pixel source.
_ARRAY_STRIP_PIXELS = 1 << 24


def _as_array(
    image: Image.Image, mode: str, transpose: Image.Transpose | None = None
) -> np.ndarray:
    """A read-only, C-contiguous uint8 array of ``image`` converted to ``mode`` (RGB or L).

    With ``transpose``, of the image so transposed: large images are then
    transposed strip by strip too (each output strip from the box of the
    image that maps onto it), never holding a full-size transposed copy,
    which in exact mode would add 4 bytes/pixel for every EXIF-rotated photo.
    """
    width, height = image.size
    if width * height <= _ARRAY_STRIP_PIXELS:
        if transpose is not None:
            image = image.transpose(transpose)
        return np.ascontiguousarray(np.asarray(_converted(image, mode)))
    if transpose in _SWAPS_SIDES:
        width, height = height, width
    shape = (height, width) if mode == "L" else (height, width, 3)
    out = np.empty(shape, dtype=np.uint8)
    step = max(1, _ARRAY_STRIP_PIXELS // width)
    for top in range(0, height, step):
        bottom = min(height, top + step)
        box = (0, top, width, bottom)
        if transpose is None:
            strip = image.crop(box)
        else:
            strip = image.crop(_source_box(box, transpose, (width, height))).transpose(transpose)
        out[top:bottom] = np.asarray(_converted(strip, mode))
    out.setflags(write=False)  # as np.asarray's view of Pillow's bytes
    return out


_SWAPS_SIDES = frozenset(
    {
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
    }
)


def _source_box(
    box: tuple[int, int, int, int], method: Image.Transpose, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The box of an image that ``method`` maps onto ``box`` of the result, of ``size``."""
    inverse = _INVERSE_TRANSPOSE[method]
    corners = [_moved(inverse, x, y, size) for x in (box[0], box[2]) for y in (box[1], box[3])]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _moved(method: Image.Transpose, x: int, y: int, size: tuple[int, int]) -> tuple[int, int]:
    """Where corner (x, y) of an image of ``size`` lands under ``method`` (pixel edges)."""
    w, h = size
    return {
        Image.Transpose.FLIP_LEFT_RIGHT: (w - x, y),
        Image.Transpose.FLIP_TOP_BOTTOM: (x, h - y),
        Image.Transpose.ROTATE_180: (w - x, h - y),
        Image.Transpose.TRANSPOSE: (y, x),
        Image.Transpose.ROTATE_90: (y, w - x),  # counter-clockwise
        Image.Transpose.ROTATE_270: (h - y, x),
        Image.Transpose.TRANSVERSE: (h - y, w - x),
    }[method]


def _converted(image: Image.Image, mode: str) -> Image.Image:
    """``image.convert(mode)`` for mode RGB or L; L via RGB where Pillow has no direct way.

    Raises:
        DecodeError: UNSUPPORTED_FORMAT for a mode Pillow cannot convert to RGB.
    """
    if image.mode == mode:
        return image
    try:
        if mode == "L":
            try:
                return image.convert("L")
            except ValueError:  # e.g. HSV, LAB: only through RGB
                return image.convert("RGB").convert("L")
        return image.convert("RGB")
    except ValueError as exc:  # "conversion from X to RGB not supported"
        raise DecodeError(
            FailureReason.UNSUPPORTED_FORMAT,
            f"{image.format or 'image'} mode {image.mode} has no RGB conversion: {exc}",
        ) from exc


def _reduced(image: Image.Image, factor: int, mode: str) -> Image.Image:
    """``image`` box-reduced by ``factor`` and converted to ``mode`` (RGB or L).

    Modes in _REDUCE_BEFORE_CONVERT are reduced first (same pixels, less work);
    others are converted first, as the references do, but strip by strip: a
    strip of a multiple of ``factor`` rows holds whole reduction blocks, so the
    result is the same bytes as reducing the full-size conversion, without
    holding that 4 bytes/pixel copy (a P or RGBA canvas at the pixel limit).
    """
    if image.mode in _REDUCE_BEFORE_CONVERT:
        return _converted(image.reduce(factor), mode)
    width, height = image.size
    step = factor * max(1, _ARRAY_STRIP_PIXELS // (width * factor))  # rows per strip
    if step >= height:
        return _converted(image, mode).reduce(factor)
    out = Image.new(mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, step):
        strip = image.crop((0, top, width, min(height, top + step)))
        out.paste(_converted(strip, mode).reduce(factor), (0, top // factor))
    return out


@dataclass(frozen=True)
class FrameStop:
    """Why reading an object's frames ended before its last frame (``all_frames`` only).

    Attributes:
        frame: index of the first frame not returned (every earlier one was).
        reason: TRUNCATED or CORRUPT (the frame is damaged), DECOMPRESSION_BOMB
            (it declares more than ``max_pixels``), OVER_BUDGET (the object's
            pixel or CPU budget is used up) or FRAMES_CUT_OFF (``max_frames``
            frames were decoded and there is at least one more).
        message: names the frame, what happened and that reading stopped there.
    """

    frame: int
    reason: FailureReason
    message: str


@dataclass(frozen=True)
class DecodedFrames:
    """What :func:`decode_frames` read from one object.

    Attributes:
        frames: the decoded frames, in file order, at least one.
        stop: why reading ended early, or None when it reached the end (or
            only the first frame was asked for).
    """

    frames: tuple[DecodedImage, ...]
    stop: FrameStop | None = None


def decode(data: bytes, options: DecodeOptions = DecodeOptions()) -> list[DecodedImage]:
    """Decode one image file's bytes, strictly: every frame asked for, or raise.

    :func:`decode_frames` without its partial results: a FrameStop raises its
    reason as a DecodeError (a partial list would look complete), except
    FRAMES_CUT_OFF, the cap the caller set: the first ``max_frames`` frames
    are returned. Warnings are discarded (logged at debug level).

    Raises:
        DecodeError: as :func:`decode_frames`, or for a later frame's FrameStop.
    """
    result = decode_frames(data, options)
    stop = result.stop
    if stop is not None and stop.reason is not FailureReason.FRAMES_CUT_OFF:
        raise DecodeError(stop.reason, stop.message)
    return list(result.frames)


def decode_frames(
    data: bytes, options: DecodeOptions = DecodeOptions(), warning_counts: Counter | None = None
) -> DecodedFrames:
    """Decode one image file's bytes: the first frame, or all frames until one fails.

    Steps per frame: open (header only), check the declared size against
    ``max_pixels``, fast-mode draft (JPEG), load, fast-mode reduce, EXIF
    transpose, RGB conversion. With ``all_frames``, frames are read in order
    until the end, a damaged frame, ``max_frames`` or the budget (see the
    module docstring): the frames before are returned with a FrameStop.

    Warnings raised while decoding are counted into ``warning_counts`` by
    category name ("DecompressionBombWarning", "UserWarning", ...) and never
    shown; see :func:`_counting_warnings` for how this stays thread-safe.

    Args:
        data: the whole file.
        options: see :class:`DecodeOptions`.
        warning_counts: where to count warnings; None discards them.

    Returns:
        The decoded frames (at least one) and the FrameStop, if any.

    Raises:
        DecodeError: the first frame failed: EMPTY, NOT_AN_IMAGE,
            UNSUPPORTED_FORMAT, TRUNCATED, CORRUPT or DECOMPRESSION_BOMB.
            Messages name the format and what failed, never pixel data.
    """
    if len(data) == 0:
        raise DecodeError(FailureReason.EMPTY, "zero bytes")
    counts = Counter() if warning_counts is None else warning_counts
    with _counting_warnings(counts):
        try:
            return _open_and_decode(data, options)
        finally:
            if warning_counts is None and counts:
                _LOG.debug("discarded decode warnings: %s", dict(counts))


def _open_and_decode(data: bytes, options: DecodeOptions) -> DecodedFrames:
    started = time.thread_time()  # the CPU budget covers the whole object, frame 0 too
    formats = _REGISTRY.open_formats()
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except UnidentifiedImageError:
        raise _unidentified(data) from None
    except Exception as exc:  # any Pillow failure is a typed DecodeError
        raise _open_failure(exc, data) from exc
    with image:
        what = f"{image.format} {image.width}x{image.height} {image.mode}"
        try:
            _check_pixels(image, options)
            # Draft only when one frame is decoded: Pillow keeps the first frame's
            # DCT scale in decoderconfig and applies it to later MPO frames. A
            # JPEG's frame count comes from its header (MPO index), unlike GIF/TIFF.
            single = not options.all_frames or (
                image.format in ("JPEG", "MPO") and getattr(image, "n_frames", 1) == 1
            )
            first = _decode_frame(image, 0, options, allow_draft=single)
        except DecodeError:
            raise
        except Exception as exc:  # Pillow raises many types on bad data
            raise _failure(exc, data, what, "decoding") from exc
        if not options.all_frames:
            return DecodedFrames((first,))
        return _decode_later_frames(image, data, options, first, started)


def _decode_later_frames(
    image: Image.Image, data: bytes, options: DecodeOptions, first: DecodedImage, started: float
) -> DecodedFrames:
    """Frames 1, 2, ... in order, until the end or the first frame that cannot be had."""
    frames = [first]
    spent = image.width * image.height
    stop = None
    index = 1
    while stop is None:
        try:
            image.seek(index)
        except EOFError:
            # GIF and APNG readers take missing data for the end: ask the container.
            # (Not JPEG: bytes after the EOI marker are common and harmless.)
            fmt = _sniff(data)
            if fmt in ("GIF", "PNG") and _looks_truncated(fmt, data):  # not the real end
                short = f"{fmt} data ends early ({len(data)} bytes) at frame {index}"
                stop = _stop(index, DecodeError(FailureReason.TRUNCATED, short))
            break  # else the end: n_frames is now known
        except Exception as exc:  # noqa: BLE001 - a damaged frame ends reading, not the object
            stop = _stop(index, _failure(exc, data, f"{image.format} frame {index}", "seeking"))
            break
        try:
            stop = _over_limit(image, index, spent, started, options)
            if stop is None:
                frames.append(_decode_frame(image, index, options, allow_draft=False))
                spent += image.width * image.height
                index += 1
        except DecodeError as exc:
            stop = _stop(index, exc)
        except Exception as exc:  # noqa: BLE001 - as above
            what = f"{image.format} frame {index} {image.width}x{image.height} {image.mode}"
            stop = _stop(index, _failure(exc, data, what, "decoding"))
    if stop is None:
        frames = [dataclasses.replace(frame, n_frames=len(frames)) for frame in frames]
    return DecodedFrames(tuple(frames), stop)


def _over_limit(
    image: Image.Image, index: int, spent: int, started: float, options: DecodeOptions
) -> FrameStop | None:
    """The FrameStop for frame ``index`` (seeked to, not loaded) if a limit forbids it."""
    if index >= options.max_frames:
        return FrameStop(
            index,
            FailureReason.FRAMES_CUT_OFF,
            f"frame {index} exists but max_frames is {options.max_frames}: {_decoded(index)},"
            " reading stopped here (later frames not looked at)",
        )
    _check_pixels(image, options)
    pixels = image.width * image.height
    if spent + pixels > options.max_pixels:
        return FrameStop(
            index,
            FailureReason.OVER_BUDGET,
            f"frame {index} ({image.width}x{image.height}) would bring this object's decoded"
            f" pixels to {spent + pixels}, over the budget of {options.max_pixels} (max_pixels)"
            f" for all frames together: {_decoded(index)}, reading stopped here",
        )
    used = time.thread_time() - started
    if used > options.max_cpu_seconds:
        return FrameStop(
            index,
            FailureReason.OVER_BUDGET,
            f"{_decoded(index)} in {used:.1f} s of CPU, over the budget of"
            f" {options.max_cpu_seconds:g} s per object: reading stopped before frame {index}",
        )
    return None


def _stop(index: int, exc: DecodeError) -> FrameStop:
    message = exc.message if f"frame {index}" in exc.message else f"frame {index}: {exc.message}"
    return FrameStop(index, exc.reason, f"{message}; {_decoded(index)}, reading stopped here")


def _decoded(index: int) -> str:
    return "frame 0 decoded" if index == 1 else f"frames 0-{index - 1} decoded"


# -- warnings ------------------------------------------------------------------
# warnings.catch_warnings swaps process-global state and is not thread-safe
# (Beam's SDK harness processes bundles in several threads of one process; an
# interleaved enter/exit can leave a filter installed for good). So the hook
# is installed by the first decoding thread in and removed by the last one out,
# under a lock, and each thread counts into its own Counter (thread-local):
# a warning from a thread that is not decoding goes to the previous hook.
_WARN_LOCK = threading.Lock()
_WARN_USERS = 0
_WARN_PREVIOUS = None
_WARN_LOCAL = threading.local()
# "always", or the warnings registry shows (so counts) each code location once
# per process. Limited to the decoder's modules: other warnings keep their filters.
_WARN_MODULES = re.compile(r"(PIL|pillow_heif|pillow_avif)\b|photosieve\.decode$")
_WARN_FILTER = ("always", None, Warning, _WARN_MODULES, 0)


def _filters_mutated() -> None:
    """Tell the C warnings module the filter list changed, as filterwarnings() does."""
    mutated = getattr(warnings, "_filters_mutated", None)  # private, present in 3.11-3.13
    if mutated is not None:
        mutated()


def _show_or_count(message, category, filename, lineno, file=None, line=None):
    counts = getattr(_WARN_LOCAL, "counts", None)
    if counts is None:
        return _WARN_PREVIOUS(message, category, filename, lineno, file, line)
    counts[category.__name__] += 1
    return None


@contextlib.contextmanager
def _counting_warnings(counts: Counter) -> Iterator[None]:
    """Count the warnings this thread raises inside the block into ``counts``; show none."""
    global _WARN_USERS, _WARN_PREVIOUS
    with _WARN_LOCK:
        if _WARN_USERS == 0 and warnings.showwarning is not _show_or_count:
            _WARN_PREVIOUS = warnings.showwarning
            warnings.showwarning = _show_or_count
            warnings.filters.insert(0, _WARN_FILTER)
            _filters_mutated()
        _WARN_USERS += 1
    outer = getattr(_WARN_LOCAL, "counts", None)
    _WARN_LOCAL.counts = counts
    try:
        yield
    finally:
        _WARN_LOCAL.counts = outer
        with _WARN_LOCK:
            _WARN_USERS -= 1
            if _WARN_USERS == 0:
                if warnings.showwarning is _show_or_count:
                    warnings.showwarning = _WARN_PREVIOUS
                with contextlib.suppress(ValueError):  # someone reset the filters meanwhile
                    warnings.filters.remove(_WARN_FILTER)
                _filters_mutated()


def _decode_frame(
    image: Image.Image, index: int, options: DecodeOptions, *, allow_draft: bool
) -> DecodedImage:
    source_size = image.size
    source_mode = image.mode
    factor = 1
    if options.mode == "fast" and allow_draft and image.format in ("JPEG", "MPO"):
        # Draft works on the stored orientation, before EXIF. The shorter
        # side's length is the same either way, so one rule serves both.
        wanted = _reduction_factor(min(source_size), options.fast_min_side, _DCT_FACTORS)
        if wanted > 1 or options.luma:
            # Requesting (w // k, h // k) makes Pillow pick exactly k: its
            # scale = min(w // (w // k), h // (h // k)) lies in [k, 2k).
            # Pillow takes one draft call, so mode and scale are asked together.
            drafted = image.draft(
                "L" if options.luma else "RGB", (source_size[0] // wanted, source_size[1] // wanted)
            )
            if drafted is not None:
                factor = round(source_size[0] / drafted[1][2])  # box = (0, 0, w/k, h/k)
    # Pillow 12's TIFF plugin applies the orientation itself while loading,
    # drops the tag and reports the displayed size even before load; older
    # Pillows do not. Read the tag before load to tell which happened.
    # (Only from TIFF tags: PNG's getexif() would itself load the pixels.)
    before = _tiff_orientation(image)
    image.load()
    orientation = _orientation(image)
    applied_on_load = before in _TRANSPOSE_FOR_ORIENTATION and orientation != before
    if applied_on_load:
        orientation = before
    if applied_on_load and orientation >= 5:
        source_size = (image.height, image.width)  # loaded as displayed: stored is swapped
    frame: Image.Image = image
    if options.mode == "fast":
        extra = _reduction_factor(min(frame.size), options.fast_min_side)
        if extra > 1:
            frame = _reduced(frame, extra, "L" if options.luma else "RGB")
            factor *= extra
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    transposed = method is not None and options.exif_transpose
    turn = None
    if method is not None and applied_on_load != options.exif_transpose:
        # Either apply the orientation, or undo the one the plugin applied.
        turn = method if options.exif_transpose else _INVERSE_TRANSPOSE[method]
    return DecodedImage(
        pixels=_as_array(frame, "L" if options.luma else "RGB", turn),
        format=image.format or "",
        source_mode=source_mode,
        source_size=source_size,
        exif_transposed=transposed,
        frame=index,
        n_frames=None,
        scale=1.0 / factor,
        exif_orientation=orientation if orientation in _TRANSPOSE_FOR_ORIENTATION else 1,
    )


def _reduction_factor(short_side: int, min_side: int, allowed: tuple[int, ...] = ()) -> int:
    """Largest k (from ``allowed`` if given) with ceil(short_side / k) >= min_side.

    ceil(s / k) >= m  <=>  k * (m - 1) < s, so k <= (s - 1) // (m - 1); k <= s
    keeps at least one pixel when m == 1.
    """
    limit = short_side if min_side <= 1 else (short_side - 1) // (min_side - 1)
    limit = min(limit, short_side)
    if allowed:
        return next((k for k in allowed if k <= limit), 1)
    return max(1, limit)


def _check_pixels(image: Image.Image, options: DecodeOptions) -> None:
    """Refuse a frame, before it is loaded, for its declared pixels or its decoder's memory."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise DecodeError(
            FailureReason.CORRUPT, f"{image.format} declares an empty {width}x{height} image"
        )
    pixels = width * height
    if pixels > options.max_pixels:
        raise DecodeError(
            FailureReason.DECOMPRESSION_BOMB,
            f"{image.format} declares {width}x{height} = {pixels} pixels,"
            f" over the limit of {options.max_pixels}",
        )
    held = _LOAD_BYTES_PER_PIXEL.get(image.format or "", _RGB_BYTES_PER_PIXEL)
    if held <= _RGB_BYTES_PER_PIXEL:
        return
    output = _ARRAY_BYTES_PER_PIXEL if options.mode == "exact" else 0
    budget = options.max_pixels * (_RGB_BYTES_PER_PIXEL + output)
    if pixels * (held + output) > budget:
        raise DecodeError(
            FailureReason.DECOMPRESSION_BOMB,
            f"{image.format} declares {width}x{height} = {pixels} pixels; its decoder holds"
            f" {held} bytes/pixel ({pixels * (held + output) / 1e6:.0f} MB in {options.mode}"
            f" mode), over the memory budget of {budget / 1e6:.0f} MB that max_pixels"
            f" {options.max_pixels} sets: at most {budget // (held + output)} pixels"
            f" for {image.format} in {options.mode} mode",
        )


def _orientation(image: Image.Image) -> int:
    """The EXIF Orientation of the current, loaded frame; 1 when absent or unreadable.

    Call after load(): PNG's getexif() loads the pixels when the eXIf chunk
    comes after the image data, and a load error must not be taken for an
    EXIF error here.

    Broken EXIF does not fail the image: its pixels are fine, and the stored
    orientation is what the references hash anyway.
    """
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception as exc:  # noqa: BLE001 - metadata only; the pixels decoded
        _LOG.debug("ignoring unreadable EXIF in a %s image: %s", image.format, type(exc).__name__)
        return 1
    return value if isinstance(value, int) else 1


def _tiff_orientation(image: Image.Image) -> int | None:
    """The Orientation tag of a not yet loaded TIFF frame (None for other formats)."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return None
    try:
        value = tags.get(_ORIENTATION_TAG)
    except Exception:  # noqa: BLE001 - metadata only, as in _orientation
        return None
    return value if isinstance(value, int) else None


class _Registry:
    """Registers optional decoders once, on first use, and lists what can open.

    pillow-heif registers a "HEIF" opener when imported and told to;
    pillow-avif-plugin registers "AVIF" on import and is only needed when
    Pillow lacks native AVIF (< 11.3, or built without libavif).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._formats: tuple[str, ...] | None = None
        self._decodable: frozenset[str] = frozenset()

    def open_formats(self) -> tuple[str, ...]:
        if self._formats is None:
            with self._lock:
                if self._formats is None:
                    self._register()
        assert self._formats is not None
        return self._formats

    def decodable(self, fmt: str) -> bool:
        self.open_formats()
        return fmt in self._decodable

    def _register(self) -> None:
        # libtiff's messages go to the same per-thread counters as Python's warnings.
        libtiff_messages.install(_WARN_LOCAL)
        decodable = set(SUPPORTED_FORMATS) - {"AVIF", "HEIF"}
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            decodable.add("HEIF")
        except ImportError:
            pass
        if _native_avif():
            decodable.add("AVIF")
        else:
            try:
                import pillow_avif  # noqa: F401 - registers the AVIF opener on import

                decodable.add("AVIF")
            except ImportError:
                pass
        Image.init()
        self._decodable = frozenset(decodable)
        self._formats = tuple(f for f in SUPPORTED_FORMATS if f in decodable and f in Image.OPEN)


def _native_avif() -> bool:
    try:
        return bool(features.check_module("avif"))
    except ValueError:  # Pillow < 11.3 does not know the module name
        return False


_REGISTRY = _Registry()


def _sniff(data: bytes) -> str | None:
    """The format a file's signature claims, for classifying failures only."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    if data[4:8] == b"ftyp":
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(len(data), 64) - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    for signature, name in _UNSUPPORTED_SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _looks_truncated(fmt: str, data: bytes) -> bool:
    """Whether the container says the data ends early (only asked after a failure)."""
    if fmt == "JPEG":
        return not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")  # no EOI marker
    if fmt == "PNG":
        return not _png_complete(data)
    if fmt == "GIF":
        return not data.rstrip(b"\x00").endswith(b"\x3b")  # no trailer
    if fmt == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)  # RIFF size
    if fmt == "BMP":
        return len(data) < 18 or int.from_bytes(data[2:6], "little") > len(data)
    if fmt == "TIFF":
        return _tiff_truncated(data)
    if fmt in ("AVIF", "HEIF"):
        return _bmff_truncated(data)
    return False


def _tiff_truncated(data: bytes) -> bool:
    """Whether an IFD (one per page) of a TIFF lies past the end of the data."""
    if len(data) < 8:
        return True
    order = "little" if data[:1] == b"I" else "big"
    if data[2:4] in (b"+\x00", b"\x00+"):  # BigTIFF: only its first IFD offset is checked
        return len(data) < 16 or int.from_bytes(data[8:16], order) >= len(data)
    offset = int.from_bytes(data[4:8], order)
    seen = set()
    while offset and offset not in seen:  # the chain ends at 0; a loop is corrupt, not short
        seen.add(offset)
        if offset + 2 > len(data):
            return True
        entries = int.from_bytes(data[offset : offset + 2], order)
        end = offset + 2 + 12 * entries  # count, 12-byte entries, then the next offset
        if end + 4 > len(data):
            return True
        offset = int.from_bytes(data[end : end + 4], order)
    return False


def _png_complete(data: bytes) -> bool:
    offset = 8
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"IEND":
            return True
        offset += 12 + length  # length, type, data, CRC
    return False


def _bmff_truncated(data: bytes) -> bool:
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:  # box runs to the end of the file
            return False
        if size < 8:
            return False  # malformed, not short
        offset += size
    return offset != len(data)


def _unidentified(data: bytes) -> DecodeError:
    """Classify bytes no allowed Pillow plugin would open."""
    fmt = _sniff(data)
    if fmt is None:
        return DecodeError(
            FailureReason.NOT_AN_IMAGE,
            f"no supported image signature in {len(data)} bytes"
            f" (decodable here: {', '.join(_REGISTRY.open_formats())})",
        )
    if fmt in _INSTALL_HINT and not _REGISTRY.decodable(fmt):
        return DecodeError(
            FailureReason.UNSUPPORTED_FORMAT,
            f"{fmt} image but no {fmt} decoder: {_INSTALL_HINT[fmt]}",
        )
    if fmt not in SUPPORTED_FORMATS:
        return DecodeError(FailureReason.UNSUPPORTED_FORMAT, f"{fmt} images are not decoded")
    if _looks_truncated(fmt, data):
        return DecodeError(
            FailureReason.TRUNCATED, f"{fmt} data ends early ({len(data)} bytes): header unreadable"
        )
    return DecodeError(FailureReason.CORRUPT, f"{fmt} signature but its header does not parse")


def _open_failure(exc: BaseException, data: bytes) -> DecodeError:
    """Map an exception from Image.open (a plugin accepted the data, then failed)."""
    fmt = _sniff(data)
    if fmt is None and not isinstance(exc, (Image.DecompressionBombError, MemoryError)):
        # Some plugins accept on a weak prefix (BMP on "BM"): not a known signature.
        not_image = _unidentified(data)
        return DecodeError(not_image.reason, f"{not_image.message}; {type(exc).__name__}: {exc}")
    return _failure(exc, data, fmt or "unknown format", "reading the header")


def _failure(exc: BaseException, data: bytes, what: str, stage: str) -> DecodeError:
    """Map an exception raised by Pillow to a typed DecodeError."""
    detail = f"{type(exc).__name__}: {str(exc)[:_MAX_DETAIL_CHARS]}"
    message = f"{what}: failed {stage}: {detail}"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return DecodeError(FailureReason.DECOMPRESSION_BOMB, f"{message} (Pillow's own limit)")
    if isinstance(exc, MemoryError):
        return DecodeError(FailureReason.DECOMPRESSION_BOMB, f"{what}: out of memory {stage}")
    fmt = _sniff(data)
    if (
        isinstance(exc, EOFError)
        or "truncated" in str(exc).lower()
        or (fmt is not None and _looks_truncated(fmt, data))
    ):
        return DecodeError(FailureReason.TRUNCATED, message)
    return DecodeError(FailureReason.CORRUPT, message)
