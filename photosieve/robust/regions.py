"""Find the photo inside a copy: uniform borders, embedding canvases, rotated content.

Known images travel inside other pictures: letterboxed or padded to another
aspect ratio, pasted into a screenshot of an app, stacked under a caption bar,
or rotated in place with filled corners. The whole copy then hashes far from
the original (PDQ: a median of ~114 of 256 bits for 10% padding, as far as an
unrelated photo), while the part of the copy that *is* the photo hashes close
to it. This module finds that part; :mod:`photosieve.robust.expansion` hashes it as an
extra query hash.

* :func:`find_borders` peels uniform or near-uniform lines off each side
  (letterbox bars, padding, flat frames, several nested ones).
* :func:`find_region` finds the dominant photo region of a larger canvas: the
  canvas background is flood-filled from the edges through the few flat
  colours the edges are made of (UI panels, title bars, caption bars), and
  the remaining content is cut at empty rows and columns (an "X-Y cut", as
  document layout analysis does) until one block is left. The block must
  have a straight, sharp boundary, which is what tells an embedded photo from
  a photo whose own flat sky touches its edge.
* :func:`find_rotation` recognises content rotated in place by a small angle
  (the fill-coloured triangles a straightening tool leaves in the corners)
  and measures the angle.

Everything works on H x W x 3 uint8 RGB arrays (any size; large inputs are
block-averaged to :data:`WORK_MAX_SIDE` first) and returns boxes in the
coordinates of the array given, or None when there is nothing to find.

>>> import numpy as np
>>> photo = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
>>> padded = np.pad(photo, ((10, 10), (8, 8), (0, 0)), constant_values=255)
>>> find_borders(padded)
Box(left=8, top=10, right=88, bottom=70)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = [
    "BORDER_TOLERANCE",
    "WORK_MAX_SIDE",
    "Box",
    "Rotation",
    "find_borders",
    "find_region",
    "find_rotation",
]

# Inputs larger than this on their longer side are block-averaged first: the
# decisions below need a few pixels of precision relative to the image, and
# the fast decode path already hands over ~256-512 px images.
WORK_MAX_SIDE = 512

# Policy (measured on JPEG copies, quality 20-95): a border pixel may differ
# from the border colour by this much in any channel. JPEG at quality 20
# moves flat colours by up to ~8 levels away from edges.
BORDER_TOLERANCE = 14
# A line still counts as border when at most this share of its pixels differ
# more than the tolerance (JPEG ringing next to the content, dust, a logo).
BORDER_OUTLIER_SHARE = 0.03
# Strips thinner than this share of the side are not reported: they move PDQ
# by a few bits only and are common in ordinary photos (a dark first row).
BORDER_MIN_SHARE = 0.015
# What is left must keep at least this share of each side, else the image is
# flat and there is nothing to hash.
MIN_CONTENT_SHARE = 0.1

# Region finding. Background colours: the most common colours of the edge
# pixels, each explaining at least REGION_PALETTE_MIN_SHARE of them.
REGION_PALETTE_MAX = 6
# Flat runs along the edge (see _perimeter): neighbours within this many
# levels, at least this share of the perimeter (and this many pixels) long.
REGION_RUN_STEP = 6
REGION_MIN_RUN = 0.02
REGION_MIN_RUN_PIXELS = 8
REGION_PALETTE_MIN_SHARE = 0.04
# At least this share of the edge must be flat runs, else the edges are the
# photo's own content and there is no canvas to remove.
REGION_MIN_EDGE_SHARE = 0.25
# A pixel joins the background when within this distance (max over channels)
# of a palette colour and connected to the edge through such pixels.
REGION_COLOUR_TOLERANCE = 12
# Flood passes (row + column) before giving up on winding paths.
FLOOD_MAX_PASSES = 12
# X-Y cut: a row or column of the content block is a gap when at most this
# share of it is content (lets JPEG ringing and stray pixels through).
REGION_GAP_SHARE = 0.02
# A found region must cover at least this share of the canvas area (smaller
# ones are thumbnails or icons)...
REGION_MIN_AREA = 0.12
# ...and leave at least this share of the canvas area out (else it is the
# whole image; borders alone are find_borders' job).
REGION_MIN_OUTSIDE = 0.08
# After the cut, edge lines with less content than this are trimmed (JPEG
# ringing around a pasted photo leaves a line or two of stray content).
REGION_TRIM_SHARE = 0.5
# Straight-boundary test: the content share of the line just inside each cut
# edge must be at least this (a photo is content up to its edge, except
# where its own colours happen to match the background). Measured on 80
# public photos: 0.7 finds 76/80 JPEG screenshots and 60/80 caption bars
# correctly, 0.6 79 and 63, 0.5 80 and 59; false regions on the originals
# 2, 5 and 10 of 80 (each one extra query hash, no false match by itself)...
REGION_EDGE_INSIDE = 0.6
# ...and the background share of the line just outside at least this.
REGION_EDGE_OUTSIDE = 0.6
# Lines beyond an edge searched for that background line.
REGION_EDGE_BAND = 3

# Rotation: angles searched (degrees, both directions), the step of the
# coarse search, and the step the best angle is then refined to.
ROTATION_MAX_DEGREES = 20.0
ROTATION_MIN_DEGREES = 0.75
ROTATION_COARSE_STEP = 0.25
ROTATION_FINE_STEP = 0.02
# Depth errors are capped at this many pixels in the fit (content that
# happens to have the fill colour at an edge must not dominate it).
ROTATION_DEPTH_CAP = 4
# The corner triangles must cover at least this share of the image, and this
# share of the edge depth profile must agree with them (measured: 0.75 keeps
# 94% of 5-degree rotations of the public photos and flags 1 in 182 originals).
ROTATION_MIN_FILL = 0.004
ROTATION_MIN_FIT = 0.75


@dataclass(frozen=True)
class Box:
    """A rectangle of pixels: columns ``left:right``, rows ``top:bottom``."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def scaled(self, factor: float, width: int, height: int) -> Box:
        """The box in an image ``factor`` times larger, clipped to width x height."""
        return Box(
            max(0, round(self.left * factor)),
            max(0, round(self.top * factor)),
            min(width, round(self.right * factor)),
            min(height, round(self.bottom * factor)),
        )

    def crop(self, pixels: np.ndarray) -> np.ndarray:
        return pixels[self.top : self.bottom, self.left : self.right]

    def label(self, width: int, height: int) -> str:
        """Position and size as shares of a width x height image: ``"x,y,w,h"``."""
        return (
            f"{self.left / width:.3f},{self.top / height:.3f},"
            f"{self.width / width:.3f},{self.height / height:.3f}"
        )


