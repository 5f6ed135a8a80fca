"""Odd names, non-regular files and spellings in ``hash``, ``scan`` and ``audit``.

Nothing lost (every listed entry is a row or a counted, named skip), nothing
hangs (a FIFO is never opened), and one object has one uri whatever the
bytes of its name or the spelling of the input. Runs that could hang on the
code as it was run in a subprocess with a timeout: a hang fails the test,
not the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.names import escape, to_bytes
from photosieve.pipelines import cli
from photosieve.summary import SUMMARY_FILE
from photosieve.accounting import check_accounting
from tests.transforms import samples

ROOT = Path(__file__).resolve().parents[2]
# Generous for a cold Beam start on a busy machine; only a hang comes near it.
TIMEOUT = 300
ODD_NAME = b"caf\xe9 100%.png"  # Latin-1, not UTF-8: os.fsdecode leaves a surrogate


def _png(seed: int) -> bytes:
    return samples.encode(samples.picture(seed, (160, 120)), "PNG")


def _pdq_hex(data: bytes) -> str:
    result = ImageHasher(HashPlan.parse("pdq")).hash_bytes("", data)
    return result.frames[0].results[0].hash.to_hex()


def _list(path: Path, *images: bytes) -> Path:
    lines = ["hash,algorithm,id,labels"]
    lines += [f"{_pdq_hex(data)},pdq,id{i},case" for i, data in enumerate(images)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def odd(tmp_path):
    """Two images, one under a name that is not UTF-8, a FIFO, a link loop, a dangling link."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.png").write_bytes(_png(1))
    (tree / "sub" / "b.png").write_bytes(_png(2))
    with open(os.fsencode(tree) + b"/" + ODD_NAME, "wb") as out:
        out.write(_png(3))
    os.mkfifo(tree / "pipe.png")
    os.symlink("loop.png", tree / "loop.png")
    os.symlink("gone.png", tree / "dangling.png")
    return tree


def _run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "photosieve.pipelines.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
    )


def _summary(output: Path) -> dict:
    return json.loads((output / SUMMARY_FILE).read_text())


def _uris(output: Path, table: str, algorithm: str | None = None) -> list[str]:
    rows = pq.read_table(output / table).to_pylist()
    return sorted(r[schemas.URI] for r in rows if algorithm in (None, r.get(schemas.ALGORITHM)))


def _check_odd_run(output: Path, tree: Path, *, fifo_listed: int = 1) -> None:
    summary = _summary(output)
    assert summary["accounting"] == {"balanced": True, "problems": []}
    uris = _uris(output, schemas.HASHES, "md5")
    odd_uri = escape(os.fsdecode(os.fsencode(tree) + b"/" + ODD_NAME))
    assert uris == sorted([str(tree / "a.png"), str(tree / "sub" / "b.png"), odd_uri])
    assert odd_uri.endswith("/caf%E9 100%25.png")
    assert os.path.exists(to_bytes(odd_uri))  # the table's uri gives the name back
    assert summary["counts"]["skipped"]["listing"] == {
        "fifo": fifo_listed,
        "link_loop": 1,
        "dangling_link": 1,
    }
    assert summary["skipped"]["listing"] == {
        "dangling_link": [str(tree / "dangling.png")],
        "fifo": [str(tree / "pipe.png")],  # examples are distinct uris
        "link_loop": [str(tree / "loop.png")],
    }


def test_scan_lists_odd_names_and_skips_fifos_and_broken_links(odd, tmp_path):
    # Before: UnicodeEncodeError in ListFiles/KeyByPath, or a hang on the FIFO.
    output = tmp_path / "out"
    argv = ["-i", str(odd), "-o", str(output), "--algorithms", "pdq,md5", "--no-progress"]
    done = _run("scan", *argv)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    _check_odd_run(output, odd)


