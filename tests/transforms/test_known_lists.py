"""ReadKnownLists and open_stored: lists read inside the pipeline, checked against the launcher's version.

BuildIndexFiles and open_index: each list's index file, built once, reused, copied once per machine.
"""

from __future__ import annotations

import doctest
import os
import tempfile
from typing import ClassVar

import apache_beam as beam
import pytest
from apache_beam.io.filesystem import FileMetadata, MatchResult
from apache_beam.io.localfilesystem import LocalFileSystem
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import ListSpec
from photosieve.transforms import known_lists
from photosieve.transforms.known_lists import (
    INDEX_FOLDER,
    BuildIndexFiles,
    ReadKnownLists,
    build_index_file,
    index_dir_for,
    open_index,
    open_stored,
    read_known_list,
)

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


def test_module_examples_run():
    assert doctest.testmod(known_lists).failed == 0


def test_a_list_changed_since_preflight_fails(tmp_path):
    path = tmp_path / "l.txt"
    path.write_text("pdq " + "0f" * 32 + "\n")
    known = read_known_list(ListSpec(str(path)), strict=True)
    path.write_text("pdq " + "f0" * 32 + "\n")
    with pytest.raises(ConfigError, match="changed"):
        read_known_list(ListSpec(str(path)), strict=True, expected_version=known.version)


def test_open_stored_gives_the_bytes_as_stored_and_refuses_a_directory(tmp_path):
    path = tmp_path / "l.txt.gz"
    path.write_bytes(b"\x1f\x8b not inflated")
    with open_stored(str(path)) as handle:
        assert handle.read() == b"\x1f\x8b not inflated"
    with pytest.raises(ListFormatError, match="directory"):
        open_stored(str(tmp_path))