@dataclass(frozen=True)
class Rotation:
    """Content rotated in place on a canvas of the same size.

    Attributes:
        degrees: the rotation applied to the content, counter-clockwise
            positive (Pillow's ``Image.rotate`` convention); rotate by
            ``-degrees`` to undo it.
        fill: the RGB colour of the uncovered corners.
        fit: share of the edge depth profile the angle explains (0..1).
    """

    degrees: float
    fill: tuple[int, int, int]
    fit: float

    def inner_share(self, width: int, height: int) -> float:
        """Linear share of the canvas that stays valid after undoing the rotation.

        Undoing the rotation brings the original back in the middle, with new
        corners where the content left the canvas. The largest centred box of
        the canvas's aspect ratio free of them is this share of each side.
        """
        t = math.radians(abs(self.degrees))
        c, s = math.cos(t), math.sin(t)
        # Corners (+-share*w/2, +-share*h/2) must stay inside the canvas rotated by t.
        return min(width / (width * c + height * s), height / (width * s + height * c))


def _check_rgb(pixels: np.ndarray) -> np.ndarray:
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(
            f"expected an H x W x 3 RGB array, got shape {getattr(pixels, 'shape', None)}"
        )
    if pixels.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {pixels.dtype}")
    return pixels


def _work_image(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """int16 pixels box-reduced by an integer factor to at most WORK_MAX_SIDE per side."""
    height, width = pixels.shape[:2]
    factor = max(1, -(-max(height, width) // WORK_MAX_SIDE))
    if factor == 1:
        return pixels.astype(np.int16), 1
    # Pillow's reduce: block means in C (a partial last block is averaged as is).
    reduced = Image.fromarray(np.ascontiguousarray(pixels), "RGB").reduce(factor)
    return np.asarray(reduced).astype(np.int16), factor


# -- borders -------------------------------------------------------------------


def _border_depth(lines: np.ndarray, tolerance: int) -> int:
    """How many leading lines of ``lines`` (L x N x 3) are uniform in the first line's colour."""
    colour = np.median(lines[0], axis=0)
    depth, chunk = 0, 8
    limit = len(lines) - 1
    while depth < limit:
        block = lines[depth : min(limit, depth + chunk)]
        off = (np.abs(block - colour) > tolerance).any(axis=2)  # (chunk, N)
        bad = off.mean(axis=1) > BORDER_OUTLIER_SHARE
        if bad.any():
            return depth + int(np.argmax(bad))
        depth += len(block)
        chunk *= 2  # deep borders are rare: grow the look-ahead geometrically
    return depth


def find_borders(pixels: np.ndarray, *, tolerance: int = BORDER_TOLERANCE) -> Box | None:
    """The content inside uniform borders, or None when there are none.

    Each side is peeled while its outermost line is uniform (all but
    :data:`BORDER_OUTLIER_SHARE` of its pixels within ``tolerance`` of the
    line's median colour) and of the colour the side started with; sides are
    peeled again after the others (nested frames of different colours).

    Args:
        pixels: H x W x 3 uint8 RGB.
        tolerance: largest per-channel deviation of a border pixel.

    Returns:
        The content box in ``pixels`` coordinates, when some side lost at
        least :data:`BORDER_MIN_SHARE` of its length and the rest keeps at
        least :data:`MIN_CONTENT_SHARE` of each side; else None.
    """
    pixels = _check_rgb(pixels)
    height, width = pixels.shape[:2]
    image, factor = _work_image(pixels)
    h, w = image.shape[:2]
    top, bottom, left, right = 0, h, 0, w
    for _ in range(4):  # nested frames: a mat inside a frame inside a letterbox
        changed = False
        for side in ("top", "bottom", "left", "right"):
            if bottom - top < 3 or right - left < 3:
                return None
            view = image[top:bottom, left:right]
            lines = {
                "top": view,
                "bottom": view[::-1],
                "left": view.transpose(1, 0, 2),
                "right": view.transpose(1, 0, 2)[::-1],
            }[side]
            depth = _border_depth(lines, tolerance)
            if depth:
                changed = True
                if side == "top":
                    top += depth
                elif side == "bottom":
                    bottom -= depth
                elif side == "left":
                    left += depth
                else:
                    right -= depth
        if not changed:
            break
    if (bottom - top) < MIN_CONTENT_SHARE * h or (right - left) < MIN_CONTENT_SHARE * w:
        return None
    stripped = max(top / h, (h - bottom) / h, left / w, (w - right) / w)
    if stripped < BORDER_MIN_SHARE:
        return None
    return Box(left, top, right, bottom).scaled(factor, width, height)


# -- dominant region ------------------------------------------------------------


def _perimeter(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edge pixels clockwise from the top-left, their (row, col), and which lie in flat runs.

    A run is a stretch of the perimeter whose neighbouring pixels differ by at
    most :data:`REGION_RUN_STEP`; it is *flat* when at least
    :data:`REGION_MIN_RUN` of the perimeter long. Canvas backgrounds, bars
    and frames form long flat runs; a photo's own edge rarely does, except
    where it is featureless (sky, shadow), which is what may be mistaken.
    """
    h, w = image.shape[:2]
    rows = np.concatenate(
        [np.zeros(w, int), np.arange(1, h), np.full(w - 1, h - 1), np.arange(h - 2, 0, -1)]
    )
    cols = np.concatenate(
        [np.arange(w), np.full(h - 1, w - 1), np.arange(w - 2, -1, -1), np.zeros(h - 2, int)]
    )
    pixels = image[rows, cols]
    step = np.abs(np.diff(pixels, axis=0, append=pixels[:1])).max(axis=1) > REGION_RUN_STEP
    breaks = np.concatenate([[True], step[:-1]])
    ids = np.cumsum(breaks)
    if not step[-1] and ids[-1] != ids[0]:  # the last run continues into the first
        ids[ids == ids[-1]] = ids[0]
    lengths = np.bincount(ids)
    flat = lengths[ids] >= max(REGION_MIN_RUN_PIXELS, REGION_MIN_RUN * len(pixels))
    return pixels, np.stack([rows, cols], axis=1), flat


def _palette(edge: np.ndarray) -> list[np.ndarray]:
    """The few colours most edge pixels are made of (most common first)."""
    remaining = edge
    palette: list[np.ndarray] = []
    total = len(edge)
    while len(palette) < REGION_PALETTE_MAX and len(remaining) >= REGION_PALETTE_MIN_SHARE * total:
        bins = (remaining // 8).astype(np.int64)
        keys = (bins[:, 0] << 10) | (bins[:, 1] << 5) | bins[:, 2]
        values, counts = np.unique(keys, return_counts=True)
        top = values[np.argmax(counts)]
        colour = np.median(remaining[keys == top], axis=0)
        near = np.abs(remaining - colour).max(axis=1) <= REGION_COLOUR_TOLERANCE
        if near.sum() < REGION_PALETTE_MIN_SHARE * total:
            break
        palette.append(colour)
        remaining = remaining[~near]
    return palette


def _run_ids(mask: np.ndarray) -> np.ndarray:
    """Label each horizontal run of True pixels of ``mask`` with its own id (others: own ids too)."""
    rows, cols = mask.shape
    start = np.ones((rows, cols), dtype=bool)
    start[:, 1:] = ~(mask[:, 1:] & mask[:, :-1])
    return np.cumsum(start.ravel()).reshape(rows, cols)


def _flood(mask: np.ndarray, seeds: np.ndarray, max_passes: int = FLOOD_MAX_PASSES) -> np.ndarray:
    """Pixels of ``mask`` 4-connected to ``seeds`` within it.

    Alternating row and column passes: a run of mask pixels along a row (or
    column) touched by a reached pixel is reached as a whole. Canvas
    backgrounds are filled in 1-3 passes; only winding paths into photo
    texture need more, and those are cut off at ``max_passes``.
    """
    reached = seeds & mask
    row_ids = _run_ids(mask)
    col_ids = _run_ids(np.ascontiguousarray(mask.T)).T
    for _ in range(max_passes):
        before = int(np.count_nonzero(reached))
        for ids in (row_ids, col_ids):
            touched = np.zeros(int(ids.max()) + 1, dtype=bool)
            touched[ids[reached]] = True
            reached = touched[ids] & mask
        if int(np.count_nonzero(reached)) == before:
            break
    return reached


def _runs(profile: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs where ``profile`` is True."""
    padded = np.concatenate([[False], profile, [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(change[::2], change[1::2]))


def _xy_cut(content: np.ndarray) -> tuple[int, int, int, int] | None:
    """Cut content at empty rows/columns, keeping the block with the most content, until stable."""
    h, w = content.shape
    top, bottom, left, right = 0, h, 0, w
    for _ in range(8):
        previous = (top, bottom, left, right)
        for axis in (0, 1):
            block = content[top:bottom, left:right]
            profile = block.sum(axis=1 - axis)
            span = block.shape[1 - axis]
            runs = _runs(profile > REGION_GAP_SHARE * span)
            if not runs:
                return None
            start, end = max(runs, key=lambda r: profile[r[0] : r[1]].sum())
            if axis == 0:
                top, bottom = top + start, top + end
            else:
                left, right = left + start, left + end
        if (top, bottom, left, right) == previous:
            break
    return _trim(content, (top, bottom, left, right))


def _trim(content: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Move each edge inward while its line is mostly background."""
    top, bottom, left, right = box
    # Integral image: the content count of any line segment in O(1).
    table = np.zeros((content.shape[0] + 1, content.shape[1] + 1), dtype=np.int64)
    table[1:, 1:] = content.cumsum(axis=0).cumsum(axis=1)

    def count(r0: int, r1: int, c0: int, c1: int) -> int:
        return int(table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0])

    while bottom - top > 2 and right - left > 2:
        width, height = right - left, bottom - top
        shares = (
            count(top, top + 1, left, right) / width,
            count(bottom - 1, bottom, left, right) / width,
            count(top, bottom, left, left + 1) / height,
            count(top, bottom, right - 1, right) / height,
        )
        side = int(np.argmin(shares))
        if shares[side] >= REGION_TRIM_SHARE:
            return top, bottom, left, right
        if side == 0:
            top += 1
        elif side == 1:
            bottom -= 1
        elif side == 2:
            left += 1
        else:
            right -= 1
    return None


def _edge_is_sharp(
    content: np.ndarray, background: np.ndarray, box: tuple[int, int, int, int], side: int
) -> bool:
    """Is ``side`` (0 top, 1 bottom, 2 left, 3 right) of ``box`` a straight content/background boundary?

    Inside: the better of the two innermost lines; outside: the best of the
    :data:`REGION_EDGE_BAND` lines beyond the edge (JPEG blurs a boundary
    over 1-2 pixels). An edge on the canvas edge is trivially sharp.
    """
    top, bottom, left, right = box
    h, w = content.shape
    band = REGION_EDGE_BAND
    if side == 0:
        if top == 0:
            return True
        inside, outside = (
            content[top : top + 2, left:right],
            background[max(0, top - band) : top, left:right],
        )
    elif side == 1:
        if bottom == h:
            return True
        inside, outside = (
            content[bottom - 2 : bottom, left:right],
            background[bottom : bottom + band, left:right],
        )
    elif side == 2:
        if left == 0:
            return True
        inside, outside = (
            content[top:bottom, left : left + 2].T,
            background[top:bottom, max(0, left - band) : left].T,
        )
    else:
        if right == w:
            return True
        inside, outside = (
            content[top:bottom, right - 2 : right].T,
            background[top:bottom, right : right + band].T,
        )
    return bool(
        inside.mean(axis=1).max() >= REGION_EDGE_INSIDE
        and outside.mean(axis=1).max() >= REGION_EDGE_OUTSIDE
    )


def _settle_edges(
    content: np.ndarray, background: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    """Move every edge that is not a sharp boundary outward until it is one (or meets the canvas edge).

    The flood can leak from a canvas into a photo's own flat area where the
    two share a colour (a white caption bar over a white sky), and the cut
    then eats into the photo. The true photo edge there is farther out: at
    the next straight boundary, or at the canvas edge the photo touches.
    """
    h, w = content.shape
    box = list(box)
    limits = (0, h, 0, w)
    moves = (-1, 1, -1, 1)
    for side in range(4):
        while box[side] != limits[side] and not _edge_is_sharp(
            content, background, tuple(box), side
        ):
            box[side] += moves[side]
    return tuple(box)


def find_region(pixels: np.ndarray) -> Box | None:
    """The dominant photo region of a canvas (screenshot, app frame, caption bar), or None.

    Steps, on the work image:

    1. the *palette*: the few colours of the long flat runs along the
       canvas edge (see :func:`_perimeter`);
    2. the *background*: pixels within :data:`REGION_COLOUR_TOLERANCE` of a
       palette colour, 4-connected to those runs through such pixels (a
       photo's own flat areas inside the region are not reached);
    3. an *X-Y cut* of the rest at rows and columns that are (almost) all
       background, keeping the block with the most content, until stable:
       text lines, menus and icons separated from the photo by background
       fall away;
    4. every edge of the block must be a straight boundary (content along
       the inside line, background along the outside line); an edge that
       is not moves outward until it is, or until it meets the canvas edge
       (the flood leaked into the photo's own flat area there);
    5. the block is kept if it covers between :data:`REGION_MIN_AREA` and
       ``1 - REGION_MIN_OUTSIDE`` of the canvas.

    Args:
        pixels: H x W x 3 uint8 RGB.

    Returns:
        The region in ``pixels`` coordinates, or None.
    """
    pixels = _check_rgb(pixels)
    height, width = pixels.shape[:2]
    image, factor = _work_image(pixels)
    h, w = image.shape[:2]
    if h < 8 or w < 8:
        return None
    edge, where, flat = _perimeter(image)
    if flat.mean() < REGION_MIN_EDGE_SHARE:
        return None  # the edges are mostly content: no canvas around it
    palette = _palette(edge[flat])
    channels = [np.ascontiguousarray(image[:, :, c]).astype(np.uint8) for c in range(3)]
    levels = np.arange(256)
    near = np.zeros((h, w), dtype=bool)
    for colour in palette:
        # Per-channel lookup tables: a few uint8 gathers instead of int16 arithmetic.
        hit = np.ones((h, w), dtype=bool)
        for c in range(3):
            hit &= (np.abs(levels - colour[c]) <= REGION_COLOUR_TOLERANCE)[channels[c]]
        near |= hit
    seeds = np.zeros((h, w), dtype=bool)
    seeds[where[flat, 0], where[flat, 1]] = True
    background = _flood(near, seeds)
    content = ~background
    box = _xy_cut(content)
    if box is None:
        return None
    top, bottom, left, right = _settle_edges(content, background, box)
    area = (bottom - top) * (right - left) / (h * w)
    if not REGION_MIN_AREA <= area <= 1 - REGION_MIN_OUTSIDE:
        return None
    return Box(left, top, right, bottom).scaled(factor, width, height)


# -- rotation -------------------------------------------------------------------


def _edge_depths(mask: np.ndarray) -> np.ndarray:
    """Fill depth from each edge: (top per column, bottom per column, left per row, right per row)."""

    def depth(m: np.ndarray) -> np.ndarray:  # leading True run along axis 0
        return np.where(m.all(axis=0), m.shape[0], np.argmin(m, axis=0))

    return np.concatenate([depth(mask), depth(mask[::-1]), depth(mask.T), depth(mask.T[::-1])])


def _predicted_depths(h: int, w: int, degrees: np.ndarray) -> np.ndarray:
    """(angles, 2w + 2h) fill depths an h x w rectangle rotated in place would leave.

    A pixel at (x, y) from the centre (y down) stays covered when
    ``|x cos t - y sin t| <= w/2`` and ``|x sin t + y cos t| <= h/2``, with
    ``t`` the counter-clockwise angle; for each column (row) that bounds an
    interval of y (x), and the depths are the rows (columns) outside it.
    """
    t = np.radians(degrees)[:, None]
    c, s = np.cos(t), np.sin(t)
    s = np.where(np.abs(s) < 1e-9, 1e-9, s)

    def interval(
        pos: np.ndarray, along: float, across: float, sign: float
    ) -> tuple[np.ndarray, np.ndarray]:
        # Covered set along the line at offset pos: |pos*s*sign + q c| <= along/2
        # and |pos c - q s*sign| <= across/2, as an interval of q.
        lo1, hi1 = (-along / 2 - sign * pos * s) / c, (along / 2 - sign * pos * s) / c
        a, b = (pos * c - across / 2) / (sign * s), (pos * c + across / 2) / (sign * s)
        lo2, hi2 = np.minimum(a, b), np.maximum(a, b)
        return np.maximum(lo1, lo2), np.minimum(hi1, hi2)

    x = np.arange(w) - (w - 1) / 2
    y = np.arange(h) - (h - 1) / 2
    # Columns: q = y; rows: q = x with the roles of the two constraints swapped (sin changes sign).
    lo, hi = interval(x, h, w, 1.0)
    top = np.clip(np.ceil(lo + (h - 1) / 2 - 1e-6), 0, h)
    bottom = np.clip(h - 1 - np.floor(hi + (h - 1) / 2 + 1e-6), 0, h)
    lo, hi = interval(y, w, h, -1.0)
    left = np.clip(np.ceil(lo + (w - 1) / 2 - 1e-6), 0, w)
    right = np.clip(w - 1 - np.floor(hi + (w - 1) / 2 + 1e-6), 0, w)
    return np.concatenate([top, bottom, left, right], axis=1)


def find_rotation(pixels: np.ndarray, *, tolerance: int = BORDER_TOLERANCE) -> Rotation | None:
    """Content rotated in place by a small angle, with uniformly filled corners, or None.

    A straightening tool that does not crop leaves four thin triangles of
    fill colour (black in Pillow's ``rotate``) whose shape gives the angle.
    The fill's depth from each edge, per row and column, is compared with
    the depths each angle would leave (a robust L1 fit, coarse then fine,
    up to :data:`ROTATION_MAX_DEGREES` either way).

    Args:
        pixels: H x W x 3 uint8 RGB.
        tolerance: largest per-channel deviation of a fill pixel.

    Returns:
        The rotation, when the four corner pixels share one colour, the
        triangles of the best angle cover at least :data:`ROTATION_MIN_FILL`
        of the image, and at least :data:`ROTATION_MIN_FIT` of the depth
        profile agrees with them within a pixel or two.
    """
    pixels = _check_rgb(pixels)
    image, _ = _work_image(pixels)
    h, w = image.shape[:2]
    if h < 16 or w < 16:
        return None
    corners = image[[0, 0, -1, -1], [0, -1, 0, -1]]
    fill = np.median(corners, axis=0)
    if np.abs(corners - fill).max() > tolerance:
        return None
    observed = _edge_depths((np.abs(image - fill) <= tolerance).all(axis=2))

    def fit(angles: np.ndarray) -> tuple[float, np.ndarray]:
        predicted = _predicted_depths(h, w, angles)
        cost = np.minimum(np.abs(predicted - observed), ROTATION_DEPTH_CAP).mean(axis=1)
        i = int(np.argmin(cost))
        return float(angles[i]), predicted[i]

    coarse = np.arange(ROTATION_MIN_DEGREES, ROTATION_MAX_DEGREES + 1e-9, ROTATION_COARSE_STEP)
    angle, _ = fit(np.concatenate([coarse, -coarse]))
    fine = angle + np.arange(-ROTATION_COARSE_STEP, ROTATION_COARSE_STEP + 1e-9, ROTATION_FINE_STEP)
    angle, predicted = fit(fine[np.abs(fine) >= ROTATION_MIN_DEGREES - 1e-9])
    # Triangles' area: half the depth profiles of the four edges, as a share of the image.
    area = (predicted[:w].sum() + predicted[w : 2 * w].sum()) / (h * w)
    agree = np.abs(predicted - observed) <= 1.5 + 0.05 * predicted
    if area < ROTATION_MIN_FILL or agree.mean() < ROTATION_MIN_FIT:
        return None
    return Rotation(round(angle, 2), tuple(int(c) for c in fill), round(float(agree.mean()), 3))
