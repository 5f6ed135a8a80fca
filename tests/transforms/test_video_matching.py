"""MatchVideos: videos' frame rows against video lists, one row per matching (video, listed video)."""

from __future__ import annotations

import dataclasses

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.transforms.ledger import LEDGER
from photosieve.transforms.video_matching import VIDEOS_QUERIED, MatchVideos
from photosieve.video.match_rows import Track, features_by_orientation
from photosieve.video import vpdq
from photosieve.video.video_list import VideoListSpec
from photosieve.video.video_match import VideoRule
from photosieve.transforms import video_matching
from tests.photosieve.video import videos
from tests.transforms import docstring_examples

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


def _rows(uri: str, data: bytes, plan: str = "pdq,md5", dihedral: bool = False, borders: bool = True) -> list[dict]:
    parsed = HashPlan.parse(plan.replace("pdq", "pdq-dihedral") if dihedral else plan)
    hasher = ImageHasher(dataclasses.replace(parsed, video_borders=borders))
    return schemas.hash_rows(hasher.hash_bytes(uri, data), mtime_us=None, run_id="r1")


@pytest.fixture(scope="module")
def clips():
    """An original 8 s clip, a re-encoded trimmed copy (seconds 2-7), its mirror image, an unrelated clip."""
    original = videos.frames(200, seed=7)
    trimmed = videos.encode(original[50:175], "mkv-h264")
    mirrored = videos.encode([frame[:, ::-1].copy() for frame in original[50:175]], "mp4-h264")
    letterboxed = videos.encode([np.pad(frame, ((24, 24), (0, 0), (0, 0))) for frame in original], "mp4-h264")
    return {
        "original": videos.encode(original, "mp4-h264"),
        "trimmed": trimmed,
        "mirrored": mirrored,
        "letterboxed": letterboxed,
        "other": videos.video("mp4-h264", seconds=6, seed=11),
    }


@pytest.fixture()
def video_list(tmp_path, clips):
    folder = tmp_path / "known"
    folder.mkdir()
    vpdq.write_hash_file(folder / "case-17.txt", vpdq.hash_video(clips["original"]))
    return VideoListSpec(str(folder / "*.txt"), "known-videos")


def test_trimmed_copy_matches_with_its_segment_and_unrelated_clip_does_not(clips, video_list):
    rows = _rows("up/trimmed.mkv", clips["trimmed"]) + _rows("up/other.mp4", clips["other"]) + _rows(
        "up/original.mp4", clips["original"])
    with beam.Pipeline(RUNNER) as p:
        matched = p | beam.Create(rows) | MatchVideos([video_list], run_id="r1", matched_at_us=5)
        keys_ = matched[schemas.MATCHES] | "Key" >> beam.Map(
            lambda r: (r[schemas.URI], tuple(r[schemas.ENTRY_IDS]), r[schemas.ALGORITHM], r[schemas.MATCH_MODE],
                       r[schemas.QUERY_MATCH_PERCENT] >= 80, r[schemas.SEGMENT_START], r[schemas.SEGMENT_END],
                       r[schemas.LIST_SEGMENT_START], r[schemas.LIST_SEGMENT_END]))
        assert_that(keys_, equal_to([
            # The copy's seconds 0-4 are the original's 2-6; its frames at 0 s and 2 s are below
            # quality 50 (flat synthetic frames), so the matched part starts at 1 s (3 s in the list).
            ("up/trimmed.mkv", ("case-17",), "vpdq", "vpdq", True, 1.0, 4.0, 3.0, 6.0),
            ("up/original.mp4", ("case-17",), "vpdq", "vpdq", True, 0.0, 7.0, 0.0, 7.0),
        ]))
        counted = matched[LEDGER] | "Queried" >> beam.Map(lambda counts: counts.get(VIDEOS_QUERIED, 0)) | (
            beam.CombineGlobally(sum))
        assert_that(counted, equal_to([3]), label="Videos")


def test_row_carries_both_shares_and_the_closest_pair(clips, video_list):
    rows = _rows("up/trimmed.mkv", clips["trimmed"])
    brute = vpdq.match(vpdq.hash_video(clips["trimmed"]), vpdq.hash_video(clips["original"]))
    assert 0 < brute.compared_match_percent < 100  # the copy is a part of the original
    with beam.Pipeline(RUNNER) as p:
        matched = p | beam.Create(rows) | MatchVideos([video_list], run_id="r1", matched_at_us=5)
        assert_that(matched[schemas.MATCHES] | beam.Map(_check_row, brute), equal_to([True]))


