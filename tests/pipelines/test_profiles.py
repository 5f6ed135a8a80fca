"""--config profiles (pipelines.profiles): unknown settings and Beam options refused, values checked."""

from __future__ import annotations

import pytest

from photosieve.pipelines import audit, scan

def _usage_error(run, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_a_profile_with_an_unknown_beam_option_is_refused(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("pipeline_options:\n  runner: FnApiRunner\n  direct_num_worker: 2\n")
    err = _usage_error(scan.run, ["-c", str(profile), "-i", "x", "-o", "out"], capsys)
    assert "'direct_num_worker', which is not a Beam pipeline option" in err
    assert "did you mean direct_num_workers?" in err


@pytest.mark.parametrize(
    "setting,message",
    [
        (
            "quality_cutoff: 101",
            "quality_cutoff (argument --quality-cutoff): must be from 0 to 100",
        ),
        ("threshold: [pdq=300]", "the pdq threshold must be from 0 to 256"),
        ("num_shards: -1", "num_shards (argument --num-shards)"),
        (
            "strategy: fast",
            "strategy (argument --strategy): 'fast' is not one of auto, side-input, shuffle",
        ),
    ],
)
def test_a_profile_value_out_of_range_is_a_usage_error(tmp_path, setting, message, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text(setting + "\n")
    err = _usage_error(audit.run, ["-c", str(profile), "-i", "x", "-l", "k.txt", "-o", "o"], capsys)
    assert message in err


def test_a_profile_list_threshold_out_of_range_is_a_usage_error(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("list:\n  - {path: k.txt, name: known, thresholds: {phash: 70}}\n")
    err = _usage_error(audit.run, ["-c", str(profile), "-i", "x", "-o", "o"], capsys)
    assert "list known: the phash threshold must be from 0 to 64, got 70" in err


def test_a_profile_may_give_a_single_value_for_a_repeatable_flag(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("input: photos/\nlist: k.txt\nthreshold: pdq=24\n")
    known, _ = audit.parse_args(["-c", str(profile), "-o", "out"])
    assert known.input == ["photos/"] and known.list == ["k.txt"] and known.threshold == ["pdq=24"]


def test_a_shipped_profile_by_name_works_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for spelling in ("local", "configs/local.yaml"):
        _, pipeline_args = audit.parse_args(["-c", spelling, "-i", "x", "-l", "a.txt", "-o", "o"])
        assert "--direct_running_mode=multi_processing" in pipeline_args, spelling


def test_an_unknown_profile_name_is_a_usage_error_listing_the_shipped_ones(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    err = _usage_error(scan.run, ["-c", "lcoal", "-i", "x", "-o", "out"], capsys)
    assert "--config lcoal: no such profile" in err and "local" in err and "weekly" in err


def test_a_missing_profile_file_names_the_shipped_ones(tmp_path, capsys):
    err = _usage_error(scan.run, ["-c", str(tmp_path / "no.yaml"), "-i", "x", "-o", "o"], capsys)
    assert "cannot read the profile" in err and "shipped profiles: " in err


def test_a_profile_that_is_not_yaml_says_so(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("algorithms: [pdq\n")
    err = _usage_error(scan.run, ["-c", str(profile), "-i", "x", "-o", "o"], capsys)
    assert "not a YAML profile" in err
