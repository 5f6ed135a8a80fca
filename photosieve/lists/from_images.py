"""Build a known-hash list from the images themselves, with sub-window hashes so crops match.

A list of plain PDQ hashes finds crops only through query-side guesses
(:data:`photosieve.robust.expansion.CENTRED_UNCROPS` and friends). An operator who
holds the images can do better: :func:`build_rows` stores, per image, its
plain PDQ hash (bit-exact, as any PDQ tool computes it from the same file)
plus the PDQ hashes of sub-windows at several sizes and positions
(:data:`photosieve.robust.expansion.DEFAULT_WINDOWS`), of the content inside uniform
borders and of the dominant region when the image has them, and optionally
second-opinion hashes (gradient, pHash) of each. A crop of a listed image
then hashes close to the window it kept, and the match row can say which
window that was: every row carries ``variant`` (``""`` for the whole image,
``"window x,y,w,h"``, ``"borders x,y,w,h"``, ``"region x,y,w,h"``).

The output is an ordinary list file (CSV, TSV, JSON Lines or Parquet, by
extension; ``.gz`` allowed) with the columns ``algorithm``, ``hash``,
``id``, ``quality`` and ``variant``, so :func:`photosieve.lists.read_list`
reads it back and keeps ``variant`` as metadata. Match such a list with the
``robust-windows`` mode (:mod:`photosieve.robust.modes`): its threshold is
calibrated for the number of windows stored.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from photosieve.decode import DecodeOptions, decode
from photosieve.errors import ConfigError, DecodeError, FailureReason
from photosieve.hashes import pdq
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
from photosieve.text import printable

__all__ = [
    "COLUMNS",
    "VARIANT",
    "BuildReport",
    "ListBuildOptions",
    "ListRow",
    "build_list",
    "build_rows",
    "file_rows",
    "has_windows",
    "image_rows",
    "write_rows",
]

logger = logging.getLogger(__name__)

# Output columns, in order; "variant" is metadata the list readers keep.
VARIANT = "variant"
COLUMNS = ("algorithm", "hash", "id", "quality", VARIANT)
# Windows are hashed from the image box-reduced to at least this shorter
# side (PDQ's filter is applied at full resolution, see pdq_fast): enough
# for PDQ's 64 x 64 grid, and ~100x cheaper than full-resolution products.
WINDOW_MIN_SIDE = 512
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


@dataclass(frozen=True)
class ListRow:
    """One hash of one listed image.

    Attributes:
        algorithm: "pdq", "gradient" or "phash".
        hash: hex.
        id: the image's id (its path relative to the folder given).
        quality: PDQ quality (None for other algorithms).
        variant: what was hashed ("" for the whole image).
    """

    algorithm: str
    hash: str
    id: str
    quality: int | None
    variant: str


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
            bit-exact with other PDQ tools.
    """

    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    borders: bool = True
    second_opinions: tuple[str, ...] = ()
    decode: DecodeOptions = field(default_factory=lambda: DecodeOptions(mode="exact"))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.second_opinions) - set(SECOND_OPINIONS))
        if unknown:
            raise ConfigError(
                f"second opinions must be among {', '.join(SECOND_OPINIONS)}; got {', '.join(unknown)}"
            )