def _check_row(row: dict, brute: vpdq.VpdqMatch) -> bool:
    assert set(row) == set(schemas.MATCHES_SCHEMA.names) - {schemas.NEW_REASON}
    assert row[schemas.QUERY_MATCH_PERCENT] == brute.query_match_percent == 100.0
    assert row[schemas.LIST_MATCH_PERCENT] == brute.compared_match_percent
    assert row[schemas.SCORE] == row[schemas.QUERY_MATCH_PERCENT] and row[schemas.THRESHOLD] == 80.0
    assert 0 <= row[schemas.DISTANCE] <= 31 and len(row[schemas.MATCHED_HASH]) == 64
    assert row[schemas.STATUS] == schemas.STATUS_MATCH and row[schemas.MATCHED_AT] == 5
    return True


def test_mirrored_copy_matches_only_with_dihedral_frames(clips, video_list):
    plain = _rows("up/mirrored.mp4", clips["mirrored"])
    dihedral = _rows("up/mirrored.mp4", clips["mirrored"], dihedral=True)
    for rows, expected in ((plain, []), (dihedral, [("up/mirrored.mp4", "flipy")])):
        with beam.Pipeline(RUNNER) as p:
            matched = p | beam.Create(rows) | MatchVideos([video_list], run_id="r1", matched_at_us=5)
            found = matched[schemas.MATCHES] | beam.Map(lambda r: (r[schemas.URI], r[schemas.ORIENTATION]))
            assert_that(found, equal_to(expected))


def test_letterboxed_copy_matches_through_its_frames_inside_the_borders(clips, video_list):
    bordered = _rows("up/letterboxed.mp4", clips["letterboxed"])
    variants = {r[schemas.VARIANT] for r in bordered if r[schemas.ALGORITHM] == "pdq"}
    assert None in variants and any(v and v.startswith("borders 0.000,0.1") for v in variants)
    for rows, expected in ((bordered, [True]), (_rows("up/letterboxed.mp4", clips["letterboxed"], borders=False), [])):
        with beam.Pipeline(RUNNER) as p:
            matched = p | beam.Create(rows) | MatchVideos([video_list], run_id="r1", matched_at_us=5)
            found = matched[schemas.MATCHES] | beam.Map(
                lambda r: r[schemas.VARIANT].startswith("borders ") and r[schemas.QUERY_MATCH_PERCENT] >= 80)
            assert_that(found, equal_to(expected))


def test_whole_frames_win_over_their_inside_when_both_match(clips, video_list):
    rows = _rows("up/original.mp4", clips["original"])
    with beam.Pipeline(RUNNER) as p:
        matched = p | beam.Create(rows) | MatchVideos([video_list], run_id="r1", matched_at_us=5)
        assert_that(matched[schemas.MATCHES] | beam.Map(lambda r: r[schemas.VARIANT]), equal_to([None]))


def test_listed_share_threshold_refuses_a_short_excerpt(clips, video_list):
    rows = _rows("up/trimmed.mkv", clips["trimmed"])
    with beam.Pipeline(RUNNER) as p:
        matched = p | beam.Create(rows) | MatchVideos(
            [video_list], run_id="r1", matched_at_us=5, rule=VideoRule(50, 80.0, 90.0))
        assert_that(matched[schemas.MATCHES], equal_to([]))


def test_image_rows_and_digests_are_not_video_queries():
    rows = [{schemas.URI: "a.jpg", schemas.ALGORITHM: "pdq", schemas.HASH: "0f" * 32, schemas.QUALITY: 90,
             schemas.FRAME: 0},
            {schemas.URI: "v.mp4", schemas.ALGORITHM: "md5", schemas.HASH: "ab" * 16}]
    from photosieve.transforms.video_matching import _video_frame

    assert [list(_video_frame(r)) for r in rows] == [[], []]


def test_frames_sorted_into_features_per_orientation():
    frames = [("", 25, 1.0, "0f" * 32, 90, ""), ("", 0, 0.0, "f0" * 32, 80, ""), ("mirror", 0, 0.0, "00" * 32, 70, "")]
    by = features_by_orientation(frames)
    assert [f.frame_number for f in by[Track("", False)]] == [0, 25] and by[Track("mirror", False)][0].quality == 70


def test_a_list_that_changed_since_preflight_fails_the_run(clips, video_list):
    rows = _rows("up/trimmed.mkv", clips["trimmed"])
    with pytest.raises(Exception, match="changed while the run started"), beam.Pipeline(RUNNER) as p:
        _ = p | beam.Create(rows) | MatchVideos(
            [video_list], run_id="r1", matched_at_us=5, expected_versions={"known-videos": "0" * 64})


def test_names_must_be_unique(video_list):
    with pytest.raises(ValueError, match="unique"):
        MatchVideos([video_list, video_list], run_id="r1", matched_at_us=0)
    assert ConfigError  # the spec's own checks are in tests/photosieve/video/test_video_list.py


def test_docstring_examples():
    docstring_examples.check(video_matching)
