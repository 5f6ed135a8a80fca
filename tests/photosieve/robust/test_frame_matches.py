"""frame_matches: a batch of frames on every list in a mode; suppression across a frame's lists."""

from __future__ import annotations

import numpy as np

from photosieve import schemas
from photosieve.lists import ListRole
from photosieve.robust.frame_matches import frame_rows, match_frames
from photosieve.robust.matcher import FrameQuery, ModeList, ModeMatch
from photosieve.robust.modes import CONFIGS, RobustMatch


class _Matcher:
    """A stand-in ModeMatcher: the same pair for every frame (the real one is tested in test_matcher)."""

    def __init__(self, found):
        self.config = CONFIGS["robust"]
        self._found = found

    def match(self, frames):
        return [list(self._found) for _ in frames]


def _found(entry_id, distance=3.0):
    match = RobustMatch(
        id=entry_id, query_variant="", query_orientation="original", list_variant="",
        query_hash="0f" * 32, list_hash="0e" * 32, distance=distance, score=distance, second_distance=None,
    )
    return ModeMatch(match, entry_id, ("case",), 90)


def test_a_suppress_list_hit_suppresses_the_frames_other_matches_only():
    listed = ModeList("known", "v1", ListRole.MATCH.value, _Matcher([_found("k1")]))
    benign = ModeList("benign", "v2", ListRole.SUPPRESS.value, _Matcher([_found("b1")]))
    empty = ModeList("md5only", "v3", ListRole.MATCH.value, None)  # no PDQ: left to plain matching
    frames = [FrameQuery.from_rows([]), FrameQuery.from_rows([])]
    rows = list(match_frames([benign, empty, listed], [("a.jpg", 0), ("b.jpg", 0)], frames, run_id="r", matched_at_us=0))
    got = [(r[schemas.URI], r[schemas.LIST_NAME], r[schemas.STATUS], r[schemas.SUPPRESSED_BY]) for r in rows]
    assert got == [
        ("a.jpg", "benign", "suppress", None), ("a.jpg", "known", "suppressed", ["benign"]),
        ("b.jpg", "benign", "suppress", None), ("b.jpg", "known", "suppressed", ["benign"]),
    ]
    alone = list(frame_rows(("c.jpg", 0), [(listed, _found("k1"))], run_id="r", matched_at_us=0))
    assert [(r[schemas.STATUS], r[schemas.ENTRY_IDS], r[schemas.MATCH_MODE]) for r in alone] == [
        ("match", ["k1"], "robust")
    ]
