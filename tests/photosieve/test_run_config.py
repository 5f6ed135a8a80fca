"""The run as one value (photosieve.run_config): frozen, picklable, valid by construction."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan
from photosieve.lists import ListRole, ListSpec
from photosieve.run_config import (
    AUTO,
    SHUFFLE,
    SIDE_INPUT,
    STRATEGIES,
    Inputs,
    Matching,
    Output,
    Previous,
    RunConfig,
)
from photosieve.strategy import Choice
from photosieve.summary import RunSettings


def _audit(**changes) -> RunConfig:
    fields = dict(
        command="audit",
        output=Output("out"),
        inputs=Inputs(("photos/",), archives=True),
        plan=HashPlan.parse("pdq-dihedral,md5"),
        matching=Matching(
            (ListSpec("k.csv", thresholds={"pdq": 20}), ListSpec("b.txt", role="suppress")),
            quality_cutoff=40,
        ),
        previous=Previous(("last-week",)),
    )
    fields.update(changes)
    return RunConfig(**fields)


def test_a_run_pickles_whole_and_is_frozen():
    config = _audit()
    assert pickle.loads(pickle.dumps(config)) == config
    spec = config.matching.lists[1]
    assert pickle.loads(pickle.dumps(spec)) == spec and spec.role is ListRole.SUPPRESS
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.command = "scan"


def test_the_settings_later_runs_read():
    assert _audit().settings() == RunSettings(
        archives=True, quality_cutoff=40, match_mode=None, strategy="side-input", dihedral=True
    )
    scan = RunConfig("scan", Output("o"), inputs=Inputs(("x",)), plan=HashPlan.parse("md5"))
    assert scan.settings() == RunSettings()


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: Inputs(()), "--input is required"),
        (lambda: Inputs(("x",), max_bytes=0), "--max-bytes must be at least 1"),
        (lambda: Output(""), "--output is required"),
        (lambda: Output("o", mode="open"), "--output-mode must be one of private, shared"),
        (lambda: Matching(()), "--list is required"),
        (lambda: Matching((ListSpec("a/k.txt"), ListSpec("b/k.txt"))), "two lists share a name"),
        (lambda: Matching((ListSpec("k.txt"),), strategy="fast"), "--strategy must be one of"),
        (lambda: Matching((ListSpec("k.txt"),), side_input_budget=0), "--side-input-budget"),
        (lambda: Matching((ListSpec("k.txt"),), side_input_budget="1G"), "a byte count"),
        (lambda: Matching((ListSpec("k.txt"),), quality_cutoff=101), "--quality-cutoff"),
        (lambda: Previous(rehash=True), "--rehash needs --previous"),
        (lambda: _audit(command="hash"), "unknown command 'hash'"),
        (lambda: _audit(command="scan"), "lists are for audit and match"),
        (lambda: _audit(matching=None), "lists are for audit and match"),
        (lambda: _audit(plan=None), "inputs and a hash plan go together"),
        (lambda: _audit(stored_hashes="h"), "--hashes is required"),
    ],
)
def test_a_bad_combination_cannot_be_made(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_match_takes_stored_hashes_and_no_inputs():
    matching = Matching((ListSpec("k.txt"),), strategy=SHUFFLE)
    config = RunConfig("match", Output("o"), matching=matching, stored_hashes="run/")
    assert config.match_mode is None and config.settings().strategy == SHUFFLE
    with pytest.raises(ConfigError, match="--previous is for audits"):
        dataclasses.replace(config, previous=Previous(("p",)))


def test_auto_is_valid_until_preflight_replaces_it_with_a_join_and_its_reason():
    matching = Matching((ListSpec("k.txt"),), strategy=AUTO)
    assert not matching.resolved and AUTO not in STRATEGIES  # no pipeline runs "auto"
    chosen = matching.with_choice(Choice(SHUFFLE, "auto: over", 10, 1))
    assert chosen.resolved and (chosen.strategy, chosen.strategy_reason) == (SHUFFLE, "auto: over")
    config = _audit(matching=chosen)
    assert (config.settings().strategy, config.settings().strategy_reason) == (SHUFFLE, "auto: over")
    with pytest.raises(ConfigError, match="a chosen strategy must be one of"):
        matching.with_choice(Choice(AUTO, "?", 0, 1))
    assert Matching((ListSpec("k.txt"),)).strategy == SIDE_INPUT  # made in code: the join named
