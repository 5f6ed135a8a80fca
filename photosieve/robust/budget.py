"""Thresholds from a false-match budget: expected false matches per scanned image, not a per-pair rate.

A list of 10M images turns a per-pair false-match rate of 1e-4 into ~1,000
false matches for every scanned image. So a list's PDQ threshold is chosen
from a *budget*: the expected number of false matches per scanned image
that the run may cost (``--false-match-budget``, per list), and from what
the list holds, using a measured curve of how often PDQ hashes of
*different* photos come within a distance ``d`` (:class:`Curve`, shipped as
``false_match_curve.json`` and measured by ``benchmarks/false_match_curve.py``).

The bound, per scanned image and list, is a union bound over every
comparison the match makes::

    expected false matches <= query hashes per image x hashes in the list x rate(t)

where ``rate(t)`` is the measured share of different-photo comparisons at
distance ``<= t``. No independence is assumed: matching an image against a
list is at most that many comparisons, each false with probability
``rate(t)``. Where the curve counted no comparison at ``<= t``, the rate is
only known to be below its resolution (the 95% upper bound, about ``3/N``
for ``N`` comparisons), and the bound uses that.

:func:`choose_threshold` takes the largest threshold (up to the mode's or
list's own, never above) whose bound fits the budget. A budget the curve
cannot support (a large list and a small budget need rates far below what
any measurement resolves) falls back to the strictest measured point: a
distance where the curve counted no false comparison at all, kept
:data:`FALLBACK_MARGIN` bits below the first one it counted (where that
edge lies moves by a few bits between sets of photos), and the choice says
so (``supported`` False, with the bound it can state). Nothing is
extrapolated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources

from photosieve.errors import ConfigError
from photosieve.robust.expansion import QueryExpansion

__all__ = [
    "CURVE_FILE",
    "DEFAULT_BUDGET",
    "FALLBACK_MARGIN",
    "Choice",
    "Curve",
    "choose_threshold",
    "parse_budget",
    "query_hashes_per_image",
]

# The default budget: expected false matches per scanned image, per list. At a
# 10M-image list this keeps the run below one false match per million scanned images
# wherever the curve can say so (and at its strictest measured point where it cannot).
DEFAULT_BUDGET = 1e-6
CURVE_FILE = "false_match_curve.json"
# The fall-back keeps this many bits below the curve's first counted false comparison.
# Near comparisons cluster by photo pair (look-alike photos), so where one half of the
# photos counted none up to 67 bits, the other half had one at 62 and photos in a
# shared screenshot template one at 66 (benchmarks/README.md, "False-match curve"):
# the edge of the zero region moves by several bits from one set of photos to another.
FALLBACK_MARGIN = 10
# Variants a query image can have before orientations: the plain hash, borders,
# region, rotation (see photosieve.robust.expansion.query_hashes).
_VARIANTS = ("plain", "borders", "region", "rotation")


@dataclass(frozen=True)
class Curve:
    """How often PDQ hashes of different photos fall within each distance.

    Attributes:
        counts: ``counts[d]``, the comparisons at distance exactly ``d``.
        comparisons: every comparison counted (``sum(counts)``).
        source: how and on what it was measured (for ``summary.json``).
    """

    counts: tuple[int, ...]
    comparisons: int
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", tuple(int(c) for c in self.counts))
        if not self.counts or any(c < 0 for c in self.counts):
            raise ConfigError("a false-match curve needs non-negative counts")
        if self.comparisons < sum(self.counts) or self.comparisons <= 0:
            raise ConfigError(
                f"a false-match curve's comparisons ({self.comparisons}) must be at least the sum "
                f"of its counts ({sum(self.counts)}) and positive"
            )

    def within(self, t: float) -> int:
        """Comparisons counted at distance ``<= t``."""
        return sum(self.counts[: max(0, min(int(math.floor(t)) + 1, len(self.counts)))])

    def rate(self, t: float) -> float:
        """The measured share of comparisons at distance ``<= t``."""
        return self.within(t) / self.comparisons

    def rate_bound(self, t: float) -> float:
        """A 95% upper bound on the true share at ``<= t`` (Poisson; ~3/N where none was counted)."""
        k = self.within(t)
        return (k + 2 + 2 * math.sqrt(k + 1)) / self.comparisons

    @property
    def resolution(self) -> float:
        """The smallest rate the curve can bound: its bound where nothing was counted."""
        return 4 / self.comparisons

    def strictest(self, cap: float, margin: int = 0) -> int:
        """The largest distance ``<= cap``, ``margin`` bits below the first counted comparison (-1: none)."""
        first = next((d for d, count in enumerate(self.counts) if count), len(self.counts))
        return min(int(math.floor(cap)), first - 1 - margin)

    @classmethod
    def from_json(cls, content: Mapping) -> Curve:
        try:
            counts = content["counts"]
            return cls(tuple(counts), int(content.get("comparisons", sum(counts))),
                       str(content.get("command") or content.get("method") or ""))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a false-match curve: {exc}") from None

    @classmethod
    def shipped(cls) -> Curve | None:
        """The curve shipped with photosieve, or None when this build has none."""
        try:
            text = resources.files("photosieve.robust").joinpath(CURVE_FILE).read_text("utf-8")
        except (FileNotFoundError, OSError):
            return None
        return cls.from_json(json.loads(text))


@dataclass(frozen=True)
class Choice:
    """A list's threshold from the budget, and how it was derived (recorded in ``summary.json``).

    Attributes:
        threshold: the PDQ threshold the list is matched with.
        budget: expected false matches per scanned image allowed for the list.
        expected_per_image: the bound at ``threshold`` (see the module docstring).
        comparisons_per_image: query hashes per scanned image x hashes in the list.
        cap: the largest threshold allowed (the mode's or the list's own).
        supported: False when no threshold fits the budget, so the strictest
            measured point was taken (its bound exceeds the budget).
        derivation: one sentence saying how.
    """

    threshold: int
    budget: float
    expected_per_image: float
    comparisons_per_image: int
    cap: float
    supported: bool
    derivation: str

    def to_json(self) -> dict:
        return asdict(self)

    def expected_for(self, images: int) -> float:
        """The bound on the run's false matches against the list, for ``images`` scanned images."""
        return self.expected_per_image * images


