"""Read known-hash lists inside the pipeline, through any Beam filesystem.

Transforms:

* :class:`ReadKnownLists`: a pipeline in; one
  :class:`~photosieve.lists.known.KnownList` per list spec out, each read
  once by one worker, as stored (its version hashes the stored bytes).
* :class:`BuildIndexFiles`: ``KnownList`` in; one small :class:`IndexHandle`
  per list out, naming the list's index file
  (:mod:`photosieve.index.mapped`), built once per run by one worker.

:func:`open_stored` is the ``open_fn`` the launcher and the workers give
the list readers of :mod:`photosieve.lists`. :func:`open_index` is how a
worker process opens a handle's file: mapped in place when it is local,
else copied once per machine into a local cache first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import GoogleCloudOptions

from photosieve.errors import ConfigError
from photosieve.index import mapped
from photosieve.lists import ListSpec, local_open
from photosieve.lists.known import KnownList, known_list, without

__all__ = [
    "INDEX_FOLDER",
    "BuildIndexFiles",
    "IndexHandle",
    "ReadKnownLists",
    "build_index_file",
    "index_dir_for",
    "open_index",
    "open_stored",
    "read_known_list",
    "temp_index_dir",
]

_LOG = logging.getLogger(__name__)

# Under the run's temp location (or the machine's temp folder): the index files.
INDEX_FOLDER = "photosieve-index"


def open_stored(path: str, mode: str = "rb"):
    """A list file's bytes as stored (its version hashes them: no transparent gunzip).

    Local paths go through :func:`photosieve.lists.local_open`, which refuses
    FIFOs, devices and directories before opening: Beam's local filesystem
    would block on a FIFO for ever, or read ``/dev/zero`` until memory ends.
    """
    if FileSystems.get_scheme(path) is None:
        return local_open(path, mode)
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def read_known_list(
    spec: ListSpec, *, strict: bool, expected_version: str | None = None
) -> KnownList:
    """Read one list through Beam's filesystems into a :class:`~photosieve.lists.known.KnownList`.

    Raises:
        ConfigError: the file's version differs from ``expected_version``
            (the list changed since the launcher checked it).
    """
    hash_list = spec.read(strict=strict, open_fn=open_stored)
    return known_list(spec, hash_list, expected_version)


def _read_spec(spec: ListSpec, *, strict: bool, expected_versions: dict[str, str]) -> KnownList:
    return read_known_list(spec, strict=strict, expected_version=expected_versions.get(spec.name))


class ReadKnownLists(beam.PTransform):
    """Reads each list once inside the pipeline into a ``KnownList``.

    Example (a plain-text list: ``algorithm hash`` per line):

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "known.txt"
    >>> _ = path.write_text("md5 " + "ab" * 16 + "\\n")
    >>> with beam.Pipeline() as p:
    ...     known = p | ReadKnownLists([ListSpec(str(path))])
    ...     _ = known | beam.Map(lambda k: print(k.name, sorted(k.groups)))
    known ['md5']

    Args:
        lists: the list specs.
        strict: fail on bad list lines (True) or skip them.
        expected_versions: list name -> version the launcher validated; a
            list whose content changed since fails the run.
        skip_algorithms: the lists' hashes of these algorithms are dropped
            (another transform matches them).
    """

    def __init__(
        self,
        lists: Sequence[ListSpec],
        *,
        strict: bool = True,
        expected_versions: dict[str, str] | None = None,
        skip_algorithms: Sequence[str] = (),
    ):
        super().__init__()
        self._lists = list(lists)
        self._strict = strict
        self._expected = dict(expected_versions or {})
        self._skip = frozenset(skip_algorithms)

    def expand(self, pipeline):
        known = (
            pipeline
            | "CreateListSpecs" >> beam.Create(self._lists)
            | "ReadLists"
            >> beam.Map(_read_spec, strict=self._strict, expected_versions=self._expected)
        )
        if self._skip:
            known = known | "SkipAlgorithms" >> beam.Map(without, self._skip)
        return known


class IndexHandle(NamedTuple):
    """What the side input carries instead of a list: where its index file is, and how to check it."""

    path: str
    size: int
    digest: str
    name: str
    version: str


def temp_index_dir(options: object | None) -> str | None:
    """``<temp_location>/photosieve-index`` (or under the staging location), None without either."""
    if options is not None:
        cloud = options.view_as(GoogleCloudOptions)
        for location in (cloud.temp_location, cloud.staging_location):
            if location:
                return FileSystems.join(location, INDEX_FOLDER)
    return None


def index_dir_for(options: object | None) -> str:
    """Where a run writes its index files: ``<temp_location>/photosieve-index``.

    Falls back to the staging location, then to this machine's temp folder,
    which serves every local runner (their workers share the machine); a
    remote runner needs ``--temp_location`` (Dataflow requires one anyway).
    The jobs pass a folder of their own (``pipelines.running.run_index_dir``).
    """
    return temp_index_dir(options) or os.path.join(tempfile.gettempdir(), INDEX_FOLDER)


def _file_name(known: KnownList) -> str:
    """A name that changes with anything the file's content depends on, so a rerun reuses it."""
    key = json.dumps(
        [
            mapped.FORMAT_VERSION,
            known.name,
            known.version,
            known.role,
            known.thresholds,
            sorted(known.groups),
        ],
        sort_keys=True,
    )
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", known.name)[:64] or "list"
    return f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:24]}{mapped.SUFFIX}"


