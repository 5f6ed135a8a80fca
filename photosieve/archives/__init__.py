"""Archive members as objects: zip and tar readers that survive damage and attack.

An archive is many objects in one file, and some are built to hide what
they hold: a decoy encrypted member first, a garbage block after the first
tar member, two members of one name, or zip entries that all point at one
compressed stream (David Fifield's "zip bomb without recursion",
https://www.bamsoftware.com/hacks/zipbomb/). So every member ends in
exactly one value of its own, and reading goes on after it:

* :class:`Member`: ``(uri, size, mtime_us, data)``, where ``data`` is the
  bytes or a :class:`MemberFailure` (reason and message). A failure of the
  archive itself (unreadable, not an archive, a damaged region, the end cut
  off, the inflate budget spent) is a Member whose uri is the archive's.
* :class:`Skipped`: a member that is deliberately not an object
  (directories, links, devices, FIFOs), counted, not hashed.

Modules: :mod:`~photosieve.archives.members` (the values),
:mod:`~photosieve.archives.zip_members`, :mod:`~photosieve.archives.zip_recovery`
(a zip without a readable central directory, walked by its local headers) and
:mod:`~photosieve.archives.tar_members` (damaged headers skipped as GNU tar does).

Names are escaped with :mod:`photosieve.names`; the 2nd, 3rd... member of a
name already used gets :func:`~photosieve.names.occurrence_uri`.

Limits, per archive: each member is read up to ``max_bytes``; at most
``max_archive_bytes`` bytes are *inflated* (decompressed) in all, counting
skipped members of a compressed tar too, since skipping them inflates them.
Stored (uncompressed) data is bounded by the file's own size and not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from photosieve.archives.members import (
    DEFAULT_MAX_ARCHIVE_BYTES,
    Member,
    MemberFailure,
    Skipped,
    failure,
    failure_reason,
)
from photosieve.archives.tar_members import read_tar
from photosieve.archives.zip_members import read_zip

__all__ = [
    "DEFAULT_MAX_ARCHIVE_BYTES",
    "Member",
    "MemberFailure",
    "Skipped",
    "read_members",
]


def read_members(
    uri: str,
    open_fn: Callable[[], BinaryIO],
    *,
    max_bytes: int,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    size: int | None = None,
    mtime_us: int | None = None,
) -> Iterator[Member | Skipped]:
    """Every member of the archive ``uri`` (escaped), each once; never raises for bad data.

    Args:
        uri: the archive's escaped uri; ``.zip`` is read as zip, the rest as
            tar (compressed or not, whatever the suffix says).
        open_fn: opens the archive for binary reading (seekable for zip).
        max_bytes: members declared or found larger fail ``too_large``.
        max_archive_bytes: inflated bytes allowed for the whole archive;
            members after it is spent fail ``archive_limit``.
        size, mtime_us: the archive's listing, for rows about the archive itself.
    """
    found = 0
    # Rows about the archive itself (two damaged tar regions, a recovery note and
    # then a crash...) are held and given as ONE row at the end: one uri, one row.
    about_archive: list[Member] = []
    try:
        with open_fn() as handle:
            reader = read_zip if uri.lower().endswith(".zip") else read_tar
            for item in reader(uri, handle, max_bytes, max_archive_bytes, size, mtime_us):
                found += 1
                if isinstance(item, Member) and item.uri == uri:
                    about_archive.append(item)
                else:
                    yield item
    except Exception as exc:  # noqa: BLE001 - what no reader foresaw is one row, not a crash
        message = f"archive after {found} member(s): {type(exc).__name__}: {exc}"
        about_archive.append(failure(uri, size, mtime_us, failure_reason(exc), message))
    if about_archive:
        yield _combined(about_archive)


def _combined(rows: list[Member]) -> Member:
    """One row for every problem of the archive itself: the first one's reason, all messages."""
    if len(rows) == 1:
        return rows[0]
    first = rows[0]
    shown = [row.data.message for row in rows[:3]]
    more = f"; and {len(rows) - 3} more" if len(rows) > 3 else ""
    message = f"{len(rows)} problems: " + "; ".join(shown) + more
    return failure(first.uri, first.size, first.mtime_us, first.data.reason, message)
