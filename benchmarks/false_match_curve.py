"""False-match curve: how often two different photos' PDQ hashes fall within distance d, counted over every comparison a robust audit makes.

The matching modes turn a false-match budget into a threshold with a union
bound (photosieve.robust.budget): expected false matches per scanned image
<= listed images x comparisons per (scanned image, listed image) x the
per-comparison rate at distance <= t. This script measures that rate, the
*curve*, and checks the bound:

1. On half A of the photos (``bench_robustness.split_of``), the histogram
   ``counts[d]`` (d = 0..256) of the Hamming distance between every query
   hash a shipped mode computes, of every version (original, every edit of
   ``benchmarks.edits``; plain, dihedral, borders/region/rotation variants,
   upright uncrop hypotheses) of photo i, and every list hash a shipped
   mode's list holds (plain, and every window/borders/region entry of a
   list built from images) of photo j != i. Which hashes are computed and
   held is what ``bench_robustness.mode_mask`` says for the shipped modes;
   the curve pairs all of them, a superset of the pairs a matcher compares
   (it never pairs an uncrop hypothesis with a window), to count more
   different-photo comparisons. Exact: numpy XOR and popcount over all
   pairs, in chunks, no sampling and no fit. The pooled curve is written to
   ``photosieve/robust/false_match_curve.json`` (counts only).
2. On half B, the same histogram, and per d whether B's count agrees with
   A's rate (a two-sided 99% test of two Poisson counts).
3. At the image-pair level on half B, per shipped mode: the share of
   (query image, list image) different-photo pairs whose best score is
   <= t, against the union bound (comparisons per pair x A's rate at <= t).
   The bound must hold; the ratio says how loose it is. Independence of a
   photo's hashes is not assumed (they are strongly dependent): the union
   bound needs none.
4. Hard negatives: different photos inside one shared template (the same
   screenshot chrome, caption bar, border, letterbox or banner, drawn with
   one seed), in the list and in the archive: their comparisons' histogram
   and the smallest distance (score) of a false pair per mode.

Usage (from the repository root; faiss from the ``bench`` extra)::

    .venv/bin/python -m benchmarks.false_match_curve --write-curve -o curve.md   # all photos
    .venv/bin/python -m benchmarks.false_match_curve --limit 12                  # a quick look

Hashes come from bench_robustness's per-photo cache (the same hashing), so
a second run costs the counting only. The photos are research-licensed:
only distance counts are written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from benchmarks import bench_robustness as robustness
from benchmarks.edits import apply_all
from photosieve.decode import decode
from photosieve.hashes import pdq
from photosieve.lists.from_images import image_rows

logger = logging.getLogger(__name__)

CURVE_PATH = Path(robustness.__file__).resolve().parents[1] / "photosieve" / "robust" / "false_match_curve.json"
BINS = pdq.PDQ_BITS + 1  # distances 0..256
# Query-hash groups of the split histogram: the plain kind is split by orientation.
QUERY_GROUPS = ("plain", "dihedral", "borders", "region", "rotation", "uncrop")
# List-hash groups, indexed by bench_robustness's list kinds (FULL, WINDOW, LIST_BORDERS, LIST_REGION).
LIST_GROUPS = ("full", "window", "borders", "region")
# Templates shared by different photos (hard negatives): edits drawn with one
# seed, so every photo gets the same chrome, colours and text strokes.
TEMPLATES = ("screenshot", "caption_bar_20", "pad_10", "letterbox_16_9", "overlay_10")
TEMPLATE_SEED = 7
REPORTED_DISTANCES = (20, 24, 31, 40, 50)
BOUND_ROWS = (0, 10, 20, 24, 28, 31, 36, 40, 50, 60, 70, 80, 90, 100)


# -- exact histograms ----------------------------------------------------------------------


def _words(bits: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes as (n, 4) uint64 words."""
    return np.ascontiguousarray(bits, dtype=np.uint8).view(np.uint64).reshape(-1, 4)


