"""bench_video_matching: its clips, edits and measures on generated scenes (no photos are read)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_video_matching as bench
from photosieve.video.vpdq import hash_video, match
from tests.transforms.samples import picture

SIZE = (128, 72)
FPS = 10


def _clip(seed: int, photos: int = 2, seconds: float = 3.0) -> bytes:
    """A small original: ``photos`` random scenes (not photos), ``seconds`` each at FPS."""
    scenes = [picture(seed * 10 + i, (256, 192)) for i in range(photos)]
    return bench.encode_frames(bench.clip_frames(scenes, SIZE, FPS, seconds, seed), bench.H264, FPS)


@pytest.fixture(scope="module")
def clips() -> list[bytes]:
    return [_clip(1), _clip(2)]


@pytest.fixture(scope="module")
def kinds() -> dict[str, bench.Edit]:
    return {e.name: e for e in bench.edits(SIZE)}


def _key(features) -> list[tuple]:
    return [(f.frame_number, f.quality, f.hex, f.timestamp) for f in features]


def test_the_clip_has_the_frames_asked_for_and_moves(clips):
    fps, count, frames = bench.decode_frames(clips[0])
    pictures = list(frames)
    assert (fps, count, len(pictures), pictures[0].shape) == (FPS, 60, 60, (72, 128, 3))
    assert not np.array_equal(pictures[0], pictures[29])  # the window pans/zooms within one scene
    assert bench._duration(clips[0]) == 6.0


def test_trim_keeps_the_fractions_asked_for():
    assert list(bench.trim(0.25, 0.75)(iter(range(100)), 100)) == list(range(25, 75))
    assert list(bench.trim(0.0, 0.30)(iter(range(60)), 60)) == list(range(18))


def test_resample_shows_the_frame_on_screen_at_each_new_time():
    assert list(bench.resample(Fraction(30), Fraction(15))(iter(range(30)), 30)) == list(range(0, 30, 2))
    to24 = list(bench.resample(Fraction(30), Fraction(24))(iter(range(30)), 30))
    assert len(to24) == 24 and to24[:5] == [0, 1, 2, 3, 5] and to24 == sorted(set(to24))


def test_edited_copies_have_the_edit(clips, kinds):
    trimmed = bench.make_copy(clips[0], kinds["trim-middle-50"])
    assert bench._duration(trimmed) == 3.0
    assert bench.decode_frames(bench.make_copy(clips[0], kinds["fps15"]))[:2] == (Fraction(5), 30)
    _, _, frames = bench.decode_frames(bench.make_copy(clips[0], kinds["letterbox"]))
    first = next(frames)
    frames.close()
    assert first.shape == (72 + 2 * 12, 128, 3) and first[:10].max() < 24  # black bars (after H.264)
    _, _, frames = bench.decode_frames(bench.make_copy(clips[0], kinds["half-size"]))
    assert next(frames).shape == (36, 64, 3)
    frames.close()


def test_a_reencoded_copy_matches_its_original_and_an_unrelated_clip_does_not(clips, kinds):
    original = hash_video(clips[0])
    copy = hash_video(bench.make_copy(clips[0], kinds["crf38"]))
    assert match(copy, original).is_match()
    unrelated = match(hash_video(clips[1]), original)
    assert not unrelated.is_match() and unrelated.query_match_percent < 50


def test_orientation_original_is_hash_video(clips):
    assert _key(bench.hash_orientations(clips[0])["original"]) == _key(hash_video(clips[0]))


def test_a_mirrored_copy_is_found_only_through_its_mirror_orientation(clips, kinds):
    original = hash_video(clips[0])
    mirrored = bench.hash_orientations(bench.make_copy(clips[0], kinds["mirror"]))
    assert not match(mirrored["original"], original).is_match()
    name, best = bench.best_orientation(mirrored, original)
    assert name == bench.MIRROR and best.is_match()


def test_the_mirror_orientation_name_is_checked():
    bench._check_mirror_orientation()  # raises if MIRROR is not the left-right flip's orientation


def test_frame_distances_are_the_pairwise_hamming_distances(clips):
    a, b = hash_video(clips[0]), hash_video(clips[1])
    got = bench.frame_distances(a, b, quality=0)
    assert got.tolist() == [x.distance(y) for x in a for y in b]
    assert len(bench.frame_distances(a, b, quality=101)) == 0
    nearest = bench.nearest_distances(a, b)
    assert nearest.tolist() == [min(x.distance(y) for y in b) for x in a if x.quality >= 50]


def test_the_measures_on_a_small_corpus(clips, kinds):
    corpus = bench.build_corpus(clips, [kinds["crf38"], kinds["trim-first-30"], kinds["mirror"]])
    recall = {row["edit"]: row for row in bench.recall_rows(corpus)}
    assert list(recall) == ["crf38", "trim-first-30", "trim-first-30, reversed (query = original)",
                            "mirror", "mirror, any of 8 orientations"]
    assert recall["crf38"]["found"] == 2 and recall["trim-first-30"]["found"] == 2
    assert recall["trim-first-30, reversed (query = original)"]["found"] == 0  # 2 of 6 frames
    assert recall["mirror, any of 8 orientations"]["orientations"] == [bench.MIRROR]
    assert recall["mirror, any of 8 orientations"]["nearest_median"] <= 31
    assert recall["mirror"]["nearest_median"] > 31
    false = {row["pairs"]: row for row in bench.false_match_rows(corpus)}
    assert [false[k]["count"] for k in false] == [2, 6, 8]
    assert all(row["matches"] == 0 for row in false.values())
    frames = bench.frame_row(corpus)
    assert frames["frame_pairs"] == frames["kept_frames"] ** 2 // 4 and frames["within_31"] == 0


def test_the_table_printer():
    rows = [{"edit": "crf38", "found": 3, "share": 12.345, "names": ["a", "b"]}, {"edit": "x"}]
    columns = (("edit", "edit", ""), ("found", "found", "d"), ("%", "share", ".1f"), ("names", "names", ""))
    assert bench.markdown(rows, columns) == (
        "| edit | found | % | names |\n|---|---|---|---|\n| crf38 | 3 | 12.3 | a, b |\n| x |  |  |  |"
    )


def test_default_photos_come_from_the_environment_or_beside_the_repository(monkeypatch):
    monkeypatch.setenv("PHOTOSIEVE_PHOTOS", "/somewhere/photos")
    assert bench.default_photos() == Path("/somewhere/photos")
    monkeypatch.delenv("PHOTOSIEVE_PHOTOS")
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=Path(bench.__file__).parent,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert bench.default_photos() == Path(top).parent / "shared" / "data" / "photos"
