"""The closing block (pipelines.closing): what a run did and where its outputs are, on stdout.

The real runs here parse the block out of ``cli.main``'s stdout; the rest
build a :class:`~photosieve.summary.Summary` by hand (the block is a pure
function of it).
"""

from __future__ import annotations

import doctest
import hashlib
import logging
import re
import zipfile
from pathlib import Path

import pytest

from photosieve.pipelines import cli, closing, report_cli
from photosieve.pipelines.closing import closing_block, failed_block, parse_block
from photosieve.summary import SUMMARY_FILE, Accounting, Summary
from tests.transforms import samples

FINISHED = "finished: run "


def _block(stdout: str) -> dict[str, str]:
    """The closing block in a command's stdout, parsed (it is the last thing printed)."""
    starts = list(re.finditer(r"^photosieve \w+ (finished|did NOT finish)", stdout, re.M))
    assert starts, f"no closing block in {stdout!r}"
    return parse_block(stdout[starts[-1].start() :])


def _png(seed: int) -> bytes:
    return samples.encode(samples.picture(seed), "PNG")


@pytest.fixture()
def case(tmp_path) -> Path:
    """Three images, a file that is not one, and a list holding the md5 of the first."""
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in (1, 2, 3):
        (folder / f"img{seed}.png").write_bytes(_png(seed))
    (folder / "notes.jpg").write_bytes(b"not an image at all" * 10)
    digest = hashlib.md5(_png(1)).hexdigest()
    (tmp_path / "known.txt").write_text(f"md5 {digest}\n")
    return tmp_path


def test_an_audit_ends_with_a_block_saying_what_it_did_where_the_tables_are_and_what_next(
    case, capsys
):
    output = case / "out"
    argv = ["audit", "-i", str(case / "in"), "-l", f"known={case / 'known.txt'}"]
    assert cli.main([*argv, "-o", str(output), "--num-shards", "1"]) == 0
    captured = capsys.readouterr()
    block = _block(captured.out)
    assert block[""].startswith("photosieve audit finished: run ")
    assert block["read"] == "4 objects from 4 files"
    assert block["hashed"].startswith("4 objects; per algorithm: ")
    assert "pdq 3 (1 failed)" in block["hashed"]
    assert block["errors"].startswith("1 rows: ") and "not_an_image" in block["errors"]
    assert block["matched"].startswith("1 rows; known: 1 match")
    assert block["accounting"].startswith("balanced")
    # Every table is named with its rows and a path that exists.
    tables = dict(
        (line.split()[0], (int(line.split()[1]), line.split()[-1]))
        for line in block["tables"].splitlines()
    )
    assert set(tables) == {"hashes", "errors", "matches", "files"}
    assert tables["matches"][0] == 1 and tables["errors"][0] >= 1
    for rows, path in tables.values():
        assert Path(path).is_dir() and any(Path(path).glob("*.parquet"))
    assert Path(block["summary"]) == output / SUMMARY_FILE and Path(block["summary"]).is_file()
    # The next command is one the user can paste, and it works.
    command = block["next"].split()
    assert command[:2] == ["photosieve", "report"] and Path(command[2]) == output
    assert report_cli.main([*command[2:], "--quiet"]) == 0
    # Logs stay on stderr: stdout holds the block and nothing else.
    assert captured.out.strip().startswith("photosieve audit finished")
    assert "INFO" not in captured.out and FINISHED not in captured.err


