"""``scan``/``audit --archives`` on hostile archives: every member in a table once, balanced."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections import Counter

import pyarrow.parquet as pq
import pytest

from photosieve import schemas
from photosieve.archives import DEFAULT_MAX_ARCHIVE_BYTES
from photosieve.pipelines import audit, cli, scan
from photosieve.summary import SUMMARY_FILE
from tests.photosieve.archives import samples as cases
from tests.transforms import samples

ALGORITHMS = ("pdq", "md5")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A folder of archives that each tried to hide members; returns (root, {uri: outcome})."""
    root = tmp_path_factory.mktemp("hostile")
    jpegs = [samples.encode(samples.picture(i, (160, 120)), "JPEG") for i in (1, 2, 3, 4, 5, 6, 7)]
    decoy = cases.set_zip_flag(
        cases.zip_bytes(
            [("decoy.jpg", b"d" * 300), ("d/", b""), ("a.jpg", jpegs[0]), ("a.jpg", jpegs[1])]
        ),
        0,
        0x1,
    )
    (root / "decoy.zip").write_bytes(decoy)
    tar = cases.tar_bytes([("b.jpg", jpegs[2]), ("c.jpg", jpegs[3])])
    first_end = 512 + -(-len(jpegs[2]) // 512) * 512
    tar = tar[:first_end] + b"\x07" * 512 + tar[first_end:]
    tar += cases.tar_bytes([("link.jpg", b"")], kind=tarfile.SYMTYPE)
    (root / "garbage.tar").write_bytes(tar)
    (root / "bomb.zip").write_bytes(cases.overlapping_zip(5, bytes(2_000_000)))
    cut = cases.zip_bytes([("e.jpg", jpegs[4]), ("f.jpg", jpegs[5]), ("g.jpg", jpegs[6])])
    (root / "cut.zip").write_bytes(cut[: cases.local_headers(cut)[2] + 100])
    zip_, tar_, bomb, cut_ = (
        str(root / name) for name in ("decoy.zip", "garbage.tar", "bomb.zip", "cut.zip")
    )
    expected = {
        f"{zip_}!/decoy.jpg": "encrypted",
        f"{zip_}!/a.jpg": "hashed",
        f"{zip_}!/a.jpg%!2": "hashed",
        f"{tar_}!/b.jpg": "hashed",
        tar_: "corrupt",  # the skipped block
        f"{tar_}!/c.jpg": "hashed",
        f"{bomb}!/k.bin": "overlapping_entry",
        **{f"{bomb}!/k.bin%!{n}": "overlapping_entry" for n in range(2, 6)},
        cut_: "truncated",  # no central directory: the members before the cut are read
        f"{cut_}!/e.jpg": "hashed",
        f"{cut_}!/f.jpg": "hashed",
        f"{cut_}!/g.jpg": "truncated",
    }
    return root, expected, hashlib.md5(jpegs[1]).hexdigest()


def _outcomes(output) -> dict[str, Counter]:
    """uri -> Counter of (algorithm, 'hashed' or error class) over both tables."""
    out: dict[str, Counter] = {}
    for row in pq.read_table(output / schemas.HASHES).to_pylist():
        out.setdefault(row[schemas.URI], Counter())[(row[schemas.ALGORITHM], "hashed")] += 1
    for row in pq.read_table(output / schemas.ERRORS).to_pylist():
        for name in row[schemas.ALGORITHMS]:
            out.setdefault(row[schemas.URI], Counter())[(name, row[schemas.ERROR])] += 1
    return out


def _check_tables(output, expected: dict) -> dict:
    outcomes = _outcomes(output)
    assert set(outcomes) == set(expected)
    for uri, outcome in expected.items():  # exactly one row per algorithm per member
        assert outcomes[uri] == Counter({(name, outcome): 1 for name in ALGORITHMS}), uri
    summary = json.loads((output / SUMMARY_FILE).read_text())
    assert summary["accounting"] == {"balanced": True, "problems": []}
    counts = summary["counts"]
    assert counts["objects"]["read"] == len(expected)
    assert counts["files"]["archive_objects"] == len(expected)
    assert counts["files"]["archive_failures"] == 2
    assert counts["skipped"] == {"archive": {"directory": 1, "symlink": 1}}
    return summary


def test_scan_puts_every_member_of_hostile_archives_in_a_table(hostile, tmp_path):
    root, expected, _ = hostile
    output = tmp_path / "out"
    argv = ["scan", "-i", str(root), "-o", str(output), "--archives", "-a", ",".join(ALGORITHMS)]
    assert cli.main([*argv, "--num-shards", "1"]) == 0
    _check_tables(output, expected)


def test_audit_finds_a_known_image_behind_an_encrypted_decoy_and_a_duplicate_name(
    hostile, tmp_path
):
    root, expected, known_md5 = hostile
    (tmp_path / "known.txt").write_text(f"md5 {known_md5}\n")
    output = tmp_path / "out"
    argv = ["audit", "-i", str(root), "-l", f"known={tmp_path / 'known.txt'}", "-o", str(output)]
    assert cli.main([*argv, "--archives", "-a", ",".join(ALGORITHMS), "--num-shards", "1"]) == 0
    _check_tables(output, expected)
    matches = pq.read_table(output / schemas.MATCHES).to_pylist()
    assert [row[schemas.URI] for row in matches] == [f"{root / 'decoy.zip'}!/a.jpg%!2"]


def test_the_inflate_limit_is_a_flag_of_scan_and_audit():
    known, _ = scan.parse_args(["-i", "a/*", "-o", "out", "--max-archive-bytes", "5"])
    assert known.max_archive_bytes == 5
    known, _ = audit.parse_args(["-i", "a/*", "-o", "out", "-l", "x.txt", "--max-archive-bytes", "5"])
    assert known.max_archive_bytes == 5
    assert scan.parse_args(["-i", "a/*", "-o", "out"])[0].max_archive_bytes == DEFAULT_MAX_ARCHIVE_BYTES


def test_the_inflate_limit_reaches_the_reader(hostile, tmp_path):
    root, _, _ = hostile
    output = tmp_path / "out"
    argv = ["scan", "-i", str(root / "decoy.zip"), "-o", str(output), "--archives", "-a", "md5"]
    assert cli.main([*argv, "--max-archive-bytes", "1", "--num-shards", "1"]) == 0
    errors = {row[schemas.URI].rsplit("!/", 1)[-1]: row[schemas.ERROR]
              for row in pq.read_table(output / schemas.ERRORS).to_pylist()}  # fmt: skip
    assert errors == {
        "decoy.jpg": "encrypted",
        "a.jpg": "archive_limit",
        "a.jpg%!2": "archive_limit",
    }


def test_a_repeat_audit_carries_encrypted_and_overlapping_members_and_rereads_damage(
    hostile, tmp_path
):
    root, expected, known_md5 = hostile
    (tmp_path / "known.txt").write_text(f"md5 {known_md5}\n")
    argv = ["audit", "-i", str(root), "-l", f"known={tmp_path / 'known.txt'}", "--archives"]
    argv += ["-a", ",".join(ALGORITHMS), "--num-shards", "1", "--no-progress"]
    first, repeat = tmp_path / "first", tmp_path / "repeat"
    assert cli.main([*argv, "-o", str(first)]) == 0
    assert cli.main([*argv, "-o", str(repeat), "--previous", str(first)]) == 0
    files = {row[schemas.URI].rsplit("/", 1)[-1]: (row[schemas.STATE], row[schemas.REREAD])
             for row in pq.read_table(repeat / schemas.FILES).to_pylist()}  # fmt: skip
    assert files == {
        "decoy.zip": ("unchanged", None),  # encrypted: a property of the bytes, carried
        "bomb.zip": ("unchanged", None),  # overlapping entries too
        "garbage.tar": ("unchanged", "retry"),  # read damage may be storage trouble
        "cut.zip": ("unchanged", "retry"),
    }
    outcomes = _outcomes(repeat)
    assert set(outcomes) == set(expected)
    for uri, outcome in expected.items():
        assert outcomes[uri] == Counter({(name, outcome): 1 for name in ALGORITHMS}), uri
    summary = json.loads((repeat / SUMMARY_FILE).read_text())
    assert summary["accounting"] == {"balanced": True, "problems": []}


def test_the_inflate_limit_takes_binary_units():
    known, _ = scan.parse_args(["-i", "a/*", "-o", "o", "--max-archive-bytes", "2G"])
    assert known.max_archive_bytes == 2 << 30
