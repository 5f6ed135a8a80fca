"""``summary.json`` on any Beam filesystem: its one writer and its one reader.

:func:`write_summary` writes a :class:`~photosieve.summary.Summary` whole or
not at all (a ``summary.json`` is the mark of a finished run);
:func:`read_run_summary` reads one back as that value. The schema itself is
:mod:`photosieve.summary`'s.
"""

from __future__ import annotations

import json
import secrets

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from photosieve.listing import is_local as is_local_path
from photosieve.summary import SUMMARY_FILE, Summary, read_summary

__all__ = ["read_run_summary", "write_json", "write_summary"]

# summary.json is first written under this name and renamed (locally), so a
# reader never sees half of one: a summary.json is the mark of a finished run.
_PARTIAL_SUFFIX = ".partial"


def write_summary(output: str, summary: Summary) -> None:
    """Write ``OUTPUT/summary.json`` in one step (see :func:`write_json`)."""
    write_json(FileSystems.join(output, SUMMARY_FILE), summary.to_json())


def read_run_summary(directory: str) -> Summary:
    """The :class:`~photosieve.summary.Summary` of the run in ``directory``, on any Beam filesystem."""
    return read_summary(
        directory,
        lambda path: FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED),
        join=FileSystems.join,
    )


def write_json(path: str, content: dict) -> None:
    """Write ``content`` at ``path`` in one step: a reader sees all of it or nothing.

    Locally through a temporary name and a rename (atomic on POSIX); on
    object stores an object appears only when its upload completes.
    """
    data = (json.dumps(content, indent=2, sort_keys=False) + "\n").encode("utf-8")
    target = path
    if is_local_path(path):
        target = f"{path}{_PARTIAL_SUFFIX}-{secrets.token_hex(4)}"
    try:
        with FileSystems.create(
            target, mime_type="application/json", compression_type=CompressionTypes.UNCOMPRESSED
        ) as out:
            out.write(data)
        if target != path:
            FileSystems.rename([target], [path])  # os.rename: replaces atomically
    except BaseException:
        if target != path and FileSystems.exists(target):
            FileSystems.delete([target])
        raise


