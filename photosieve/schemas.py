"""The Parquet tables an audit writes, declared once, and the rows that fill them.

Four tables, each a directory of Parquet shards under the run's output
directory (see the README's "Output tables" section for a column guide):

* ``hashes``: one row per (object, frame, algorithm, orientation, variant) hash.
* ``errors``: one row per failure of an object (read, decode or hash stage),
  naming the algorithms it accounts for.
* ``matches``: one row per (object, frame, algorithm, list hash) within the
  list's threshold: the closest of the object's hashes (orientations) to it,
  the list entries carrying that hash, and the suppression status. With
  ``--match-mode``, PDQ rows are one per (object, frame, list, listed image):
  its best pair, with the part of the listed image that matched. Against
  video lists, one row per (video, listed video) that vPDQ's rule matches,
  with both shares and the matched segments.
* ``files`` (audits): one row per listed file (an archive is one file), with
  its identity and what this run did with it compared with the previous
  runs (``audit --previous``), plus one row per file gone since them.

Writers pass these schemas to ``WriteToParquet`` explicitly (never inferred);
tests and readers import the same column constants. Rows are plain dicts
keyed by column name; a nullable column may be left out of a row (Beam's
Parquet writer fills it with null).

Hashes are lowercase hex strings: the form lists, analysts and SQL engines
exchange (``WHERE hash = '...'``), at twice the bytes of binary; Parquet's
dictionary and page compression narrows most of the gap.

Times are UTC ``timestamp[us]``; rows carry them as integer microseconds
since the epoch, which pyarrow stores without conversion and which keep Beam
elements small.

>>> from photosieve.errors import FailureReason, HashFailure
>>> rows = error_rows(
...     ObjectHashes("a.jpg", 0, failures=(HashFailure("a.jpg", "decode",
...         FailureReason.EMPTY, "zero bytes", ("pdq",)),)),
...     mtime_us=None, run_id="r1")
>>> [(r[URI], r[ERROR], r[ALGORITHMS]) for r in rows]
[('a.jpg', 'empty', ['pdq'])]
"""

from __future__ import annotations

import pyarrow as pa

from photosieve.hashing import ObjectHashes

__all__ = [
    "ERRORS_SCHEMA",
    "FILES_SCHEMA",
    "HASHES_SCHEMA",
    "MATCHES_SCHEMA",
    "TABLES",
    "covered_algorithms",
    "error_rows",
    "hash_rows",
]

TIMESTAMP = pa.timestamp("us", tz="UTC")

# -- columns shared by every table ---------------------------------------------
URI = "uri"  # path or URI of the object; archive members as ``archive.zip!/member``
SIZE = "size"  # bytes of the object (null when it could not be listed or read)
MTIME = "mtime"  # last-modified time reported by the filesystem or archive
RUN_ID = "run_id"  # identifies the run (summary.json holds its options)
# hashes and errors: the previous run this row was copied from, unread (null: made in this run)
CARRIED_FROM = "carried_from"

# -- hashes --------------------------------------------------------------------
ALGORITHM = "algorithm"  # canonical name from photosieve.algorithms
HASH = "hash"  # lowercase hex of the packed hash
QUALITY = "quality"  # PDQ quality 0..100; null for other algorithms
ORIENTATION = "orientation"  # dihedral PDQ: which transform of the image; else null
VARIANT = "variant"  # robust query hashes: which part of the image (borders, region...); else null
FRAME = "frame"  # frame index of animated / multi-page images, vPDQ frame number of videos; null for digests
# Videos: the sampled frame's time in seconds (vPDQ's: frame number / frame rate);
# null for images and digests, and in tables written before videos were hashed.
FRAME_TIMESTAMP = "timestamp"
WIDTH = "width"  # pixels hashed (after fast-decode scaling and EXIF)
HEIGHT = "height"
SOURCE_WIDTH = "source_width"  # as stored in the file
SOURCE_HEIGHT = "source_height"
FORMAT = "format"  # Pillow's format name (JPEG, PNG, ...)
SOURCE_MODE = "source_mode"  # Pillow's mode as stored (RGB, P, I;16, ...)
EXIF_TRANSPOSED = "exif_transposed"  # an EXIF orientation was applied before hashing
SCALE = "scale"  # linear downscale of the fast decode path (1.0 = none)

