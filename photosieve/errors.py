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
from dataclasses import dataclass


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
