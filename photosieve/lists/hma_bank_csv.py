"""Headerless ``hash,id,timestamp,tags`` CSV: the sample banks of Meta's hasher-matcher-actioner.

No header: every line is an entry. The algorithm comes from the hash's
length or the ``algorithm`` option; ``tags`` become labels; ``timestamp`` is
carried as metadata. Lines with another number of fields are problems.
"""

from __future__ import annotations

from photosieve.lists import delimited
from photosieve.lists.columns import Columns
from photosieve.lists.source import Source
from photosieve.lists.validate import ReadResult

FORMAT = "hma"
NAMES = ["hash", "id", "timestamp", "tags"]


def read(source: Source) -> ReadResult:
    columns = Columns(hashes=[("hash", None)], id="id", labels="tags", extra=["timestamp"])
    return delimited.read(source, delimiter=",", names=list(NAMES), columns=columns)