HASHES_SCHEMA = pa.schema(
    [
        pa.field(URI, pa.string(), nullable=False),
        pa.field(SIZE, pa.int64()),
        pa.field(MTIME, TIMESTAMP),
        pa.field(ALGORITHM, pa.string(), nullable=False),
        pa.field(HASH, pa.string(), nullable=False),
        pa.field(QUALITY, pa.int32()),
        pa.field(ORIENTATION, pa.string()),
        pa.field(VARIANT, pa.string()),
        pa.field(FRAME, pa.int32()),
        pa.field(FRAME_TIMESTAMP, pa.float64()),
        pa.field(WIDTH, pa.int32()),
        pa.field(HEIGHT, pa.int32()),
        pa.field(SOURCE_WIDTH, pa.int32()),
        pa.field(SOURCE_HEIGHT, pa.int32()),
        pa.field(FORMAT, pa.string()),
        pa.field(SOURCE_MODE, pa.string()),
        pa.field(EXIF_TRANSPOSED, pa.bool_()),
        pa.field(SCALE, pa.float64()),
        pa.field(RUN_ID, pa.string(), nullable=False),
        pa.field(CARRIED_FROM, pa.string()),
    ]
)

# -- errors --------------------------------------------------------------------
STAGE = "stage"  # read, decode or hash
ERROR = "error"  # the failure class: a photosieve.errors.FailureReason value
MESSAGE = "message"  # human-readable; never image content
ALGORITHMS = "algorithms"  # the requested algorithms this failure accounts for

ERRORS_SCHEMA = pa.schema(
    [
        pa.field(URI, pa.string(), nullable=False),
        pa.field(SIZE, pa.int64()),
        pa.field(MTIME, TIMESTAMP),
        pa.field(STAGE, pa.string(), nullable=False),
        pa.field(ERROR, pa.string(), nullable=False),
        pa.field(MESSAGE, pa.string()),
        pa.field(ALGORITHMS, pa.list_(pa.string())),
        pa.field(RUN_ID, pa.string(), nullable=False),
        pa.field(CARRIED_FROM, pa.string()),
    ]
)

# -- matches -------------------------------------------------------------------
QUERY_HASH = "query_hash"  # the object's hash (hex) that matched
LIST_NAME = "list_name"  # the list's name (from NAME=FILE or the file name)
LIST_VERSION = "list_version"  # sha256 of the list file's content
LIST_ROLE = "list_role"  # match or suppress
ENTRY_IDS = "entry_ids"  # ids of the list entries with this hash (a list merges duplicates)
LABELS = "labels"  # their labels / tags
MATCHED_HASH = "matched_hash"  # the list's hash (hex)
DISTANCE = "distance"  # under the algorithm's metric (0 for digests)
THRESHOLD = "threshold"  # the list's threshold that the distance is within
STATUS = "status"  # see MATCH_STATUSES
SUPPRESSED_BY = "suppressed_by"  # suppress lists that silenced a 'suppressed' row
MATCHED_AT = "matched_at"  # the run's start time (the same on every row of a run)
# Runs with --previous: why this row is new since the previous run (a
# photosieve.incremental reason), or null when that run had it too. Null in
# every row of runs without --previous: nothing to compare with.
NEW_REASON = "new_reason"
# PDQ rows of runs with --match-mode (photosieve.robust.modes); null in other rows.
# The mode's configuration for the row's list ("robust" is "robust-windows"
# for a list built from images with windows):
MATCH_MODE = "match_mode"
# Which part of the listed image matched ("window x,y,w,h"...); null: all of it.
LIST_VARIANT = "list_variant"
# What the threshold was compared with: the distance, or the second opinion's score.
SCORE = "score"
SECOND_DISTANCE = "second_distance"  # the second opinion's distance (gradient, phash)
# Rows of video lists (algorithm "vpdq", one per (video, listed video), match_mode
# "vpdq"): vPDQ's two shares, in percent, and where the pair matched (seconds).
# Such a row's distance is its closest frame pair's, its score the query share and
# its threshold the query share required; null in other rows.
QUERY_MATCH_PERCENT = "query_match_percent"  # of the video's frames, matched in the listed video
LIST_MATCH_PERCENT = "list_match_percent"  # of the listed video's frames, matched in the video
SEGMENT_START = "segment_start"  # first and last matched frame of the video
SEGMENT_END = "segment_end"
LIST_SEGMENT_START = "list_segment_start"  # first and last matched frame of the listed video
LIST_SEGMENT_END = "list_segment_end"
VIDEO_MATCH_COLUMNS = (QUERY_MATCH_PERCENT, LIST_MATCH_PERCENT, SEGMENT_START, SEGMENT_END,
                       LIST_SEGMENT_START, LIST_SEGMENT_END)