def _byte_histogram(values: np.ndarray) -> np.ndarray:
    """(256,) counts of a flat uint8 array (two values at a time: half the bincount work)."""
    out = np.zeros(256, np.int64)
    if len(values) % 2:
        out[values[-1]] += 1
        values = values[:-1]
    pairs = np.bincount(values.view(np.uint16), minlength=65536).reshape(256, 256)
    return out + pairs.sum(axis=0) + pairs.sum(axis=1)


def _equal_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """How many (x in a, y in b) are bit-for-bit equal ((n, 4) uint64 rows)."""
    if not len(a) or not len(b):
        return 0
    va = np.ascontiguousarray(a).view("V32").ravel()
    vb = np.sort(np.ascontiguousarray(b).view("V32").ravel())
    return int((np.searchsorted(vb, va, "right") - np.searchsorted(vb, va, "left")).sum())


def distance_histogram(a: np.ndarray, b: np.ndarray, chunk: int = 4_000_000) -> np.ndarray:
    """(257,) counts[d] of the pairs (x in a, y in b) at Hamming distance d: every pair, exactly.

    ``a``, ``b``: (n, 32) uint8 PDQ hashes. Distances are summed in uint8
    (fast), where 256 wraps to 0; pairs at 256 (exact complements) are
    counted apart and moved back.
    """
    x, y = _words(a), _words(b)
    out = np.zeros(BINS, np.int64)
    if not len(x) or not len(y):
        return out
    columns = np.ascontiguousarray(y.T)
    rows = max(1, chunk // len(y))
    xor = np.empty((rows, len(y)), np.uint64)
    word = np.empty((rows, len(y)), np.uint8)
    total = np.empty((rows, len(y)), np.uint8)
    for start in range(0, len(x), rows):
        part = x[start : start + rows]
        k = len(part)
        for w in range(4):
            np.bitwise_xor(part[:, w, None], columns[w][None, :], out=xor[:k])
            np.bitwise_count(xor[:k], out=word[:k] if w else total[:k])
            if w:
                np.add(total[:k], word[:k], out=total[:k])
        out[:256] += _byte_histogram(total[:k].ravel())
    complements = _equal_pairs(x, ~y)
    out[0] -= complements
    out[256] += complements
    return out


# -- which comparisons the modes make ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Flat:
    """The hashes of a set of photos, flattened (query rows and list rows), with what each row is."""

    q_bits: np.ndarray
    q_photo: np.ndarray
    q_version: np.ndarray
    q_kind: np.ndarray
    q_hypothesis: np.ndarray
    q_orientation: np.ndarray
    l_bits: np.ndarray
    l_photo: np.ndarray
    l_kind: np.ndarray
    l_window: np.ndarray
    photos: int
    versions: int


def flatten(photos: list[robustness.PhotoHashes]) -> Flat:
    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in photos])

    return Flat(
        q_bits=cat("bits"),
        q_photo=np.repeat(np.arange(len(photos)), [len(p.bits) for p in photos]),
        q_version=cat("version"),
        q_kind=cat("kind"),
        q_hypothesis=cat("hypothesis"),
        q_orientation=cat("orientation"),
        l_bits=cat("list_bits"),
        l_photo=np.repeat(np.arange(len(photos)), [len(p.list_bits) for p in photos]),
        l_kind=cat("list_kind"),
        l_window=cat("list_window"),
        photos=len(photos),
        versions=int(max(p.version.max() for p in photos)) + 1,
    )


def query_group(flat: Flat) -> np.ndarray:
    """QUERY_GROUPS index of each query row."""
    return np.where(
        flat.q_kind == robustness.PLAIN, (flat.q_orientation != 0).astype(np.int64), flat.q_kind + 1
    )


