"""Errors and failure values.

Two kinds of trouble, handled differently:

* Per-object failures (an undecodable image, a zero-byte file) are *values*:
  :class:`HashFailure`, with a :class:`FailureReason`. Pipelines route them to
  the ``errors`` table; one bad object never stops a run.
* Bad configuration and malformed input files (a hash list with broken lines,
  an unknown algorithm name) raise subclasses of :class:`PhotosieveError`,
  at construction or parse time, carrying the offending input.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class PhotosieveError(Exception):
    """Base class of every error photosieve raises on purpose."""


class ConfigError(PhotosieveError, ValueError):
    """An option or option combination that cannot work."""


class HashFormatError(PhotosieveError, ValueError):
    """A hash string that does not parse for its algorithm.

    Attributes:
        text: the offending input, as given.
        algorithm: the algorithm it was parsed as, if known.
    """

    def __init__(self, message: str, *, text: str = "", algorithm: str | None = None):
        super().__init__(message)
        self.text = text
        self.algorithm = algorithm


class FailureReason(enum.Enum):
    """Why one object produced no hashes. Values are stable: they go into Parquet."""

    EMPTY = "empty"  # zero bytes
    NOT_AN_IMAGE = "not_an_image"  # no image format recognised
    UNSUPPORTED_FORMAT = "unsupported_format"  # recognised, but no decoder installed
    CORRUPT = "corrupt"  # recognised format, broken data
    TRUNCATED = "truncated"  # data ends early
    DECOMPRESSION_BOMB = "decompression_bomb"  # more pixels than the configured limit
    TOO_LARGE = "too_large"  # object bigger than the configured byte limit
    TOO_SMALL = "too_small"  # fewer pixels than the algorithm can hash
    UNREADABLE = "unreadable"  # storage refused to give the bytes (permissions, I/O)
    NOT_FOUND = "not_found"  # listed, but gone when read
    HASH_ERROR = "hash_error"  # unexpected failure inside a hash function
    # One object's decoding work (decoded pixels over all frames, CPU time) over its budget.
    OVER_BUDGET = "over_budget"
    # --all-frames: frames beyond --max-frames exist and were not read (the earlier ones were).
    FRAMES_CUT_OFF = "frames_cut_off"
    ENCRYPTED = "encrypted"  # an encrypted archive member (no password is tried)
    OVERLAPPING_ENTRY = "overlapping_entry"  # a zip entry whose data overlaps another entry's
    ARCHIVE_LIMIT = "archive_limit"  # the archive's inflated-bytes budget was spent before it
    # A video container (MP4, WebM...) holding no video stream (e.g. audio only): no pictures.
    NO_VIDEO_STREAM = "no_video_stream"


class DecodeError(PhotosieveError):
    """Raised inside :mod:`photosieve.decode`; callers turn it into a HashFailure."""

    def __init__(self, reason: FailureReason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class HashFailure:
    """One object that could not be hashed, and why.

    Attributes:
        uri: the object's path or URI (never its content).
        stage: where it failed: ``read``, ``decode`` or ``hash``.
        reason: the failure class.
        message: a human-readable explanation (no pixel data, no bytes).
        algorithms: the algorithms this failure accounts for (each requested
            algorithm of each object ends in exactly one of hashes or failures).
    """

    uri: str
    stage: str
    reason: FailureReason
    message: str
    algorithms: tuple[str, ...] = ()


class ListFormatError(PhotosieveError, ValueError):
    """A known-hash list file that cannot be used as given.

    Raised by strict reading for bad lines (every problem of every list is
    collected first; the message shows the first ``MAX_LISTED`` and the
    total), and in any mode for a file that cannot be read at all (no hash
    column, not Parquet, not a list).

    Attributes:
        path: the (first) offending file.
        line: 1-based line (or row) of the first problem; None for the whole file.
        reason: why the first problem is one.
        text: the offending text of the first problem, as given (truncated).
        problems: the problems, as :class:`photosieve.lists.ListProblem` values.
        total: how many problems there were in all.
    """

    MAX_LISTED = 20

    def __init__(self, problems: Sequence[Any], *, total: int | None = None):
        problems = tuple(problems)
        if not problems:
            raise ValueError("ListFormatError needs at least one problem")
        self.problems = problems
        self.total = len(problems) if total is None else total
        first = problems[0]
        self.path, self.line, self.reason, self.text = first.path, first.line, first.reason, first.text
        shown = "\n".join(f"  {problem}" for problem in problems[: self.MAX_LISTED])
        more = self.total - min(len(problems), self.MAX_LISTED)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        files = sorted({problem.path for problem in problems})
        where = files[0] if len(files) == 1 else f"{len(files)} list files"
        super().__init__(f"{self.total} problem(s) in {where}:\n{shown}{tail}")

    @property
    def whole_file(self) -> bool:
        """One problem, about the file as a whole (not a line): shown as one line, no hint."""
        return self.total == 1 and self.line is None
