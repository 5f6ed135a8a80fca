"""Beam's pipeline options as photosieve checks them: which exist, which carry credentials.

The jobs hand every flag they do not declare to Beam. Beam itself only
warns about a name it does not know ("Discarding unparseable args", in the
noise of a run) and goes on with its defaults, so a mistyped photosieve
flag (``--threshhold pdq=0``) would run the whole job without it.
:func:`unknown_arguments` finds such names before any work, from the
options every :class:`~apache_beam.options.pipeline_options.PipelineOptions`
subclass registers, and :func:`did_you_mean` suggests the closest real flag.

:func:`redacted` hides the values of credential-bearing options (and
passwords in URLs) before options are written to ``summary.json``.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import importlib
from collections.abc import Iterable, Sequence

from apache_beam.options import pipeline_options

from photosieve.pipelines.redaction import REDACTED, SECRET_WORDS, redact_text

__all__ = [
    "beam_parser",
    "did_you_mean",
    "option_names",
    "redacted",
    "secret_options",
    "unknown_arguments",
]

# Modules outside apache_beam.options that register PipelineOptions
# subclasses. Each is optional (dask's needs dask): a missing one only means
# its options are not available in this installation, for Beam either.
_OPTION_MODULES = (
    "apache_beam.runners.render",
    "apache_beam.runners.dask.dask_runner",
    "apache_beam.yaml.options",
)
# Options whose value is a credential, reviewed by hand (Beam 2.77): the
# word rules below find most of them, these whatever their name.
_SECRET_OPTIONS = frozenset(
    {
        "azure_connection_string",  # holds AccountKey= or a SAS token
        "s3_access_key_id",
        "s3_secret_access_key",
        "s3_session_token",
        "gbek",  # the key of Beam's encrypted GroupByKey
    }
)
# An option is a credential when its name holds one of redaction.SECRET_WORDS,
# or its help text says it holds one (catches options added by later Beam versions).
_SECRET_HELP = ("secret", "password", "connection string", "access key", "session token")


class _ParseError(Exception):
    pass


class _CheckingParser(pipeline_options._BeamArgumentParser):
    """Beam's own argument parser class, raising instead of exiting on a bad value."""

    def error(self, message):
        raise _ParseError(message)


def _subclasses(cls: type) -> Iterable[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@functools.cache
def beam_parser() -> argparse.ArgumentParser:
    """One parser holding every option of every PipelineOptions subclass Beam has.

    As Beam builds it to read options (``PipelineOptions.get_all_options``),
    without abbreviations: Beam would not accept ``--temp_loc`` either.
    """
    for module in _OPTION_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    parser = _CheckingParser(allow_abbrev=False, add_help=False)
    seen: set[str] = set()
    for cls in _subclasses(pipeline_options.PipelineOptions):
        key = f"{cls.__module__}.{cls.__qualname__}"
        if key in seen or cls.__module__.endswith("_test"):
            continue
        seen.add(key)
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass  # an option registered twice (a subclass repeating its parent's)
    return parser


def option_names() -> list[str]:
    """Every ``--name`` Beam accepts."""
    return sorted(s for a in beam_parser()._actions for s in a.option_strings)


def unknown_arguments(arguments: Sequence[str]) -> tuple[list[str], str | None]:
    """``(arguments no Beam option takes, a bad value's message or None)``.

    The unknown list holds each unknown ``--flag`` (without its ``=value``)
    and any bare word no option consumes.
    """
    try:
        _, unknown = beam_parser().parse_known_args(list(arguments))
    except _ParseError as exc:
        return [], str(exc)
    return [a.split("=", 1)[0] if a.startswith("-") else a for a in unknown], None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean --threshold?)`` for the closest candidate, or ``""``.

    Compared without leading dashes and with ``_`` as ``-``, so
    ``--num_shards`` finds ``--num-shards``; the candidate is shown as given.
    """

    def plain(text: str) -> str:
        return text.split("=", 1)[0].lstrip("-").replace("_", "-").lower()

    by_plain = {plain(c): c for c in candidates}
    close = difflib.get_close_matches(plain(name), list(by_plain), n=1, cutoff=0.6)
    return f" (did you mean {by_plain[close[0]]}?)" if close else ""


@functools.cache
def secret_options() -> frozenset[str]:
    """Names (dests) of the Beam options that take a credential as their value."""
    names = set(_SECRET_OPTIONS)
    for action in beam_parser()._actions:
        if action.nargs == 0:
            continue  # a switch such as --no_auth has no value to hide
        help_text = (action.help or "").lower()
        if any(w in action.dest.lower() for w in SECRET_WORDS) or any(
            w in help_text for w in _SECRET_HELP
        ):
            names.add(action.dest)
    return frozenset(names)


def _takes_value(name: str) -> bool:
    for action in beam_parser()._actions:
        if name in action.option_strings:
            return action.nargs != 0
    return True  # not a Beam option: assume the worst


def _is_secret(name: str) -> bool:
    dest = name.lstrip("-").replace("-", "_").lower()
    return dest in secret_options() or any(word in dest for word in SECRET_WORDS)


def redacted(arguments: Sequence[str]) -> list[str]:
    """Beam arguments with credentials hidden: secret options' values, URL passwords, secret pairs.

    ``--name=value`` and ``--name value`` forms both; ``--no_auth`` (a
    switch) hides nothing after it.
    """
    out = []
    hide_next = False
    for argument in arguments:
        name, sep, _ = argument.partition("=")
        is_flag = argument.startswith("-")
        if hide_next and not is_flag:
            out.append(REDACTED)
            hide_next = False
            continue
        secret = is_flag and _is_secret(name)
        if secret and sep:
            argument = f"{name}={REDACTED}"
        else:
            argument = redact_text(argument)
        hide_next = secret and not sep and _takes_value(name)
        out.append(argument)
    return out