def _probe(flat: Flat, list_kind: int, list_window: int) -> SimpleNamespace:
    """Every query row against one list row of this kind and window, as mode_mask reads pairs."""
    n = len(flat.q_kind)
    return SimpleNamespace(
        kind=flat.q_kind,
        hypothesis=flat.q_hypothesis,
        orientation=flat.q_orientation,
        list_kind=np.full(n, list_kind, np.int8),
        list_window=np.full(n, list_window, np.int16),
        distance=np.zeros(n, np.int16),
    )


def _list_probe(flat: Flat) -> SimpleNamespace:
    """Every list row against a plain, upright query hash (which every mode compares with all it uses)."""
    n = len(flat.l_kind)
    return SimpleNamespace(
        kind=np.full(n, robustness.PLAIN, np.int8),
        hypothesis=np.zeros(n, np.int16),
        orientation=np.zeros(n, np.int8),
        list_kind=flat.l_kind,
        list_window=flat.l_window,
        distance=np.zeros(n, np.int16),
    )


def mode_rows(flat: Flat, mode: robustness.Mode) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per list kind: (query rows, list rows) masks the mode compares (a rectangle per kind).

    ``mode_mask`` decides per pair; for one list kind and window set it is a
    product of a query condition and a list condition, which this checks.
    """
    used_lists = robustness.mode_mask(_list_probe(flat), mode)
    out = {}
    for kind in range(len(LIST_GROUPS)):
        lists = used_lists & (flat.l_kind == kind)
        if not lists.any():
            continue
        windows = np.unique(flat.l_window[lists])
        queries = [robustness.mode_mask(_probe(flat, kind, int(w)), mode) for w in windows]
        if any((q != queries[0]).any() for q in queries[1:]):
            raise ValueError(f"mode {mode.name!r}: query hashes differ between list rows of one kind")
        out[kind] = (queries[0], lists)
    return out


def hash_rows(flat: Flat, modes: list[robustness.Mode]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The query rows any mode computes, and per list kind the list rows any mode uses.

    The curve counts every such query hash against every such list hash of
    another photo: a superset of the pairs a matcher compares (an uncrop
    hypothesis never meets a window, for one), so that the rate is counted
    over as many different-photo comparisons as the hashes give.
    """
    queries = np.zeros(len(flat.q_kind), bool)
    lists: dict[int, np.ndarray] = {}
    for mode in modes:
        for kind, (q, rows) in mode_rows(flat, mode).items():
            queries |= q
            lists[kind] = lists.get(kind, np.zeros(len(flat.l_kind), bool)) | rows
    return queries, lists


