"""Which input column means what: hash, algorithm, id, labels, bank, quality, error.

Every format reader produces a ``pyarrow`` table plus a :class:`Columns`
mapping; validation only ever looks at roles, never at a format's own
column names. Header names are matched case-insensitively, with spaces and
dashes read as underscores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from photosieve import algorithms
from photosieve.errors import ConfigError

# Column names that hold a hash of an algorithm given elsewhere (column, prefix, length).
HASH_NAMES = ("hash", "hash_hex", "hash_value", "signal_str", "signal", "hex", "digest")
ALGORITHM_NAMES = ("algorithm", "signal_type", "hash_type", "algo")
ID_NAMES = ("id", "hash_id", "signal_id", "entry_id", "item_id")
# Several labels per cell, split on LABEL_SEPARATORS (ThreatExchange joins tags with spaces).
LABELS_NAMES = ("labels", "tags")
LABEL_NAMES = ("label",)  # one label per cell, kept whole
BANK_NAMES = ("list", "bank", "bank_name", "list_name", "collab")
QUALITY_NAMES = ("quality", "pdq_quality")
# Without an id column, the object a hash came from names it: ``photosieve hash``
# writes ``path``, photosieve's own tables ``uri``. Lower priority than ID_NAMES.
FALLBACK_ID_NAMES = ("path", "uri")
# The failure class of an object that gave no hash (``photosieve hash``'s error
# rows): a row with one and no hash is a record of a failure, not a bad list line.
ERROR_NAMES = ("error",)
LABEL_SEPARATORS = r"[\s,;|]+"
# ``photosieve hash``'s CSV header (its writer, pipelines/hash_cli, uses this).
# Its text cells are spreadsheet-safe (photosieve.text.spreadsheet_cell: one
# ``'`` before a leading ``= + - @ ' TAB CR``), so its ``path``, read as an
# id, drops that ``'`` (:func:`unguard`) to be the name the tables hold.
HASH_OUTPUT_COLUMNS = (
    "path", "frame", "timestamp", "algorithm", "orientation", "hash", "quality",
    "width", "height", "format", "exif_transposed", "scale", "error", "message",
)
_GUARDED = r"^'([=+\-@\t\r'])"

# Names other tools give our algorithms. ThreatExchange calls MD5 of videos
# and photos "video_md5"/"photo_md5" (python-threatexchange signal types).
ALGORITHM_ALIASES = {
    "video_md5": "md5",
    "photo_md5": "md5",
    "sha-256": "sha256",
    "sha_256": "sha256",
    "pdq_hash": "pdq",
}


def normalise_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def canonical_algorithm(name: str) -> str | None:
    """The registered algorithm a (user-spelled) name means, or None."""
    key = normalise_name(name)
    key = ALGORITHM_ALIASES.get(key, key)
    return key if key in algorithms.names() else None


@dataclass
class Columns:
    """Roles of a table's columns.

    Attributes:
        hashes: (column, implied algorithm or None) per hash column; a
            column named after an algorithm (``pdq``, ``md5``...) implies it.
        algorithm / id / labels / label / bank / quality: column names or None.
            ``id`` is a ``path``/``uri`` column when no id column is named.
        error: a column whose non-empty cells mark rows that record a
            failure instead of a hash (skipped, not counted as lines), or None.
        extra: every other column, carried as metadata.
    """

    hashes: list[tuple[str, str | None]] = field(default_factory=list)
    algorithm: str | None = None
    id: str | None = None
    labels: str | None = None
    label: str | None = None
    bank: str | None = None
    quality: str | None = None
    error: str | None = None
    extra: list[str] = field(default_factory=list)

    @classmethod
    def recognise(cls, names: list[str]) -> Columns:
        """Assign roles by header name; the first column of each role wins."""
        columns = cls()
        for name in names:
            key = normalise_name(name)
            implied = canonical_algorithm(key)
            if key in HASH_NAMES or implied is not None:
                columns.hashes.append((name, implied))
                continue
            for role, known in (
                ("algorithm", ALGORITHM_NAMES),
                ("id", ID_NAMES),
                ("labels", LABELS_NAMES),
                ("label", LABEL_NAMES),
                ("bank", BANK_NAMES),
                ("quality", QUALITY_NAMES),
                ("error", ERROR_NAMES),
            ):
                if key in known and getattr(columns, role) is None:
                    setattr(columns, role, name)
                    break
            else:
                columns.extra.append(name)
        if columns.id is None:
            fallback = [name for name in columns.extra if normalise_name(name) in FALLBACK_ID_NAMES]
            if fallback:
                columns.id = fallback[0]
                columns.extra.remove(fallback[0])
        return columns

    def check(self, names: list[str]) -> None:
        if not self.hashes:
            expected = ", ".join(HASH_NAMES + tuple(algorithms.names()))
            raise ConfigError(f"no hash column among {names}; expected one of: {expected}")


def unguard(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Spreadsheet-safe cells back to their values: one ``'`` before a formula start removed."""
    return pc.replace_substring_regex(as_strings(values), _GUARDED, "\\1", max_replacements=1)


def split_labels(values: pa.Array, *, split: bool) -> pa.ListArray:
    """A string column as list<string>: split on LABEL_SEPARATORS (or kept whole), no empties."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        # Already a list per row (Parquet, JSON arrays): keep the items whole.
        parts = pc.cast(pc.fill_null(values, pa.scalar([], values.type)), pa.list_(pa.string()))
        parts = pa.ListArray.from_arrays(parts.offsets, pc.utf8_trim_whitespace(parts.values))
    elif split:
        values = as_strings(values)
        parts = pc.split_pattern_regex(pc.fill_null(values, ""), LABEL_SEPARATORS)
    else:
        trimmed = pc.utf8_trim_whitespace(pc.fill_null(as_strings(values), ""))
        parts = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), trimmed)
    flat = pc.list_flatten(parts)
    parent = np.asarray(pc.list_parent_indices(parts))
    keep = np.asarray(pc.not_equal(flat, ""))
    flat = flat.filter(pa.array(keep))
    offsets = np.searchsorted(parent[keep], np.arange(n + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as one string array (numbers are formatted, lists joined by spaces)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        values = pc.binary_join(pc.cast(values, pa.list_(pa.string())), " ")
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return values
