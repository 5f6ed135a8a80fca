"""Match the videos of an audit against video lists (vPDQ), inside a Beam pipeline.

Transforms:

* :class:`ReadVideoLists`: the run's :class:`~photosieve.video.video_list.VideoListSpec`
  values in; one :class:`~photosieve.video.video_match.VideoIndex` per list
  out, each read and indexed once per run, on one worker.
* :class:`MatchVideos`: ``hashes``-table row dicts in (all of them: the
  rows of video frames are picked here); a dict of outputs: ``matches``
  (``matches``-table rows, one per (video, listed video) pair vPDQ's rule
  matches) and ``ledger`` (counts).

A video's frames are hash rows like any frame (PDQ, a frame number and a
``timestamp``), made by one element or by several (long videos are split
into segments), so they are grouped by object first: one GroupByKey over
video frames only, ~35 us per sampled frame on the local runner, about
0.1 s per hour of video at one frame a second. Each video is then matched
whole, per orientation (``--dihedral`` hashes mirrored and rotated frames
too, so a mirrored copy matches through its ``mirror`` orientation; the
best orientation per listed video is kept). Frames of videos are matched
against *image* lists by :class:`~photosieve.transforms.matching.MatchHashes`
as any frame is; this transform adds the video-to-video rows.

The lists' indexes reach the workers as a side input (pickled: ~40 bytes
per distinct listed frame hash plus the index), one copy per SDK process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import AsList

from photosieve import schemas
from photosieve.lists.known import check_version
from photosieve.lists.spec import ListSpec
from photosieve.transforms.known_lists import open_stored
from photosieve.transforms.ledger import LEDGER, Tally
from photosieve.transforms.matching import count_match
from photosieve.video.match_rows import (
    features_by_orientation,
    has_good_frame,
    video_frame,
    video_rows,
)
from photosieve.video.video_list import VideoListSpec, read_video_list
from photosieve.video.video_match import VideoIndex, VideoRule

__all__ = ["MatchVideos", "ReadVideoLists", "expand_pattern", "read_video_index"]

# Ledger: videos whose frames were matched against the video lists, per orientation count.
VIDEOS_QUERIED = ("videos", "queried")
# ... and videos with no frame of good enough quality to match (counted, not matched).
VIDEOS_NO_GOOD_FRAME = ("videos", "no_good_frame")


def expand_pattern(pattern: str) -> list[str]:
    """The files a glob names, through Beam's filesystems (any scheme)."""
    return [m.path for m in FileSystems.match([pattern])[0].metadata_list]


def read_video_index(spec: VideoListSpec, rule: VideoRule, *, strict: bool = True,
                     expected_version: str | None = None) -> VideoIndex:
    """Read one video list through Beam's filesystems and index it (ConfigError if it changed)."""
    listed = read_video_list(spec, strict=strict, open_fn=open_stored, expand_fn=expand_pattern)
    check_version(ListSpec(spec.path, spec.name), listed.version, expected_version)
    return VideoIndex.build(listed, rule)


class ReadVideoLists(beam.PTransform):
    """Each video list read and indexed once, on one worker: a PCollection of VideoIndex.

    Example (a JSON Lines list of one video with two frames):

    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "videos.jsonl"
    >>> signal = [f"{'0f' * 32},90,0.0", f"{'f0' * 32},90,1.0"]
    >>> _ = path.write_text(json.dumps({"id": "v1", "vpdq": signal}) + "\\n")
    >>> with beam.Pipeline() as p:
    ...     indexes = p | ReadVideoLists([VideoListSpec(str(path))], VideoRule())
    ...     _ = indexes | beam.Map(lambda i: print(i.name, len(i), i.hashes))
    videos 1 2
    """

    def __init__(self, lists: Sequence[VideoListSpec], rule: VideoRule, *, strict: bool = True,
                 expected_versions: Mapping[str, str] | None = None):
        super().__init__()
        self._lists = list(lists)
        self._rule = rule
        self._strict = strict
        self._expected = dict(expected_versions or {})

    def expand(self, pbegin):
        rule, strict, expected = self._rule, self._strict, self._expected
        return (
            pbegin
            | "VideoListSpecs" >> beam.Create(self._lists)
            | "ReadAndIndex" >> beam.Map(
                lambda spec: read_video_index(spec, rule, strict=strict,
                                              expected_version=expected.get(spec.name)))
        )


