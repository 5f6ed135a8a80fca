"""Reading video lists: each format, globs of hash files, and strict refusal of bad lines."""

from __future__ import annotations

import json
import os

import pytest

from photosieve.errors import ConfigError, ListFormatError
from photosieve.video.video_list import VideoListSpec, read_video_list, sniff

H1, H2 = "0f" * 32, "f0" * 32


def _cpp(path, rows):
    path.write_text("".join(f"{n},{q},{h},{t:.3f}\n" for n, q, h, t in rows))
    return path


def test_cpp_hash_files_through_a_glob_one_video_each(tmp_path):
    folder = tmp_path / "known"
    folder.mkdir()
    _cpp(folder / "clip-a.txt", [(0, 90, H1, 0.0), (30, 80, H2, 1.0)])
    _cpp(folder / "clip-b.txt", [(0, 70, H2, 0.0)])
    listed = read_video_list(VideoListSpec(str(folder / "*.txt")))
    assert listed.name == "known" and listed.format == "vpdq"
    assert listed.ids == ("clip-a", "clip-b")
    assert [[f.frame_number for f in v] for v in listed.features] == [[0, 30], [0]]
    assert listed.summary()["videos"] == 2 and listed.summary()["frames"] == 3
    before = listed.version
    _cpp(folder / "clip-b.txt", [(0, 71, H2, 0.0)])
    assert read_video_list(VideoListSpec(str(folder / "*.txt"))).version != before


def test_threatexchange_csv_reads_vpdq_rows_and_counts_the_others(tmp_path):
    signal = json.dumps([f"{H1},90,0.0", f"{H2},80,1.0"])
    path = tmp_path / "te.csv"
    rows = [("signal_type", "signal_str", "collab", "category", "tags"),
            ("pdq", H1, "c", "x", "t"), ("vpdq", signal, "c", "cat", "known-1 review")]
    import csv

    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    listed = read_video_list(VideoListSpec(str(path), "te"))
    assert listed.ids == ("line 3",) and listed.labels == (("known-1", "review"),)
    assert listed.other_signals == 1 and len(listed.features[0]) == 2


def test_json_lines_with_signal_strings_or_lists(tmp_path):
    path = tmp_path / "videos.jsonl"
    path.write_text(
        json.dumps({"id": "v1", "labels": ["a"], "vpdq": json.dumps([f"{H1},90,0.0"])}) + "\n\n"
        + json.dumps({"id": 7, "label": "b", "vpdq": [f"{H2},60,2.5"]}) + "\n")
    listed = read_video_list(VideoListSpec(str(path)))
    assert listed.ids == ("v1", "7") and listed.labels == (("a",), ("b",))
    assert listed.features[1][0].timestamp == 2.5 and listed.features[1][0].frame_number == -1


@pytest.mark.parametrize("line, reason", [
    ('{"id": "v", "vpdq": ["' + "0f" * 31 + ',90,0.0"]}', "64 hex"),
    ('{"id": "v", "vpdq": ["' + "zz" * 32 + ',90,0.0"]}', "not hex"),
    ('{"id": "v", "vpdq": ["' + H1 + ',101,0.0"]}', "quality"),
    ('{"id": "v", "vpdq": ["' + H1 + ',90,nan"]}', "finite"),
    ('{"id": "v", "vpdq": []}', "no vPDQ feature"),
    ('{"vpdq": ["' + H1 + ',90,0.0"]}', "no id"),
    ('[1, 2]', "JSON object"),
    ('{"id": "v", "vpdq": 5}', "no vpdq signal"),
])
def test_bad_lines_fail_a_strict_read_naming_the_line(tmp_path, line, reason):
    path = tmp_path / "videos.jsonl"
    good = json.dumps({"id": "ok", "vpdq": [f"{H1},90,0.0"]})
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(ListFormatError, match=reason) as raised:
        read_video_list(VideoListSpec(str(path)))
    assert raised.value.line == 2
    lenient = read_video_list(VideoListSpec(str(path)), strict=False)
    assert lenient.ids == ("ok",) and lenient.skipped == 1


def test_a_file_that_is_no_video_list_is_refused(tmp_path):
    path = tmp_path / "hashes.txt"
    path.write_text(f"pdq {H1}\n")
    with pytest.raises(ListFormatError, match="not a video list"):
        read_video_list(VideoListSpec(str(path)))
    assert sniff(f"0,90,{H1},0.000\n") == "vpdq"


def test_a_glob_matching_nothing_or_a_list_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="matches no file"):
        read_video_list(VideoListSpec(str(tmp_path / "*.txt")))
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "v", "vpdq": [f"{H1},90,0.0"]}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "w", "vpdq": [f"{H1},90,0.0"]}) + "\n")
    with pytest.raises(ListFormatError, match="one video each"):
        read_video_list(VideoListSpec(str(tmp_path / "*.jsonl")))


def test_a_fifo_is_refused_before_any_byte_is_read(tmp_path):
    fifo = tmp_path / "videos.txt"
    os.mkfifo(fifo)
    with pytest.raises(ListFormatError, match="FIFO"):
        read_video_list(VideoListSpec(str(fifo)))


@pytest.mark.parametrize("text, name, path", [("ncmec=gs://b/v.jsonl", "ncmec", "gs://b/v.jsonl"),
                                              ("gs://b/videos.jsonl", "videos", "gs://b/videos.jsonl"),
                                              ("lists/known/*.txt", "known", "lists/known/*.txt")])
def test_spec_parse_name_and_default_name(text, name, path):
    spec = VideoListSpec.parse(text)
    assert (spec.name, spec.path) == (name, path)


def test_spec_refuses_a_bad_distance():
    with pytest.raises(ConfigError, match="distance"):
        VideoListSpec("x.jsonl", distance=300)