def test_audit_with_a_fifo_given_directly_and_in_the_tree(odd, tmp_path):
    known = _list(tmp_path / "known.csv", _png(3))  # the image under the odd name
    output = tmp_path / "out"
    done = _run(
        "audit", "-i", str(odd / "pipe.png"), str(odd), "-l", f"known={known}",
        "-o", str(output), "--algorithms", "pdq,md5", "--no-progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    _check_odd_run(output, odd, fifo_listed=2)
    (match,) = pq.read_table(output / schemas.MATCHES).to_pylist()
    assert to_bytes(match[schemas.URI]).endswith(b"/" + ODD_NAME)
    files = _uris(output, schemas.FILES)
    assert len(files) == 3 and str(odd / "pipe.png") not in files


def test_hash_cli_skips_a_fifo_given_directly_and_in_the_tree(odd):
    done = _run("hash", str(odd), str(odd / "pipe.png"), "--algorithms", "md5")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert "/caf%E9 100%25.png,0,,md5" in out  # escaped, like the tables (no timestamp: an image)
    assert err.count(f"skipped {odd / 'pipe.png'} (fifo") == 2
    assert f"skipped {odd / 'loop.png'} (link_loop" in err
    assert f"skipped {odd / 'dangling.png'} (dangling_link" in err


def _folder(tmp_path: Path) -> Path:
    ph = tmp_path / "ph"
    (ph / "sub").mkdir(parents=True)
    (ph / "a.png").write_bytes(_png(1))
    (ph / "sub" / "b.png").write_bytes(_png(2))
    return ph


def test_one_folder_spelt_three_ways_is_listed_once(tmp_path, monkeypatch):
    ph = _folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out"
    argv = ["scan", "-i", "ph", "./ph/", str(ph), "-o", str(output), "--algorithms", "md5"]
    assert cli.main([*argv, "--no-progress"]) == 0
    assert _uris(output, schemas.HASHES) == [str(ph / "a.png"), str(ph / "sub" / "b.png")]
    assert _summary(output)["counts"]["listing"]["entries"] == 2


def test_a_repeat_audit_given_another_spelling_carries_everything(tmp_path, monkeypatch):
    ph = _folder(tmp_path)
    known = _list(tmp_path / "known.csv", _png(1))
    monkeypatch.chdir(tmp_path)
    common = ["-l", f"known={known}", "--no-progress", "--num-shards", "1"]
    assert cli.main(["audit", "-i", "ph", "-o", "week1", *common]) == 0
    assert cli.main(["audit", "-i", f"{ph}/", "-p", "./week1/", "-o", "week2", *common]) == 0
    summary = _summary(tmp_path / "week2")
    assert summary["accounting"]["balanced"]
    assert summary["counts"]["files"]["state"] == {"unchanged": 2}  # not 2 new and 2 gone
    assert summary["counts"]["objects"] == {"carried": 2}
    (match,) = pq.read_table(tmp_path / "week2" / schemas.MATCHES).to_pylist()
    assert match[schemas.URI] == str(ph / "a.png") and match[schemas.NEW_REASON] is None


def test_a_folder_named_like_an_archive_member_is_its_own_object(tmp_path):
    # a.zip holds x.png; the folder "a.zip!" beside it holds another x.png.
    archive = tmp_path / "archive"
    (archive / "a.zip!").mkdir(parents=True)
    with zipfile.ZipFile(archive / "a.zip", "w") as zipped:
        zipped.writestr("x.png", _png(1))
    folder_file = archive / "a.zip!" / "x.png"
    folder_file.write_bytes(_png(2))
    known = _list(tmp_path / "known.csv", _png(2))
    common = ["-i", str(archive), "-l", f"known={known}", "--archives", "--no-progress"]
    assert cli.main(["audit", *common, "-o", str(tmp_path / "week1")]) == 0
    member, folder = f"{archive}/a.zip!/x.png", f"{archive}/a.zip%21/x.png"
    assert _uris(tmp_path / "week1", schemas.HASHES, "pdq") == sorted([member, folder])
    assert _uris(tmp_path / "week1", schemas.MATCHES) == [folder]
    # The folder's file changes to an unlisted image; the archive is unchanged.
    folder_file.write_bytes(_png(3) + b"\0")
    week2 = tmp_path / "week2"
    assert cli.main(["audit", *common, "-p", str(tmp_path / "week1"), "-o", str(week2)]) == 0
    assert _uris(week2, schemas.MATCHES) == []  # before: a's member carried the old match
    assert _summary(week2)["counts"]["files"]["state"] == {"changed": 1, "unchanged": 1}


@pytest.mark.parametrize(
    "ledger, balanced",
    [
        # Three entries listed: two files read, one FIFO skipped.
        ({"listing": {"entries": 3}, "files": {"listed": 2}, "skipped": {"listing": {"fifo": 1}}},
         True),
        # One file matched by two globs: listed twice, read once.
        ({"listing": {"entries": 3}, "files": {"listed": 2, "relisted": 1}}, True),
        # An entry listed but neither read, carried nor skipped: lost.
        ({"listing": {"entries": 3}, "files": {"listed": 2}}, False),
        # A file read or carried that the listing never produced.
        ({"listing": {"entries": 1}, "files": {"listed": 2}}, False),
    ],
)
def test_accounting_fails_when_a_listed_object_goes_missing(ledger, balanced):
    objects = ledger["files"]["listed"]
    ledger = {
        **ledger,
        "objects": {"read": objects, "hashed": objects},
        "units": {"md5": {"hashed": objects}},
    }
    problems = check_accounting(ledger, ["md5"], all_frames=False)
    assert (problems == []) is balanced, problems


@pytest.mark.parametrize("command", ["scan", "audit"])
def test_a_fifo_alone_does_not_hang_a_run(command, tmp_path):
    # Before: reading the FIFO blocked the worker forever (ASCII names only here).
    tree = _folder(tmp_path)
    os.mkfifo(tree / "pipe.png")
    output = tmp_path / "out"
    lists = ["-l", f"known={_list(tmp_path / 'known.csv', _png(1))}"] if command == "audit" else []
    done = _run(command, "-i", str(tree), *lists, "-o", str(output), "--no-progress")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    summary = _summary(output)
    assert summary["accounting"]["balanced"]
    assert summary["counts"]["skipped"]["listing"] == {"fifo": 1}
    assert summary["counts"]["objects"]["hashed"] == 2


def test_output_and_previous_checks_see_through_spellings(tmp_path, monkeypatch):
    from photosieve.pipelines.preflight import within

    monkeypatch.chdir(tmp_path)
    assert within("./out/", "out") and within(f"{tmp_path}/out/x", "./out/")
    assert within("out/../out//week1", str(tmp_path / "out"))
    assert not within("outer", "out") and not within("out", "out/week1")
    assert within("gs://b/out/x", "gs://b/out/") and not within("gs://b/out", str(tmp_path))


def test_checksums_are_asked_for_under_the_real_name(tmp_path):
    # The uri "100%25.png" names the file "100%.png": the filesystem must be asked about the latter.
    ph = tmp_path / "ph"
    ph.mkdir()
    (ph / "100%.png").write_bytes(_png(1))
    known = _list(tmp_path / "known.csv", _png(1))
    argv = ["audit", "-i", str(ph), "-l", f"known={known}", "--checksums", "--no-progress"]
    assert cli.main([*argv, "-o", str(tmp_path / "out")]) == 0
    (row,) = pq.read_table(tmp_path / "out" / schemas.FILES).to_pylist()
    assert row[schemas.URI] == str(ph / "100%25.png")
    assert row[schemas.CHECKSUM] == str(len(_png(1)))  # Beam's local checksum: the size
