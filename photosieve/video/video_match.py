"""vPDQ matching of a video against a whole video list, through one index of its frames.

python-threatexchange (what HMA runs) compares a query video with *each*
listed video in turn (vpdq_brute_matcher.py): its cost grows with the list.
Here every distinct, good-quality frame hash of every listed video goes
into one :class:`~photosieve.index.MultiIndex` (exact at the tolerance), so
one batched probe with the query's frames finds every (query frame, listed
frame) pair within the tolerance; only the listed videos those pairs hit
are candidates, and their shares follow from the pairs. The decision is
the same as the brute-force rule, pair for pair (tested against
:func:`photosieve.video.vpdq.match` with ``rule="threatexchange"``):

* each side keeps the first feature of every distinct hash, then drops the
  features below the quality tolerance (that order, as upstream);
* ``query_match_percent``: the share of the query's kept hashes within the
  distance (inclusive) of some kept hash of the listed video;
* ``compared_match_percent``: the share of the listed video's kept hashes
  within the distance of some kept hash of the query;
* a match is ``query >= query_threshold and compared >= compared_threshold``
  (python-threatexchange's defaults: 80 and 0).

Each result also says *where* it matched: the first and last timestamp of
the query's matched frames, and of the listed video's (a trimmed copy
matches a part of the original; the part is the segment), and the closest
pair (for the ``matches`` row's hashes and distance).

>>> from photosieve.hashes.value import HashValue
>>> from photosieve.video.video_list import VideoList
>>> from photosieve.video.vpdq import VpdqFeature
>>> f = lambda b, t: VpdqFeature(int(t), 90, HashValue("pdq", bytes([b]) * 32), float(t))
>>> listed = VideoList("known", "v1", 31, ("k1",), (("case",),), ((f(0x0F, 0), f(0xF0, 1)),))
>>> index = VideoIndex.build(listed)
>>> [(m.video_id, m.query_match_percent, m.compared_match_percent) for m in index.match([f(0x0F, 5)])]
[('k1', 100.0, 50.0)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from photosieve.errors import ConfigError
from photosieve.index import MultiIndex
from photosieve.video.video_list import VideoList
from photosieve.video.vpdq import (
    VPDQ_INDEX_MATCH_THRESHOLD_PERCENT,
    VPDQ_QUALITY_THRESHOLD,
    VPDQ_QUERY_MATCH_THRESHOLD_PERCENT,
    VpdqFeature,
)

__all__ = ["VideoIndex", "VideoMatch", "VideoRule", "kept_features"]


@dataclasses.dataclass(frozen=True)
class VideoRule:
    """vPDQ's decision parameters (python-threatexchange's defaults).

    Attributes:
        quality: features below this quality are dropped (each side).
        query_percent: share of the query's frames that must match.
        compared_percent: share of the listed video's frames that must match.
    """

    quality: int = VPDQ_QUALITY_THRESHOLD
    query_percent: float = VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
    compared_percent: float = VPDQ_INDEX_MATCH_THRESHOLD_PERCENT

    def __post_init__(self) -> None:
        if isinstance(self.quality, bool) or not isinstance(self.quality, int) or not 0 <= self.quality <= 100:
            raise ConfigError(f"the vPDQ quality tolerance must be an integer 0..100, got {self.quality!r}")
        for name in ("query_percent", "compared_percent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise ConfigError(f"the vPDQ {name.replace('_', ' ')} must be a number 0..100, got {value!r}")


@dataclasses.dataclass(frozen=True)
class VideoMatch:
    """One (query video, listed video) pair that passes the rule."""

    video: int  # the listed video's position in the list
    video_id: str
    labels: tuple[str, ...]
    query_match_percent: float
    compared_match_percent: float
    query_frames: int  # the query's kept hashes
    listed_frames: int  # the listed video's kept hashes
    segment_start: float  # first and last timestamp of the query's matched frames
    segment_end: float
    listed_start: float  # ... and of the listed video's matched frames
    listed_end: float
    distance: int  # the closest pair
    query_feature: VpdqFeature
    listed_hash: bytes


def kept_features(features: Sequence[VpdqFeature], quality: int) -> list[VpdqFeature]:
    """The first feature of each distinct hash, if its quality reaches ``quality`` (upstream's order)."""
    seen: set[bytes] = set()
    kept = []
    for feature in features:
        bits = feature.pdq.bits
        if bits in seen:
            continue
        seen.add(bits)
        if feature.quality >= quality:
            kept.append(feature)
    return kept


def _packed(features: Sequence[VpdqFeature]) -> np.ndarray:
    return np.frombuffer(b"".join(f.pdq.bits for f in features), dtype=np.uint8).reshape(-1, 32)


class VideoIndex:
    """A video list's kept frame hashes, indexed once; answers :meth:`match` per query video.

    Memory: the distinct hashes (32 bytes each, shared by the videos that
    have them) and their index, plus 12 bytes per (hash, video) pair.
    Picklable (numpy arrays and the index).
    """

    def __init__(self, video_list: VideoList, rule: VideoRule, unique: np.ndarray, starts: np.ndarray,
                 owner: np.ndarray, owner_time: np.ndarray, kept_counts: np.ndarray):
        self.name = video_list.name
        self.version = video_list.version
        self.distance = video_list.distance
        self.ids = video_list.ids
        self.labels = video_list.labels
        self.rule = rule
        self._unique = unique
        self._starts = starts  # CSR over unique hashes: rows starts[u]:starts[u+1] of owner
        self._owner = owner  # listed video of each (hash, video) pair
        self._owner_time = owner_time  # that video's first timestamp with the hash
        self._kept = kept_counts  # kept hashes per listed video
        self._index = MultiIndex.build(unique, threshold=video_list.distance)

    @classmethod
    def build(cls, video_list: VideoList, rule: VideoRule | None = None) -> VideoIndex:
        rule = rule or VideoRule()
        hashes, owners, times, counts = [], [], [], []
        for number, features in enumerate(video_list.features):
            kept = kept_features(features, rule.quality)
            counts.append(len(kept))
            if kept:
                hashes.append(_packed(kept))
                owners.append(np.full(len(kept), number, dtype=np.int32))
                times.append(np.array([f.timestamp for f in kept], dtype=np.float64))
        if hashes:
            rows = np.concatenate(hashes)
            owner = np.concatenate(owners)
            time = np.concatenate(times)
        else:
            rows, owner, time = np.zeros((0, 32), np.uint8), np.zeros(0, np.int32), np.zeros(0)
        unique, inverse = np.unique(rows, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        starts = np.zeros(len(unique) + 1, dtype=np.int64)
        np.cumsum(np.bincount(inverse, minlength=len(unique)), out=starts[1:])
        return cls(video_list, rule, unique, starts, owner[order], time[order], np.array(counts, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def hashes(self) -> int:
        """Distinct kept frame hashes indexed."""
        return len(self._unique)

    def match(self, query: Sequence[VpdqFeature]) -> list[VideoMatch]:
        """The listed videos ``query`` (one video's features, in frame order) matches, best first."""
        kept = kept_features(query, self.rule.quality)
        if not kept or not len(self._unique):
            return []
        found = self._index.query_batch(_packed(kept), threshold=self.distance)
        if not len(found):
            return []
        q, u, dist = found.query, found.item, found.distance.astype(np.int64)
        # Each hit on a distinct hash is a hit on every listed video holding it.
        per = self._starts[u + 1] - self._starts[u]
        pair = np.repeat(np.arange(len(u)), per)
        rows = self._starts[u][pair] + (np.arange(len(pair)) - np.repeat(np.cumsum(per) - per, per))
        video, q, u, dist = self._owner[rows].astype(np.int64), q[pair], u[pair], dist[pair]
        listed_time = self._owner_time[rows]
        query_time = np.array([f.timestamp for f in kept], dtype=np.float64)[q]
        # Matched hashes per listed video, each side counted once (pairs are many-to-many).
        videos = len(self.ids)
        q_videos = np.unique(video * len(kept) + q) // len(kept)
        u_videos = np.unique(video * len(self._unique) + u) // len(self._unique)
        query_percent = np.bincount(q_videos, minlength=videos) * 100 / len(kept)
        kept_counts = np.maximum(self._kept, 1)
        compared_percent = np.bincount(u_videos, minlength=videos) * 100 / kept_counts
        passing = (query_percent >= self.rule.query_percent) & (compared_percent >= self.rule.compared_percent)
        passing &= np.bincount(video, minlength=videos) > 0
        at = passing[video]
        if not at.any():
            return []
        # The passing videos' pairs, grouped: segments and the closest pair by reduceat.
        order = np.lexsort((q[at], dist[at], video[at]))
        video, q, u, dist = video[at][order], q[at][order], u[at][order], dist[at][order]
        query_time, listed_time = query_time[at][order], listed_time[at][order]
        first = np.flatnonzero(np.r_[True, video[1:] != video[:-1]])
        starts_q, ends_q = np.minimum.reduceat(query_time, first), np.maximum.reduceat(query_time, first)
        starts_l, ends_l = np.minimum.reduceat(listed_time, first), np.maximum.reduceat(listed_time, first)
        results = []
        for n, row in enumerate(first.tolist()):  # the first row of each group is its closest pair
            v = int(video[row])
            results.append(VideoMatch(
                video=v,
                video_id=self.ids[v],
                labels=self.labels[v],
                query_match_percent=float(query_percent[v]),
                compared_match_percent=float(compared_percent[v]),
                query_frames=len(kept),
                listed_frames=int(self._kept[v]),
                segment_start=float(starts_q[n]),
                segment_end=float(ends_q[n]),
                listed_start=float(starts_l[n]),
                listed_end=float(ends_l[n]),
                distance=int(dist[row]),
                query_feature=kept[int(q[row])],
                listed_hash=self._unique[u[row]].tobytes(),
            ))
        results.sort(key=lambda m: (-m.query_match_percent, -m.compared_match_percent, m.video_id))
        return results
