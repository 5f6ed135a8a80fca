"""Flags in, one RunConfig out (pipelines.configure)."""

from __future__ import annotations

import pickle

import pytest

from photosieve.lists import ListRole
from photosieve.pipelines import audit, configure, match, scan
from photosieve.robust.modes import CONFIGS


def test_an_audit_is_parsed_once_into_its_whole_run():
    config = audit.run(
        "-i photos/ -o out -l ncmec=k.csv -s b.txt -t pdq=20 ncmec:md5=0 --archives "
        "--quality-cutoff 40 --previous last --rehash --dihedral --run-id r".split()
    )
    assert config.command == "audit" and config.output.path == "out" and config.output.run_id == "r"
    assert config.inputs.patterns == ("photos/",) and config.inputs.archives
    assert config.plan.algorithms == ("pdq", "md5") and config.plan.pdq_dihedral
    assert [(s.name, s.role, s.thresholds) for s in config.matching.lists] == [
        ("ncmec", ListRole.MATCH, {"pdq": 20.0, "md5": 0.0}),
        ("b", ListRole.SUPPRESS, {"pdq": 20.0}),
    ]
    assert config.matching.quality_cutoff == 40 and config.previous.outputs == ("last",)
    assert pickle.loads(pickle.dumps(config)) == config
    assert dict(config.flags)["algorithms"] == "pdq,md5"  # as given: --dihedral does not rewrite it


def test_a_match_mode_adds_its_query_hashes_to_the_plan_once():
    config = audit.run("-i x -o o -l k.csv --match-mode robust-windows-gradient".split())
    assert config.plan.algorithms == ("pdq", "gradient", "md5")
    assert config.plan.query_expansion == CONFIGS["robust-windows-gradient"].expansion
    assert config.match_mode == "robust-windows-gradient"


def test_scan_and_match_hold_only_their_parts():
    scanned = scan.run(["-i", "x", "-o", "o"])
    assert scanned.matching is None and scanned.previous.outputs == ()
    matched = match.run(["--hashes", "run/", "-l", "k.csv", "-o", "o", "--strategy", "shuffle"])
    assert matched.inputs is None and matched.plan is None and matched.stored_hashes == "run/"
    assert matched.matching.strategy == "shuffle"


def test_passwords_are_scrubbed_from_the_recorded_flags():
    config = scan.run(["-i", "https://u:pw@host/in/*", "-o", "o"])
    assert dict(config.flags)["input"] == ["https://u:<redacted>@host/in/*"]
    assert config.inputs.patterns == ("https://u:pw@host/in/*",)  # the run itself keeps them


@pytest.mark.parametrize(
    "argv,message",
    [
        ("-i x -o o -l k.csv -a md5 --dihedral", "--dihedral needs pdq among --algorithms"),
        ("-i x -o o -l k.csv --rehash", "--rehash needs --previous"),
        ("-i x -o o -l k.csv -t other:pdq=3", "--threshold names unknown list(s) other"),
        ("-i x -o o -l k.csv -l j/k.csv", "two lists are named 'k'"),
    ],
)
def test_a_bad_combination_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        audit.run(argv.split())
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_the_flag_layer_and_the_value_agree():
    known, pipeline_args = audit.parse_args("-i x -o o -l k.csv -a pdq --dihedral".split())
    config = configure.run_config("audit", known, pipeline_args)
    assert configure.hash_plan(known) == config.plan
    assert configure.list_specs(known) == list(config.matching.lists)
    assert config.pipeline_args == tuple(pipeline_args)


def test_the_strategy_is_auto_unless_given_with_a_budget_in_binary_units():
    config = audit.run(["-i", "x", "-o", "o", "-l", "k.csv"])
    assert config.matching.strategy == "auto" and config.matching.side_input_budget == 2 << 30
    config = audit.run(["-i", "x", "-o", "o", "-l", "k.csv", "--side-input-budget", "2GB"])
    assert config.matching.side_input_budget == 2 << 30
    config = match.run(["--hashes", "r", "-o", "o", "-l", "k.csv", "--side-input-budget", "512M"])
    assert config.matching.side_input_budget == 512 << 20


@pytest.mark.parametrize(
    "value,message",
    [("0", "a byte limit must be positive"), ("lots", "expected a byte count")],
)
def test_a_bad_side_input_budget_is_a_usage_error(value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        audit.run(["-i", "x", "-o", "o", "-l", "k.csv", "--side-input-budget", value])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_a_profile_sets_the_strategy_and_its_budget(tmp_path):
    profile = tmp_path / "big.yaml"
    profile.write_text("strategy: auto\nside_input_budget: 3G\npipeline_options: {runner: FnApiRunner}\n")
    config = audit.run(["-c", str(profile), "-i", "x", "-o", "o", "-l", "k.csv"])
    assert (config.matching.strategy, config.matching.side_input_budget) == ("auto", 3 << 30)
    given = audit.run(["-c", str(profile), "-i", "x", "-o", "o", "-l", "k.csv", "--strategy", "shuffle"])
    assert given.matching.strategy == "shuffle"  # the command line wins
