"""The lists' preflight (pipelines.list_preflight): each list read once, summarised, refused early."""

from __future__ import annotations

import pytest

from photosieve.errors import ConfigError
from photosieve.lists import ListSpec
from photosieve.lists.known import known_list
from photosieve.pipelines import list_preflight
from photosieve.robust.budget import FALLBACK_MARGIN
from photosieve.robust.modes import CONFIGS
from photosieve.run_config import AUTO, SHUFFLE, SIDE_INPUT, Matching
from photosieve.transforms import known_lists

PDQ = "f" * 64
GRADIENT = "00" * 144


@pytest.fixture()
def opened(monkeypatch):
    """Every list file opened during preflight, in order."""
    paths = []
    original = known_lists.open_stored

    def counting(path, mode="rb"):
        paths.append(path)
        return original(path, mode)

    monkeypatch.setattr(list_preflight, "open_stored", counting)
    return paths


def _list(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return ListSpec(str(path))


@pytest.mark.parametrize("mode", [None, "robust"])
def test_each_list_is_read_once_and_summarised(tmp_path, opened, mode):
    specs = (_list(tmp_path, "k.txt", f"pdq {PDQ}\n"), _list(tmp_path, "m.txt", "md5 " + "ab" * 16))
    loose = Matching(specs, match_mode=mode, false_match_budget=1e6)  # the mode's own thresholds
    summaries = list_preflight.check_lists(loose, ("pdq", "md5"))
    assert opened == [spec.path for spec in specs]  # once each, mode or not
    assert [(s["name"], s["role"], s["distinct"]) for s in summaries] == [
        ("k", "match", 1),
        ("m", "match", 1),
    ]
    pdq = summaries[0]
    if mode is None:
        assert pdq["thresholds"] == {"pdq": 31} and "match_mode" not in pdq
    else:
        assert pdq["thresholds"] == {"pdq": CONFIGS["robust"].threshold}
        assert pdq["match_mode"]["config"] == "robust" and "match_mode" not in summaries[1]


def test_a_mode_with_the_shuffle_join_is_refused_before_any_list_is_read(tmp_path, opened):
    specs = (_list(tmp_path, "k.txt", f"pdq {PDQ}\n"),)
    with pytest.raises(ConfigError, match="--match-mode robust needs --strategy side-input"):
        list_preflight.check_lists(Matching(specs, strategy=SHUFFLE, match_mode="robust"), None)
    assert opened == []


def test_a_euclidean_list_cannot_be_joined_by_shuffle(tmp_path, opened):
    specs = (_list(tmp_path, "g.txt", f"gradient {GRADIENT}\n"),)
    with pytest.raises(ConfigError, match="gradient hashes .* --strategy shuffle cannot join"):
        list_preflight.check_lists(Matching(specs, strategy=SHUFFLE), None)


def test_bad_lines_of_every_list_are_reported_together_unless_lenient(tmp_path, opened):
    specs = (
        _list(tmp_path, "a.txt", f"pdq {PDQ}\npdq nothex\n"),
        _list(tmp_path, "b.txt", "md5 tooshort\n" + "md5 " + "ab" * 16 + "\n"),
    )
    with pytest.raises(ConfigError) as error:
        list_preflight.check_lists(Matching(specs), None)
    message = str(error.value)
    assert "a.txt" in message and "b.txt" in message and "--lenient-lists" in message
    lenient = list_preflight.check_lists(Matching(specs, strict_lists=False), None)
    assert [s["problems"] for s in lenient] == [1, 1]


def test_a_list_of_algorithms_the_run_does_not_compute_is_warned_about(tmp_path, caplog):
    specs = (_list(tmp_path, "m.txt", f"md5 {'ab' * 16}\npdq {PDQ}\n"),)
    list_preflight.check_lists(Matching(specs), ("pdq",))
    assert "list m holds md5 hashes, which this run does not compute" in caplog.text


def test_a_list_with_no_hash_the_run_computes_is_an_error_before_any_work(tmp_path):
    specs = (_list(tmp_path, "m.txt", "md5 " + "ab" * 16 + "\n"),)
    with pytest.raises(ConfigError, match="list m holds only md5 hashes, and this run computes pdq"):
        list_preflight.check_lists(Matching(specs), ("pdq",))
    assert list_preflight.check_lists(Matching(specs), None)  # match: the stored hashes decide


@pytest.mark.parametrize("text", ["", "# comments only\n", "hash,id\n"])
def test_an_empty_list_is_a_warning(tmp_path, caplog, text):
    specs = (_list(tmp_path, "e.csv", text), _list(tmp_path, "k.txt", f"pdq {PDQ}\n"))
    warnings = []
    summaries = list_preflight.check_lists(Matching(specs), ("pdq",), warnings)
    assert len(summaries) == 2 and len(warnings) == 1
    assert warnings[0].startswith("list e (") and "holds no hashes" in warnings[0]
    assert "it can match nothing" in caplog.text


def test_an_audit_with_an_empty_list_runs_and_its_summary_says_so(images, tmp_path):
    import json

    from photosieve.pipelines import cli

    empty, known = tmp_path / "empty.txt", tmp_path / "k.txt"
    empty.write_text("# nothing yet\n")
    known.write_text(f"pdq {PDQ}\n")
    output = tmp_path / "out"
    argv = ["audit", "-i", str(images), "-l", str(empty), str(known), "-o", str(output)]
    assert cli.main([*argv, "--no-progress"]) == 0
    summary = json.loads((output / "summary.json").read_text())
    assert len(summary["warnings"]) == 1 and "list empty" in summary["warnings"][0]
    assert summary["accounting"]["balanced"]


def _curve():
    """None below 20 of 1.1e10 comparisons, then 10x more per distance (as in test_budget)."""
    from photosieve.robust.budget import Curve

    return Curve(tuple([0] * 20 + [10**k for k in range(10)] + [0] * 227), 10**10 + 10**9)


def test_each_lists_threshold_comes_from_its_budget_and_reaches_the_workers(tmp_path):
    small = _list(tmp_path, "small.txt", f"pdq {PDQ}\n")
    big = _list(tmp_path, "big.txt", "".join(f"pdq {i:064x}\n" for i in range(1, 2001)))
    own = ListSpec(str(tmp_path / "big.txt"), name="own", false_match_budget=1e3)
    matching = Matching((small, big, own), false_match_budget=1e-6)
    summaries = list_preflight.check_lists(matching, ("pdq",), query_hashes=2, curve=_curve())
    budget = {s["name"]: s["false_match_budget"] for s in summaries}
    # 2 x 1 comparisons: up to rate 5e-7 -> 23; 2 x 2000: 2.5e-10 -> beyond the curve: the
    # strictest measured point, FALLBACK_MARGIN below the first counted distance (20).
    fallback = 19 - FALLBACK_MARGIN
    assert (budget["small"]["threshold"], budget["small"]["supported"]) == (23, True)
    assert (budget["big"]["threshold"], budget["big"]["supported"]) == (fallback, False)
    assert budget["own"]["threshold"] == 31  # its own, loose budget: capped by pdq's 31
    assert [s["thresholds"]["pdq"] for s in summaries] == [23, fallback, 31]
    effective = list_preflight.with_budget_thresholds(matching, summaries)
    assert [s.threshold("pdq") for s in effective.lists] == [23, fallback, 31]


def test_a_mode_threshold_is_lowered_by_the_budget_not_raised(tmp_path):
    specs = (_list(tmp_path, "k.txt", f"pdq {PDQ}\n"),)
    matching = Matching(specs, match_mode="robust", false_match_budget=1e-6)
    summary = list_preflight.check_lists(matching, ("pdq",), query_hashes=77, curve=_curve())[0]
    assert summary["thresholds"]["pdq"] == summary["match_mode"]["threshold"] < CONFIGS["robust"].threshold
    loose = Matching(specs, match_mode="robust", false_match_budget=1e6)
    summary = list_preflight.check_lists(loose, ("pdq",), query_hashes=77, curve=_curve())[0]
    assert summary["thresholds"]["pdq"] == CONFIGS["robust"].threshold


def test_without_a_curve_the_budget_is_recorded_as_not_applied(tmp_path, monkeypatch):
    from photosieve.robust.budget import Curve

    monkeypatch.setattr(Curve, "shipped", classmethod(lambda cls: None))
    specs = (_list(tmp_path, "k.txt", f"pdq {PDQ}\n"),)
    summary = list_preflight.check_lists(Matching(specs), ("pdq",))[0]
    assert summary["false_match_budget"]["applied"] is False and summary["thresholds"]["pdq"] == 31


def _read(matching):
    read: list = []
    list_preflight.check_lists(matching, None, lists_read=read)
    return [hash_list for hash_list, _ in read]


def test_list_sizes_count_what_a_worker_holds_of_each_group(tmp_path):
    lines = "".join(f"pdq,{i:064x},id{i},label{i % 3}\n" for i in range(200))
    specs = (_list(tmp_path, "k.csv", "algorithm,hash,id,labels\n" + lines),)
    matching = Matching(specs, strategy=AUTO)
    hash_lists = _read(matching)
    (size,) = list_preflight.list_sizes(matching, hash_lists)
    assert (size.list_name, size.algorithm, size.hashes, size.threshold) == ("k", "pdq", 200, 31)
    _, metadata = known_list(specs[0], hash_lists[0]).groups["pdq"]
    assert size.metadata_bytes == metadata.nbytes > 0  # the ids and labels a worker keeps


def test_auto_resolves_to_a_join_with_its_reason(tmp_path):
    specs = (_list(tmp_path, "k.txt", f"pdq {PDQ}\n"),)
    for budget, strategy in ((1 << 30, SIDE_INPUT), (1, SHUFFLE)):
        matching = Matching(specs, strategy=AUTO, side_input_budget=budget)
        warnings: list[str] = []
        resolved, choice = list_preflight.resolve_strategy(matching, _read(matching), warnings)
        assert resolved.strategy == choice.strategy == strategy and resolved.resolved
        assert resolved.strategy_reason == choice.reason and choice.reason.startswith("auto: ")
        assert warnings == []


@pytest.mark.parametrize(
    ("text", "mode", "why"),
    [
        (f"pdq {PDQ}\n", "robust", "--match-mode robust"),
        (f"gradient {GRADIENT}\n", None, "list g's gradient hashes"),
    ],
)
def test_what_only_side_input_joins_gets_it_over_the_budget_with_a_warning(
    tmp_path, caplog, text, mode, why
):
    specs = (_list(tmp_path, "g.txt", text),)
    matching = Matching(specs, strategy=AUTO, match_mode=mode, side_input_budget=1)
    warnings: list[str] = []
    resolved, _ = list_preflight.resolve_strategy(matching, _read(matching), warnings)
    assert resolved.strategy == SIDE_INPUT and why in resolved.strategy_reason
    (warning,) = warnings
    assert "over --side-input-budget 1 B" in warning and warning in caplog.text
