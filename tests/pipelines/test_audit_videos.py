"""Videos in ``photosieve audit``: a listed picture shown in a video is found, frame and timestamp
named; tables written before the timestamp column existed still read; repeat audits re-read the
videos a run without video hashing filed as ``not_an_image``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.pipelines import cli
from photosieve.summary import SUMMARY_FILE
from tests.photosieve.video import videos
from tests.transforms import samples

SIZE = (320, 240)
FPS = 25
LISTED_SECONDS = (1, 4)  # the listed picture is on screen from 1 s to 4 s of a 5 s video


def _listed_video() -> bytes:
    """5 s at 25 fps: a panning scene, then the listed picture (seed 1) for 3 s, then the scene."""
    listed = np.asarray(samples.picture(1, SIZE))
    moving = videos.frames(5 * FPS, SIZE, seed=60)
    start, end = (s * FPS for s in LISTED_SECONDS)
    pictures = [listed if start <= i < end else moving[i] for i in range(5 * FPS)]
    return videos.encode(pictures, "mp4-h264", FPS)


@pytest.fixture()
def case(tmp_path) -> Path:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "clip.mp4").write_bytes(_listed_video())
    (archive / "decoy.mp4").write_bytes(videos.video("webm-vp8", seconds=2, size=SIZE, seed=61))
    (archive / "audio.m4a").write_bytes(videos.audio_only())
    (archive / "copy1.png").write_bytes(samples.encode(samples.picture(1, SIZE), "PNG"))
    (archive / "decoy.png").write_bytes(samples.encode(samples.picture(50, SIZE), "PNG"))
    hasher = ImageHasher(HashPlan.parse("pdq"))
    original = samples.encode(samples.picture(1, SIZE), "PNG")
    pdq_hex = hasher.hash_bytes("1", original).frames[0].results[0].hash.to_hex()
    (tmp_path / "known.csv").write_text(f"hash,algorithm,id,labels\n{pdq_hex},pdq,id1,case-1\n")
    return tmp_path


def _audit(case: Path, output: Path, *extra: str) -> int:
    argv = ["audit", "-i", str(case / "archive"), "-l", f"known={case / 'known.csv'}"]
    return cli.main([*argv, "-o", str(output), "--no-progress", "--num-shards", "1", *extra])


def _rows(output: Path, table: str) -> list[dict]:
    return pq.read_table(output / table).to_pylist()


def _summary(output: Path) -> dict:
    return json.loads((output / SUMMARY_FILE).read_text())


def _video_matches(output: Path) -> list[tuple]:
    return sorted(
        (Path(r[schemas.URI]).name, r[schemas.FRAME], r[schemas.FRAME_TIMESTAMP], r[schemas.STATUS])
        for r in _rows(output, schemas.MATCHES)
        if r[schemas.URI].endswith(".mp4")
    )


def _expected_video_matches() -> list[tuple]:
    # vPDQ samples frames 0, 25, 50...: those inside the listed interval show the picture.
    start, end = LISTED_SECONDS
    return [("clip.mp4", s * FPS, float(s), "match") for s in range(start, end)]


def _drop_timestamp(output: Path, table: str) -> None:
    """Rewrite a table as a run made before the timestamp column existed would have written it."""
    for shard in (output / table).glob("*.parquet"):
        old = pq.read_table(shard)
        assert schemas.FRAME_TIMESTAMP in old.column_names
        pq.write_table(old.drop_columns([schemas.FRAME_TIMESTAMP]), shard)


def test_a_listed_picture_shown_in_a_video_is_found_with_its_frame_and_time(case, tmp_path):
    out = tmp_path / "out"
    assert _audit(case, out) == 0
    assert _video_matches(out) == _expected_video_matches()
    image_matches = [r for r in _rows(out, schemas.MATCHES) if r[schemas.URI].endswith(".png")]
    assert [(Path(r[schemas.URI]).name, r[schemas.FRAME_TIMESTAMP]) for r in image_matches] == [("copy1.png", None)]
    hashes = _rows(out, schemas.HASHES)
    clip_pdq = [r for r in hashes if r[schemas.URI].endswith("clip.mp4") and r[schemas.ALGORITHM] == "pdq"]
    assert [(r[schemas.FRAME], r[schemas.FRAME_TIMESTAMP]) for r in clip_pdq] == [
        (n * FPS, float(n)) for n in range(5)
    ]
    assert {r[schemas.FORMAT] for r in clip_pdq} == {"MP4"}
    # Whole frames (the synthetic scene's flat edges also give borders rows, variant "borders ...").
    decoy = [r for r in hashes if r[schemas.URI].endswith("decoy.mp4") and r[schemas.ALGORITHM] == "pdq"
             and not r[schemas.VARIANT]]
    assert [r[schemas.FRAME] for r in decoy] == [0, 25]
    errors = {(Path(r[schemas.URI]).name, r[schemas.ERROR]) for r in _rows(out, schemas.ERRORS)}
    assert errors == {("audio.m4a", "no_video_stream")}
    summary = _summary(out)
    assert summary["accounting"] == {"balanced": True, "problems": []}
    assert summary["hash_settings"]["pdq"]["video_interval_s"] == 1.0


def test_no_videos_files_them_as_not_an_image(case, tmp_path):
    out = tmp_path / "out"
    assert _audit(case, out, "--no-videos") == 0
    assert _video_matches(out) == []
    errors = {(Path(r[schemas.URI]).name, r[schemas.ERROR]) for r in _rows(out, schemas.ERRORS)}
    assert errors == {("clip.mp4", "not_an_image"), ("decoy.mp4", "not_an_image"), ("audio.m4a", "not_an_image")}
    assert _summary(out)["hash_settings"]["pdq"]["video_interval_s"] is None


def test_match_reads_stored_hashes_written_before_the_timestamp_column(case, tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    assert _audit(case, first, "--no-videos") == 0
    _drop_timestamp(first, schemas.HASHES)
    argv = ["match", "--hashes", str(first), "-l", f"known={case / 'known.csv'}", "-o", str(again)]
    assert cli.main(argv) == 0
    rows = _rows(again, schemas.MATCHES)
    assert [(Path(r[schemas.URI]).name, r[schemas.FRAME_TIMESTAMP]) for r in rows] == [("copy1.png", None)]
    assert _summary(again)["accounting"]["balanced"]


def test_match_carries_video_timestamps_from_stored_hashes(case, tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    assert _audit(case, first) == 0
    argv = ["match", "--hashes", str(first), "-l", f"known={case / 'known.csv'}", "-o", str(again)]
    assert cli.main([*argv, "--strategy", "shuffle"]) == 0
    assert _video_matches(again) == _expected_video_matches()


def test_a_repeat_audit_reads_again_the_videos_a_run_without_video_hashing_filed(case, tmp_path):
    first, repeat = tmp_path / "first", tmp_path / "repeat"
    assert _audit(case, first, "--no-videos", "--run-id", "week1") == 0
    # As written before the column existed: the carried rows must still be read and written.
    _drop_timestamp(first, schemas.HASHES)
    assert _audit(case, repeat, "--previous", str(first)) == 0
    states = {Path(r[schemas.URI]).name: (r[schemas.STATE], r[schemas.REREAD]) for r in _rows(repeat, schemas.FILES)}
    assert states == {
        "clip.mp4": ("unchanged", "settings"),
        "decoy.mp4": ("unchanged", "settings"),
        "audio.m4a": ("unchanged", "settings"),
        "copy1.png": ("unchanged", None),  # images do not depend on the video setting: carried
        "decoy.png": ("unchanged", None),
    }
    assert _video_matches(repeat) == _expected_video_matches()
    carried = [r for r in _rows(repeat, schemas.HASHES) if r[schemas.CARRIED_FROM] == "week1"]
    assert carried and {r[schemas.FRAME_TIMESTAMP] for r in carried} == {None}
    errors = {(Path(r[schemas.URI]).name, r[schemas.ERROR]) for r in _rows(repeat, schemas.ERRORS)}
    assert errors == {("audio.m4a", "no_video_stream")}
    summary = _summary(repeat)
    assert summary["accounting"] == {"balanced": True, "problems": []}

    # The next run under the same video setting carries everything, videos included.
    third = tmp_path / "third"
    assert _audit(case, third, "--previous", str(repeat)) == 0
    assert {r[schemas.REREAD] for r in _rows(third, schemas.FILES)} == {None}
    assert _video_matches(third) == _expected_video_matches()
    # ...and another interval reads the videos again, not the images.
    fourth = tmp_path / "fourth"
    assert _audit(case, fourth, "--previous", str(repeat), "--video-interval", "2") == 0
    rereads = {Path(r[schemas.URI]).name: r[schemas.REREAD] for r in _rows(fourth, schemas.FILES)}
    assert rereads == {"clip.mp4": "settings", "decoy.mp4": "settings", "audio.m4a": "settings",
                       "copy1.png": None, "decoy.png": None}
    assert [(f, t) for _, f, t, _ in _video_matches(fourth)] == [(50, 2.0)]
