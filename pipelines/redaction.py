"""Credentials kept out of what photosieve writes: summary.json, and its log lines.

The words that mark a secret option or ``NAME=VALUE`` pair, the user
information of URLs (``https://user:password@host``, ``https://TOKEN@host``),
and :class:`ScrubURLCredentials`, a logging filter for every line the
command line prints. Beam-free; :mod:`photosieve.pipelines.beam_options` adds which
of Beam's options hold credentials.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "SECRET_WORDS", "ScrubURLCredentials", "redact_text", "redact_url_password"]

REDACTED = "<redacted>"
# An option or a NAME=VALUE pair is a credential when its name holds one of these.
SECRET_WORDS = (
    "connection_string",
    "sas",
    "secret",
    "password",
    "token",
    "key",
    "credential",
    "auth",
)
# The user information of a URL (https://user:pass@host/..., https://TOKEN@host/...).
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@")
# NAME=VALUE inside an option value (a connection string, JVM properties) whose NAME is secret.
_SECRET_PAIR = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]*(?:"
    + "|".join(SECRET_WORDS)
    + r")[A-Za-z0-9_.-]*)=(?P<value>[^;,&\s]+)",
    re.IGNORECASE,
)


def redact_url_password(text: str) -> str:
    """``text`` with URL credentials hidden: ``user:password@`` keeps the user, ``TOKEN@`` goes."""

    def hide(match: re.Match) -> str:
        user, colon, _ = match.group("userinfo").partition(":")
        return f"{match.group('scheme')}{user + ':' if colon else ''}{REDACTED}@"

    return _URL_USERINFO.sub(hide, text)


def redact_text(text: str) -> str:
    """``text`` with URL passwords and secret ``NAME=VALUE`` pairs (``AccountKey=...``) hidden."""
    return _SECRET_PAIR.sub(lambda m: f"{m.group('name')}={REDACTED}", redact_url_password(text))


class ScrubURLCredentials(logging.Filter):
    """Rewrites a record whose message holds URL credentials (an input, list or output path).

    Only URLs: ``NAME=VALUE`` pairs are left alone here, since list names
    are given as ``NAME=FILE`` and would be hidden too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message and "://" in message:
            scrubbed = redact_url_password(message)
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True
