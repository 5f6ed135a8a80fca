"""``photosieve lists``: check known-hash list files before a run uses them, and build lists from images.

    photosieve lists check ncmec.csv.gz benign.txt --algorithm pdq
    photosieve lists check cases.parquet --lenient --format json
    photosieve lists build known/ more/*.jpg -o known.csv.gz --label csam
    photosieve lists index ncmec.csv.gz -o ncmec.psidx

``lists build`` hashes the images in files, folders and globs into a list
that also holds sub-window hashes, so crops of those images match
(photosieve.lists.from_images).

``lists index`` builds a list's index file (photosieve.index.mapped) ahead of
a run: the file a run's side-input join builds once under its temp location
and every worker process maps. Built here, it shows the build time and size,
and checks that a list is indexable, before a run pays for it.

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
import os
import sys
from collections import Counter

from photosieve import algorithms
from photosieve.errors import ConfigError, ListFormatError, PhotosieveError
from photosieve.lists import FORMATS, HashList, read_list
from photosieve.lists.build import build_list
from photosieve.lists.from_images import DECODES, ListBuildOptions, decode_options
from photosieve.lists.image_sources import ID_FROM
from photosieve.cli.values import add_max_list_bytes, at_least, parse_threshold
from photosieve.pipelines import help_text

DEFAULT_MAX_PROBLEMS = 100  # per list in text output; JSON always has them all
SHOWN = 10  # names shown per kind in lists build's text (the log has every failure)

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
        help="build a list from image files, folders or globs (plain PDQ plus sub-window "
        "hashes, so crops match)",
        description="Hash every image the inputs hold into a list file: the plain PDQ hash, "
        "sub-window hashes (crops), border-stripped/region hashes, optional second opinions. "
        "Inputs are found as audit --input finds them; every regular file is decoded, whatever "
        "its name, and each one that gives no hash is reported (no Beam).",
        **help_text.parser_options("lists build"),
    )
    build.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="Files, folders (walked recursively) or globs (* within a folder, ** across), as "
        "audit --input takes them. FIFOs, devices and broken links are skipped, counted. "
        "Required (here or as --from-images).",
    )
    build.add_argument(
        "--from-images",
        action="append",
        default=[],
        metavar="DIR",
        help="One more INPUT (the flag older scripts use). Default: none.",
    )
    build.add_argument(
        "-o",
        "--output",
        required=True,
        help="List file to write: .csv, .tsv, .jsonl or .parquet (optionally .gz). Required.",
    )
    build.add_argument(
        "-d",
        "--decode",
        choices=DECODES,
        default=DECODES[0],
        help="exact: hash full-resolution pixels, so the plain PDQ hash equals pdqhash's and "
        "other PDQ tools' bit for bit (a list is built once and shared); fast: decode at "
        "reduced size as audit --decode fast does, keeping the shorter side >= 512 px: within a "
        f"few bits of exact, 2.5x faster on 12 MP JPEGs. Default: {DECODES[0]}.",
    )
    build.add_argument(
        "--label",
        action="append",
        default=[],
        dest="labels",
        metavar="LABEL",
        help="Store this label on every entry (repeatable; no spaces, ',', ';' or '|'). "
        "Default: none.",
    )
    build.add_argument(
        "--id-from",
        choices=ID_FROM,
        default=ID_FROM[0],
        help="Each entry's id: path (below the folder given; a file given: its name), name (the "
        "file name), or digest (SHA-256 of the file's bytes, hex, as in the hashes table). "
        f"Default: {ID_FROM[0]}.",
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
    _add_index_command(commands)
    return parser


INDEX_EPILOG = """examples:
  # the index file of a list, as a run's workers map it
  photosieve lists index ncmec.csv.gz -o ncmec.psidx
  # with the thresholds the run will use (they tune the index, queries stay exact)
  photosieve lists index known.csv -o known.psidx -t pdq=24 --name known"""


def _add_index_command(commands) -> None:
    index = commands.add_parser(
        "index",
        help="build a list's index file, the one every worker process of a run maps",
        description="Build the indexes of one list (every algorithm it holds) into one immutable "
        "file that processes map read-only and share (no Beam). Prints the counts, file size, "
        "digest and build time.",
        epilog=INDEX_EPILOG,
        formatter_class=help_text.HelpFormatter,
    )
    index.add_argument(
        "list", metavar="LIST", help="The list file (any supported format, .gz too)."
    )
    index.add_argument("-o", "--output", required=True, help="Index file to write. Required.")
    index.add_argument(
        "-n",
        "--name",
        default="",
        help="The list's name. Default: the file name, as a run names it.",
    )
    index.add_argument(
        "-r",
        "--role",
        choices=("match", "suppress"),
        default="match",
        help="The list's role. Default: match.",
    )
    index.add_argument(
        "-t",
        "--threshold",
        action="append",
        default=[],
        type=threshold_value,
        metavar="ALG=N",
        help="The threshold queries will use for an algorithm (repeatable); it picks the "
        "index geometry. Default: each algorithm's calibrated threshold (pdq 31).",
    )
    index.add_argument(
        "-a",
        "--algorithm",
        default=None,
        help="Read every hash as this algorithm. Default: sniffed.",
    )
    index.add_argument(
        "-i",
        "--input-format",
        choices=tuple(FORMATS),
        default=None,
        help="Read the file as this list format. Default: sniffed.",
    )
    index.add_argument(
        "-l",
        "--lenient",
        action="store_true",
        help="Skip bad list lines instead of failing. Default: strict.",
    )
    add_max_list_bytes(index)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    if args.command == "build":
        return build_command(args)
    if args.command == "index":
        return index_command(args)
    if args.algorithm is not None:
        try:
            args.algorithm = algorithms.get(args.algorithm).name
        except ConfigError as exc:
            print(f"photosieve lists: error: --algorithm: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return check(args)


def build_command(args: argparse.Namespace) -> int:
    """``lists build INPUT... -o FILE``: see photosieve.lists.build and .from_images.

    Exit 1 when an image (or a file named like one, or an unreadable file)
    could not be listed, or none was; files that are no image by content and
    by name are counted and named, and leave the status 0.
    """
    from photosieve.robust.expansion import DEFAULT_WINDOWS  # noqa: PLC0415

    inputs = [*args.inputs, *args.from_images]
    if not inputs:
        print("photosieve lists build: error: give at least one INPUT", file=sys.stderr)
        return EXIT_USAGE
    try:
        options = ListBuildOptions(
            windows=DEFAULT_WINDOWS if args.windows == "default" else (),
            borders=not args.no_borders,
            second_opinions=tuple(a.strip() for a in args.second_opinions.split(",") if a.strip()),
            decode=decode_options(args.decode),
            labels=tuple(args.labels),
            id_from=args.id_from,
        )
        report = build_list(inputs, args.output, options)
    except ConfigError as exc:
        print(f"photosieve lists build: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(build_text(args.output, report, args.decode, args.id_from)))
    return EXIT_PROBLEMS if report.failed_images or not report.written else EXIT_OK


def index_command(args: argparse.Namespace) -> int:
    """``lists index LIST -o FILE``: the list's index file, written whole then renamed into place.

    Exit 1 when the list cannot be read (or has bad lines, unless
    ``--lenient``), 2 for usage errors.
    """
    import time

    from photosieve.index import mapped
    from photosieve.lists import ListSpec
    from photosieve.lists.known import known_list

    try:
        thresholds = dict(args.threshold)
        spec = ListSpec(
            args.list,
            name=args.name,
            role=args.role,
            thresholds=thresholds,
            algorithm=args.algorithm,
            format=args.input_format,
            max_bytes=args.max_list_bytes,
        )
    except ConfigError as exc:
        print(f"photosieve lists index: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    started = time.monotonic()
    try:
        known = known_list(spec, spec.read(strict=not args.lenient))
        if not known.groups:
            raise ConfigError(f"{args.list}: no valid hashes to index")
        temporary = f"{args.output}.tmp-{os.getpid()}"
        try:
            summary = mapped.write_index_file(known, temporary)
            os.replace(temporary, args.output)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except PhotosieveError as exc:
        print(f"photosieve lists index: {args.list}: cannot be indexed:\n  {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as exc:
        print(f"photosieve lists index: cannot write {args.output}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    counts = ", ".join(f"{name} {count}" for name, count in summary.counts.items())
    print(
        f"{args.output}: index of list {known.name} (version sha256:{known.version}): {counts} "
        f"hashes, {summary.size} bytes, digest sha256:{summary.digest}, built in "
        f"{time.monotonic() - started:.1f} s"
    )
    return EXIT_OK


def threshold_value(text: str) -> tuple[str, float]:
    """argparse type: ``ALGORITHM=N`` -> (algorithm, N), N within the algorithm's range."""
    try:
        listed, name, value = parse_threshold(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if listed is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: one list is indexed: give ALGORITHM=N")
    return algorithms.get(name).name, value


def build_text(output: str, report, decode: str, id_from: str) -> list[str]:
    """What ``lists build`` did, for a person: counts first, then the first few names of each kind.

    Names are escaped paths (no raw control characters); messages are made
    printable (:func:`photosieve.text.printable`).
    """
    from photosieve.text import printable  # noqa: PLC0415

    files = f"{report.files} file{'s' * (report.files != 1)} read"
    if report.written:
        lines = [
            f"{output}: {report.images} images listed, {report.rows} hashes "
            f"({files}, decode {decode}, ids from {id_from})"
        ]
    else:
        lines = [f"{output}: not written: no image listed ({files})"]
    failed, others = report.failed_images, report.not_images
    if failed:
        lines.append(f"  {len(failed)} not listed (images that failed, or unreadable):")
        lines += [
            f"    {f.uri}: {f.reason.value}: {printable(f.message)}" for f in failed[:SHOWN]
        ]
        lines += _more(len(failed))
    if others:
        names = ", ".join(f.uri for f in others[:SHOWN])
        lines.append(f"  {len(others)} not images, not listed: {names}")
        lines += _more(len(others))
    if report.skipped:
        kinds = Counter(s.kind for s in report.skipped)
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        lines.append(f"  {len(report.skipped)} skipped, not regular files ({counts}), never opened:")
        lines.append("    " + ", ".join(s.uri for s in report.skipped[:SHOWN]))
        lines += _more(len(report.skipped))
    if report.shared_ids:
        names = ", ".join(report.shared_ids[:SHOWN])
        lines.append(f"  {len(report.shared_ids)} ids given to several files: {names}")
        lines += _more(len(report.shared_ids))
    return lines


def _more(total: int) -> list[str]:
    return [f"    ... and {total - SHOWN} more"] if total > SHOWN else []


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
