"""ThreatExchange dataset CSV, as written by ``threatexchange dataset -P --csv``.

Header ``signal_type,signal_str,collab,category,tags`` (python-threatexchange
``cli/dataset_cmd.py``): the signal type names the algorithm (``pdq``,
``video_md5``...; types photosieve does not match, like ``url``, are
problems), ``collab`` is kept as the entry's bank, ``tags`` (joined by
spaces upstream) become labels, ``category`` is carried as metadata.
"""

from __future__ import annotations

from photosieve.lists import delimited
from photosieve.lists.columns import Columns, normalise_name
from photosieve.lists.source import Source
from photosieve.lists.validate import ReadResult

FORMAT = "threatexchange"
HEADER = ("signal_type", "signal_str", "collab", "category", "tags")


def matches(header: list[str]) -> bool:
    """Whether a CSV header is ThreatExchange's (any column order)."""
    return sorted(normalise_name(name) for name in header) == sorted(HEADER)


def read(source: Source) -> ReadResult:
    result = delimited.read(source, delimiter=",")
    # Any column order: roles come from the names, which sniffing checked are HEADER.
    names = result.table.column_names
    mapping = {normalise_name(name): name for name in names}
    columns = Columns(
        hashes=[(mapping["signal_str"], None)],
        algorithm=mapping["signal_type"],
        bank=mapping["collab"],
        labels=mapping["tags"],
        extra=[mapping["category"]],
    )
    result.columns = columns
    return result
