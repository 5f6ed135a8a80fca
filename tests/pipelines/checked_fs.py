"""A Beam filesystem that gives real checksums and can refuse files, for the repeat-audit tests."""

from __future__ import annotations

import errno
import hashlib

from apache_beam.io.filesystem import CompressionTypes, FileMetadata, MatchResult
from apache_beam.io.localfilesystem import LocalFileSystem

# Local paths whose open() fails with PermissionError, as storage does for a
# missing permission (tests run as root, where chmod 000 would not stop a read).
DENIED: set[str] = set()


class CheckedFileSystem(LocalFileSystem):
    """``checked://PATH``: the local file ``PATH``, with an MD5 checksum like GCS and S3 give.

    Beam's local filesystem answers ``checksum()`` with the file's size,
    which cannot tell two same-sized contents apart; cloud stores answer
    with a digest of the content, which this does. Files in :data:`DENIED`
    refuse to open. Beam finds FileSystem subclasses by scheme once this
    module is imported.
    """

    PREFIX = "checked://"

    @classmethod
    def scheme(cls) -> str:
        return "checked"

    def _local(self, path: str) -> str:
        return path.removeprefix(self.PREFIX)

    def match(self, patterns, limits=None):
        results = super().match([self._local(p) for p in patterns], limits)
        return [
            MatchResult(
                pattern,
                [
                    FileMetadata(self.PREFIX + m.path, m.size_in_bytes, m.last_updated_in_seconds)
                    for m in result.metadata_list
                ],
            )
            for pattern, result in zip(patterns, results)
        ]

    def open(
        self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO
    ):
        local = self._local(path)
        if local in DENIED:
            raise PermissionError(errno.EACCES, "Permission denied", local)
        return super().open(local, mime_type, compression_type)

    def checksum(self, path):
        with open(self._local(path), "rb") as handle:
            return hashlib.md5(handle.read()).hexdigest()