def _reduced(pixels: np.ndarray) -> np.ndarray:
    """The pixels box-reduced by the largest integer factor keeping WINDOW_MIN_SIDE."""
    factor = max(1, min(pixels.shape[:2]) // WINDOW_MIN_SIDE)
    if factor == 1:
        return pixels
    return np.asarray(Image.fromarray(np.ascontiguousarray(pixels), "RGB").reduce(factor))


def image_rows(
    image_id: str, pixels: np.ndarray, options: ListBuildOptions = ListBuildOptions()
) -> list[ListRow]:
    """The list rows of one decoded image (H x W x 3 uint8 RGB, full resolution)."""
    rows: list[ListRow] = []
    plain = pdq.compute(np.ascontiguousarray(pixels))
    rows.append(ListRow("pdq", plain.hash.to_hex(), image_id, plain.quality, ""))
    pictures, labels = [pixels], [""]
    reduced = _reduced(pixels)
    full_shape = pixels.shape[:2]
    if options.borders:
        expansion = QueryExpansion(dihedral=False, borders=True, region=True, rotation=False)
        for result in query_hashes(reduced, full_shape, expansion):
            rows.append(
                ListRow("pdq", result.hash.to_hex(), image_id, result.quality, result.variant)
            )
            box = _box_of(result.variant, pixels.shape)
            pictures.append(box.crop(pixels))
            labels.append(result.variant)
    for result in window_hashes(
        reduced, full_shape, options.windows, options.second_opinions
    ):
        quality = result.quality if result.hash.algorithm == "pdq" else None
        rows.append(
            ListRow(result.hash.algorithm, result.hash.to_hex(), image_id, quality, result.variant)
        )
    for algorithm in options.second_opinions:
        for result in second_opinion_hashes(pictures, labels, algorithm, dihedral=False):
            rows.append(ListRow(algorithm, result.hash.to_hex(), image_id, None, result.variant))
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


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted, by extension."""
    if not folder.is_dir():
        raise ConfigError(f"--from-images: {folder} is not a folder")
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def file_rows(
    image_id: str, data: bytes, options: ListBuildOptions = ListBuildOptions()
) -> list[ListRow]:
    """The list rows of one image file's bytes: what :func:`build_rows` writes for it.

    Only the first frame of an animated image is listed. Benchmarks call
    this too, so that what they calibrate against is what ``lists build``
    stores.

    Raises:
        DecodeError: the bytes cannot be decoded, or the image is too small
            to hash (reason ``TOO_SMALL``).
    """
    pixels = decode(data, options.decode)[0].pixels
    if min(pixels.shape[:2]) < pdq.PDQ_MIN_HASHABLE_DIM:
        raise DecodeError(
            FailureReason.TOO_SMALL, f"too small to hash: {pixels.shape[1]}x{pixels.shape[0]}"
        )
    return image_rows(image_id, pixels, options)


def build_rows(
    folder: Path, options: ListBuildOptions = ListBuildOptions()
) -> Iterator[ListRow | tuple[str, str]]:
    """Rows for every image under ``folder``; an image that cannot be listed yields ``(id, reason)``.

    Ids are paths relative to ``folder``, with ``/`` separators. Only the
    first frame of animated images is listed.
    """
    for path in find_images(folder):
        image_id = path.relative_to(folder).as_posix()
        try:
            rows = file_rows(image_id, path.read_bytes(), options)
        except DecodeError as exc:
            too_small = exc.reason is FailureReason.TOO_SMALL
            yield image_id, exc.message if too_small else f"{exc.reason.value}: {exc.message}"
            continue
        yield from rows


def write_rows(rows: Iterable[ListRow], path: str) -> int:
    """Write rows as CSV, TSV, JSON Lines or Parquet (by extension, optionally ``.gz``); returns the count."""
    rows = list(rows)
    base = path.removesuffix(".gz")
    records = [{name: getattr(row, name) for name in COLUMNS} for row in rows]
    if base.endswith(".parquet"):
        if path.endswith(".gz"):
            raise ConfigError("Parquet lists are compressed internally: drop the .gz")
        schema = pa.schema(
            [
                ("algorithm", pa.string()),
                ("hash", pa.string()),
                ("id", pa.string()),
                ("quality", pa.int32()),
                (VARIANT, pa.string()),
            ]
        )
        pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
        return len(rows)
    if base.endswith(".jsonl"):
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    elif base.endswith((".csv", ".tsv")):
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, COLUMNS, delimiter="\t" if base.endswith(".tsv") else ",", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        data = buffer.getvalue()
    else:
        raise ConfigError(
            f"list output {path!r}: use a .csv, .tsv, .jsonl or .parquet name (optionally .gz)"
        )
    raw = data.encode()
    if path.endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)  # same rows, same bytes, same list version
    with open(path, "wb") as handle:
        handle.write(raw)
    return len(rows)


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_list` did.

    Attributes:
        images: images listed.
        rows: rows written (hashes, all algorithms and variants).
        failures: (id, reason) of the images that could not be listed.
    """

    images: int
    rows: int
    failures: tuple[tuple[str, str], ...]


def build_list(
    folder: Path, output: str, options: ListBuildOptions = ListBuildOptions()
) -> BuildReport:
    """Hash every image under ``folder`` and write the list to ``output``.

    Raises:
        ConfigError: ``folder`` is not a folder, holds no images, or
            ``output`` has an unknown extension.
    """
    images = find_images(folder)
    if not images:
        raise ConfigError(
            f"--from-images: no image files ({', '.join(IMAGE_SUFFIXES)}) under {folder}"
        )
    rows: list[ListRow] = []
    failures: list[tuple[str, str]] = []
    listed: set[str] = set()
    for item in build_rows(folder, options):
        if isinstance(item, ListRow):
            rows.append(item)
            listed.add(item.id)
        else:
            failures.append(item)
            logger.warning("not listed: %s (%s)", *map(printable, item))
    write_rows(rows, output)
    return BuildReport(len(listed), len(rows), tuple(failures))


def has_windows(variants: Sequence[str]) -> bool:
    """Whether a list's ``variant`` values show it was built from images with windows."""
    return any(v.startswith(WINDOW + " ") for v in variants)
