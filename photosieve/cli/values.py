"""argparse ``type=`` checks for photosieve's numeric flags, so a bad value stops before any work.

A value out of range (``--quality-cutoff 101``, ``--max-bytes 0``,
``--threshold pdq=300``) would otherwise pass argparse, survive the
preflight and end in a traceback after the hashing is done. Used as
``type=``, each check makes argparse print its one-line usage error,
``error: argument --x: ...``, and exit 2. :func:`check_defaults` applies the
same checks to the values a ``--config`` profile sets, which argparse never
converts.

Beam-free (``photosieve hash`` uses these without importing Beam).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Mapping

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.lists.source import DEFAULT_MAX_LIST_BYTES, parse_byte_size

__all__ = [
    "ExtendOrReplace",
    "add_max_list_bytes",
    "at_least",
    "byte_size",
    "check_defaults",
    "int_range",
    "max_distance",
    "parse_threshold",
    "threshold",
]

# [LIST:]ALGORITHM=NUMBER, as --threshold takes it.
_THRESHOLD = re.compile(r"^(?:([A-Za-z0-9_.-]+):)?([A-Za-z0-9-]+)=(.+)$")
# Largest byte value: a Euclidean hash stores one unsigned byte per component.
_BYTE_MAX = 255


# Where ExtendOrReplace notes the flags given on the command line (popped by parse).
REPLACED_KEY = "_replaced_lists"


class ExtendOrReplace(argparse.Action):
    """``action="extend"`` whose first use on the command line replaces a profile's list.

    ``-i a -i b`` gives ``[a, b]``; with a profile's ``input: [c]`` as the
    default, the command line's ``-i a`` gives ``[a]``, not ``[c, a]``.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        replaced = namespace.__dict__.setdefault(REPLACED_KEY, set())
        current = [] if self.dest not in replaced else list(getattr(namespace, self.dest) or [])
        replaced.add(self.dest)
        setattr(namespace, self.dest, current + list(values))


def _integer(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An integer from ``low`` to ``high`` inclusive."""

    def check(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    check.__name__ = f"integer {low}..{high}"  # argparse names the type in some messages
    return check


def at_least(low: int) -> Callable[[str], int]:
    """An integer ``>= low``."""

    def check(text: str) -> int:
        value = _integer(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    check.__name__ = f"integer >= {low}"
    return check


def max_distance(algorithm: str) -> float:
    """The largest distance two hashes of ``algorithm`` can have (the useful threshold range).

    Hamming: the bit count (pdq 256, phash/dhash/ahash 64). Euclidean: every
    one of the ``nbytes`` components apart by 255 (gradient: 12 * 255 =
    3060). Exact digests match only at 0.
    """
    spec = algorithms.get(algorithm)
    if spec.metric is algorithms.Metric.HAMMING:
        return float(spec.nbits)
    if spec.metric is algorithms.Metric.EUCLIDEAN:
        return _BYTE_MAX * math.sqrt(spec.nbytes)
    return 0.0


def parse_threshold(text: str) -> tuple[str | None, str, float]:
    """``[LIST:]ALGORITHM=N`` -> ``(list or None, algorithm, N)``, N within the algorithm's range.

    The one parser of the grammar: the flag's check (:func:`threshold`) and
    :func:`photosieve.pipelines.configure.list_specs`, which applies the values.

    Raises:
        ConfigError: malformed, an unknown algorithm, or N outside ``0..`` its largest distance.
    """
    parsed = _THRESHOLD.match(str(text))
    if not parsed:
        raise ConfigError(f"expected [LIST:]ALGORITHM=NUMBER (e.g. pdq=24), got {text!r}")
    listed, name, number = parsed.groups()
    try:
        top = max_distance(name)
    except ConfigError as exc:
        raise ConfigError(f"{text!r}: {exc}") from None
    try:
        value = float(number)
    except ValueError:
        raise ConfigError(f"{text!r}: {number!r} is not a number") from None
    if not 0 <= value <= top:  # also refuses nan
        allowed = "0 (a digest matches only itself)" if top == 0 else f"from 0 to {top:g}"
        raise ConfigError(f"{text!r}: the {name} threshold must be {allowed}")
    return listed, name, value


def threshold(text: str) -> str:
    """argparse type: a valid ``[LIST:]ALGORITHM=N`` (:func:`parse_threshold`), returned unchanged."""
    try:
        parse_threshold(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return str(text)


def check_defaults(parser: argparse.ArgumentParser, defaults: Mapping[str, object]) -> dict:
    """Apply each flag's ``type=`` check to the values a profile gives (by dest); return them.

    argparse converts only string defaults, and only when the flag is not
    given, and never checks a default against ``choices``: a profile's
    ``quality_cutoff: 101`` or ``strategy: fast`` would pass unchecked.

    Raises:
        argparse.ArgumentTypeError: naming the setting and the flag.
    """
    checked = dict(defaults)
    for action in parser._actions:
        if action.dest not in defaults or defaults[action.dest] is None:
            continue
        value = defaults[action.dest]
        if action.nargs in ("+", "*") and isinstance(value, str):
            value = checked[action.dest] = [value]  # "input: DIR" means a list of one, as a flag
        flag = "/".join(action.option_strings)
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise argparse.ArgumentTypeError(
                f"{action.dest} (argument {flag}): {value!r} is not one of {choices}"
            )
        if not callable(action.type):
            continue
        try:
            if isinstance(value, (list, tuple)):
                # Keep mappings (list entries in a profile): only strings are flag values.
                checked[action.dest] = [
                    action.type(item) if isinstance(item, (str, int, float)) else item
                    for item in value
                ]
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
                checked[action.dest] = action.type(str(value))
            else:
                raise argparse.ArgumentTypeError(f"expected a value, got {value!r}")
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{action.dest} (argument {flag}): {exc}") from None
    return checked


def byte_size(text: str) -> int:
    """A positive byte count (``4G``, ``512M``, ``1000000``)."""
    try:
        return parse_byte_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_max_list_bytes(parser: argparse.ArgumentParser) -> None:
    """``--max-list-bytes``: one definition for ``audit``, ``match`` and ``lists check``."""
    parser.add_argument(
        "--max-list-bytes",
        type=byte_size,
        default=DEFAULT_MAX_LIST_BYTES,
        metavar="N",
        help="Most content a list file may hold or inflate to (a gzip bomb stops there); "
        "bytes, or with K/M/G/T (binary). Default: 4G.",
    )
