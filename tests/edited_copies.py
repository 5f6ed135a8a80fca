"""Generated originals, edited copies of them and both kinds of list, for the matching-mode tests.

Everything is generated with numpy and Pillow (see ``tests/transforms/samples.py``
for the scenes). The expected matches are never written here: the tests
compute them with :func:`photosieve.robust.modes.match`, the reference rule,
from the list file read with :mod:`csv` (not photosieve's readers) and the
core's :class:`~photosieve.hashing.ImageHasher`.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image, ImageDraw

from photosieve.hashing import HashPlan, ImageHasher
from photosieve.lists.from_images import ListBuildOptions, image_rows, write_rows
from photosieve.robust.modes import CONFIGS, ListEntries, MatchConfig, RobustMatch, match
from tests.transforms import samples

# Listed originals (seeds of samples.picture) and their size.
ORIGINALS = (0, 1, 2, 3)
SIZE = (320, 240)


def original(seed: int) -> Image.Image:
    return samples.picture(seed, SIZE)


def _screenshot(image: Image.Image) -> Image.Image:
    """The image shrunk to 80% inside an app-like canvas: title bar, side panel, menu lines."""
    width, height = image.size
    canvas = Image.new("RGB", (round(width * 1.3), round(height * 1.5)), (236, 236, 240))
    draw = ImageDraw.Draw(canvas)
    bar = canvas.height // 12
    draw.rectangle((0, 0, canvas.width, bar), fill=(40, 40, 48))
    draw.rectangle((0, bar, canvas.width // 6, canvas.height), fill=(222, 226, 230))
    for i in range(5):
        y = bar + (i + 1) * canvas.height // 10
        draw.line((8, y, canvas.width // 7, y), fill=(90, 90, 90), width=2)
    shown = image.resize((round(width * 0.8), round(height * 0.8)), Image.Resampling.BILINEAR)
    canvas.paste(shown, (canvas.width // 6 + 12, bar + 20))
    return canvas


def _letterbox(image: Image.Image, bar: int) -> Image.Image:
    canvas = Image.new("RGB", (image.width, image.height + 2 * bar), (0, 0, 0))
    canvas.paste(image, (0, bar))
    return canvas


def _padded(image: Image.Image, share: float) -> Image.Image:
    pad_x, pad_y = round(image.width * share), round(image.height * share)
    canvas = Image.new("RGB", (image.width + 2 * pad_x, image.height + 2 * pad_y), (255, 255, 255))
    canvas.paste(image, (pad_x, pad_y))
    return canvas


def edited_copies() -> dict[str, bytes]:
    """File name -> bytes: planted edits of the originals, an untouched copy and two decoys."""
    o = {seed: original(seed) for seed in ORIGINALS}
    w, h = SIZE
    edits = {
        "copy-0.png": o[0],
        "crop-centre-0.png": o[0].crop((16, 12, w - 16, h - 12)),
        "crop-corner-1.png": o[1].crop((0, 0, round(0.8 * w), round(0.8 * h))),
        "letterbox-1.png": _letterbox(o[1], 40),
        "pad-2.png": _padded(o[2], 0.1),
        "screenshot-2.png": _screenshot(o[2]),
        "rotate90-3.png": o[3].transpose(Image.Transpose.ROTATE_90),
        "mirror-crop-3.png": o[3]
        .transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        .crop((0, 0, round(0.8 * w), round(0.8 * h))),
        "rotate5-0.png": o[0].rotate(5, resample=Image.Resampling.BICUBIC, expand=False),
        "decoy-a.png": samples.picture(40, SIZE),
        "decoy-b.png": samples.picture(41, (300, 300)),
    }
    return {name: samples.encode(image, "PNG") for name, image in edits.items()}


def write_archive(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = edited_copies()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def write_originals(folder: Path) -> None:
    """The originals as PNG files, for ``photosieve lists build --from-images``."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in ORIGINALS:
        original(seed).save(folder / f"img{seed}.png")


def write_hash_list(path: Path) -> None:
    """A hash-only PDQ list as users bring them: hash, algorithm, id and labels columns.

    Holds each original's plain PDQ hash, and one extra line that re-lists
    image 1's hash under a second id (a merged duplicate).
    """
    lines = ["hash,algorithm,id,labels"]
    for seed in ORIGINALS:
        pixels = np.asarray(original(seed))
        plain = image_rows(f"img{seed}", pixels, ListBuildOptions(windows=(), borders=False))[0]
        lines.append(f"{plain.hash},pdq,img{seed},case-{seed} seed")
        if seed == 1:
            lines.append(f"{plain.hash},pdq,img1-again,case-dup")
    path.write_text("\n".join(lines) + "\n")


def write_window_list(path: Path, second_opinions: Sequence[str] = ()) -> None:
    """A list built from the originals (as ``lists build --from-images`` does), plus a
    line listing the hash of one of image 0's windows as a whole image of its own."""
    rows = []
    for seed in ORIGINALS:
        options = ListBuildOptions(second_opinions=tuple(second_opinions))
        rows += image_rows(f"img{seed}.png", np.asarray(original(seed)), options)
    window = next(r for r in rows if r.variant.startswith("window ") and r.algorithm == "pdq")
    rows.append(type(window)("pdq", window.hash, "crop-of-img0.png", window.quality, ""))
    write_rows(rows, str(path))


def read_entries(path: Path) -> ListEntries:
    """The reference's view of a list file, read with the csv module (every line an entry)."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode()
    rows = [
        SimpleNamespace(
            algorithm=row["algorithm"],
            hash=row["hash"],
            id=row["id"],
            variant=row.get("variant") or "",
        )
        for row in csv.DictReader(io.StringIO(text))
    ]
    return ListEntries.from_rows(rows)


def plan_for(mode: str, others: Sequence[str] = ()) -> HashPlan:
    """The hash plan of a run in ``mode``: PDQ, its second algorithm and ``others``, and the
    mode's query expansion."""
    expansion = CONFIGS[mode].expansion
    return HashPlan(
        ("pdq", *expansion.second_opinions, *others),
        pdq_dihedral=expansion.dihedral,
        query_expansion=expansion,
    )


def reference(
    files: dict[str, bytes],
    entries: ListEntries,
    config: str | MatchConfig,
    *,
    quality_cutoff: int = 50,
    plan: HashPlan | None = None,
) -> dict[str, list[RobustMatch]]:
    """File name -> modes.match of its first frame's hashes (those above the quality cutoff)."""
    config = CONFIGS[config] if isinstance(config, str) else config
    hasher = ImageHasher(plan or plan_for(config.name))
    out = {}
    for name, data in files.items():
        results = hasher.hash_bytes(name, data).frames[0].results
        kept = [
            r
            for r in results
            if not (r.hash.algorithm == "pdq" and (r.quality or 0) < quality_cutoff)
        ]
        out[name] = match(kept, entries, config)
    return out
