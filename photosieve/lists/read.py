"""The front door: :func:`read_list` sniffs a file's format and returns a validated HashList."""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath

from photosieve.errors import ConfigError, ListFormatError, PhotosieveError
from photosieve.lists import (
    delimited,
    hma_bank_csv,
    json_lines,
    parquet,
    plain_text,
    threatexchange_csv,
)
from photosieve.lists.columns import Columns
from photosieve.lists.hash_list import HashList, ListProblem, ProblemKind
from photosieve.lists.source import UTF8_BOM, OpenFn, Source, read_source
from photosieve.lists.validate import ReadResult, build_hash_list

logger = logging.getLogger(__name__)

# Format name -> reader. The names are what --format and HashList.format use.
FORMATS = {
    plain_text.FORMAT: plain_text.read,
    "csv": lambda source: delimited.read(source, delimiter=delimited.FORMATS["csv"]),
    "tsv": lambda source: delimited.read(source, delimiter=delimited.FORMATS["tsv"]),
    threatexchange_csv.FORMAT: threatexchange_csv.read,
    hma_bank_csv.FORMAT: hma_bank_csv.read,
    parquet.FORMAT: parquet.read,
    json_lines.FORMAT: json_lines.read,
}
_EXTENSIONS = {
    ".parquet": parquet.FORMAT,
    ".pq": parquet.FORMAT,
    ".jsonl": json_lines.FORMAT,
    ".ndjson": json_lines.FORMAT,
}
# Sniffing looks at this much of the start of the file.
_SNIFF_BYTES = 64 * 1024
# A field of at least this many hex (or base64) characters is data, not a header name.
_MIN_HASH_CHARS = 16
_HASH_LIKE = re.compile(rf"^(?:[0-9a-fA-F]{{{_MIN_HASH_CHARS},}}|[A-Za-z0-9+/]{{100,}}={{0,2}})$")


def read_list(
    path: str,
    *,
    name: str | None = None,
    algorithm: str | None = None,
    strict: bool = True,
    open_fn: OpenFn | None = None,
    format: str | None = None,
    max_bytes: int | None = None,
) -> HashList:
    """Read, validate and merge one list file (any supported format, gzip or not).

    Args:
        path: local path, or any path ``open_fn`` can open (``gs://``, ``s3://``).
        name: the list's name in match rows; default: the file name
            without extensions.
        algorithm: read every hash as this algorithm (lines naming another
            one are problems); default: from a column, a prefix or the length.
        strict: raise :class:`ListFormatError` if any line is bad (first 20
            problems + count); if False, skip bad lines and record them in
            ``HashList.problems``.
        open_fn: ``open_fn(path, "rb")`` returning the bytes as stored;
            default: local files.
        format: one of :data:`FORMATS` instead of sniffing.
        max_bytes: the most content the file may hold or inflate to
            (default :data:`~photosieve.lists.source.DEFAULT_MAX_LIST_BYTES`).

    Raises:
        ListFormatError: bad lines (strict), or a file that is no list at all
            (not a regular file, over ``max_bytes``, not readable as its format).
        ConfigError: unreadable file, unknown algorithm or format.
    """
    return read_list_with_rows(
        path,
        name=name,
        algorithm=algorithm,
        strict=strict,
        open_fn=open_fn,
        format=format,
        max_bytes=max_bytes,
    )[0]