def test_skipped_algorithms_leave_the_lists(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("pdq " + "0f" * 32 + "\nmd5 " + "ab" * 16 + "\n")
    with BeamTestPipeline(runner=RUNNER) as p:
        known = p | ReadKnownLists([ListSpec(str(path))], skip_algorithms=["pdq"])
        assert_that(
            known | beam.Map(lambda k: (k.name, sorted(k.groups), sorted(k.thresholds))),
            equal_to([("mixed", ["md5"], ["md5"])]),
        )


# -- index files ---------------------------------------------------------------


class RemoteFileSystem(LocalFileSystem):
    """``remote-test://PATH``: the local ``PATH``, seen as a remote store (a scheme, no mmap)."""

    PREFIX = "remote-test://"
    opened: ClassVar[list[str]] = []

    @classmethod
    def scheme(cls) -> str:
        return "remote-test"

    def _local(self, path: str) -> str:
        return path.removeprefix(self.PREFIX)

    def join(self, base, *paths):
        return self.PREFIX + os.path.join(self._local(base), *paths)

    def exists(self, path):
        return os.path.exists(self._local(path))

    def create(self, path, *args, **kwargs):
        return super().create(self._local(path), *args, **kwargs)

    def open(self, path, *args, **kwargs):
        RemoteFileSystem.opened.append(path)
        return super().open(self._local(path), *args, **kwargs)

    def rename(self, sources, destinations):
        super().rename([self._local(s) for s in sources], [self._local(d) for d in destinations])

    def match(self, patterns, limits=None):
        results = super().match([self._local(p) for p in patterns], limits)
        return [
            MatchResult(
                pattern,
                [FileMetadata(self.PREFIX + m.path, m.size_in_bytes) for m in r.metadata_list],
            )
            for pattern, r in zip(patterns, results)
        ]


def _known(tmp_path, text: str = "pdq " + "0f" * 32 + "\nmd5 " + "ab" * 16 + "\n", **spec):
    path = tmp_path / "l.txt"
    path.write_text(text)
    return read_known_list(ListSpec(str(path), **spec), strict=True)


def test_an_index_file_is_built_once_and_reused_while_the_list_and_thresholds_stay(tmp_path):
    known = _known(tmp_path)
    first = build_index_file(known, str(tmp_path / "index"))
    assert first.path.startswith(str(tmp_path / "index")) and first.path.endswith(".psidx")
    assert (first.name, first.version, first.size) == (
        "l",
        known.version,
        os.path.getsize(first.path),
    )
    stamp = os.stat(first.path).st_mtime_ns
    assert build_index_file(known, str(tmp_path / "index")) == first
    assert os.stat(first.path).st_mtime_ns == stamp  # reused, not rewritten
    stricter = _known(tmp_path, thresholds={"pdq": 20})
    assert build_index_file(stricter, str(tmp_path / "index")).path != first.path
    assert sorted(os.listdir(tmp_path / "index")) == sorted(
        os.path.basename(p)
        for p in (first.path, build_index_file(stricter, str(tmp_path / "index")).path)
    )


def test_a_damaged_index_file_in_the_way_is_rebuilt(tmp_path):
    known = _known(tmp_path)
    handle = build_index_file(known, str(tmp_path / "index"))
    with open(handle.path, "r+b") as f:
        f.truncate(handle.size - 10)
    rebuilt = build_index_file(known, str(tmp_path / "index"))
    assert rebuilt == handle and os.path.getsize(handle.path) == handle.size


def test_a_local_handle_is_mapped_in_place_and_checked(tmp_path):
    known = _known(tmp_path)
    handle = build_index_file(known, str(tmp_path / "index"))
    listed = open_index(handle, cache_dir=str(tmp_path / "cache"))
    assert sorted(listed.groups) == ["md5", "pdq"] and listed.digest == handle.digest
    assert not (tmp_path / "cache").exists()  # nothing copied
    with pytest.raises(ConfigError, match="the run checked"):
        open_index(handle._replace(version="other"))
    with pytest.raises(ConfigError, match="another digest"):
        open_index(handle._replace(digest="0" * 64))


def test_a_remote_index_file_is_copied_once_per_machine_and_verified(tmp_path):
    known = _known(tmp_path)
    handle = build_index_file(known, RemoteFileSystem.PREFIX + str(tmp_path / "bucket"))
    assert handle.path.startswith(RemoteFileSystem.PREFIX)
    assert os.path.isfile(handle.path.removeprefix(RemoteFileSystem.PREFIX))
    cache = tmp_path / "cache"
    RemoteFileSystem.opened.clear()
    listed = open_index(handle, cache_dir=str(cache))
    assert os.listdir(cache) == [f"{handle.digest}.psidx"]
    assert RemoteFileSystem.opened == [handle.path]
    index, _ = listed.groups["pdq"]
    assert index.query(bytes.fromhex("0f" * 32), threshold=31)[0].distance == 0
    open_index(handle, cache_dir=str(cache))
    assert RemoteFileSystem.opened == [handle.path]  # the second process maps the cached copy
    with pytest.raises(ConfigError, match="bytes, expected"):
        open_index(handle._replace(size=handle.size + 1), cache_dir=str(tmp_path / "other"))
    assert os.listdir(tmp_path / "other") == []  # no partial copy left behind


def test_the_index_folder_follows_the_temp_location(tmp_path):
    options = PipelineOptions([f"--temp_location={tmp_path}/tmp"])
    assert index_dir_for(options) == os.path.join(f"{tmp_path}/tmp", INDEX_FOLDER)
    staging = PipelineOptions([f"--staging_location={RemoteFileSystem.PREFIX}/bucket/staging"])
    assert index_dir_for(staging) == f"{RemoteFileSystem.PREFIX}/bucket/staging/{INDEX_FOLDER}"
    assert index_dir_for(PipelineOptions([])) == os.path.join(tempfile.gettempdir(), INDEX_FOLDER)


def test_build_index_files_writes_under_the_pipelines_temp_location(tmp_path):
    known = _known(tmp_path)
    options = PipelineOptions([f"--temp_location={tmp_path}/tmp"])
    with BeamTestPipeline(runner=RUNNER, options=options) as p:
        handles = p | beam.Create([known]) | BuildIndexFiles()
        assert_that(
            handles | beam.Map(lambda h: (h.name, h.version)), equal_to([("l", known.version)])
        )
    (written,) = os.listdir(tmp_path / "tmp" / INDEX_FOLDER)
    assert written.startswith("l-") and written.endswith(".psidx")
