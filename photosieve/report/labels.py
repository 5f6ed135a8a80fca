"""Plain-language labels for a match row: how the object was found, in words.

A match row says how it matched in columns only a developer reads:
``orientation`` (``rotate270``), ``variant`` (``borders 0.1,0.1,0.8,0.8``),
``list_variant`` (``window 0,0,0.75,0.75``), ``match_mode`` and ``status``.
A reviewer needs the words: a border hit at distance 0 is not the same
picture as a plain hit at distance 0, and a suppressed row is no finding.
:func:`how_matched` turns the columns into such phrases, for both renderers.

The orientation names are what was done to the object to bring it back to
the listed image (``photosieve.hashes.pdq.ORIENTATIONS``); the labels say
what the copy is, measured with Pillow's transposes: a copy turned 90°
anticlockwise matches in ``rotate270``, a left-right mirror in ``flipy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from photosieve import algorithms, schemas
from photosieve.robust.expansion import BORDERS, REGION, ROTATION, UNCROP, WINDOW

__all__ = [
    "distance_caption",
    "how_matched",
    "is_exact",
    "listed_part",
    "started_label",
    "status_label",
    "variant_label",
    "video_caption",
]

# Orientation of the matching query hash -> what the copy is.
ORIENTATION_LABELS = {
    "rotate90": "rotated 90° (clockwise)",
    "rotate180": "rotated 180°",
    "rotate270": "rotated 90° (anticlockwise)",
    "flipy": "mirrored copy",
    "flipx": "mirrored copy (upside down)",
    "flip_plus1": "mirrored copy, rotated 90°",
    "flip_minus1": "mirrored copy, rotated 90°",
}
# Query variant kind (before the space) -> what the copy is.
VARIANT_LABELS = {
    BORDERS: "border removed",
    REGION: "inside a screenshot",
    ROTATION: "tilted, straightened",
    UNCROP: "crop of the listed image",
}


def _box(text: str) -> tuple[float, float, float, float] | None:
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        return None
    return x, y, w, h


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def variant_label(variant: str | None) -> str:
    """The object's part that matched, in words ("" for the whole object)."""
    if not variant:
        return ""
    kind, _, rest = variant.partition(" ")
    label = VARIANT_LABELS.get(kind)
    if label is None:
        return f"variant {variant}"
    if kind == ROTATION:
        return f"tilted {rest}°, straightened" if rest else label
    box = _box(rest)
    if box is None:
        return label
    x, y, w, h = box
    if kind == UNCROP:  # the object is the window (x, y, w, h) of a larger original
        return f"{label} ({_percent(w)} × {_percent(h)} of it)"
    return f"{label} (the inner {_percent(w)} × {_percent(h)})"


def listed_part(list_variant: str | None) -> str:
    """The part of the listed image that matched, in words."""
    if not list_variant:
        return "whole image"
    kind, _, rest = list_variant.partition(" ")
    box = _box(rest)
    if kind == WINDOW and box is not None:
        x, y, w, h = box
        return f"part: {_percent(w)} × {_percent(h)} at {_percent(x)}, {_percent(y)} from the top left"
    return list_variant


def status_label(row: Mapping[str, Any]) -> str:
    """``match``, ``suppressed by benign`` (naming the suppress lists), or a benign hit."""
    status = row.get(schemas.STATUS)
    if status == schemas.STATUS_SUPPRESSED:
        by = ", ".join(row.get(schemas.SUPPRESSED_BY) or []) or "a suppress list"
        return f"suppressed by {by}"
    if status == schemas.STATUS_SUPPRESS:
        return "benign (suppress list hit)"
    return str(status or "")


def is_exact(algorithm: str) -> bool:
    """Does ``algorithm`` match exactly (a digest: distance 0 or no match)?"""
    try:
        return algorithms.get(algorithm).metric is algorithms.Metric.EXACT
    except Exception:  # an algorithm this version does not know: not exact
        return False


def how_matched(row: Mapping[str, Any]) -> str:
    """What the object is, compared with the listed image: the phrases joined by "; ".

    A plain hash match says so with its distance; a border, crop or
    screenshot hit names that first, so distance 0 there reads as "the
    inner part is the listed image", not "the same picture".
    """
    algorithm = str(row.get(schemas.ALGORITHM) or "")
    if is_exact(algorithm):
        return "exact copy (same bytes)"
    phrases = []
    orientation = row.get(schemas.ORIENTATION)
    if orientation and orientation != "original":
        phrases.append(ORIENTATION_LABELS.get(orientation, f"orientation {orientation}"))
    if row.get(schemas.VARIANT):
        phrases.append(variant_label(row[schemas.VARIANT]))
    list_variant = row.get(schemas.LIST_VARIANT)
    if list_variant and list_variant.startswith(WINDOW + " "):
        box = _box(list_variant.partition(" ")[2])
        share = f" ({_percent(box[2])} × {_percent(box[3])})" if box else ""
        phrases.append(f"crop of the listed image{share}")
    elif list_variant:
        phrases.append(f"listed part {list_variant}")
    if not phrases:
        distance = row.get(schemas.DISTANCE)
        phrases.append("same picture" if distance == 0 else "similar picture")
    return "; ".join(phrases)


def started_label(started_at: str) -> str:
    """An ISO 8601 start time as ``2026-12-02 03:41 UTC`` (the text as given if it is not one)."""
    try:
        moment = datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return str(started_at or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def video_caption(rows: Sequence[Mapping[str, Any]]) -> str:
    """What the video-list rows say, as sentences (they have shares of frames, not a distance)."""
    shares = sorted(float(r.get(schemas.QUERY_MATCH_PERCENT) or 0) for r in rows)
    whole = sum(1 for r in rows if (r.get(schemas.LIST_MATCH_PERCENT) or 0) >= 99.95)
    return (
        f"vpdq: {len(rows)} video matches (vPDQ, one per video and listed video). Each says which share of "
        "the video's sampled frames has a frame of the listed video within the frame distance, and which "
        f"share of the listed video's frames the video covers: {whole} cover the whole listed video, "
        f"{len(rows) - whole} a part of it (a trimmed copy or an excerpt; the segment columns say which "
        f"seconds). Lowest share of the video's frames: {shares[0]:.0f}%." if rows else
        "vpdq: no video match."
    )


def distance_caption(algorithm: str, values: Sequence[float], threshold: float, *, scored: bool = False) -> str:
    """What a distance plot's numbers mean, as sentences (for the plot's caption and the Markdown).

    "Close to the threshold" is the top fifth of the range a match may
    take: matches there are the least certain, to be looked at first.
    """
    near_from = 0.8 * threshold
    near = sum(1 for v in values if v > near_from)
    ordered = sorted(values)
    median = ordered[len(ordered) // 2] if ordered else 0
    if scored:  # a --match-mode second opinion: the threshold was compared with the combined score
        what = ("The value is the match mode's score, the distance combined with the second opinion's "
                "(gradient or phash): 0 is the same picture, ")
    elif algorithm == "pdq":
        what = ("The distance is the number of bits that differ between the object's hash and the listed "
                "hash (of 256): 0 is the same hash, ")
    else:
        what = "The distance is between the object's hash and the listed hash: 0 is the same hash, "
    return (
        f"{algorithm}: {len(values)} matches. {what}"
        f"and {threshold:g} (the list's threshold) is the most that still counts as a match. "
        f"Median distance {median:g}. "
        + (f"{near} of {len(values)} are close to the threshold (above {near_from:g}): "
           "the least certain, look at those first."
           if near else f"None is close to the threshold (above {near_from:g}).")
    )