def read_list_with_rows(
    path: str,
    *,
    name: str | None = None,
    algorithm: str | None = None,
    strict: bool = True,
    open_fn: OpenFn | None = None,
    format: str | None = None,
    max_bytes: int | None = None,
) -> tuple[HashList, ReadResult]:
    """:func:`read_list`, plus the format reader's table of the file's lines.

    The HashList merges equal hashes and keeps each metadata column's
    distinct values on its own, so which id went with which other value of
    the same line is lost; ``HashList`` metadata's ``lines`` column points
    into the table to recover it (see :mod:`photosieve.lists.entries`).
    """
    if format is not None and format not in FORMATS:
        raise ConfigError(f"unknown list format {format!r}; known: {', '.join(FORMATS)}")
    source = read_source(path, open_fn, max_bytes=max_bytes)
    try:
        format = format or sniff_format(source)
        result: ReadResult = FORMATS[format](source)
        hash_list = build_hash_list(
            result,
            path=path,
            name=name or default_name(path),
            version=source.version,
            format=format,
            algorithm=algorithm,
        )
    except PhotosieveError:
        raise
    except Exception as exc:  # a hostile file must not end in a traceback
        # Readers turn the failures they expect into problems with a line or
        # column; anything else a file can provoke in pyarrow, csv or json is
        # still the file's problem, not a crash of the run.
        logger.debug("list %s: unexpected failure while reading", path, exc_info=True)
        reason = f"not readable as a {format or 'list'} file: {type(exc).__name__}: {exc}"
        problem = ListProblem.make(path, None, ProblemKind.UNREADABLE, reason)
        raise ListFormatError([problem]) from exc
    logger.info(
        "list %s (%s, %s): %d distinct hashes, %d duplicates, %d problems",
        hash_list.name,
        path,
        format,
        hash_list.distinct,
        hash_list.duplicates,
        len(hash_list.problems),
    )
    if strict and hash_list.problems:
        raise ListFormatError(hash_list.problems)
    return hash_list, result


def default_name(path: str) -> str:
    """``gs://b/cases/ncmec-2024.csv.gz`` -> ``ncmec-2024``."""
    base = PurePosixPath(path.rstrip("/")).name
    if base.endswith(".gz"):
        base = base[:-3]
    return base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base


def sniff_format(source: Source) -> str:
    """Guess a list's format from its first bytes (and extension).

    Parquet by magic; JSON Lines by a leading ``{``; a delimited first line
    whose fields name a hash column is a header (ThreatExchange's exact
    header is recognised as such), as is a lone field naming one (a
    one-column CSV); a comma-separated first line starting with a hash is an
    HMA bank; anything else is plain text.
    """
    data = source.data
    base = source.path.lower()
    base = base[:-3] if base.endswith(".gz") else base
    if data.startswith(parquet.MAGIC):
        return parquet.FORMAT
    for extension, format in _EXTENSIONS.items():
        if base.endswith(extension):
            return format
    head = data[:_SNIFF_BYTES]
    head = head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head
    first = next(
        (line for line in head.decode("utf-8", errors="replace").splitlines() if line.strip()), ""
    )
    if first.lstrip().startswith("{") or base.endswith(".json"):
        return json_lines.FORMAT
    if first.lstrip().startswith(plain_text.COMMENT):
        return plain_text.FORMAT
    delimiter = "\t" if "\t" in first else "," if "," in first else None
    if delimiter is None:
        # One field naming a hash column ("hash", "pdq"): a one-column CSV's header,
        # which plain text would report as a bad hash on line 1.
        if Columns.recognise([first.strip()]).hashes:
            return "tsv" if base.endswith(".tsv") else "csv"
        return plain_text.FORMAT
    fields = [field.strip() for field in delimited.header_fields(first, delimiter)]
    if any(_HASH_LIKE.match(field) for field in fields):  # a data line: no header
        return hma_bank_csv.FORMAT if delimiter == "," else plain_text.FORMAT
    if delimiter == "," and threatexchange_csv.matches(fields):
        return threatexchange_csv.FORMAT
    if Columns.recognise(fields).hashes:
        return "tsv" if delimiter == "\t" else "csv"
    problem = ListProblem.make(
        source.path,
        1,
        ProblemKind.UNREADABLE,
        "cannot tell the list format: the first line is neither a header naming a hash column"
        " nor a hash",
        first,
    )
    raise ListFormatError([problem])
