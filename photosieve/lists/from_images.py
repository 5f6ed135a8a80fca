"""Build a known-hash list from the images themselves, with sub-window hashes so crops match.

A list of plain PDQ hashes finds crops only through query-side guesses
(:data:`photosieve.robust.expansion.CENTRED_UNCROPS` and friends). An operator who
holds the images can do better: :func:`image_rows` stores, per image, its
plain PDQ hash (bit-exact, as any PDQ tool computes it from the same file)
plus the PDQ hashes of sub-windows at several sizes and positions
(:data:`photosieve.robust.expansion.DEFAULT_WINDOWS`), of the content inside uniform
borders and of the dominant region when the image has them, and optionally
second-opinion hashes (gradient, pHash) of each. A crop of a listed image
then hashes close to the window it kept, and the match row can say which
window that was: every row carries ``variant`` (``""`` for the whole image,
``"window x,y,w,h"``, ``"borders x,y,w,h"``, ``"region x,y,w,h"``).

``lists build`` applies this to files, folders and globs, found as an audit
finds objects, decoding every file whatever its name and accounting for each
(:mod:`photosieve.lists.build`).

Decoding is exact by default, unlike an audit's: a list is built once,
shared, and compared with hashes other tools computed (``pdqhash``, HMA,
python-threatexchange), so its plain PDQ hash should be theirs bit for bit;
the cost is paid once per listed image, not per audit. ``fast`` decodes at
reduced size (the shorter side kept at least :data:`WINDOW_MIN_SIDE`, which
windows are hashed from anyway) and stores what ``audit --decode fast
--fast-min-side 512`` computes: within a few bits of exact, 2.5x faster
on 12 MP JPEGs.

The output is an ordinary list file (CSV, TSV, JSON Lines or Parquet, by
extension; ``.gz`` allowed) with the columns ``algorithm``, ``hash``,
``id``, ``quality`` and ``variant`` (and ``labels`` when labels were
given), so :func:`photosieve.lists.read_list` reads it back and keeps
``variant`` and the labels as metadata. Match such a list with the
``robust-windows`` mode (:mod:`photosieve.robust.modes`): its threshold is
calibrated for the number of windows stored.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from photosieve.decode import DecodeOptions, decode
from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.hashes import pdq, pdq_fast
from photosieve.hashing import full_shape as decoded_full_shape
from photosieve.lists.columns import LABEL_SEPARATORS
from photosieve.lists.image_sources import ID_FROM
from photosieve.reading import DEFAULT_MAX_OBJECT_BYTES
from photosieve.robust.expansion import (
    DEFAULT_WINDOWS,
    SECOND_OPINIONS,
    WINDOW,
    QueryExpansion,
    Window,
    query_hashes,
    second_opinion_hashes,
    window_hashes,
)
from photosieve.robust.regions import Box

__all__ = [
    "COLUMNS",
    "DECODES",
    "LABELS",
    "VARIANT",
    "ListBuildOptions",
    "ListRow",
    "check_output",
    "decode_options",
    "file_rows",
    "has_windows",
    "image_rows",
    "write_rows",
]

# Output columns, in order; "variant" and "labels" are metadata the list
# readers keep. "labels" is written only when some row has labels, so a list
# built without them has the same bytes (and version) as before the flag.
VARIANT = "variant"
LABELS = "labels"
COLUMNS = ("algorithm", "hash", "id", "quality", VARIANT)
# Windows are hashed from the image box-reduced to at least this shorter
# side (PDQ's filter is applied at full resolution, see pdq_fast): enough
# for PDQ's 64 x 64 grid, and ~100x cheaper than full-resolution products.
WINDOW_MIN_SIDE = 512
DECODES = ("exact", "fast")  # --decode's choices, the default first (see the module doc)


@dataclass(frozen=True)
class ListRow:
    """One hash of one listed image.

    Attributes:
        algorithm: "pdq", "gradient" or "phash".
        hash: hex.
        id: the image's id (its path relative to the folder given).
        quality: PDQ quality (None for other algorithms).
        variant: what was hashed ("" for the whole image).
        labels: labels of the entry (``--label``).
    """

    algorithm: str
    hash: str
    id: str
    quality: int | None
    variant: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListBuildOptions:
    """What to store per image.

    Attributes:
        windows: sub-windows to hash (empty: none, a plain list).
        borders: also hash the content inside uniform borders and the
            dominant region, when found.
        second_opinions: also store these algorithms' hashes ("gradient",
            "phash") of every hashed picture, with the same variants.
        decode: how to decode; exact by default, so the plain PDQ hash is
            bit-exact with other PDQ tools (:func:`decode_options` makes
            the fast one lists use).
        labels: labels stored on every entry.
        id_from: each entry's id: ``path`` (relative to the input that
            found the file), ``name`` (the file name) or ``digest`` (the
            SHA-256 of its bytes, hex, as in the hashes table).
        max_bytes: larger files are not read (a ``too_large`` failure).
    """

    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    borders: bool = True
    second_opinions: tuple[str, ...] = ()
    decode: DecodeOptions = field(default_factory=lambda: DecodeOptions(mode="exact"))
    labels: tuple[str, ...] = ()
    id_from: str = ID_FROM[0]
    max_bytes: int = DEFAULT_MAX_OBJECT_BYTES

    def __post_init__(self) -> None:
        unknown = sorted(set(self.second_opinions) - set(SECOND_OPINIONS))
        if unknown:
            raise ConfigError(
                f"second opinions must be among {', '.join(SECOND_OPINIONS)}; got {', '.join(unknown)}"
            )
        if self.id_from not in ID_FROM:
            raise ConfigError(f"id from must be one of {', '.join(ID_FROM)}; got {self.id_from!r}")
        for label in self.labels:
            # The reader splits a labels cell on these: such a label would come back as two.
            if not label or re.search(LABEL_SEPARATORS, label):
                raise ConfigError(
                    f"label {label!r}: labels must be non-empty, without spaces, ',', ';' or '|'"
                )


def decode_options(mode: str) -> DecodeOptions:
    """How lists decode in ``mode``: exact, or fast keeping the side windows are hashed from.

    Fast mode's usual floor (256 px) would leave a small window a few dozen
    pixels; :data:`WINDOW_MIN_SIDE` keeps windows hashed from what exact mode
    hashes them from, so fast and exact lists differ in the plain hash only
    by fast PDQ's few bits.
    """
    if mode not in DECODES:
        raise ConfigError(f"decode must be one of {', '.join(DECODES)}; got {mode!r}")
    if mode == "exact":
        return DecodeOptions(mode="exact")
    return DecodeOptions(mode="fast", fast_min_side=WINDOW_MIN_SIDE)


def _reduced(pixels: np.ndarray) -> np.ndarray:
    """The pixels box-reduced by the largest integer factor keeping WINDOW_MIN_SIDE."""
    factor = max(1, min(pixels.shape[:2]) // WINDOW_MIN_SIDE)
    if factor == 1:
        return pixels
    return np.asarray(Image.fromarray(np.ascontiguousarray(pixels), "RGB").reduce(factor))


def image_rows(
    image_id: str,
    pixels: np.ndarray,
    options: ListBuildOptions = ListBuildOptions(),
    full_shape: tuple[int, int] | None = None,
) -> list[ListRow]:
    """The list rows of one decoded image (H x W x 3 uint8 RGB).

    ``full_shape`` is the image's (rows, cols) at full resolution when
    ``pixels`` were reduced while decoding (fast mode); windows and borders
    are placed in it, and the plain hash is fast PDQ's, as an audit in fast
    mode computes it. Without it, ``pixels`` are the full resolution.
    """
    full = tuple(pixels.shape[:2]) if full_shape is None else full_shape
    labels = options.labels
    if options.decode.mode == "fast":
        buffer = pdq_fast.buffer64(pixels, full)
        hashes, qualities = pdq.hash_buffers(buffer[None], exact=False)
        plain = pdq.results_from_hashes(hashes[0], int(qualities[0]), dihedral=False)
    else:
        plain = pdq.compute(np.ascontiguousarray(pixels))
    rows = [ListRow("pdq", plain.hash.to_hex(), image_id, plain.quality, "", labels)]
    pictures, variants = [pixels], [""]
    reduced = _reduced(pixels)
    if options.borders:
        expansion = QueryExpansion(dihedral=False, borders=True, region=True, rotation=False)
        for result in query_hashes(reduced, full, expansion):
            rows.append(
                ListRow(
                    "pdq", result.hash.to_hex(), image_id, result.quality, result.variant, labels
                )
            )
            box = _box_of(result.variant, pixels.shape)
            pictures.append(box.crop(pixels))
            variants.append(result.variant)
    for result in window_hashes(reduced, full, options.windows, options.second_opinions):
        quality = result.quality if result.hash.algorithm == "pdq" else None
        rows.append(
            ListRow(
                result.hash.algorithm, result.hash.to_hex(), image_id, quality, result.variant, labels
            )
        )
    for algorithm in options.second_opinions:
        for result in second_opinion_hashes(pictures, variants, algorithm, dihedral=False):
            rows.append(
                ListRow(algorithm, result.hash.to_hex(), image_id, None, result.variant, labels)
            )
    return rows


def _box_of(variant: str, shape: tuple[int, ...]) -> Box:
    """The pixel box a ``"name x,y,w,h"`` variant label describes, in an image of ``shape``.

    The label's shares are rounded to 3 decimals each, so a box reaching the
    bottom or right edge can read ``y + h = 1.001``: the box is clipped to
    the image rather than rejected (a :class:`Window` would refuse it).
    """
    x, y, w, h = (float(v) for v in variant.partition(" ")[2].split(","))
    height, width = shape[:2]
    return Box(
        round(x * width),
        round(y * height),
        min(width, round((x + w) * width)),
        min(height, round((y + h) * height)),
    )


def file_rows(
    image_id: str, data: bytes, options: ListBuildOptions = ListBuildOptions()
) -> list[ListRow]:
    """The list rows of one image file's bytes: what ``lists build`` writes for it.

    Only the first frame of an animated image is listed. Benchmarks call
    this too, so that what they calibrate against is what ``lists build``
    stores.

    Raises:
        DecodeError: the bytes cannot be decoded, or the image is too small
            to hash (reason ``TOO_SMALL``).
    """
    image = decode(data, options.decode)[0]
    full = decoded_full_shape(image)
    if min(full) < pdq.PDQ_MIN_HASHABLE_DIM:
        raise DecodeError(FailureReason.TOO_SMALL, f"too small to hash: {full[1]}x{full[0]}")
    return image_rows(image_id, image.pixels, options, full)


def check_output(path: str) -> None:
    """Refuse an output name :func:`write_rows` cannot write, before any image is decoded."""
    base = path.removesuffix(".gz")
    if base.endswith(".parquet") and path.endswith(".gz"):
        raise ConfigError("Parquet lists are compressed internally: drop the .gz")
    if not base.endswith((".parquet", ".jsonl", ".csv", ".tsv")):
        raise ConfigError(
            f"list output {path!r}: use a .csv, .tsv, .jsonl or .parquet name (optionally .gz)"
        )


def write_rows(rows: Iterable[ListRow], path: str) -> int:
    """Write rows as CSV, TSV, JSON Lines or Parquet (by extension, optionally ``.gz``); returns the count.

    Labels go in a ``labels`` column (joined with ``,``, which the readers
    split on) only when some row has them.
    """
    check_output(path)
    rows = list(rows)
    base = path.removesuffix(".gz")
    columns = COLUMNS + ((LABELS,) if any(row.labels for row in rows) else ())
    records = [
        {name: ",".join(row.labels) if name == LABELS else getattr(row, name) for name in columns}
        for row in rows
    ]
    if base.endswith(".parquet"):
        types = {"quality": pa.int32()}
        schema = pa.schema([(name, types.get(name, pa.string())) for name in columns])
        pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
        return len(rows)
    if base.endswith(".jsonl"):
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, columns, delimiter="\t" if base.endswith(".tsv") else ",", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        data = buffer.getvalue()
    raw = data.encode()
    if path.endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)  # same rows, same bytes, same list version
    with open(path, "wb") as handle:
        handle.write(raw)
    return len(rows)


def has_windows(variants: Sequence[str]) -> bool:
    """Whether a list's ``variant`` values show it was built from images with windows."""
    return any(v.startswith(WINDOW + " ") for v in variants)
