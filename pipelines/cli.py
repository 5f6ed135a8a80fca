"""The ``photosieve`` command: one subcommand per module.

Each subcommand module owns its parser and exposes ``main(argv) -> int``, so
the Beam pipelines can split their own flags from Beam's (``parse_known_args``)
and non-Beam commands stay free of Beam imports and start fast.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from photosieve.pipelines import quiet, redaction

# subcommand -> (module, one-line help). Modules are imported only when used.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "hash": ("photosieve.pipelines.hash_cli", "hash image files locally (no Beam) and print one row per hash"),
    "lists": ("photosieve.pipelines.lists_cli", "check known-hash list files"),
    "audit": (
        "photosieve.pipelines.audit",
        "hash an archive and match it against known-hash lists (Apache Beam)",
    ),
    "scan": ("photosieve.pipelines.scan", "hash an archive into Parquet tables, no matching (Apache Beam)"),
    "match": (
        "photosieve.pipelines.match",
        "match stored hashes against known-hash lists, no decoding (Apache Beam)",
    ),
    "match-files": ("photosieve.pipelines.match_files", "match a few local files against lists, no Beam pipeline (exit 1: a match)"),
    "report": ("photosieve.pipelines.report_cli", "write an HTML page and a Markdown summary of an audit run"),
}


def _usage() -> str:
    lines = ["usage: photosieve COMMAND [ARGS...]", "", "commands:"]
    width = max(len(name) for name in SUBCOMMANDS)
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += ["", "Run 'photosieve COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"photosieve: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # no URL password in any printed line
        if not any(isinstance(f, redaction.ScrubURLCredentials) for f in handler.filters):
            handler.addFilter(redaction.ScrubURLCredentials())
    # Before the module imports Beam: its import-time messages are noise (pipelines.quiet).
    quiet.install(verbose=bool({"-v", "--verbose"} & set(rest)))
    module = importlib.import_module(SUBCOMMANDS[name][0])
    try:
        return module.main(rest)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
