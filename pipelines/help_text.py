"""The help that teaches: each command's examples, and how Beam options pass through.

Every command's ``--help`` ends with two or three examples that run as
written (tests/pipelines/test_help.py parses each one through its command's
parser), and the Beam jobs' help says which other flags go to Beam. The
wording is kept in one place so the commands say the same thing the same
way: a flag's help ends with ``Default: X.`` or ``Required.``.

Beam-free: the fast commands (``hash``, ``lists``, ``report``, ``configs``)
import it too.
"""

from __future__ import annotations

import argparse

__all__ = [
    "BEAM_JOBS",
    "BEAM_OPTIONS",
    "EXAMPLES",
    "HelpFormatter",
    "epilog",
    "example_commands",
    "parser_options",
]

# The commands that run an Apache Beam pipeline (the others run in this process).
BEAM_JOBS = ("audit", "scan", "match")

BEAM_OPTIONS = """\
Beam options: any other --flag that is an Apache Beam pipeline option goes to Beam, e.g.
  --runner DataflowRunner, --direct_num_workers 4, --temp_location gs://bucket/tmp
(in a --config profile: under pipeline_options). A flag that is neither photosieve's
nor Beam's is a usage error naming the closest one. Without --runner the job runs on
Beam's FnApiRunner in this process; --config local uses one worker process per core.
'photosieve configs' lists the shipped profiles."""

# command -> (what the example does, the command line). Each runs as written; a
# "\n" in a command line is shown as a shell line continuation.
_CONTINUATION = " \\\n      "
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("audit a folder against a list on this machine, then read the report",
         "photosieve audit --config local --input photos/ --list known=known.csv --output out/run"),
        ("", "photosieve report out/run"),
        ("hash a few files without Beam",
         "photosieve hash photos/ --algorithms pdq,md5"),
    ),
    "audit": (
        ("audit a folder against a list, one worker process per core",
         "photosieve audit --config local --input photos/ --list known=known.csv --output out/run"),
        ("next week: read only new or changed files, and say why each match is new",
         "photosieve audit --config local --input photos/ --list known=known.csv\n"
         "--output out/run2 --previous out/run"),
        ("on Google Cloud Dataflow, with a Beam option on the command line",
         "photosieve audit --config dataflow --input 'gs://bucket/photos/**'\n"
         "--list ncmec=gs://bucket/lists/ncmec.csv.gz --output gs://bucket/audits/1\n"
         "--max_num_workers 20"),
    ),
    "scan": (
        ("hash a folder into the hashes and errors tables, no matching",
         "photosieve scan --config local --input photos/ --output out/scan"),
        ("the members of zip and tar files too, with more algorithms",
         "photosieve scan --input photos/ --archives --algorithms pdq,phash,md5 --output out/scan"),
    ),
    "match": (
        ("match a scan's stored hashes against a list, without decoding again",
         "photosieve match --hashes out/scan --list known=known.csv --output out/rematch"),
        ("with a stricter PDQ threshold and a known-benign list",
         "photosieve match --hashes out/scan --list known=known.csv --suppress-list stock.txt\n"
         "--threshold pdq=24 --output out/rematch"),
    ),
    "hash": (
        ("print the PDQ and MD5 hashes of every image under a folder, as CSV",
         "photosieve hash photos/ --algorithms pdq,md5"),
        ("JSON Lines into a file",
         "photosieve hash a.jpg b.png --format jsonl --output hashes.jsonl"),
    ),
    "match-files": (
        ("is any of these files, or anything under downloads/, on the list? (exit 1: yes)",
         "photosieve match-files suspect.jpg downloads/ --list known.csv"),
        ("with a suppress list and a stricter PDQ threshold",
         "photosieve match-files photo.jpg --list ncmec=ncmec.csv --suppress-list benign.csv -t pdq=24"),
        ("in a matching mode (edited copies too), one JSON line per match",
         "photosieve match-files photo.jpg --list images.csv --match-mode robust --format json"),
    ),
    "lists": (
        ("check a list before an audit uses it",
         "photosieve lists check known.csv --algorithm pdq"),
        ("build a list from images you hold, so their crops match too",
         "photosieve lists build known-images/ -o known.csv.gz"),
    ),
    "lists check": (
        ("check two lists, reading every hash as PDQ",
         "photosieve lists check ncmec.csv.gz benign.txt --algorithm pdq"),
        ("report bad lines as JSON but exit 0",
         "photosieve lists check cases.parquet --lenient --format json"),
    ),
    "lists build": (
        ("a list of the images you hold, with sub-window hashes so crops match, labelled",
         "photosieve lists build known-images/ -o known.csv.gz --label case-17"),
        ("a plain PDQ list, one hash per image, ids from the files' SHA-256",
         "photosieve lists build a.jpg b.png -o known.csv --windows none --id-from digest"),
    ),
    "report": (
        ("write report.html and report.md into the run and print the Markdown",
         "photosieve report out/run"),
        ("compare with an earlier run, without printing",
         "photosieve report out/run2 --previous out/run --quiet"),
    ),
    "configs": (
        ("list the shipped profiles", "photosieve configs"),
        ("copy one to edit, then use it by its path",
         "photosieve configs weekly > weekly.yaml"),
    ),
}


def epilog(command: str) -> str:
    """The end of ``command``'s help: the Beam note (Beam jobs), then the examples."""
    lines = [BEAM_OPTIONS, ""] if command in BEAM_JOBS else []
    lines.append("examples:")
    for what, line in EXAMPLES[command]:
        if what:
            lines.append(f"  # {what}")
        lines.append("  " + line.replace("\n", _CONTINUATION))
    return "\n".join(lines)


def example_commands(command: str) -> list[str]:
    """``command``'s example command lines as one would type them (for the tests)."""
    return [line.replace("\n", " ") for _, line in EXAMPLES[command]]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, but text with line breaks (the epilog) is kept as written.

    One-line descriptions still wrap to the terminal; the examples keep
    their lines, so each can be copied whole.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def parser_options(command: str) -> dict:
    """``ArgumentParser`` keyword arguments for ``command``: its epilog and formatter."""
    return {"epilog": epilog(command), "formatter_class": HelpFormatter}
