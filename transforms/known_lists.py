"""Read known-hash lists inside the pipeline, through any Beam filesystem.

Transforms:

* :class:`ReadKnownLists`: a pipeline in; one
  :class:`~photosieve.lists.known.KnownList` per list spec out, each read
  once by one worker, as stored (its version hashes the stored bytes).

:func:`open_stored` is the ``open_fn`` the launcher and the workers give
the list readers of :mod:`photosieve.lists`.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve.lists import ListSpec, local_open
from photosieve.lists.known import KnownList, known_list, without

__all__ = ["ReadKnownLists", "open_stored", "read_known_list"]


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
