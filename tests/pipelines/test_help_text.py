"""Every command's --help teaches (pipelines.help_text): parsed from the printed help.

Each help ends with examples that parse as written, the Beam jobs' help says
which flags go to Beam, no help shows reST double backticks, and every flag's
help ends with its default or says it is required.
"""

from __future__ import annotations

import re
import shlex

import pytest

from photosieve.pipelines import (
    audit,
    cli,
    configs_cli,
    hash_cli,
    help_text,
    lists_cli,
    match,
    match_files,
    report_cli,
    scan,
)

COMMANDS = ["audit", "scan", "match", "match-files", "hash", "report", "configs", "lists", "lists check",
            "lists build"]
BEAM_JOBS = {"audit": audit, "scan": scan, "match": match}
PARSERS = {
    "hash": hash_cli,
    "report": report_cli,
    "configs": configs_cli,
    "lists": lists_cli,
    "match-files": match_files,
}
# How a flag's help ends: its default, or that it must be given.
ENDING = re.compile(r"(Default: .+\.|Required\.)$")


def _help(command: str, capsys) -> str:
    try:
        status = cli.main([*command.split(), "--help"] if command else ["--help"])
    except SystemExit as exit_info:  # argparse's --help
        status = exit_info.code
    assert status == 0
    return capsys.readouterr().out


def _examples(text: str) -> list[str]:
    """The command lines after the last 'examples:' heading (which must end the help)."""
    head, found, tail = text.rpartition("\nexamples:\n")
    assert found, "the help has an examples section"
    lines = tail.rstrip("\n").replace(" \\\n", " ").splitlines()
    assert lines and all(line.startswith("  ") for line in lines), "examples end the help"
    commands = [line.strip() for line in lines if not line.strip().startswith("#")]
    assert all(command.startswith("photosieve ") for command in commands), commands
    return commands


def _flag_entries(text: str) -> dict[str, str]:
    """Each flag in the 'options:' section -> its help, line breaks undone."""
    section = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    entries = re.split(r"\n(?=  -)", section)
    result = {}
    for entry in entries:
        # The flag list is the entry's first line up to a run of spaces; the rest is the help.
        first, _, rest = entry.strip().partition("\n")
        parts = re.split(r"\s{2,}", first, maxsplit=1)
        flags = parts[0]
        help_ = " ".join(((parts[1] if len(parts) > 1 else "") + " " + rest).split())
        result[flags] = help_
    return result


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_ends_with_examples_that_parse_as_written(command, capsys, tmp_path,
                                                             monkeypatch):
    examples = _examples(_help(command, capsys))
    assert 2 <= len(examples) <= 3, examples
    monkeypatch.chdir(tmp_path)  # shipped profiles by name, from any folder
    for example in examples:
        words = shlex.split(example.split(" > ")[0])[1:]
        if words[0] in BEAM_JOBS:
            known, _ = BEAM_JOBS[words[0]].parse_args(words[1:])
            assert known.output, example
        else:
            PARSERS[words[0]].build_parser().parse_args(words[1:])


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_no_help_shows_double_backticks(command, capsys):
    assert "``" not in _help(command, capsys)


@pytest.mark.parametrize("command", ["", *BEAM_JOBS])
def test_the_beam_jobs_help_says_how_beam_options_pass_through(command, capsys):
    text = _help(command, capsys)
    assert "--runner" in text and "--direct_num_workers" in text
    if command:
        assert "Beam options: any other --flag" in text and "pipeline_options" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flags_help_ends_with_its_default_or_says_required(command, capsys):
    entries = _flag_entries(_help(command, capsys))
    entries.pop("-h, --help")
    if command in ("lists", "configs"):
        assert not entries  # subcommands, or a positional NAME only
        return
    assert entries
    for flags, help_ in entries.items():
        assert ENDING.search(help_), f"{command} {flags}: {help_[-60:]!r}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_description_says_whether_the_command_is_a_beam_job(command, capsys):
    text = _help(command, capsys)
    description = " ".join(text.split("\n\n")[1].split())
    tag = "(Beam job)." if command in BEAM_JOBS else "(no Beam)."
    assert description[0].isupper() and description.endswith(tag), description


def test_the_top_level_help_names_every_command_with_the_same_wording(capsys):
    text = _help("", capsys)
    for name, (_, line) in cli.SUBCOMMANDS.items():
        assert re.search(rf"^  {name}\s+{re.escape(line)}$", text, flags=re.M), name
        assert line[0].islower() and line.endswith(("(Beam job)", "(no Beam)")), name
    assert "check and build known-hash lists" in text


def test_the_epilog_keeps_its_lines_while_descriptions_wrap():
    parser = audit.build_parser()
    assert isinstance(parser.formatter_class(prog="x"), help_text.HelpFormatter)
    text = parser.format_help()
    assert help_text.BEAM_OPTIONS in text
