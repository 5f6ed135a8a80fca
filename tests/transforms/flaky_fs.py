"""A Beam filesystem with storage trouble on purpose, for the read-failure tests."""

from __future__ import annotations

import errno
import os

from apache_beam.io.filesystem import CompressionTypes, FileMetadata, MatchResult
from apache_beam.io.localfilesystem import LocalFileSystem


class FlakyFileSystem(LocalFileSystem):
    """``flaky://PATH``: the local file ``PATH``, with two kinds of trouble on purpose.

    * Files whose name contains ``denied`` refuse to open (PermissionError),
      as storage does for a missing permission. (Tests run as root here,
      where chmod 000 would not stop a read.)
    * Files whose name contains ``vanished`` are deleted right after they are
      listed: the "deleted between listing and reading" case.

    Beam finds FileSystem subclasses by scheme once this module is imported.
    """

    PREFIX = "flaky://"

    @classmethod
    def scheme(cls) -> str:
        return "flaky"

    def _local(self, path: str) -> str:
        return path.removeprefix(self.PREFIX)

    def match(self, patterns, limits=None):
        results = super().match([self._local(p) for p in patterns], limits)
        out = []
        for pattern, result in zip(patterns, results):
            metadata = []
            for m in result.metadata_list:
                if "vanished" in os.path.basename(m.path):
                    os.remove(m.path)
                metadata.append(
                    FileMetadata(self.PREFIX + m.path, m.size_in_bytes, m.last_updated_in_seconds)
                )
            out.append(MatchResult(pattern, metadata))
        return out

    def open(
        self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO
    ):
        local = self._local(path)
        if "denied" in os.path.basename(local):
            raise PermissionError(errno.EACCES, "Permission denied", local)
        return super().open(local, mime_type, compression_type)
