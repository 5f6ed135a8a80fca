"""The ``make demo`` data: the audit finds every planted copy, and the check notices a miss."""

from __future__ import annotations

import json

import pytest

from photosieve.pipelines import cli, demo_data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    planted = demo_data.make(root)
    return root, planted


def _audit(root, output, *extra) -> int:
    return cli.main(
        [
            "audit",
            "--input", str(root / "archive"), "--archives", "--dihedral",
            "--list", f"known={root / 'lists' / 'known.csv'}",
            "--suppress-list", f"benign={root / 'lists' / 'benign.txt'}",
            "--video-list", f"{demo_data.VIDEO_LIST}={root / 'lists' / demo_data.VIDEO_LIST / '*.txt'}",
            "--output", str(output), *extra,
        ]
    )  # fmt: skip


def test_the_demo_finds_every_planted_copy(demo, capsys):
    root, planted = demo
    assert len(planted) == len(demo_data.EDITS) + 2  # and the one inside the zip file, and the video
    assert _audit(root, root / "run") == 0
    assert demo_data.check(root) == 0
    out = capsys.readouterr().out
    assert f"all {len(planted)} planted copies found, and the 1 planted copy of a known video" in out
    # The copy keeps seconds 1-5 of the known video: its 0-4 s are the listed 1-5 s.
    copy_lines = [line for line in out.splitlines() if line.startswith(demo_data.VIDEO_COPY[0])]
    assert [line.split()[1:6] for line in copy_lines] == [["0-4s", "=", "1-5s", "of", "it"]]
    # The known image is on screen from 1 s to 3 s: vPDQ's frames 25 and 50 show it.
    video_lines = [line for line in out.splitlines() if line.startswith(demo_data.VIDEO[0])]
    assert [line.split()[1] for line in video_lines if " known " in line] == ["@1.0s", "@2.0s"]
    summary = json.loads((root / "run" / "summary.json").read_text())
    assert summary["counts"]["errors"]["class"] == {"empty": 1, "not_an_image": 1, "truncated": 1}


def test_the_check_fails_when_a_planted_copy_is_missed(demo, tmp_path, capsys):
    root, _ = demo
    # Exact PDQ matches only: the edited copies can no longer match.
    assert _audit(root, tmp_path / "strict", "--threshold", "known:pdq=0") == 0
    assert demo_data.check(root, tmp_path / "strict") == 1
    assert "MISSED" in capsys.readouterr().out


def test_the_check_misses_the_video_when_videos_are_not_hashed(demo, tmp_path, capsys):
    root, _ = demo
    assert _audit(root, tmp_path / "no-videos", "--no-videos") == 0
    assert demo_data.check(root, tmp_path / "no-videos") == 1
    out = capsys.readouterr().out
    assert f"MISSED 2 planted copies: {demo_data.VIDEO[0]}, {demo_data.VIDEO_COPY[0]} (video case-v01)" in out


def test_the_check_misses_the_video_copy_without_the_video_list(demo, tmp_path, capsys):
    root, _ = demo
    output = tmp_path / "no-video-list"
    assert cli.main(["audit", "--input", str(root / "archive"), "--archives", "--dihedral",
                     "--list", f"known={root / 'lists' / 'known.csv'}", "--output", str(output)]) == 0
    assert demo_data.check(root, output) == 1
    assert f"MISSED 1 planted copies: {demo_data.VIDEO_COPY[0]} (video case-v01)" in capsys.readouterr().out