def choose_threshold(
    curve: Curve, *, budget: float, query_hashes: int, list_hashes: int, cap: float
) -> Choice:
    """The largest threshold ``<= cap`` whose false-match bound fits ``budget``.

    Args:
        curve: the measured different-photo comparison curve.
        budget: expected false matches per scanned image allowed.
        query_hashes: PDQ hashes a scanned image is queried with
            (:func:`query_hashes_per_image`).
        list_hashes: PDQ hashes in the list (every window and variant).
        cap: the largest threshold allowed (the mode's or the list's own).

    A list with no hashes costs nothing: ``cap`` is kept. When even the
    strictest distance does not fit, the largest distance with no counted
    false comparison is taken (``supported`` False); when the curve counted
    false comparisons at every distance, 0.
    """
    if budget <= 0 or not math.isfinite(budget):
        raise ConfigError(f"a false-match budget must be a positive number, got {budget!r}")
    comparisons = max(0, int(query_hashes)) * max(0, int(list_hashes))
    top = int(math.floor(cap))
    if comparisons == 0:
        return Choice(top, budget, 0.0, 0, cap, True, "the list holds no PDQ hash: nothing to bound")
    fits = [t for t in range(0, top + 1) if curve.rate_bound(t) * comparisons <= budget]
    if fits:
        t = fits[-1]
        bound = curve.rate_bound(t) * comparisons
        why = (
            f"largest distance <= {cap:g} whose bound fits the budget: {comparisons:,} comparisons "
            f"per scanned image x rate {curve.rate_bound(t):.3g} (95% bound, {curve.within(t):,} of "
            f"{curve.comparisons:,} measured different-photo comparisons at <= {t})"
        )
        return Choice(t, budget, bound, comparisons, cap, True, why)
    t = max(curve.strictest(cap, FALLBACK_MARGIN), 0)
    bound = curve.rate_bound(t) * comparisons
    why = (
        f"the budget {budget:g} needs a rate below {budget / comparisons:.3g} per comparison "
        f"({comparisons:,} per scanned image), finer than the curve resolves "
        f"({curve.resolution:.3g}, {curve.comparisons:,} comparisons): took the strictest measured "
        f"point, distance {t}, {FALLBACK_MARGIN} bits below the first false comparison the curve "
        f"counted (other photo sets counted theirs a few bits lower); its bound is {bound:.3g} "
        "false matches per scanned image"
    )
    return Choice(t, budget, bound, comparisons, cap, False, why)


def query_hashes_per_image(
    expansion: QueryExpansion | None, *, dihedral: bool, as_stored: bool
) -> int:
    """The most PDQ hashes one scanned image (frame) is queried with.

    Plain matching: the hash (and the as-stored one, when EXIF turns the
    image), times 8 with ``--dihedral``. A mode: each variant the expansion
    may add (borders, region, rotation), times its orientations, plus its
    uncrop hypotheses. An upper bound: not every image has every variant.
    """
    if expansion is None:
        return (8 if dihedral else 1) * (2 if as_stored and not dihedral else 1)
    variants = 1 + sum(bool(getattr(expansion, name)) for name in _VARIANTS[1:])
    orientations = 8 if expansion.dihedral else 1
    uncrops = len(expansion.uncrop) * (8 if expansion.uncrop_dihedral else 1)
    return variants * orientations + uncrops


def parse_budget(value: object, where: str = "--false-match-budget") -> float:
    """A budget from a flag or a profile (``1e-6``, ``0.000001``), or ConfigError naming ``where``."""
    try:
        budget = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number such as 1e-6, got {value!r}") from None
    if not (budget > 0 and math.isfinite(budget)):
        raise ConfigError(f"{where}: must be a positive number of false matches per image")
    return budget