def _photo_slices(photo: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(photo, np.arange(n + 1))


def different_photo_histograms(flat: Flat, modes: list[robustness.Mode]) -> np.ndarray:
    """(QUERY_GROUPS, LIST_GROUPS, 257) counts of every pair of a query hash and a list hash (hash_rows) of different photos.

    All pairs of a block are counted, then each photo's own pairs (a
    photo's query hashes against its own list hashes) are subtracted.
    """
    groups = query_group(flat)
    out = np.zeros((len(QUERY_GROUPS), len(LIST_GROUPS), BINS), np.int64)
    queries, kinds = hash_rows(flat, modes)
    for kind, lists in kinds.items():
        l_sel = np.flatnonzero(lists)
        l_bits, l_cut = flat.l_bits[l_sel], _photo_slices(flat.l_photo[l_sel], flat.photos)
        for g in range(len(QUERY_GROUPS)):
            q_sel = np.flatnonzero(queries & (groups == g))
            if not len(q_sel):
                continue
            started = time.monotonic()
            q_bits, q_cut = flat.q_bits[q_sel], _photo_slices(flat.q_photo[q_sel], flat.photos)
            counts = distance_histogram(q_bits, l_bits)
            for p in range(flat.photos):
                counts -= distance_histogram(
                    q_bits[q_cut[p] : q_cut[p + 1]], l_bits[l_cut[p] : l_cut[p + 1]]
                )
            out[g, kind] = counts
            logger.info(
                "%s x %s: %d x %d hashes, %d comparisons (%.0f s)",
                QUERY_GROUPS[g],
                LIST_GROUPS[kind],
                len(q_sel),
                len(l_sel),
                counts.sum(),
                time.monotonic() - started,
            )
    return out


def comparisons_per_pair(flat: Flat, mode: robustness.Mode) -> np.ndarray:
    """(photos, versions, photos) hash comparisons the mode makes per (query image, list image)."""
    out = np.zeros((flat.photos, flat.versions, flat.photos), np.int64)
    for queries, lists in mode_rows(flat, mode).values():
        per_query = np.zeros((flat.photos, flat.versions), np.int64)
        np.add.at(per_query, (flat.q_photo[queries], flat.q_version[queries]), 1)
        per_list = np.bincount(flat.l_photo[lists], minlength=flat.photos)
        out += per_query[:, :, None] * per_list[None, None, :]
    return out


# -- statistics ------------------------------------------------------------------------------


def cumulative_rate(counts: np.ndarray) -> np.ndarray:
    """(257,) rate of comparisons within distance <= d; where none is counted, the 95% upper bound 3/N."""
    n = counts.sum()
    within = np.cumsum(counts)
    return np.where(within > 0, within / n, 3.0 / n)


def rate_upper(counts: np.ndarray) -> np.ndarray:
    """(257,) 95% upper bound on the rate within <= d, as photosieve.robust.budget bounds it: (k + 2 + 2 sqrt(k + 1)) / N."""
    within = np.cumsum(counts).astype(np.float64)
    return (within + 2 + 2 * np.sqrt(within + 1)) / counts.sum()


def _binomial_tail_interval(total: int, share: float, level: float = 0.99) -> tuple[int, int]:
    """Central ``level`` interval of Binomial(total, share): exact for small totals, normal beyond."""
    alpha = (1 - level) / 2
    if total == 0:
        return 0, 0
    if total > 2000:
        mean, sd = total * share, math.sqrt(total * share * (1 - share))
        return max(0, math.floor(mean - 2.5758 * sd)), math.ceil(mean + 2.5758 * sd)
    k = np.arange(total + 1)
    log_pmf = (
        np.array([math.lgamma(total + 1) - math.lgamma(i + 1) - math.lgamma(total - i + 1) for i in k])
        + k * math.log(share)
        + (total - k) * math.log1p(-share)
    )
    cdf = np.cumsum(np.exp(log_pmf))
    low = int(np.searchsorted(cdf, alpha))
    high = int(np.searchsorted(cdf, 1 - alpha))
    return low, min(high, total)


def agreement(counts_a: np.ndarray, counts_b: np.ndarray) -> list[tuple[int, int, int, bool]]:
    """Per d: (B's count, low, high, inside) where [low, high] is B's 99% range if A and B share one rate.

    Two Poisson counts with equal rates: given their sum, B's count is
    binomial with B's share of the comparisons (a conditional test, which
    accounts for A's own uncertainty too).
    """
    share = counts_b.sum() / (counts_a.sum() + counts_b.sum())
    out = []
    for a, b in zip(counts_a.tolist(), counts_b.tolist()):
        low, high = _binomial_tail_interval(a + b, share)
        out.append((b, low, high, low <= b <= high))
    return out


# -- hard negatives ----------------------------------------------------------------------------


def template_photo(path: Path, template: str) -> robustness.PhotoHashes:
    """One photo inside a shared template: its query hashes, and its list entries built from the templated image."""
    original = Image.fromarray(decode(path.read_bytes(), robustness.SUPERSET_LIST.decode)[0].pixels)
    templated = np.asarray(apply_all(original, TEMPLATE_SEED, [template])[template])
    queries, seconds = robustness.query_arrays([templated])
    listed = robustness._list_arrays(image_rows(path.name, templated, robustness.SUPERSET_LIST))
    return robustness.PhotoHashes(
        **queries,
        list_bits=listed["bits"],
        list_kind=listed["kind"],
        list_window=listed["window"],
        list_gradient=listed["gradient"],
        list_phash=listed["phash"],
        **robustness.no_bordered(),
        seconds=seconds,
    )


def template_photos(paths: list[Path], template: str, cache: Path) -> list[robustness.PhotoHashes]:
    out = []
    for path in paths:
        key = robustness.cache_key(path, TEMPLATE_SEED)
        file = cache / f"{path.stem}-template-{template}-{key}.npz"
        if file.exists():
            out.append(robustness.PhotoHashes.load(file))
        else:
            hashes = template_photo(path, template)
            hashes.save(file)
            out.append(hashes)
    return out


def hard_negatives(paths: list[Path], cache: Path, modes: list[robustness.Mode]) -> list[dict]:
    """Per template: the comparisons' histogram and, per mode, the smallest score of a different-photo pair."""
    results = []
    for template in TEMPLATES:
        started = time.monotonic()
        photos = template_photos(paths, template, cache)
        flat = flatten(photos)
        counts = different_photo_histograms(flat, modes).sum(axis=(0, 1))
        pairs = robustness.search(photos)
        first = {}
        off = ~np.eye(len(photos), dtype=bool)
        for mode in modes:
            scores = robustness.pair_scores(pairs, mode, len(photos), 1)[:, 0, :]
            first[mode.name] = float(scores[off].min())
        results.append(
            {"template": template, "counts": counts, "first": first, "pairs": int(off.sum()),
             "seconds": time.monotonic() - started}
        )
    return results


# -- report ------------------------------------------------------------------------------------


def _first_nonzero(counts: np.ndarray) -> int | str:
    nonzero = np.flatnonzero(counts)
    return int(nonzero[0]) if len(nonzero) else "none"


def curve_record(counts: np.ndarray, flat: Flat, command: str, method: str) -> dict:
    """The shipped curve: counts and how they were made (query_hashes/list_hashes: the rows paired, over all photos)."""
    queries, lists = hash_rows(flat, robustness.MODES)
    return {
        "algorithm": "pdq",
        "comparisons": int(counts.sum()),
        "counts": [int(c) for c in counts],
        "photos": flat.photos,
        "split": "A",
        "query_hashes": int(queries.sum()),
        "list_hashes": int(np.logical_or.reduce(list(lists.values())).sum()),
        "method": method,
        "command": command,
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
    }


METHOD = (
    "Exact histogram of the PDQ Hamming distance between different photos' hashes, on half A of the "
    "photos: every query hash a shipped matching mode (photosieve.robust.modes.CONFIGS) computes for "
    "every version of photo i (the original and each edit of benchmarks/edits.py; plain, dihedral, "
    "borders, region, rotation, upright uncrop hypotheses) against every hash a shipped mode's list "
    "holds for photo j != i (plain; windows, borders, region of a list built from images), all pairs "
    "counted (a superset of the pairs a matcher compares). Rate at <= t = sum(counts[:t+1]) / "
    "comparisons; where that sum is 0 the rate is only bounded (~3 / comparisons). Combined per mode "
    "by a union bound (no independence assumed); checked on half B, per comparison and per image pair."
)


def histogram_table(counts_a: np.ndarray, counts_b: np.ndarray, top: int) -> list[str]:
    rate_a, rate_b = cumulative_rate(counts_a), cumulative_rate(counts_b)
    checks = agreement(counts_a, counts_b)
    lines = [
        "| d | A count | B count | B 99% range if same rate | agrees | A rate <= d | B rate <= d |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in range(top + 1):
        b, low, high, inside = checks[d]
        lines.append(
            f"| {d} | {counts_a[d]:,} | {b:,} | {low:,}-{high:,} | {'yes' if inside else '**no**'} "
            f"| {rate_a[d]:.2e}{'' if counts_a[:d + 1].sum() else ' (<)'} "
            f"| {rate_b[d]:.2e}{'' if counts_b[:d + 1].sum() else ' (<)'} |"
        )
    return lines


def mean_comparisons_by_kind(flat: Flat, mode: robustness.Mode) -> np.ndarray:
    """(QUERY_GROUPS, LIST_GROUPS) mean hash comparisons of each kind per different-photo image pair."""
    groups = query_group(flat)
    out = np.zeros((len(QUERY_GROUPS), len(LIST_GROUPS)))
    pairs = flat.photos * (flat.photos - 1) * flat.versions
    for kind, (queries, lists) in mode_rows(flat, mode).items():
        per_list = np.bincount(flat.l_photo[lists], minlength=flat.photos)
        for g in range(len(QUERY_GROUPS)):
            per_query = np.bincount(flat.q_photo[queries & (groups == g)], minlength=flat.photos)
            out[g, kind] = (per_query.sum() * per_list.sum() - per_query @ per_list) / pairs
    return out


def bound_table(
    flat: Flat, pairs: robustness.Pairs, modes: list[robustness.Mode], histograms_a: np.ndarray
) -> tuple[list[str], dict[str, tuple[bool, bool]]]:
    """Per mode and t: the share of different-photo image pairs with score <= t, against union bounds from A.

    *Pooled*: mean comparisons per pair x the pooled rate at <= t, either
    the point rate (3/N where nothing is counted) or its 95% upper bound
    (what the budget uses). *By kind*: the sum over (query kind, list kind)
    of the mode's comparisons of that kind per pair x that kind's own 95%
    bound, which holds whatever the mix of kinds.
    """
    off = ~np.eye(flat.photos, dtype=bool)
    pooled_counts = histograms_a.sum(axis=(0, 1))
    point, upper = cumulative_rate(pooled_counts), rate_upper(pooled_counts)
    kind_rates = np.zeros(histograms_a.shape)
    for g in range(histograms_a.shape[0]):
        for k in range(histograms_a.shape[1]):
            if histograms_a[g, k].sum():
                kind_rates[g, k] = rate_upper(histograms_a[g, k])
    columns, holds = [], {}
    for mode in modes:
        scores = robustness.pair_scores(pairs, mode, flat.photos, flat.versions)
        different = np.sort(scores.transpose(0, 2, 1)[off].ravel())  # (pairs x versions)
        per_pair = comparisons_per_pair(flat, mode).transpose(0, 2, 1)[off].ravel().mean()
        by_kind = mean_comparisons_by_kind(flat, mode)
        if abs(by_kind.sum() - per_pair) > 1e-6 * per_pair:
            raise AssertionError(f"{mode.name}: {by_kind.sum()} != {per_pair} comparisons per pair")
        rows = []
        for t in range(robustness.SEARCH_RADIUS + 1):
            measured = np.searchsorted(different, t, "right") / len(different)
            rows.append(
                (
                    measured,
                    min(1.0, per_pair * point[t]),
                    min(1.0, per_pair * upper[t]),
                    min(1.0, float((by_kind * kind_rates[:, :, t]).sum())),
                )
            )
        holds[mode.name] = (all(r[0] <= r[2] for r in rows), all(r[0] <= r[3] for r in rows))
        columns.append((mode, per_pair, rows))
    header = "| t | " + " | ".join(f"{m.name}" for m in modes) + " |"
    lines = [header, "|---|" + "---|" * len(modes)]
    for t in BOUND_ROWS:
        cells = []
        for _, _, rows in columns:
            measured, *bounds = rows[t]
            cells.append(f"{measured:.1e} ({', '.join(f'{measured / b:.2g}' for b in bounds)})")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines.append(
        "| comparisons per pair | " + " | ".join(f"{n:,.0f}" for _, n, _ in columns) + " |"
    )
    def worst(rows: list, which: int) -> str:
        ratios = [(r[0] / r[which], t) for t, r in enumerate(rows) if r[0]]
        ratio, t = max(ratios) if ratios else (0.0, 0)
        return f"{ratio:.2g} at {t}"

    lines.append(
        "| largest ratio (pooled 95%; by kind) | "
        + " | ".join(f"{worst(rows, 2)}; {worst(rows, 3)}" for _, _, rows in columns)
        + " |"
    )
    lines.append(
        "| pairs <= bound at every t = 0..100 (pooled 95%, by kind) | "
        + " | ".join(
            f"{'yes' if holds[m.name][0] else '**no**'}, {'yes' if holds[m.name][1] else '**no**'}"
            for m in modes
        )
        + " |"
    )
    return lines, holds


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-p", "--photos", type=Path, default=robustness.DEFAULT_PHOTOS,
                        help=f"Folder of photos. Default: {robustness.DEFAULT_PHOTOS}")
    parser.add_argument("-n", "--limit", type=int, default=0,
                        help="Use only the first N photos of each half (0: all). Default: 0")
    parser.add_argument("--hard-limit", type=int, default=60,
                        help="Photos of half B put into each shared template (0: none). Default: 60")
    parser.add_argument("-s", "--seed", type=int, default=20260101, help="Seed of the edits. Default: 20260101")
    parser.add_argument("-c", "--cache", type=Path, default=robustness.DEFAULT_CACHE,
                        help=f"Hash cache folder. Default: {robustness.DEFAULT_CACHE}")
    parser.add_argument("-o", "--output", type=Path, default=None, help="Write the Markdown report here. Default: stdout")
    parser.add_argument("--write-curve", action="store_true",
                        help=f"Write half A's curve to {CURVE_PATH.relative_to(CURVE_PATH.parents[2])} (all photos only).")
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        parser.error(f"`--photos`: {args.photos} is not a folder")
    if args.limit == 1:
        parser.error("`--limit` must be 0 or at least 2: different photos are compared")
    if args.write_curve and args.limit:
        parser.error("`--write-curve` needs every photo of half A: drop `--limit`")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    threadpool_limits(limits=1, user_api="blas")
    everything = robustness.list_photos(args.photos)
    seeds = {p: args.seed + i for i, p in enumerate(everything)}
    modes = robustness.MODES
    halves, flats, histograms, seconds = {}, {}, {}, {}
    for half in ("A", "B"):
        chosen = robustness.select(everything, half, args.limit)
        started = time.monotonic()
        halves[half] = robustness.hash_all(chosen, [seeds[p] for p in chosen], args.cache)
        logger.info("half %s: %d photos hashed (%.0f s)", half, len(chosen), time.monotonic() - started)
        flats[half] = flatten(halves[half])
        started = time.monotonic()
        histograms[half] = different_photo_histograms(flats[half], modes)
        seconds[half] = time.monotonic() - started
    counts_a, counts_b = histograms["A"].sum(axis=(0, 1)), histograms["B"].sum(axis=(0, 1))
    used = {}
    for half, flat in flats.items():
        record = curve_record(np.zeros(BINS, np.int64), flat, "", "")
        used[half] = (record["query_hashes"], record["list_hashes"])
    command = "python -m benchmarks.false_match_curve --write-curve"
    if args.write_curve:
        record = curve_record(counts_a, flats["A"], command, METHOD)
        CURVE_PATH.write_text(json.dumps(record, indent=1) + "\n")
        logger.info("wrote %s", CURVE_PATH)
    lines = [
        f"Half A: {flats['A'].photos} photos, {used['A'][0]:,} query hashes, "
        f"{used['A'][1]:,} list hashes, **{counts_a.sum():,} comparisons** "
        f"of different photos, counted in {seconds['A']:.0f} s; half B: {flats['B'].photos} photos, "
        f"{counts_b.sum():,} comparisons ({seconds['B']:.0f} s).",
        "",
        f"First distance with a count: A {_first_nonzero(counts_a)}, B {_first_nonzero(counts_b)}. "
        + "Counts at "
        + ", ".join(f"d = {d}: {counts_a[d]:,} (B {counts_b[d]:,})" for d in REPORTED_DISTANCES)
        + ".",
        "",
    ]
    top = robustness.SEARCH_RADIUS
    table = histogram_table(counts_a, counts_b, top)
    disagree = [d for d, (_, _, _, inside) in enumerate(agreement(counts_a, counts_b)[: top + 1]) if not inside]
    lines += [
        f"Per-comparison curve, A vs B, d = 0..{top} ((<): none counted, rate < 3/N). "
        f"B outside A's 99% range at {len(disagree)} of {top + 1} distances"
        + (f" ({', '.join(map(str, disagree[:20]))}{'...' if len(disagree) > 20 else ''})" if disagree else "")
        + ".",
        "",
        *table,
        "",
    ]
    lines += ["Rate at <= d by (query hash, list hash) kind, half A ('matched by a mode': pairs a matcher compares; '< x': none counted, 3/N):", ""]
    groups = query_group(flats["A"])
    compared = {
        (int(g), kind)
        for mode in modes
        for kind, (queries, _) in mode_rows(flats["A"], mode).items()
        for g in np.unique(groups[queries])
    }
    lines += ["| query x list | matched by a mode | comparisons | first d | "
              + " | ".join(f"<= {d}" for d in REPORTED_DISTANCES) + " |",
              "|---|---|---|---|" + "---|" * len(REPORTED_DISTANCES)]
    for g, q_name in enumerate(QUERY_GROUPS):
        for k, l_name in enumerate(LIST_GROUPS):
            block = histograms["A"][g, k]
            n = block.sum()
            if not n:
                continue
            within = np.cumsum(block)
            cells = [f"{within[d] / n:.1e}" if within[d] else f"< {3 / n:.0e}" for d in REPORTED_DISTANCES]
            lines.append(
                f"| {q_name} x {l_name} | {'yes' if (g, k) in compared else 'no'} | {n:,} | "
                f"{_first_nonzero(block)} | " + " | ".join(cells) + " |"
            )
    lines.append("")
    started = time.monotonic()
    pairs = robustness.search(halves["B"])
    table, holds = bound_table(flats["B"], pairs, modes, histograms["A"])
    lines += [
        "Image pairs of half B (every version of photo i against the list entry of photo j != i): "
        "the share with score <= t, and in brackets its ratio to the union bound from A's curve: "
        "pooled with the point rate (comparisons per pair x rate(t)), pooled with the rate's 95% "
        "upper bound (what the budget uses), and by kind (the sum over hash kinds of the mode's "
        f"comparisons x that kind's 95% bound) ({time.monotonic() - started:.0f} s):",
        "",
        *table,
        "",
    ]
    if args.hard_limit:
        chosen = robustness.select(everything, "B", args.hard_limit)
        results = hard_negatives(chosen, args.cache, modes)
        lines += [
            f"Hard negatives: {len(chosen)} photos of half B, each inside the same template (seed "
            f"{TEMPLATE_SEED}), in the list (built from images) and in the archive; smallest score of "
            "a different-photo pair per mode (shipped threshold in brackets; inf: none within "
            f"{robustness.SEARCH_RADIUS}):",
            "",
            "| template | comparisons | first d counted | rate <= 31 | " + " | ".join(
                f"{m.name} ({m.config.threshold:g})" for m in modes) + " |",
            "|---|---|---|---|" + "---|" * len(modes),
        ]
        for r in results:
            c = r["counts"]
            within = c[:32].sum()
            lines.append(
                f"| {r['template']} | {c.sum():,} | {_first_nonzero(c)} | "
                f"{within / c.sum() if within else 0:.1e} | "
                + " | ".join(f"{r['first'][m.name]:g}" for m in modes) + " |"
            )
        lines.append("")
    text = "\n".join(lines)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main()
