"""A video's ``matches`` rows against one video list: the best orientation per listed video.

Shared by the pipeline (:mod:`photosieve.transforms.video_matching`) and
``photosieve match-files``, so both write the same rows.

>>> frames = [("", 25, 1.0, "0f" * 32, 90, ""), ("", 0, 0.0, "f0" * 32, 80, "")]
>>> [f.frame_number for f in features_by_orientation(frames)[Track("", False)]]
[0, 25]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from photosieve import schemas
from photosieve.hashes.value import HashValue
from photosieve.robust.expansion import BORDERS
from photosieve.video.video_match import VideoIndex, VideoMatch
from photosieve.video.vpdq import VpdqFeature

__all__ = ["Track", "VideoTracks", "features_by_orientation", "has_good_frame", "video_frame", "video_match_row", "video_rows"]

_UPRIGHT = ("", "original")


def video_frame(row: Mapping) -> tuple | None:
    """(orientation, frame, timestamp, hash, quality, variant) of a video frame's PDQ ``hashes`` row.

    None for other rows: digests, images, and variants other than the
    frame inside its borders (``borders x,y,w,h``, see ``HashPlan.video_borders``).
    """
    variant = row.get(schemas.VARIANT) or ""
    if (row[schemas.ALGORITHM] != "pdq" or row.get(schemas.FRAME_TIMESTAMP) is None
            or (variant and not variant.startswith(BORDERS + " "))):
        return None
    return (row.get(schemas.ORIENTATION) or "", row.get(schemas.FRAME) or 0, row[schemas.FRAME_TIMESTAMP],
            row[schemas.HASH], row.get(schemas.QUALITY) or 0, variant)


class Track(NamedTuple):
    """One way of reading a video's frames: an orientation, whole or inside the borders found."""

    orientation: str
    borders: bool


def features_by_orientation(frames: Iterable[tuple]) -> VideoTracks:
    """A video's grouped frames as vPDQ features per track, in frame order.

    Each orientation is one track of whole frames; where some frames had
    uniform borders, a second track takes their inside instead (the other
    frames whole): a letterboxed copy matches through it.
    """
    whole: dict[str, dict[int, VpdqFeature]] = defaultdict(dict)
    inner: dict[str, dict[int, VpdqFeature]] = defaultdict(dict)
    variants: dict[tuple[str, bytes], str] = {}
    for orientation, frame, timestamp, hex_hash, quality, *rest in frames:
        variant = rest[0] if rest else ""
        feature = VpdqFeature(frame, quality, HashValue("pdq", bytes.fromhex(hex_hash)), timestamp)
        (inner if variant else whole)[orientation][frame] = feature
        if variant:
            variants[(orientation, feature.pdq.bits)] = variant
    tracks: dict[Track, list[VpdqFeature]] = {}
    for orientation in sorted(whole):
        tracks[Track(orientation, False)] = [whole[orientation][n] for n in sorted(whole[orientation])]
        if inner.get(orientation):
            merged = {**whole[orientation], **inner[orientation]}
            tracks[Track(orientation, True)] = [merged[n] for n in sorted(merged)]
    return VideoTracks(tracks, variants)


class VideoTracks(dict):
    """Track -> its features, and ``variants``: (orientation, hash bits) -> the borders label of a frame's inside."""

    def __init__(self, tracks: Mapping[Track, list[VpdqFeature]], variants: Mapping[tuple[str, bytes], str]):
        super().__init__(tracks)
        self.variants = dict(variants)


def has_good_frame(by_track: VideoTracks, index: VideoIndex) -> bool:
    """Whether any frame reaches the list's quality tolerance (else the video cannot match it)."""
    return any(f.quality >= index.rule.quality for fs in by_track.values() for f in fs)


def video_rows(uri: str, by_track: VideoTracks, index: VideoIndex, *,
               run_id: str, matched_at_us: int) -> Iterator[dict]:
    """One row per listed video the video matches, in id order, from its best track.

    Whole upright frames win a tie; otherwise the larger shares (``--dihedral``
    hashes the frames of mirrored and rotated copies too, ``video_borders``
    their insides).
    """
    best: dict[str, tuple[tuple, VideoMatch, Track]] = {}
    for track, features in sorted(by_track.items()):
        for found in index.match(features):
            rank = (track.orientation not in _UPRIGHT or track.borders, -found.query_match_percent,
                    -found.compared_match_percent, track.borders)
            if found.video_id not in best or rank < best[found.video_id][0]:
                best[found.video_id] = (rank, found, track)
    for video_id in sorted(best):
        _, found, track = best[video_id]
        variant = by_track.variants.get((track.orientation, found.query_feature.pdq.bits)) if track.borders else None
        yield video_match_row(uri, found, index, track.orientation or None, variant=variant,
                              run_id=run_id, matched_at_us=matched_at_us)


def video_match_row(uri: str, found: VideoMatch, index: VideoIndex, orientation: str | None, *,
                    run_id: str, matched_at_us: int, variant: str | None = None) -> dict:
    """The ``matches`` row of one (video, listed video) pair (see ``schemas.VIDEO_MATCH_COLUMNS``)."""
    query = found.query_feature
    return {
        schemas.URI: uri,
        schemas.FRAME: query.frame_number,
        schemas.FRAME_TIMESTAMP: query.timestamp,
        schemas.ALGORITHM: schemas.VPDQ,
        schemas.QUERY_HASH: query.hex,
        schemas.ORIENTATION: orientation,
        schemas.VARIANT: variant,  # the closest pair's frame, inside its borders; None: whole
        schemas.QUALITY: query.quality,
        schemas.LIST_NAME: index.name,
        schemas.LIST_VERSION: index.version,
        schemas.LIST_ROLE: "match",
        schemas.ENTRY_IDS: [found.video_id],
        schemas.LABELS: list(found.labels),
        schemas.MATCHED_HASH: found.listed_hash.hex(),
        schemas.DISTANCE: float(found.distance),
        schemas.THRESHOLD: float(index.rule.query_percent),
        schemas.STATUS: schemas.STATUS_MATCH,
        schemas.SUPPRESSED_BY: None,
        schemas.RUN_ID: run_id,
        schemas.MATCHED_AT: matched_at_us,
        schemas.MATCH_MODE: schemas.VPDQ,
        schemas.LIST_VARIANT: None,
        schemas.SCORE: found.query_match_percent,
        schemas.SECOND_DISTANCE: None,
        schemas.QUERY_MATCH_PERCENT: found.query_match_percent,
        schemas.LIST_MATCH_PERCENT: found.compared_match_percent,
        schemas.SEGMENT_START: found.segment_start,
        schemas.SEGMENT_END: found.segment_end,
        schemas.LIST_SEGMENT_START: found.listed_start,
        schemas.LIST_SEGMENT_END: found.listed_end,
    }
