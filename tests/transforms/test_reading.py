"""ReadImages: listing, reading, size limits, storage failures and archive members."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
import threading
import zipfile
from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve.errors import HashFailure
from tests.photosieve.archives import samples as archive_samples
from tests.transforms import docstring_examples, flaky_fs, samples
from photosieve.transforms import reading
from photosieve.transforms.reading import MEMBER_SEPARATOR, ReadImages, ReadListedFiles

# Beam's DirectRunner would first try to download the Prism runner; the
# FnApiRunner is what it falls back to, named directly (see pipelines/job.py).
RUNNER = "FnApiRunner"


def _outcome(record) -> tuple:
    """(uri, listed size, md5 of the bytes or the failure class): stable for comparison."""
    if isinstance(record.data, HashFailure):
        return record.uri, record.size, record.data.stage + ":" + record.data.reason.value
    return record.uri, record.size, hashlib.md5(record.data).hexdigest()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _sum_counters(counters) -> Counter:
    return sum(counters, start=Counter())


def _check(patterns, outcomes: list, ledger: dict | None = None, **kwargs) -> None:
    """Run ReadImages and assert the records' outcomes (and the summed ledger).

    The listing's counts (``listing``, and ``skipped``/``skip_examples``
    under ``listing``) are compared only when ``ledger`` names one of them.
    """
    with BeamTestPipeline(runner=RUNNER) as p:
        read = p | ReadImages(patterns, **kwargs)
        assert_that(read.objects | beam.Map(_outcome), equal_to(outcomes), label="CheckOutcomes")
        if ledger is not None:
            listing = any(_of_listing(key) for key in ledger)
            summed = read.ledger | beam.CombineGlobally(_sum_counters)
            assert_that(
                summed | beam.Map(lambda counts: _without_listing(counts, listing)),
                equal_to([ledger]),
                label="CheckLedger",
            )


def _of_listing(key: tuple) -> bool:
    return key[0] == "listing" or (key[0] in ("skipped", "skip_examples") and key[1] == "listing")


def _without_listing(counts: Counter, keep: bool) -> dict:
    return {k: n for k, n in counts.items() if keep or not _of_listing(k)}


def test_each_file_is_read_once_with_its_listing_metadata(tmp_path):
    objects = samples.write_archive(tmp_path, n_good=3, bad=False)
    # The second pattern matches every file again: still one record per file.
    patterns = [str(tmp_path / "good" / "*"), str(tmp_path / "**")]
    with BeamTestPipeline(runner=RUNNER) as p:
        records = p | ReadImages(patterns)
        expected = [
            (
                str(tmp_path / name),
                len(data),
                _md5(data),
                round(os.stat(tmp_path / name).st_mtime * 1e6),
            )
            for name, data in objects.items()
        ]
        assert_that(
            records.objects | beam.Map(lambda r: (r.uri, r.size, _md5(r.data), r.mtime_us)),
            equal_to(expected),
        )


def test_ledger_counts_files_and_objects(tmp_path):
    objects = samples.write_archive(tmp_path, n_good=3, bad=False)
    expected = [(str(tmp_path / n), len(d), _md5(d)) for n, d in objects.items()]
    # The second pattern lists img00.jpg again: 4 entries, 3 files (one relisted).
    ledger = {
        ("listing", "entries"): 4,
        ("files", "listed"): 3,
        ("files", "relisted"): 1,
        ("objects", "read"): 3,
    }
    _check([str(tmp_path / "**"), str(tmp_path / "good" / "img00.jpg")], expected, ledger)


def test_objects_over_the_size_limit_are_failures_not_reads(tmp_path):
    small, big = b"x" * 10, b"y" * 11
    (tmp_path / "small.bin").write_bytes(small)
    (tmp_path / "big.bin").write_bytes(big)
    expected = [
        (str(tmp_path / "big.bin"), 11, "read:too_large"),
        (str(tmp_path / "small.bin"), 10, _md5(small)),
    ]
    _check([str(tmp_path / "*")], expected, max_bytes=10)


def test_unreadable_and_vanished_files_are_failures(tmp_path):
    (tmp_path / "ok.bin").write_bytes(b"fine")
    (tmp_path / "denied.jpg").write_bytes(b"secret")
    (tmp_path / "vanished.jpg").write_bytes(b"soon gone")
    prefix = flaky_fs.FlakyFileSystem.PREFIX
    expected = [
        (prefix + str(tmp_path / "denied.jpg"), 6, "read:unreadable"),
        (prefix + str(tmp_path / "ok.bin"), 4, _md5(b"fine")),
        (prefix + str(tmp_path / "vanished.jpg"), 9, "read:not_found"),
    ]
    _check([prefix + str(tmp_path / "*")], expected)


def test_a_pattern_matching_nothing_reads_nothing(tmp_path):
    _check([str(tmp_path / "nothing-here" / "*")], [], {})


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("folder/", b"")  # a directory entry: not an object
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("suffix,pack", [(".zip", _zip), (".tar.gz", _tar_gz)])
def test_archive_members_are_objects(tmp_path, suffix, pack):
    members = {
        "folder/a.jpg": samples.encode(samples.picture(1), "JPEG"),
        "b.png": b"p" * 50,
        "big.bin": b"z" * 50_000,
    }
    path = tmp_path / f"photos{suffix}"
    path.write_bytes(pack(members))
    uri = str(path) + MEMBER_SEPARATOR
    expected = [
        (uri + "b.png", 50, _md5(b"p" * 50)),
        (uri + "big.bin", 50_000, "read:too_large"),
        (uri + "folder/a.jpg", len(members["folder/a.jpg"]), _md5(members["folder/a.jpg"])),
    ]
    ledger = {
        ("files", "listed"): 1,
        ("files", "archives"): 1,
        ("files", "archive_objects"): 3,
        ("objects", "read"): 3,
    }
    if suffix == ".zip":  # its directory entry is a counted skip, with its uri as an example
        ledger[("skipped", "archive", "directory")] = 1
        ledger[("skip_examples", "archive", "directory", uri + "folder/")] = 1
    _check([str(path)], expected, ledger, archives=True, max_bytes=10_000)


def test_without_archives_an_archive_is_one_object(tmp_path):
    path = tmp_path / "photos.zip"
    path.write_bytes(_zip({"a.jpg": b"a"}))
    _check([str(path)], [(str(path), path.stat().st_size, _md5(path.read_bytes()))])


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_a_broken_archive_is_one_corrupt_object(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(
        b"PK\x03\x04 this is not really an archive" if suffix == ".zip" else b"\x1f\x8b\x08 broken"
    )
    ledger = {
        ("files", "listed"): 1,
        ("files", "archives"): 1,
        ("files", "archive_objects"): 1,
        ("files", "archive_failures"): 1,
        ("objects", "read"): 1,
    }
    _check([str(path)], [(str(path), path.stat().st_size, "read:corrupt")], ledger, archives=True)


def test_a_truncated_tar_keeps_the_members_before_the_damage(tmp_path):
    data = _tar_gz({"a.bin": b"a" * 3000, "b.bin": os.urandom(30_000)})
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[: len(data) - 2000])
    uri = str(path) + MEMBER_SEPARATOR
    expected = [  # the member being read when the data ends is the truncated one
        (uri + "a.bin", 3000, _md5(b"a" * 3000)),
        (uri + "b.bin", 30_000, "read:truncated"),
    ]
    _check([str(path)], expected, archives=True)


def test_bad_configuration_fails_at_construction():
    with pytest.raises(ValueError, match="at least one"):
        ReadImages([])
    with pytest.raises(ValueError, match="max_bytes"):
        ReadImages(["x"], max_bytes=0)
    with pytest.raises(ValueError, match="max_archive_bytes"):
        ReadImages(["x"], max_archive_bytes=0)


def test_display_data_reports_the_configuration():
    data = ReadImages(
        ["gs://b/a/**", "gs://b/c/*"], max_bytes=10, archives=True, max_archive_bytes=99
    ).display_data()
    assert data == {
        "patterns": "gs://b/a/**, gs://b/c/*",
        "max_bytes": 10,
        "archives": True,
        "max_archive_bytes": 99,
    }


@contextlib.contextmanager
def _unblocked(fifo):
    """Open ``fifo`` for writing (and close it) whenever a reader waits on it, until the block ends.

    Code that opens a FIFO blocks until a writer comes: this writer lets
    such a read end (with no bytes), so a regression fails its assertion
    instead of hanging the suite. Code that never opens the FIFO never
    meets it.
    """
    done = threading.Event()

    def write():
        while not done.wait(0.05):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: no reader waiting
                continue

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_fifos_and_broken_links_are_counted_skips_never_opened(tmp_path):
    (tmp_path / "ok.jpg").write_bytes(b"fine")
    os.mkfifo(tmp_path / "pipe.jpg")
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    os.symlink("gone.jpg", tmp_path / "dangling.jpg")
    ledger = {
        ("listing", "entries"): 4,
        ("skipped", "listing", "fifo"): 1,
        ("skipped", "listing", "link_loop"): 1,
        ("skipped", "listing", "dangling_link"): 1,
        ("skip_examples", "listing", "fifo", str(tmp_path / "pipe.jpg")): 1,
        ("skip_examples", "listing", "link_loop", str(tmp_path / "loop.jpg")): 1,
        ("skip_examples", "listing", "dangling_link", str(tmp_path / "dangling.jpg")): 1,
        ("files", "listed"): 1,
        ("objects", "read"): 1,
    }
    with _unblocked(tmp_path / "pipe.jpg"):
        _check([str(tmp_path / "**")], [(str(tmp_path / "ok.jpg"), 4, _md5(b"fine"))], ledger)


def test_an_undecodable_name_is_read_under_its_escaped_uri(tmp_path):
    # Before: UnicodeEncodeError in ListFiles (Beam's str coder refuses surrogates).
    raw = os.fsencode(tmp_path) + b"/\xff\xfe.jpg"
    with open(raw, "wb") as out:
        out.write(b"odd")
    _check([str(tmp_path / "*")], [(str(tmp_path / "%FF%FE.jpg"), 3, _md5(b"odd"))])


def test_a_file_swapped_for_a_fifo_after_listing_is_a_typed_failure(tmp_path):
    fifo = tmp_path / "swapped.jpg"
    os.mkfifo(fifo)  # listed as a 5-byte file a moment ago
    with _unblocked(fifo), BeamTestPipeline(runner=RUNNER) as p:
        read = (
            p
            | beam.Create([(str(fifo), [(5, 1.0)])])
            | ReadListedFiles()
        )
        assert_that(
            read.objects | beam.Map(_outcome), equal_to([(str(fifo), 5, "read:unreadable")])
        )


def test_local_patterns_and_other_filesystems_list_together(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"local")
    (tmp_path / "b" / "ok.bin").write_bytes(b"fine")
    prefix = flaky_fs.FlakyFileSystem.PREFIX
    expected = [
        (str(tmp_path / "a" / "x.bin"), 5, _md5(b"local")),
        (prefix + str(tmp_path / "b" / "ok.bin"), 4, _md5(b"fine")),
    ]
    ledger = {("listing", "entries"): 2, ("files", "listed"): 2, ("objects", "read"): 2}
    _check([str(tmp_path / "a" / "*"), prefix + str(tmp_path / "b" / "*")], expected, ledger)


# -- damaged and hostile archives: each member one record, or a counted skip ---------


def _read_archive_file(tmp_path, name: str, data: bytes, outcomes: list, ledger: dict, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    uri = str(path)
    expected = [(uri + tail, size if size is not None else len(data), outcome)
                for tail, size, outcome in outcomes]  # fmt: skip
    _check([uri], expected, ledger, archives=True, **kwargs)


def _archive_ledger(members: int, **extra) -> dict:
    ledger = {
        ("files", "listed"): 1,
        ("files", "archives"): 1,
        ("files", "archive_objects"): members,
        ("objects", "read"): members,
    }
    ledger.update({tuple(key.split(".")): n for key, n in extra.items()})
    return ledger


def test_an_encrypted_first_zip_member_does_not_hide_the_rest(tmp_path):
    jpeg = samples.encode(samples.picture(2), "JPEG")
    data = archive_samples.set_zip_flag(
        archive_samples.zip_bytes(
            [("decoy.jpg", b"d" * 300), ("a.jpg", jpeg), ("b.png", b"p" * 9)]
        ),
        0,
        0x1,
    )
    outcomes = [
        (MEMBER_SEPARATOR + "decoy.jpg", 300, "read:encrypted"),
        (MEMBER_SEPARATOR + "a.jpg", len(jpeg), _md5(jpeg)),
        (MEMBER_SEPARATOR + "b.png", 9, _md5(b"p" * 9)),
    ]
    _read_archive_file(tmp_path, "e.zip", data, outcomes, _archive_ledger(3))


def test_a_garbage_tar_block_is_one_row_and_the_members_after_it_are_read(tmp_path):
    data = archive_samples.tar_bytes([("a.jpg", b"a" * 600), ("b.jpg", b"b" * 10), ("c.jpg", b"c")])
    data = data[:1536] + b"\x07" * 512 + data[1536:]
    outcomes = [
        (MEMBER_SEPARATOR + "a.jpg", 600, _md5(b"a" * 600)),
        ("", None, "read:corrupt"),  # the damage, named by the archive's uri
        (MEMBER_SEPARATOR + "b.jpg", 10, _md5(b"b" * 10)),
        (MEMBER_SEPARATOR + "c.jpg", 1, _md5(b"c")),
    ]
    ledger = _archive_ledger(4, **{"files.archive_failures": 1})
    _read_archive_file(tmp_path, "g.tar", data, outcomes, ledger)


def test_duplicate_member_names_are_distinct_objects(tmp_path):
    data = archive_samples.zip_bytes([("d/", b""), ("a.jpg", b"1"), ("a.jpg", b"22")])
    outcomes = [
        (MEMBER_SEPARATOR + "a.jpg", 1, _md5(b"1")),
        (MEMBER_SEPARATOR + "a.jpg%!2", 2, _md5(b"22")),
    ]
    ledger = _archive_ledger(2, **{"skipped.archive.directory": 1})
    ledger[("skip_examples", "archive", "directory", f"{tmp_path}/dup.zip!/d/")] = 1
    _read_archive_file(tmp_path, "dup.zip", data, outcomes, ledger)


def test_overlapping_zip_entries_are_each_a_named_error(tmp_path):
    data = archive_samples.overlapping_zip(30, bytes(5_000_000))
    outcomes = [(MEMBER_SEPARATOR + "k.bin", 5_000_000, "read:overlapping_entry")] + [
        (MEMBER_SEPARATOR + f"k.bin%!{n}", 5_000_000, "read:overlapping_entry")
        for n in range(2, 31)
    ]
    _read_archive_file(tmp_path, "bomb.zip", data, outcomes, _archive_ledger(30))


def test_the_archive_inflate_limit_gives_every_later_member_a_row(tmp_path):
    data = archive_samples.zip_bytes([(f"m{i}.bin", bytes(1000)) for i in range(4)])
    outcomes = [(MEMBER_SEPARATOR + "m0.bin", 1000, _md5(bytes(1000)))] + [
        (MEMBER_SEPARATOR + f"m{i}.bin", 1000, "read:archive_limit") for i in range(1, 4)
    ]
    _read_archive_file(
        tmp_path, "big.zip", data, outcomes, _archive_ledger(4), max_archive_bytes=1500
    )


def test_tar_links_are_counted_skips(tmp_path):
    data = archive_samples.tar_bytes([("link.jpg", b"")], kind=tarfile.SYMTYPE)
    data += archive_samples.tar_bytes([("a.jpg", b"a")])
    outcomes = [(MEMBER_SEPARATOR + "a.jpg", 1, _md5(b"a"))]
    ledger = _archive_ledger(1, **{"skipped.archive.symlink": 1})
    ledger[("skip_examples", "archive", "symlink", f"{tmp_path}/l.tar!/link.jpg")] = 1
    _read_archive_file(tmp_path, "l.tar", data, outcomes, ledger)


def test_docstring_examples():
    docstring_examples.check(reading)


def test_bad_arguments_are_refused_when_the_transform_is_built():
    with pytest.raises(ValueError, match="listing needs at least one glob pattern"):
        ReadImages([])
    with pytest.raises(ValueError, match="max_bytes must be >= 1, got 0"):
        ReadListedFiles(max_bytes=0)
    with pytest.raises(ValueError, match="max_archive_bytes must be >= 1, got -1"):
        ReadImages(["in/*"], archives=True, max_archive_bytes=-1)

