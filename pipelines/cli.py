"""The ``photosieve`` command: one subcommand per module.

Each subcommand module owns its parser and exposes ``main(argv) -> int``, so
the Beam pipelines can split their own flags from Beam's (``parse_known_args``)
and non-Beam commands stay free of Beam imports and start fast. ``--version``
(alone or after a command) prints the versions a bug report needs, read from
the installed distributions' metadata, so it does not import Beam either.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import platform
import sys

from photosieve.pipelines import help_text, quiet, redaction

# subcommand -> (module, one-line help). Modules are imported only when used.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "audit": (
        "photosieve.pipelines.audit",
        "hash an archive and match it against known-hash lists (Beam job)",
    ),
    "scan": (
        "photosieve.pipelines.scan",
        "hash an archive into the hashes and errors tables, no matching (Beam job)",
    ),
    "match": (
        "photosieve.pipelines.match",
        "match stored hashes against known-hash lists, no decoding (Beam job)",
    ),
    "report": (
        "photosieve.pipelines.report_cli",
        "write an HTML page and a Markdown summary of a run (no Beam)",
    ),
    "hash": (
        "photosieve.pipelines.hash_cli",
        "hash image files on this machine and print one row per hash (no Beam)",
    ),
    "lists": ("photosieve.pipelines.lists_cli", "check and build known-hash lists (no Beam)"),
    "configs": (
        "photosieve.pipelines.configs_cli",
        "list the shipped --config profiles, or print one (no Beam)",
    ),
    "match-files": (
        "photosieve.pipelines.match_files",
        "match a few local files against lists as an audit would, in this process (no Beam)",
    ),
}

# Distributions --version names: photosieve, its engine, and the two libraries
# whose versions can move decoded pixels (summary.json records them too).
_VERSIONED = (("photosieve", "photosieve"), ("Apache Beam", "apache-beam"),
              ("numpy", "numpy"), ("Pillow", "pillow"))


def _usage() -> str:
    lines = ["usage: photosieve COMMAND [ARGS...]", "       photosieve --version", "", "commands:"]
    width = max(len(name) for name in SUBCOMMANDS)
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += [
        "",
        "Run 'photosieve COMMAND --help' for a command's flags and examples. The Beam jobs",
        f"({', '.join(help_text.BEAM_JOBS)}) pass any other --flag that Apache Beam knows to Beam",
        "(--runner, --direct_num_workers...); --config NAME picks a shipped profile",
        "('photosieve configs' lists them) and --config PATH your own.",
        "",
        help_text.epilog(""),
    ]
    return "\n".join(lines)


def versions() -> str:
    """photosieve's, Beam's and Python's versions (and numpy's, Pillow's), one per line."""
    lines = []
    for label, distribution in _VERSIONED:
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"{label} {version}")
    lines.append(f"Python {platform.python_version()} ({platform.python_implementation()})")
    return "\n".join(lines)


def _asks_version(argv: list[str]) -> bool:
    """``--version`` before any ``--`` (after which it would be a file name)."""
    head = argv[: argv.index("--")] if "--" in argv else argv
    return "--version" in head


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if _asks_version(argv) and (argv[0] == "--version" or argv[0] in SUBCOMMANDS):
        print(versions())
        return 0
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


def entry(argv: list[str] | None = None) -> None:
    """The console script: :func:`main`, then an exit that skips interpreter teardown.

    Beam's runners leave gRPC threads behind after a pipeline has finished
    (the multi-process DirectRunner, the portable runner). Tearing the
    interpreter down with those threads alive now and then aborts the process
    in C++ ("terminate called without an active exception", status -6) after
    the tables and ``summary.json`` were written and the run balanced. A
    scheduler reads the exit status, so a finished run must not report a
    crash: flush what was printed and logged, then ``os._exit`` with the
    command's own status. Nothing is left to clean up by then: the pipeline's
    workers are stopped and every output file is closed.
    """
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's --help and usage errors: as Python would exit
        code = 0 if exc.code is None else exc.code
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # reader gone, or stream closed
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