# The algorithm and match_mode of video-list rows.
VPDQ = "vpdq"

# A row against a `match` list is "match" (report it) or, when the same query
# hash (object, frame, algorithm) also hits a `suppress` list, "suppressed";
# rows against the suppress list itself are "suppress" (the benign hit).
STATUS_MATCH = "match"
STATUS_SUPPRESSED = "suppressed"
STATUS_SUPPRESS = "suppress"
MATCH_STATUSES = (STATUS_MATCH, STATUS_SUPPRESSED, STATUS_SUPPRESS)

MATCHES_SCHEMA = pa.schema(
    [
        pa.field(URI, pa.string(), nullable=False),
        pa.field(FRAME, pa.int32()),
        pa.field(FRAME_TIMESTAMP, pa.float64()),
        pa.field(ALGORITHM, pa.string(), nullable=False),
        pa.field(QUERY_HASH, pa.string(), nullable=False),
        pa.field(ORIENTATION, pa.string()),
        pa.field(VARIANT, pa.string()),
        pa.field(QUALITY, pa.int32()),
        pa.field(LIST_NAME, pa.string(), nullable=False),
        pa.field(LIST_VERSION, pa.string()),
        pa.field(LIST_ROLE, pa.string(), nullable=False),
        pa.field(ENTRY_IDS, pa.list_(pa.string())),
        pa.field(LABELS, pa.list_(pa.string())),
        pa.field(MATCHED_HASH, pa.string(), nullable=False),
        pa.field(DISTANCE, pa.float64(), nullable=False),
        pa.field(THRESHOLD, pa.float64(), nullable=False),
        pa.field(STATUS, pa.string(), nullable=False),
        pa.field(SUPPRESSED_BY, pa.list_(pa.string())),
        pa.field(RUN_ID, pa.string(), nullable=False),
        pa.field(MATCHED_AT, TIMESTAMP, nullable=False),
        pa.field(NEW_REASON, pa.string()),
        pa.field(MATCH_MODE, pa.string()),
        pa.field(LIST_VARIANT, pa.string()),
        pa.field(SCORE, pa.float64()),
        pa.field(SECOND_DISTANCE, pa.float64()),
        pa.field(QUERY_MATCH_PERCENT, pa.float64()),
        pa.field(LIST_MATCH_PERCENT, pa.float64()),
        pa.field(SEGMENT_START, pa.float64()),
        pa.field(SEGMENT_END, pa.float64()),
        pa.field(LIST_SEGMENT_START, pa.float64()),
        pa.field(LIST_SEGMENT_END, pa.float64()),
    ]
)

