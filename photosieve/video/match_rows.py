"""A video's ``matches`` rows against one video list: the best orientation per listed video.

Shared by the pipeline (:mod:`photosieve.transforms.video_matching`) and
``photosieve match-files``, so both write the same rows.

>>> frames = [("", 25, 1.0, "0f" * 32, 90), ("", 0, 0.0, "f0" * 32, 80)]
>>> [f.frame_number for f in features_by_orientation(frames)[""]]
[0, 25]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

from photosieve import schemas
from photosieve.hashes.value import HashValue
from photosieve.video.video_match import VideoIndex, VideoMatch
from photosieve.video.vpdq import VpdqFeature

__all__ = ["features_by_orientation", "has_good_frame", "video_frame", "video_match_row", "video_rows"]

_UPRIGHT = ("", "original")


def video_frame(row: Mapping) -> tuple | None:
    """(orientation, frame, timestamp, hash, quality) of a video frame's PDQ ``hashes`` row, else None."""
    if (row[schemas.ALGORITHM] != "pdq" or row.get(schemas.FRAME_TIMESTAMP) is None
            or row.get(schemas.VARIANT)):
        return None
    return (row.get(schemas.ORIENTATION) or "", row.get(schemas.FRAME) or 0, row[schemas.FRAME_TIMESTAMP],
            row[schemas.HASH], row.get(schemas.QUALITY) or 0)


def features_by_orientation(frames: Iterable[tuple]) -> dict[str, list[VpdqFeature]]:
    """A video's grouped frames as vPDQ features per orientation, in frame order."""
    by: dict[str, list[VpdqFeature]] = defaultdict(list)
    for orientation, frame, timestamp, hex_hash, quality in sorted(frames, key=lambda f: (f[0], f[1])):
        by[orientation].append(VpdqFeature(frame, quality, HashValue("pdq", bytes.fromhex(hex_hash)), timestamp))
    return by


def has_good_frame(by_orientation: Mapping[str, list[VpdqFeature]], index: VideoIndex) -> bool:
    """Whether any frame reaches the list's quality tolerance (else the video cannot match it)."""
    return any(f.quality >= index.rule.quality for fs in by_orientation.values() for f in fs)


def video_rows(uri: str, by_orientation: Mapping[str, list[VpdqFeature]], index: VideoIndex, *,
               run_id: str, matched_at_us: int) -> Iterator[dict]:
    """One row per listed video the video matches, in id order, from its best orientation.

    Upright frames win a tie; otherwise the larger shares (``--dihedral``
    hashes the frames of mirrored and rotated copies too).
    """
    best: dict[str, tuple[tuple, VideoMatch, str]] = {}
    for orientation, features in sorted(by_orientation.items()):
        for found in index.match(features):
            rank = (orientation not in _UPRIGHT, -found.query_match_percent, -found.compared_match_percent)
            if found.video_id not in best or rank < best[found.video_id][0]:
                best[found.video_id] = (rank, found, orientation)
    for video_id in sorted(best):
        _, found, orientation = best[video_id]
        yield video_match_row(uri, found, index, orientation or None, run_id=run_id, matched_at_us=matched_at_us)


def video_match_row(uri: str, found: VideoMatch, index: VideoIndex, orientation: str | None, *,
                    run_id: str, matched_at_us: int) -> dict:
    """The ``matches`` row of one (video, listed video) pair (see ``schemas.VIDEO_MATCH_COLUMNS``)."""
    query = found.query_feature
    return {
        schemas.URI: uri,
        schemas.FRAME: query.frame_number,
        schemas.FRAME_TIMESTAMP: query.timestamp,
        schemas.ALGORITHM: schemas.VPDQ,
        schemas.QUERY_HASH: query.hex,
        schemas.ORIENTATION: orientation,
        schemas.VARIANT: None,
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
