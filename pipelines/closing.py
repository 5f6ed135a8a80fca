"""The closing block: what a run did and where its outputs are, printed on stdout at the end.

Logs go to stderr and scroll past; the closing block is the one thing a
user reads after a run: what was read (objects, files and archives;
carried and read separately for repeat audits), hashed, matched (per list
and status), the errors by class, what was skipped, the accounting
verdict, where each table and ``summary.json`` are, and the command to run
next. :func:`closing_block` builds it from the run's
:class:`~photosieve.summary.Summary` alone (counts from the ledger, keys
from :mod:`photosieve.ledger`), so it is a pure function that tests call
without Beam; :func:`failed_block` says a run is incomplete and why.

Every value that came from outside (paths, list names, error classes) goes
through :func:`photosieve.text.printable`: a name cannot fake a line of
the block or move the cursor. Nothing of an image's content is printed.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from photosieve import ledger as keys
from photosieve import schemas
from photosieve.ledger import Ledger
from photosieve.summary import LIST_BUDGET, SUMMARY_FILE, Summary
from photosieve.text import printable

__all__ = ["CLASSES_SHOWN", "closing_block", "failed_block", "parse_block"]

# Error classes (and skip kinds) named one by one; the rest are "N more classes".
CLASSES_SHOWN = 3
# Accounting problems quoted in the block (all of them are in summary.json and the log).
PROBLEMS_SHOWN = 2
_LABEL_WIDTH = 12
MATCH = "match"  # the command that reads stored hashes, not objects
# A failure's reason is cut to its first line and this many characters (the log has all of it).
REASON_CHARS = 240


def closing_block(summary: Summary) -> str:
    """The closing block of a finished run (balanced or not), one line per topic.

    >>> from photosieve.summary import Summary
    >>> block = closing_block(Summary("scan", "r1", output="out", tables={"hashes": 2},
    ...     counts={"objects": {"read": 1, "hashed": 1}, "files": {"listed": 1},
    ...             "units": {"md5": {"hashed": 1}}, "hashes": {"algorithm": {"md5": 1}}}))
    >>> print(block.splitlines()[1])
      read        1 object from 1 file
    >>> parse_block(block)["next"]
    'photosieve report out'
    """
    counts = Ledger(summary.counts)
    output = summary.output.rstrip("/") or summary.output
    head = f"photosieve {summary.command} finished: run {printable(summary.run_id)}"
    lines = [f"{head}, {summary.wall_seconds:.1f} s"]
    lines += _line("read", _read(counts))
    if summary.previous:  # a repeat audit: what changed since the earlier runs
        lines += _line("files", _counted(counts.counts(keys.FILES_STATE)))
    lines += _line("hashed", _hashed(counts))
    if summary.command != MATCH:  # match reads stored hashes: no objects to fail or skip
        errors = counts.counts(keys.ERRORS_CLASS)
        lines += _line("errors", _classes(errors, "class", "classes", unit=" rows"))
        lines += _line("skipped", _skipped(counts))
    if summary.lists is not None:
        lines += _line("matched", _matched(counts))
        for index, text in enumerate(_budgets(summary)):
            lines += _line("thresholds" if index == 0 else "", text)
        lines += _line("strategy", _strategy(summary))
    lines += _line("accounting", _verdict(summary))
    for index, warning in enumerate(summary.warnings):  # an empty list, say
        lines += _line("warning" if index == 0 else "", printable(warning))
    written = [table for table in summary.tables if _written(summary, table)]
    names = {table: printable(table) for table in written}
    name_width = max((len(name) for name in names.values()), default=0)
    rows_width = max((len(str(summary.tables[table])) for table in written), default=0)
    for index, table in enumerate(written):
        rows = summary.tables[table]
        where = f"{_join(output, names[table])}/"
        text = f"{names[table]:<{name_width}}  {rows:>{rows_width}} rows  {where}"
        lines += _line("tables" if index == 0 else "", text)
    lines += _line("summary", _join(output, SUMMARY_FILE))
    # Quoted as a shell reads it, so that it can be pasted as it is.
    lines += _line("next", f"photosieve report {printable(shlex.quote(output))}")
    return "\n".join(lines)


def failed_block(command: str, run_id: str, output: str, reason: str) -> str:
    """The closing block of a run that did not finish: it is incomplete, why, and what is left.

    >>> print(failed_block("scan", "r1", "out", "RuntimeError: disk on fire"))
    photosieve scan did NOT finish: run r1 is incomplete
      why         RuntimeError: disk on fire
      output      out holds no summary.json: its tables are partial; do not report on it
      next        fix the cause and run again (--overwrite replaces the partial output)
    """
    output = printable(output.rstrip("/") or output)
    first, *rest = reason.strip().splitlines() or ["unknown"]
    shown = first[:REASON_CHARS]
    if rest or len(shown) < len(first):
        shown += " ... (the rest is in the log above)"
    lines = [f"photosieve {command} did NOT finish: run {printable(run_id)} is incomplete"]
    lines += _line("why", printable(shown))
    lines += _line(
        "output", f"{output} holds no {SUMMARY_FILE}: its tables are partial; do not report on it"
    )
    lines += _line("next", "fix the cause and run again (--overwrite replaces the partial output)")
    return "\n".join(lines)


def parse_block(text: str) -> dict[str, str]:
    """A closing block read back: label -> text (continuation lines joined by newlines).

    For tests and scripts that read the block; the first line is under ``""``.
    """
    parsed: dict[str, str] = {}
    label = ""
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            parsed[""] = line
            continue
        name, value = line[2 : 2 + _LABEL_WIDTH].strip(), line[2 + _LABEL_WIDTH :]
        if name:
            label = name
            parsed[label] = value
        else:
            parsed[label] = f"{parsed.get(label, '')}\n{value}"
    return parsed


def _written(summary: Summary, table: str) -> bool:
    """Whether the run wrote ``table`` (summary.json counts rows of tables some jobs never write)."""
    if table == schemas.MATCHES:
        return summary.lists is not None  # jobs with lists: audit, match
    if table in (schemas.HASHES, schemas.ERRORS):
        return summary.command != MATCH
    return True


def _line(label: str, text: str | None) -> list[str]:
    return [] if text is None else [f"  {label:<{_LABEL_WIDTH}}{text}"]


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _join(directory: str, name: str) -> str:
    return f"{printable(directory)}/{name}"


def _read(counts: Ledger) -> str:
    """Objects, and the files and archives they came from; carried ones apart."""
    stored = counts.count(keys.HASHES_READ)
    read = counts.count(keys.OBJECTS_READ)
    carried = counts.count(keys.OBJECTS_CARRIED)
    if stored and not read and not carried:  # match: stored hashes, no objects
        return f"{_plural(stored, 'stored hash row')}"
    objects = _plural(read + carried, "object")
    if counts.has(keys.OBJECTS_CARRIED):
        objects += f" ({read} read now, {carried} carried from earlier runs)"
    files = counts.count(keys.FILES_LISTED)
    archives = counts.count(keys.FILES_ARCHIVES)
    if not archives:
        return f"{objects} from {_plural(files, 'file')}"
    members = counts.count(keys.FILES_ARCHIVE_OBJECTS)
    text = (
        f"{objects}: {_plural(files - archives, 'plain file')} and "
        f"{_plural(members, 'member')} of {_plural(archives, 'archive')}"
    )
    failures = counts.count(keys.FILES_ARCHIVE_FAILURES)
    if failures:
        text += f" ({failures} damaged or over a limit: see errors)"
    return text


def _hashed(counts: Ledger) -> str | None:
    """Objects hashed, and per algorithm how many hashed and failed (units: object x algorithm)."""
    units = counts.counts(keys.UNITS)
    if not units:
        return None
    parts = []
    for name, outcomes in units.items():
        hashed = outcomes.get("hashed", 0) if isinstance(outcomes, Mapping) else 0
        failed = counts.total((*keys.UNITS, name)) - hashed  # failed, partial, missing...
        parts.append(f"{printable(name)} {hashed}" + (f" ({failed} failed)" if failed else ""))
    text = _plural(counts.count(keys.OBJECTS_HASHED), "object")
    carried = counts.count(keys.OBJECTS_CARRIED)
    if carried:
        text += f" now, {carried} carried (hashed before)"
    return f"{text}; per algorithm: {', '.join(parts)}"


def _classes(numbers: Mapping[str, int], one: str, many: str, *, unit: str = "") -> str:
    """``3: empty 2, truncated 1`` (most first), then ``and N more classes``; ``0`` for none."""
    numbers = {k: v for k, v in numbers.items() if isinstance(v, int)}
    total = sum(numbers.values())
    if not total:
        return "0"
    ranked = sorted(numbers.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{printable(name)} {count}" for name, count in ranked[:CLASSES_SHOWN])
    rest = len(ranked) - CLASSES_SHOWN
    more = f", and {_plural(rest, 'more ' + one, 'more ' + many)}" if rest > 0 else ""
    return f"{total}{unit}: {shown}{more}"


def _counted(numbers: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {printable(name)}" for name, count in numbers.items()) or "0"


def _skipped(counts: Ledger) -> str:
    kinds: dict[str, int] = {}
    for where, by_kind in counts.counts(keys.SKIPPED).items():
        for kind, count in (by_kind if isinstance(by_kind, Mapping) else {}).items():
            kinds[f"{where} {kind}"] = kinds.get(f"{where} {kind}", 0) + count
    return _classes(kinds, "kind", "kinds")


def _matched(counts: Ledger) -> str:
    """Match rows per list and status, and how many are new against earlier runs."""
    per_list = counts.counts(keys.MATCHES_LIST)
    if not per_list:
        return "0 (no object matched any list)"
    parts = []
    for name, statuses in per_list.items():
        statuses = statuses if isinstance(statuses, Mapping) else {}
        parts.append(f"{printable(name)}: {_counted(statuses)}")
    text = f"{counts.total(keys.MATCHES_STATUS)} rows; " + "; ".join(parts)
    if counts.has(keys.MATCHES_NEW):
        text += f"; {counts.total(keys.MATCHES_NEW)} new since earlier runs"
    return text


def _budgets(summary: Summary) -> list[str]:
    """Per list whose PDQ threshold came from the false-match budget: the threshold, and its bound."""
    texts = []
    for entry in summary.lists or ():
        if isinstance(entry, Mapping) and entry.get("kind") == "video":
            texts.append(_video_rule(entry))
            continue
        budget = entry.get(LIST_BUDGET) if isinstance(entry, Mapping) else None
        if not isinstance(budget, Mapping) or not budget.get("applied"):
            continue
        bound = budget.get("expected_this_run", budget.get("expected_per_image"))
        per = "in this run" if "expected_this_run" in budget else "per scanned image"
        text = (
            f"{printable(entry.get('name'))}: pdq <= {budget.get('threshold')} from the "
            f"false-match budget {budget.get('budget'):g} per scanned image (bound {bound:.2g} "
            f"false matches {per})"
        )
        if not budget.get("supported", True):
            text += "; the measured curve cannot support the budget at this list's size: the "
            text += "strictest measured point"
        texts.append(text)
    return texts


def _video_rule(entry: Mapping) -> str:
    """A video list's rule in words (vPDQ: shares of frames, not one distance); the summary is read, not trusted."""
    rule = entry.get("rule") if isinstance(entry.get("rule"), Mapping) else {}
    thresholds = entry.get("thresholds") if isinstance(entry.get("thresholds"), Mapping) else {}

    def number(value) -> str:
        return f"{value:g}" if isinstance(value, (int, float)) else "?"

    return (f"{printable(entry.get('name'))}: vpdq, {number(rule.get('query_percent'))}% of a video's frames "
            f"within {number(thresholds.get('vpdq'))} bits of a listed video's (and "
            f"{number(rule.get('compared_percent'))}% of its), {number(entry.get('videos'))} listed videos")


def _strategy(summary: Summary) -> str | None:
    """How the lists were joined and why (``--strategy auto``'s estimate, or the flag given)."""
    settings = summary.settings
    if not settings.strategy:
        return None
    reason = f" ({printable(settings.strategy_reason)})" if settings.strategy_reason else ""
    return f"{printable(settings.strategy)}{reason}"


def _verdict(summary: Summary) -> str:
    if summary.accounting.balanced:
        if summary.command == "match":
            return "balanced: every stored hash was matched against the lists or set aside, counted"
        return "balanced: every object listed is in the hashes or errors table, or a counted skip"
    problems = summary.accounting.problems
    quoted = "; ".join(printable(p) for p in problems[:PROBLEMS_SHOWN])
    more = f" (and {len(problems) - PROBLEMS_SHOWN} more)" if len(problems) > PROBLEMS_SHOWN else ""
    return f"NOT balanced (exit status 1): {quoted}{more}; see {SUMMARY_FILE}"