# -- files ---------------------------------------------------------------------
CHECKSUM = "checksum"  # the filesystem's checksum (GCS CRC32C, S3 ETag...) with --checksums
STATE = "state"  # new, changed, unchanged or gone: see photosieve.incremental
REREAD = "reread"  # why an unchanged file was read again (settings, retry...); else null

FILES_SCHEMA = pa.schema(
    [
        pa.field(URI, pa.string(), nullable=False),
        pa.field(SIZE, pa.int64()),
        pa.field(MTIME, TIMESTAMP),
        pa.field(CHECKSUM, pa.string()),
        pa.field(STATE, pa.string(), nullable=False),
        pa.field(REREAD, pa.string()),
        pa.field(CARRIED_FROM, pa.string()),
        pa.field(RUN_ID, pa.string(), nullable=False),
    ]
)

HASHES = "hashes"
ERRORS = "errors"
MATCHES = "matches"
FILES = "files"
# Table name -> schema; the name is also the table's directory in the output.
TABLES = {HASHES: HASHES_SCHEMA, ERRORS: ERRORS_SCHEMA, MATCHES: MATCHES_SCHEMA, FILES: FILES_SCHEMA}


def hash_rows(result: ObjectHashes, *, mtime_us: int | None, run_id: str) -> list[dict]:
    """The ``hashes`` rows of one hashed object: digests first, then frames in order."""
    base = {URI: result.uri, SIZE: result.size, MTIME: mtime_us, RUN_ID: run_id}
    rows = [{**base, ALGORITHM: d.hash.algorithm, HASH: d.hash.bits.hex()} for d in result.digests]
    for frame in result.frames:
        notes = {
            **base,
            FRAME: frame.frame,
            FRAME_TIMESTAMP: frame.timestamp,
            WIDTH: frame.width,
            HEIGHT: frame.height,
            SOURCE_WIDTH: frame.source_width,
            SOURCE_HEIGHT: frame.source_height,
            FORMAT: frame.format,
            SOURCE_MODE: frame.source_mode,
            EXIF_TRANSPOSED: frame.exif_transposed,
            SCALE: frame.scale,
        }
        for r in frame.results:
            rows.append(
                {
                    **notes,
                    ALGORITHM: r.hash.algorithm,
                    HASH: r.hash.bits.hex(),
                    QUALITY: r.quality,
                    ORIENTATION: r.orientation or None,
                    VARIANT: r.variant or None,
                }
            )
    return rows


def error_rows(
    result: ObjectHashes, *, mtime_us: int | None, run_id: str, size: int | None = None
) -> list[dict]:
    """The ``errors`` rows of one object: one per failure, in the core's order.

    Args:
        result: the hashing outcome; only its failures are used.
        mtime_us: last-modified time in microseconds since the epoch, if known.
        run_id: the run's id.
        size: the listed size, for objects whose bytes were never read (the
            result's size is then 0); defaults to ``result.size``.
    """
    return [
        {
            URI: result.uri,
            SIZE: result.size if size is None else size,
            MTIME: mtime_us,
            STAGE: failure.stage,
            ERROR: failure.reason.value,
            MESSAGE: failure.message,
            ALGORITHMS: list(failure.algorithms),
            RUN_ID: run_id,
        }
        for failure in result.failures
    ]


def covered_algorithms(result: ObjectHashes) -> tuple[set[str], set[str]]:
    """(algorithms with at least one hash, algorithms named by a failure) of one object.

    The accounting rule: each requested algorithm of each object is in
    exactly one of the two sets, except that an animated image may have
    hashes for some frames and a frame-level failure for another (then the
    algorithm counts as hashed and the failure is reported as ``partial``).
    """
    hashed = {d.hash.algorithm for d in result.digests}
    for frame in result.frames:
        hashed.update(r.hash.algorithm for r in frame.results)
    failed: set[str] = set()
    for failure in result.failures:
        failed.update(failure.algorithms)
    return hashed, failed