def _video_frame(row: dict) -> Iterable[tuple[str, tuple]]:
    """(uri, frame) of a video frame's PDQ row (see :func:`~photosieve.video.match_rows.video_frame`); else nothing."""
    frame = video_frame(row)
    if frame is not None:
        yield row[schemas.URI], frame


class _MatchVideoFn(beam.DoFn):
    """(uri, frames) -> matches rows against every video list."""

    def __init__(self, run_id: str, matched_at_us: int):
        self._run_id = run_id
        self._matched_at_us = matched_at_us

    def setup(self) -> None:
        self._tally = Tally()

    def process(self, element, indexes: list[VideoIndex]):
        uri, frames = element
        by_orientation = features_by_orientation(frames)
        self._tally.add(VIDEOS_QUERIED)
        for index in sorted(indexes, key=lambda i: i.name):
            if not has_good_frame(by_orientation, index):
                self._tally.add((*VIDEOS_NO_GOOD_FRAME, index.name))
                continue
            for row in video_rows(uri, by_orientation, index, run_id=self._run_id,
                                  matched_at_us=self._matched_at_us):
                count_match(self._tally, row)
                yield row

    def finish_bundle(self):
        yield from self._tally.flush()


class MatchVideos(beam.PTransform):
    """Videos' frame rows against video lists: one ``matches`` row per matching (video, listed video).

    Example (a listed video of two frames; a video showing one of them, and nothing else):

    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "known.jsonl"
    >>> signal = [f"{'0f' * 32},90,0.0", f"{'f0' * 32},90,1.0"]
    >>> _ = path.write_text(json.dumps({"id": "case-9", "vpdq": signal}) + "\\n")
    >>> row = {"uri": "clip.mp4", "algorithm": "pdq", "hash": "0f" * 31 + "0e", "quality": 90,
    ...        "frame": 0, "timestamp": 0.0}
    >>> with beam.Pipeline() as p:
    ...     matched = p | beam.Create([row]) | MatchVideos(
    ...         [VideoListSpec(str(path))], run_id="r1", matched_at_us=0)
    ...     _ = matched["matches"] | beam.Map(lambda r: print(
    ...         r["uri"], r["entry_ids"], r["query_match_percent"], r["list_match_percent"]))
    clip.mp4 ['case-9'] 100.0 50.0

    Args:
        lists: the video lists.
        rule: vPDQ's quality tolerance and share thresholds (each list has its distance).
        run_id, matched_at_us: written on every row.
        strict_lists: fail on bad list lines (True) or skip and count the videos.
        expected_versions: list name -> the version preflight read.

    Returns a dict: ``matches`` and ``ledger``.

    See also: :class:`photosieve.transforms.matching.MatchHashes`, which
    matches the same frames against image lists.
    """

    def __init__(self, lists: Sequence[VideoListSpec], *, run_id: str, matched_at_us: int,
                 rule: VideoRule | None = None, strict_lists: bool = True,
                 expected_versions: Mapping[str, str] | None = None):
        super().__init__()
        names = [spec.name for spec in lists]
        if len(set(names)) != len(names):
            raise ValueError(f"video list names must be unique, got {names}")
        self._lists = list(lists)
        self._rule = rule or VideoRule()
        self._run_id = run_id
        self._matched_at_us = matched_at_us
        self._strict = strict_lists
        self._expected = dict(expected_versions or {})

    def expand(self, hashes):
        indexes = hashes.pipeline | "ReadVideoLists" >> ReadVideoLists(
            self._lists, self._rule, strict=self._strict, expected_versions=self._expected)
        matched = (
            hashes
            | "VideoFrames" >> beam.FlatMap(_video_frame)
            | "GroupFramesByVideo" >> beam.GroupByKey()
            | "MatchVideos" >> beam.ParDo(
                _MatchVideoFn(self._run_id, self._matched_at_us), AsList(indexes)
            ).with_outputs(LEDGER, main=schemas.MATCHES)
        )
        return {schemas.MATCHES: matched[schemas.MATCHES], LEDGER: matched[LEDGER]}

    def display_data(self):
        return {"video_lists": ", ".join(spec.name for spec in self._lists),
                "query_percent": self._rule.query_percent, "compared_percent": self._rule.compared_percent}