def _existing(path: str, known: KnownList) -> IndexHandle | None:
    """The handle of an index file already at ``path`` (a previous run's), if it is whole."""
    try:
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            head = f.read(1 << 16)
            header, _ = mapped.read_header(head, what=f"index file {path}")
        size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
    except (ConfigError, OSError, ValueError, json.JSONDecodeError) as exc:
        _LOG.warning("rebuilding index file %s: %s", path, exc)
        return None
    if header["version"] != known.version or size != header["size"]:
        return None
    return IndexHandle(path, size, header["digest"], known.name, known.version)


def build_index_file(known: KnownList, index_dir: str) -> IndexHandle:
    """Write ``known``'s index file under ``index_dir`` (any Beam filesystem); return its handle.

    The file name hashes the list version, thresholds and algorithms: a file
    already there (an earlier run, a retried bundle) is reused. A new one is
    written under a unique temporary name and renamed into place, so readers
    never see half a file.
    """
    path = FileSystems.join(index_dir, _file_name(known))
    found = _existing(path, known)
    if found is not None:
        return found
    started = time.monotonic()
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    if FileSystems.get_scheme(index_dir) is None:
        os.makedirs(index_dir, exist_ok=True)
    summary = mapped.write_index_file(
        known,
        temporary,
        create=lambda p: FileSystems.create(p, compression_type=CompressionTypes.UNCOMPRESSED),
    )
    FileSystems.rename([temporary], [path])
    _LOG.info(
        "built the index file of list %s (%s hashes, %d bytes) in %.1f s: %s",
        known.name,
        summary.counts,
        summary.size,
        time.monotonic() - started,
        path,
    )
    return IndexHandle(path, summary.size, summary.digest, known.name, known.version)


def _cache_dir() -> str:
    return os.path.join(tempfile.gettempdir(), INDEX_FOLDER)


def open_index(handle: IndexHandle, cache_dir: str | None = None) -> mapped.MappedList:
    """Map a handle's index file, checking its version and digest.

    A local path is mapped where it is. A remote one (GCS, S3...) is copied
    once per machine into ``cache_dir/<digest>.psidx`` (default: the temp
    folder), verified by size and digest, and renamed into place, so
    concurrent processes of one machine neither race nor copy twice on a rerun.
    """
    path = handle.path
    if FileSystems.get_scheme(path) is not None:
        local = os.path.join(cache_dir or _cache_dir(), f"{handle.digest}{mapped.SUFFIX}")
        if not (os.path.isfile(local) and os.path.getsize(local) == handle.size):
            mapped.copy_verified(
                lambda: FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED),
                local,
                size=handle.size,
                digest=handle.digest,
            )
        path = local
    return mapped.open_index_file(
        path, expected_version=handle.version, expected_digest=handle.digest
    )


class BuildIndexFiles(beam.PTransform):
    """``KnownList`` in, :class:`IndexHandle` out: each list's index file, built once per run.

    Args:
        index_dir: where the files go (any Beam filesystem); default:
            :func:`index_dir_for` the pipeline's options.
    """

    def __init__(self, index_dir: str | None = None):
        super().__init__()
        self._index_dir = index_dir

    def expand(self, known):
        index_dir = self._index_dir or index_dir_for(getattr(known.pipeline, "_options", None))
        return known | "BuildIndexFile" >> beam.Map(build_index_file, index_dir)