def test_a_repeat_audit_shows_carried_and_read_apart_in_the_progress_and_the_block(
    case, capsys, caplog
):
    first, second = case / "first", case / "second"
    argv = ["audit", "-i", str(case / "in"), "-l", f"known={case / 'known.txt'}"]
    assert cli.main([*argv, "-o", str(first), "--num-shards", "1"]) == 0
    (case / "in" / "img4.png").write_bytes(_png(4))
    capsys.readouterr()
    with caplog.at_level(logging.INFO):
        assert cli.main([*argv, "-o", str(second), "--previous", str(first)]) == 0
    block = _block(capsys.readouterr().out)
    assert block["read"] == "5 objects (1 read now, 4 carried from earlier runs) from 5 files"
    assert block["hashed"].startswith("1 object now, 4 carried (hashed before);")
    assert block["files"] == "1 new, 4 unchanged"
    (progress,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress:")]
    # Carried objects are done but not hashed: before, "hashed 5 of 5 (100%)".
    assert progress.startswith("progress: done 5 of 5 objects (100%): 1 hashed, 4 carried;")


def test_with_archives_progress_and_the_block_count_members_not_files(case, capsys, caplog):
    with zipfile.ZipFile(case / "in" / "bundle.zip", "w") as archive:
        for seed in (5, 6, 7):
            archive.writestr(f"inner/img{seed}.png", _png(seed))
    output = case / "out"
    argv = ["scan", "-i", str(case / "in"), "--archives", "-o", str(output)]
    with caplog.at_level(logging.INFO):
        assert cli.main(argv) == 0
    block = _block(capsys.readouterr().out)
    assert block["read"] == "7 objects: 4 plain files and 3 members of 1 archive"
    assert "matched" not in block  # scan matches nothing
    # Only the tables a scan writes, each where the block says.
    paths = {line.split()[0]: line.split()[-1] for line in block["tables"].splitlines()}
    assert set(paths) == {"hashes", "errors"}
    assert all(Path(path).is_dir() for path in paths.values())
    (progress,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress:")]
    # 5 files listed, 7 objects inside: before, "hashed 7 of 5 (140%) objects".
    assert progress.startswith("progress: hashed 7 objects (1 archive opened), ")
    assert "%" not in progress


def _summary(**changes) -> Summary:
    counts = {
        "objects": {"read": 10, "hashed": 10},
        "files": {"listed": 10},
        "units": {"pdq": {"hashed": 4, "failed": 6}},
        "errors": {"class": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 1}},
        "skipped": {"listing": {"fifo": 2, "broken_link": 1}},
        "matches": {"status": {"match": 2}, "list": {"k": {"match": 2}}},
    }
    values = dict(
        command="audit",
        run_id="r1",
        output="/data/out/",
        tables={"hashes": 4, "errors": 11, "matches": 2},
        counts=counts,
        lists=({"name": "k"},),
    )
    return Summary(**(values | changes))


def test_errors_name_the_commonest_classes_then_say_how_many_more():
    block = parse_block(closing_block(_summary()))
    assert block["errors"] == "11 rows: d 4, c 3, b 2, and 2 more classes"
    assert block["skipped"] == "3: listing fifo 2, listing broken_link 1"
    assert block["tables"].splitlines()[0].endswith("/data/out/hashes/")
    assert block["next"] == "photosieve report /data/out"
    spaced = parse_block(closing_block(_summary(output="my runs/week 2")))["next"]
    assert spaced == "photosieve report 'my runs/week 2'"  # pasted, it is one argument


def test_an_unbalanced_run_says_so_and_quotes_its_first_problems():
    problems = ("10 objects read but 9 hashed", "pdq: 1 objects missing", "third", "fourth")
    block = parse_block(closing_block(_summary(accounting=Accounting(False, problems))))
    verdict = block["accounting"]
    assert verdict.startswith("NOT balanced (exit status 1): 10 objects read but 9 hashed; pdq")
    assert "third" not in verdict and "(and 2 more)" in verdict and SUMMARY_FILE in verdict


def test_a_match_run_reads_stored_hashes_and_a_run_with_nothing_matched_says_so():
    counts = {"hashes": {"read": 40}, "queries": {"probed": {"pdq": 40}}}
    block = parse_block(closing_block(_summary(command="match", counts=counts)))
    assert block["read"] == "40 stored hash rows"
    assert "errors" not in block and "skipped" not in block and "hashed" not in block
    (table,) = block["tables"].splitlines()  # match writes the matches table only
    assert table.split()[0] == "matches"
    assert block["matched"] == "0 (no object matched any list)"
    assert block["accounting"].startswith("balanced: every stored hash")


def test_names_from_outside_cannot_fake_a_line_or_move_the_cursor():
    counts = {"errors": {"class": {"x\x1b[2J\nfake line": 1}}, "objects": {"read": 1}}
    text = closing_block(_summary(counts=counts, output="out\nnext  rm -rf x", run_id="r\r1"))
    assert "\x1b" not in text and "\r" not in text
    block = parse_block(text)
    assert block["next"] == "photosieve report 'out\\nnext  rm -rf x'"  # one quoted argument
    assert "x\\x1b[2J\\nfake line 1" in block["errors"]
    assert len(text.splitlines()) == len(closing_block(_summary()).splitlines()) - 1  # no hashed


def test_a_failed_run_says_it_is_incomplete_and_why():
    text = failed_block("audit", "r1", "gs://b/out/", "RuntimeError: disk\non fire")
    block = parse_block(text)
    assert block[""] == "photosieve audit did NOT finish: run r1 is incomplete"
    assert block["why"] == "RuntimeError: disk ... (the rest is in the log above)"
    long = parse_block(failed_block("scan", "r", "o", "x" * 1000))["why"]
    assert long.startswith("x" * closing.REASON_CHARS + " ...")
    assert block["output"].startswith(f"gs://b/out holds no {SUMMARY_FILE}")


def test_the_docstring_examples_hold():
    assert doctest.testmod(closing).failed == 0


def test_a_warning_of_the_run_is_in_the_block():
    from photosieve.summary import Summary

    summary = Summary(
        "audit", "r1", output="out", lists=({"name": "e"},), previous=(),
        warnings=("list e (e.txt) holds no hashes (no rows: empty, comments or a header only): "
                  "it can match nothing",),
    )  # fmt: skip
    block = closing_block(summary)
    assert "  warning     list e (e.txt) holds no hashes" in block


def test_thresholds_from_the_budget_are_in_the_block():
    from photosieve.summary import Summary

    budget = {"applied": True, "threshold": 19, "budget": 1e-6, "expected_per_image": 0.0031,
              "expected_this_run": 3.1, "supported": False}  # fmt: skip
    summary = Summary("audit", "r1", output="out", previous=(),
                      lists=({"name": "ncmec", "false_match_budget": budget},))  # fmt: skip
    block = closing_block(summary)
    assert "  thresholds  ncmec: pdq <= 19 from the false-match budget 1e-06" in block
    assert "bound 3.1 false matches in this run" in block and "strictest measured point" in block


def test_the_join_and_why_are_in_the_block_of_a_run_with_lists():
    from photosieve.summary import RunSettings, Summary

    settings = RunSettings(strategy="shuffle", strategy_reason="auto: the lists need ~2.0 GiB")
    block = closing_block(Summary("match", "r1", output="out", lists=(), settings=settings))
    assert "  strategy    shuffle (auto: the lists need ~2.0 GiB)" in block.splitlines()
    assert parse_block(block)["strategy"] == "shuffle (auto: the lists need ~2.0 GiB)"
    scan = closing_block(Summary("scan", "r1", output="out"))
    assert "strategy" not in parse_block(scan)
