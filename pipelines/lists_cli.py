"""``photosieve lists check``: validate known-hash list files before a run uses them.

    photosieve lists check ncmec.csv.gz benign.txt --algorithm pdq
    photosieve lists check cases.parquet --lenient --format json
    photosieve lists build --from-images known/ -o known.csv.gz

``lists build`` hashes a folder of images into a list that also holds
sub-window hashes, so crops of those images match (photosieve.lists.from_images).

For each file: the format it was read as, the version (SHA-256 of the file
as stored, which match rows cite), counts per algorithm (entries, distinct
hashes, merged duplicates) and every bad line as ``file:line: reason``.

Exit status: 0 when every list is clean (or ``--lenient``), 1 when a list
has bad lines or cannot be read at all (not a regular file, over
``--max-list-bytes``, not readable as its format), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys

from photosieve import algorithms
from photosieve.errors import ConfigError, ListFormatError, PhotosieveError
from photosieve.lists import FORMATS, HashList, read_list
from photosieve.cli.values import add_max_list_bytes, at_least
from photosieve.pipelines import help_text

DEFAULT_MAX_PROBLEMS = 100  # per list in text output; JSON always has them all

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photosieve lists",
        description="Check and build known-hash lists (no Beam).",
        **help_text.parser_options("lists"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="validate list files and print their counts, problems and versions",
        description="Check list files: print each list's counts, bad lines and version (no Beam).",
        **help_text.parser_options("lists check"),
    )
    check.add_argument(
        "files", nargs="+", metavar="FILE", help="List files (any supported format, .gz too)."
    )
    check.add_argument(
        "-a",
        "--algorithm",
        default=None,
        help="Read every hash as this algorithm (lines naming another are problems). "
        "Default: from each line's column or prefix, else its length.",
    )
    check.add_argument(
        "-l",
        "--lenient",
        action="store_true",
        help="Report bad lines but exit 0 (a lenient run skips them). Default: strict.",
    )
    check.add_argument(
        "-f",
        "--format",
        choices=("text", "json"),
        default="text",
        help="Output format. Default: text.",
    )
    check.add_argument(
        "-i",
        "--input-format",
        choices=tuple(FORMATS),
        default=None,
        help="Read every file as this list format. Default: sniffed per file.",
    )
    add_max_list_bytes(check)
    check.add_argument(
        "-m",
        "--max-problems",
        type=at_least(0),
        default=DEFAULT_MAX_PROBLEMS,
        help=f"Bad lines shown per list in text output (0: all). Default: {DEFAULT_MAX_PROBLEMS}.",
    )
    build = commands.add_parser(
        "build",
        help="build a list from image files (plain PDQ plus sub-window hashes, so crops match)",
        description="Hash every image under a folder into a list file: the plain PDQ hash, "
        "sub-window hashes (crops), border-stripped/region hashes, optional second opinions "
        "(no Beam).",
        **help_text.parser_options("lists build"),
    )
    build.add_argument(
        "--from-images",
        required=True,
        metavar="DIR",
        help="Folder of images (searched recursively). Required.",
    )
    build.add_argument(
        "-o",
        "--output",
        required=True,
        help="List file to write: .csv, .tsv, .jsonl or .parquet (optionally .gz). Required.",
    )
    build.add_argument(
        "-w",
        "--windows",
        choices=("default", "none"),
        default="default",
        help="Sub-windows to store: the calibrated default grid, or none (a plain list). "
        "Default: default.",
    )
    build.add_argument(
        "-s",
        "--second-opinions",
        default="",
        help="Also store these hashes of every picture (comma-separated: gradient, phash). "
        "Default: none.",
    )
    build.add_argument(
        "--no-borders",
        action="store_true",
        help="Do not store border-stripped and region hashes of images that have them. "
        "Default: store them.",
    )
    return parser



def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    if args.command == "build":
        return build_command(args)
    if args.algorithm is not None:
        try:
            args.algorithm = algorithms.get(args.algorithm).name
        except ConfigError as exc:
            print(f"photosieve lists: error: --algorithm: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return check(args)


def build_command(args: argparse.Namespace) -> int:
    """``lists build --from-images DIR -o FILE``: see photosieve.lists.from_images."""
    from pathlib import Path  # noqa: PLC0415

    from photosieve.lists.from_images import ListBuildOptions, build_list  # noqa: PLC0415
    from photosieve.robust.expansion import DEFAULT_WINDOWS  # noqa: PLC0415
    from photosieve.text import printable  # noqa: PLC0415

    try:
        options = ListBuildOptions(
            windows=DEFAULT_WINDOWS if args.windows == "default" else (),
            borders=not args.no_borders,
            second_opinions=tuple(a.strip() for a in args.second_opinions.split(",") if a.strip()),
        )
        report = build_list(Path(args.from_images), args.output, options)
    except ConfigError as exc:
        print(f"photosieve lists build: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{args.output}: {report.images} images, {report.rows} hashes"
        + (f", {len(report.failures)} images not listed" if report.failures else "")
    )
    for image_id, reason in report.failures:
        print(f"  {printable(image_id)}: {printable(reason)}")  # ids are file names: no raw controls
    return EXIT_PROBLEMS if report.failures else EXIT_OK


def check(args: argparse.Namespace) -> int:
    reports, status = [], EXIT_OK
    for path in args.files:
        try:
            hash_list = read_list(
                path,
                algorithm=args.algorithm,
                strict=False,
                format=args.input_format,
                max_bytes=args.max_list_bytes,
            )
        except PhotosieveError as exc:  # unreadable file, no hash column...
            reports.append({"path": path, "error": _error_text(exc)})
            status = EXIT_PROBLEMS
            continue
        reports.append(_report(hash_list))
        if hash_list.problems and not args.lenient:
            status = EXIT_PROBLEMS
    if args.format == "json":
        print(
            json.dumps(
                {"lists": reports, "strict": not args.lenient, "exit_status": status}, indent=2
            )
        )
    else:
        for report in reports:
            print(_text(report, args.max_problems))
    return status


def _error_text(exc: PhotosieveError) -> str:
    """The error of a list that cannot be used; one line when it is about the file as a whole."""
    if isinstance(exc, ListFormatError) and exc.whole_file:
        return str(exc.problems[0])
    return str(exc)


def _report(hash_list: HashList) -> dict:
    report = hash_list.summary()
    report["bad_lines"] = [
        {"path": p.path, "line": p.line, "kind": p.kind.value, "reason": p.reason, "text": p.text}
        for p in hash_list.problems
    ]
    return report


def _text(report: dict, max_problems: int) -> str:
    if "error" in report:
        error, prefix = report["error"], f"{report['path']}: "
        if "\n" not in error and error.startswith(prefix):
            return f"{prefix}cannot be used: {error[len(prefix):]}"
        return f"{report['path']}: cannot be used:\n  " + error.replace("\n", "\n  ")
    lines = [
        f"{report['name']}: {report['path']}",
        f"  format {report['format']}, version sha256:{report['version']}",
        f"  {report['rows']} rows, {report['entries']} valid entries, "
        f"{report['distinct']} distinct hashes, "
        f"{report['duplicates']} duplicates merged, {report['problems']} bad lines",
    ]
    for algorithm, counts in report["algorithms"].items():
        lines.append(
            f"  {algorithm}: {counts['distinct']} distinct ({counts['entries']} entries, "
            f"{counts['duplicates']} duplicates)"
        )
    if not report["algorithms"]:
        lines.append("  no valid hashes")
    bad = report["bad_lines"]
    shown = bad if max_problems <= 0 else bad[:max_problems]
    for problem in shown:
        where = (
            problem["path"] if problem["line"] is None else f"{problem['path']}:{problem['line']}"
        )
        text = f": {problem['text']!r}" if problem["text"] else ""
        lines.append(f"  {where}: {problem['reason']}{text}")
    if len(bad) > len(shown):
        lines.append(
            f"  ... and {len(bad) - len(shown)} more bad lines (--max-problems 0 shows all)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
