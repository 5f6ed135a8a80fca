"""--video-list in the commands: preflight refusals, summary.json, repeat audits, match-files."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.pipelines import cli, demo_data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    demo_data.make(root)
    return root


def _videos(root) -> str:
    return f"{demo_data.VIDEO_LIST}={root / 'lists' / demo_data.VIDEO_LIST / '*.txt'}"


def _audit(root, output, *extra) -> int:
    return cli.main(["audit", "--input", str(root / "archive" / "uploads"), "--list",
                     f"known={root / 'lists' / 'known.csv'}", "--output", str(output), *extra])


def _video_rows(output) -> list[dict]:
    rows = pq.read_table(output / schemas.MATCHES).to_pylist()
    return [r for r in rows if r[schemas.ALGORITHM] == schemas.VPDQ]


def test_summary_names_the_video_list_and_a_repeat_audit_knows_its_matches(demo, tmp_path):
    first, second = tmp_path / "w1", tmp_path / "w2"
    assert _audit(demo, first, "--video-list", _videos(demo)) == 0
    summary = json.loads((first / "summary.json").read_text())
    (entry,) = [e for e in summary["lists"] if e["name"] == demo_data.VIDEO_LIST]
    assert (entry["kind"], entry["videos"], entry["thresholds"]) == ("video", 1, {"vpdq": 31.0})
    assert entry["rule"] == {"quality": 50, "query_percent": 80.0, "compared_percent": 0.0}
    assert summary["counts"]["matches"]["list"][demo_data.VIDEO_LIST] == {"match": 1}
    (row,) = _video_rows(first)
    assert row[schemas.ENTRY_IDS] == [demo_data.KNOWN_VIDEO[0]] and row[schemas.NEW_REASON] is None
    # Next week: nothing changed, so the match is not new.
    assert _audit(demo, second, "--video-list", _videos(demo), "--previous", str(first)) == 0
    (again,) = _video_rows(second)
    assert again[schemas.NEW_REASON] is None
    assert again[schemas.QUERY_MATCH_PERCENT] == row[schemas.QUERY_MATCH_PERCENT]


def test_a_video_list_added_later_says_its_matches_are_new(demo, tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    assert _audit(demo, before) == 0
    assert _video_rows(before) == []
    assert _audit(demo, after, "--video-list", _videos(demo), "--previous", str(before)) == 0
    (row,) = _video_rows(after)
    assert row[schemas.NEW_REASON] == "new list"


def test_bad_video_lists_stop_the_run_before_any_work(demo, tmp_path, caplog):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "v", "vpdq": ["' + "0f" * 31 + ',90,0.0"]}\n')
    assert _audit(demo, tmp_path / "o1", "--video-list", f"bad={bad}") == 2
    assert "--video-list bad" in caplog.text and "line 1" in caplog.text and "--lenient-lists" in caplog.text
    assert not (tmp_path / "o1" / "summary.json").exists()
    assert _audit(demo, tmp_path / "o2", "--video-list", str(tmp_path / "none" / "*.txt")) == 2
    assert "matches no file" in caplog.text
    assert _audit(demo, tmp_path / "o3", "--algorithms", "md5", "--video-list", _videos(demo)) == 2
    assert "needs PDQ" in caplog.text


def test_a_video_list_name_may_not_repeat_an_image_list_name(demo, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        _audit(demo, tmp_path / "o", "--video-list", f"known={demo / 'lists' / demo_data.VIDEO_LIST / '*.txt'}")
    assert exit_.value.code == 2 and "share a name" in capsys.readouterr().err


def test_match_files_finds_the_copy_of_the_known_video(demo, capsys):
    status = cli.main(["match-files", str(demo / "archive" / demo_data.VIDEO_COPY[0]),
                       "--list", str(demo / "lists" / "known.csv"), "--video-list", _videos(demo)])
    out = capsys.readouterr().out
    assert status == 1
    assert f"list={demo_data.VIDEO_LIST}" in out and "vpdq 100% of frames" in out
    assert "seconds 0-4 = listed 1-5" in out


def test_match_on_stored_hashes_finds_the_same_video_pair(demo, tmp_path):
    audited, rematched = tmp_path / "audit", tmp_path / "match"
    assert _audit(demo, audited, "--video-list", _videos(demo)) == 0
    assert cli.main(["match", "--hashes", str(audited / schemas.HASHES), "--list",
                     f"known={demo / 'lists' / 'known.csv'}", "--video-list", _videos(demo),
                     "--output", str(rematched)]) == 0
    columns = (schemas.URI, schemas.ENTRY_IDS, *schemas.VIDEO_MATCH_COLUMNS, schemas.DISTANCE)
    assert [tuple(str(r[c]) for c in columns) for r in _video_rows(rematched)] == [
        tuple(str(r[c]) for c in columns) for r in _video_rows(audited)]
    assert len(_video_rows(rematched)) == 1


def test_closing_block_states_the_video_rule(demo, tmp_path, capsys):
    assert _audit(demo, tmp_path / "o", "--video-list", _videos(demo), "--video-share", "70,10") == 0
    out = capsys.readouterr().out
    assert (f"{demo_data.VIDEO_LIST}: vpdq, 70% of a video's frames within 31 bits of a listed video's "
            "(and 10% of its), 1 listed videos") in out
