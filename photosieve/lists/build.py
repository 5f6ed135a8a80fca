"""``lists build``'s run: find the files, hash each image, account for every file, write the list.

:mod:`photosieve.lists.from_images` says what one image's rows are; this
module applies it to files, folders and globs
(:mod:`photosieve.lists.image_sources`, the audit's discovery) and keeps the
account an operator needs to trust a list: how many files were read, which
images were listed, and every file that was not, by kind:

* a failed image (:attr:`NotListed.is_image`): damaged, too small, over a
  limit, unreadable, or named like an image and none: ``lists build``
  exits 1, the list would be missing something;
* a file that is no image by content and by name (notes, ``.DS_Store``):
  counted and named, nothing to fix;
* an entry that is not a regular file (FIFO, device, broken link):
  never opened, counted as an audit counts it.

Reading is :func:`photosieve.reading.read_object`, as in ``hash``, so the
same files are too large or unreadable for both.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from photosieve.errors import DecodeError, FailureReason
from photosieve.listing import Skip
from photosieve.lists.from_images import (
    ListBuildOptions,
    ListRow,
    check_output,
    file_rows,
    write_rows,
)
from photosieve.lists.image_sources import SourceFile, discover
from photosieve.names import unescape
from photosieve.reading import ReadError, read_object
from photosieve.text import printable

__all__ = ["IMAGE_SUFFIXES", "BuildReport", "NotListed", "build_list", "build_rows"]

logger = logging.getLogger(__name__)

# Files named like this that are not images are failures (a damaged or
# mislabelled image); other files that are not images are only counted.
IMAGE_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
)


class NotListed(NamedTuple):
    """A file that gave no rows: escaped path as found, failure class, message."""

    uri: str
    reason: FailureReason
    message: str

    @property
    def is_image(self) -> bool:
        """Whether this is a failed image (or unreadable file), not just a file of another kind.

        A file that decodes as nothing and has no image extension (notes,
        ``.DS_Store``) is expected in a folder; an unreadable file, a
        damaged image, or one named like an image that is none, is not.
        """
        if self.reason not in (FailureReason.NOT_AN_IMAGE, FailureReason.EMPTY):
            return True
        return os.path.splitext(self.uri)[1].lower() in IMAGE_SUFFIXES


def _entry_id(source: SourceFile, data: bytes, id_from: str) -> str:
    if id_from == "digest":
        return hashlib.sha256(data).hexdigest()
    return source.name if id_from == "name" else source.relative


def build_rows(
    inputs: Sequence[str | Path] | str | Path, options: ListBuildOptions = ListBuildOptions()
) -> Iterator[ListRow | NotListed | Skip]:
    """Rows for every image the inputs hold; a file giving none yields a :class:`NotListed`.

    ``inputs``: files, folders (walked recursively) and globs, listed by
    :func:`photosieve.lists.image_sources.discover`; entries that are not
    regular files yield their :class:`~photosieve.listing.Skip`, unread.
    Ids follow ``options.id_from``. Only the first frame of animated images
    is listed.

    Raises:
        ConfigError: an input is not local or matches nothing.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    found = discover([str(i) for i in inputs])
    yield from found.skipped
    for source in found.files:
        try:
            data = read_object(unescape(source.uri), max_bytes=options.max_bytes)
            rows = file_rows(_entry_id(source, data, options.id_from), data, options)
        except (ReadError, DecodeError) as exc:
            yield NotListed(source.uri, exc.reason, exc.message)
            continue
        yield from rows


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_list` did.

    Attributes:
        files: regular files read.
        images: images listed.
        rows: rows written (hashes, all algorithms and variants).
        failures: the files that gave no rows, in listing order.
        skipped: entries that are not regular files (never opened).
        shared_ids: ids that several different files were given (``--id-from
            name``, or the same path under two inputs), sorted.
        written: whether the list was written (not when no image was listed).
    """

    files: int
    images: int
    rows: int
    failures: tuple[NotListed, ...]
    skipped: tuple[Skip, ...] = ()
    shared_ids: tuple[str, ...] = ()
    written: bool = True

    @property
    def failed_images(self) -> tuple[NotListed, ...]:
        """The failures that are images (or may be): what makes ``lists build`` exit 1."""
        return tuple(f for f in self.failures if f.is_image)

    @property
    def not_images(self) -> tuple[NotListed, ...]:
        """The files that are no image, by content and by name."""
        return tuple(f for f in self.failures if not f.is_image)


def build_list(
    inputs: Sequence[str | Path] | str | Path,
    output: str,
    options: ListBuildOptions = ListBuildOptions(),
) -> BuildReport:
    """Hash every image the inputs hold and write the list to ``output``.

    Nothing is written when no image was listed (an empty list would match
    nothing, silently): the report says so (``written`` False).

    Raises:
        ConfigError: an input is not local or matches nothing, or ``output``
            has an unknown extension (checked before any file is read).
    """
    check_output(output)
    rows: list[ListRow] = []
    failures: list[NotListed] = []
    skipped: list[Skip] = []
    for item in build_rows(inputs, options):
        if isinstance(item, Skip):
            skipped.append(item)
        elif isinstance(item, NotListed):
            failures.append(item)
            logger.log(
                logging.WARNING if item.is_image else logging.INFO,  # a text file is no news
                "not listed: %s (%s: %s)",
                item.uri,
                item.reason.value,
                printable(item.message),
            )
        else:
            rows.append(item)
    # Every listed file has exactly one plain PDQ row: count files per id by it.
    per_id = Counter(row.id for row in rows if row.algorithm == "pdq" and not row.variant)
    shared = tuple(sorted(i for i, n in per_id.items() if n > 1))
    if options.id_from == "digest":
        shared = ()  # files with the same bytes share their digest: that is the point
    images = sum(per_id.values())
    if rows:
        write_rows(rows, output)
    return BuildReport(
        files=images + len(failures),
        images=images,
        rows=len(rows),
        failures=tuple(failures),
        skipped=tuple(skipped),
        shared_ids=shared,
        written=bool(rows),
    )
