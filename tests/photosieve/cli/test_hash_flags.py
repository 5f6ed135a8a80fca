"""The shared hashing flags: --max-frames reaches the decoder and is checked before any work."""

from __future__ import annotations

import argparse

import pytest

from photosieve.decode import DEFAULT_MAX_FRAMES
from photosieve.cli.hash_flags import add_hash_arguments, decode_options


def _parse(*argv: str) -> argparse.Namespace:
    return add_hash_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_max_frames_reaches_the_decoder_options():
    assert decode_options(_parse("--all-frames", "--max-frames", "7")).max_frames == 7
    assert decode_options(_parse()).max_frames == DEFAULT_MAX_FRAMES


@pytest.mark.parametrize("value", ["0", "-3", "many", "1.5"])
def test_max_frames_below_one_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse("--max-frames", value)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --max-frames:" in err
    assert ">= 1" in err or "expected an integer" in err


def test_hash_cli_reports_frames_past_max_frames(tmp_path, capsys):
    import csv
    import io

    from photosieve.pipelines import cli
    from tests import multiframe_samples

    path = tmp_path / "pages.tif"
    path.write_bytes(multiframe_samples.many_page_tiff(12))
    argv = ["hash", str(path), "-a", "pdq", "--all-frames", "--max-frames", "5"]
    assert cli.main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["frame"] for r in rows if r["hash"]] == ["0", "1", "2", "3", "4"]
    [cut] = [r for r in rows if r["error"]]
    assert cut["error"] == "frames_cut_off" and "frame 5" in cut["message"]


def test_video_limits_reach_the_plan_and_are_checked():
    from photosieve.cli.hash_flags import video_settings
    from photosieve.hashing import DEFAULT_VIDEO_MAX_FRAMES, DEFAULT_VIDEO_SEGMENT_FRAMES, HashPlan

    settings = video_settings(_parse("--max-video-frames", "40", "--video-segment-frames", "9"))
    plan = HashPlan.parse("pdq", **settings)
    assert (plan.video_max_frames, plan.video_segment_frames, plan.video_interval_s) == (40, 9, 1.0)
    assert video_settings(_parse()) == {"video_interval_s": 1.0, "video_max_frames": DEFAULT_VIDEO_MAX_FRAMES,
                                        "video_segment_frames": DEFAULT_VIDEO_SEGMENT_FRAMES, "video_borders": True}
    assert HashPlan.parse("pdq", **video_settings(_parse("--no-video-borders"))).video_borders is False
    assert DEFAULT_VIDEO_MAX_FRAMES == 4 * 3600
    assert video_settings(argparse.Namespace())["video_max_frames"] == DEFAULT_VIDEO_MAX_FRAMES
    for flag in ("--max-video-frames", "--video-segment-frames"):
        with pytest.raises(SystemExit):
            _parse(flag, "0")
