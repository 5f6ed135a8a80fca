"""What the Beam jobs share (pipelines.job): unknown flags, value ranges, the output's checks,
private modes and the completion mark, credentials kept out of summary.json."""

from __future__ import annotations

import json
import os
import stat

import pytest

from photosieve.errors import ConfigError
from photosieve.accounting import check_accounting
from photosieve.pipelines import (
    audit,
    beam_options,
    cli,
    configure,
    hash_cli,
    lists_cli,
    match,
    preflight,
    report_cli,
    running,
    scan,
    values,
)
from photosieve.summary import SUMMARY_FILE
from tests.transforms import samples
from photosieve.transforms import hashing as hashing_transforms

AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0LWF6dXJlLWtleQ==;EndpointSuffix=core.windows.net"


@pytest.fixture()
def images(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in (1, 2):
        (folder / f"img{seed}.png").write_bytes(samples.encode(samples.picture(seed), "PNG"))
    return folder


def _usage_error(run, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


# -- unknown flags -----------------------------------------------------------------


@pytest.mark.parametrize(
    "run,argv,hint",
    [
        (
            audit.run,
            "-i x -l k.txt -o out --threshhold pdq=0",
            "--threshhold (did you mean --threshold?)",
        ),
        (scan.run, "-i x -o out --num_shards 1", "--num_shards (did you mean --num-shards?)"),
        (
            match.run,
            "--hashes h -l k.txt -o out --runer=DataflowRunner",
            "--runer (did you mean --runner?)",
        ),
        (
            scan.run,
            "-i x -o out --temp_locaton=/tmp",
            "--temp_locaton (did you mean --temp_location?)",
        ),
        (scan.run, "-i x -o out stray", "'stray'"),
    ],
)
def test_an_argument_neither_photosieve_nor_beam_knows_is_a_usage_error(run, argv, hint, capsys):
    err = _usage_error(run, argv.split(), capsys)
    assert "unrecognized arguments" in err and hint in err


def test_real_beam_options_still_pass_through():
    argv = "-i x -o out --direct_num_workers 2 --direct_running_mode=in_memory --save_main_session"
    _, pipeline_args = scan.parse_args(argv.split())
    assert pipeline_args[1:] == [
        "--direct_num_workers",
        "2",
        "--direct_running_mode=in_memory",
        "--save_main_session",
    ]


def test_a_bad_beam_option_value_is_a_usage_error(capsys):
    err = _usage_error(scan.run, ["-i", "x", "-o", "out", "--direct_num_workers", "many"], capsys)
    assert "--direct_num_workers" in err and "many" in err


def test_a_profile_with_an_unknown_beam_option_is_refused(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("pipeline_options:\n  runner: FnApiRunner\n  direct_num_worker: 2\n")
    err = _usage_error(scan.run, ["-c", str(profile), "-i", "x", "-o", "out"], capsys)
    assert "'direct_num_worker', which is not a Beam pipeline option" in err
    assert "did you mean direct_num_workers?" in err


def test_every_beam_options_class_contributes_its_options():
    names = set(beam_options.option_names())
    # StandardOptions, DirectOptions, AzureOptions, S3Options, FlinkRunnerOptions, render's RenderOptions
    assert {"--runner", "--direct_running_mode", "--azure_connection_string"} <= names
    assert {"--s3_secret_access_key", "--flink_master", "--render_output"} <= names


# -- value ranges ------------------------------------------------------------------


@pytest.mark.parametrize(
    "run,argv,message",
    [
        (
            audit.run,
            "--quality-cutoff 101",
            "argument --quality-cutoff: must be from 0 to 100, got 101",
        ),
        (audit.run, "--quality-cutoff -1", "argument --quality-cutoff: must be from 0 to 100"),
        (audit.run, "--max-bytes 0", "argument --max-bytes: must be an integer >= 1, got 0"),
        (audit.run, "--max-pixels 0", "argument --max-pixels: must be an integer >= 1"),
        (audit.run, "--fast-min-side 0", "argument --fast-min-side: must be an integer >= 1"),
        (audit.run, "--num-shards -1", "argument --num-shards: must be an integer >= 0, got -1"),
        (audit.run, "--threshold pdq=300", "the pdq threshold must be from 0 to 256"),
        (audit.run, "--threshold known:phash=65", "the phash threshold must be from 0 to 64"),
        (audit.run, "--threshold dhash=-1", "the dhash threshold must be from 0 to 64"),
        (audit.run, "--threshold ahash=nan", "the ahash threshold must be from 0 to 64"),
        (audit.run, "--threshold md5=1", "the md5 threshold must be 0"),
        (audit.run, "--threshold gradient=3061", "the gradient threshold must be from 0 to 3060"),
        (audit.run, "--threshold crc=1", "unknown hash algorithm 'crc'"),
        (scan.run, "--max-bytes 0", "argument --max-bytes"),
        (match.run, "--num-shards -2", "argument --num-shards"),
    ],
)
def test_values_out_of_range_are_usage_errors_naming_the_flag(run, argv, message, capsys):
    base = {
        audit.run: "-i x -l k.txt -o out",
        scan.run: "-i x -o out",
        match.run: "--hashes h -l k.txt -o out",
    }[run]
    err = _usage_error(run, f"{base} {argv}".split(), capsys)
    assert message in err and len(err.strip().splitlines()[-1]) < 200


def test_the_ends_of_each_range_are_accepted():
    argv = "-i x -l k.txt -o out --quality-cutoff 100 --max-bytes 1 --num-shards 0 "
    argv += "-t pdq=256 md5=0 gradient=3060 phash=0"
    known, _ = audit.parse_args(argv.split())
    assert known.quality_cutoff == 100 and known.max_bytes == 1
    assert known.threshold == ["pdq=256", "md5=0", "gradient=3060", "phash=0"]


@pytest.mark.parametrize(
    "main,argv,message",
    [
        (hash_cli.main, ["--max-bytes", "0", "x.png"], "argument --max-bytes"),
        (hash_cli.main, ["--fast-min-side", "-3", "x.png"], "argument --fast-min-side"),
    ],
)
def test_local_commands_check_their_ranges_too(main, argv, message, capsys):
    assert _usage_error(main, argv, capsys).count(message) == 1


def test_lists_check_refuses_a_negative_problem_count(capsys):
    assert lists_cli.main(["check", "--max-problems", "-1", "x.txt"]) == 2
    assert "argument -m/--max-problems: must be an integer >= 0" in capsys.readouterr().err


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
            "strategy (argument --strategy): 'fast' is not one of side-input, shuffle",
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


def test_max_distance_follows_the_algorithm_registry():
    assert values.max_distance("pdq") == 256 and values.max_distance("phash") == 64
    assert values.max_distance("sha256") == 0 and values.max_distance("gradient") == 3060


# -- --previous and --output -------------------------------------------------------


@pytest.mark.parametrize("output", ["prev/new", "./prev/new/", "prev/./a/../new"])
def test_an_output_inside_a_previous_run_is_refused(tmp_path, monkeypatch, output):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"--output .* is inside --previous"):
        preflight.load_previous([str(tmp_path / "prev")], output)


# -- the output directory ----------------------------------------------------------


def test_an_output_that_is_a_file_fails_before_any_hashing(images, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _never_called)
    target = tmp_path / "file"
    target.write_text("not a directory")
    assert cli.main(["scan", "-i", str(images), "-o", str(target)]) == 2
    assert "is not a directory" in caplog.text
    # A directory that cannot be made: its parent is a regular file.
    assert cli.main(["scan", "-i", str(images), "-o", str(target / "sub")]) == 2
    assert "cannot be written" in caplog.text
    assert target.read_text() == "not a directory"


def test_a_read_only_output_fails_before_any_hashing(images, tmp_path, caplog, monkeypatch):
    # Tests run as root, whom a read-only mode does not stop: the filesystem refuses instead.
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _never_called)
    output = tmp_path / "read-only"

    def refuse(path, *args, **kwargs):
        if path.startswith(str(output)):
            raise PermissionError(13, "Permission denied", path)
        return original(path, *args, **kwargs)

    original = running.FileSystems.create
    monkeypatch.setattr(running.FileSystems, "create", refuse)
    assert cli.main(["scan", "-i", str(images), "-o", str(output)]) == 2
    assert "cannot be written" in caplog.text and "Permission denied" in caplog.text
    assert os.listdir(output) == []  # no probe left behind


def _never_called(self, *args, **kwargs):
    raise AssertionError("hashing started although the output cannot be written")


def _fail_hashing(self, *args, **kwargs):
    raise RuntimeError("disk on fire")


def test_a_failing_pipeline_leaves_no_summary_and_says_the_run_is_incomplete(
    images, tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(hashing_transforms._HashObjectsFn, "process", _fail_hashing)
    output = tmp_path / "out"
    assert cli.main(["scan", "-i", str(images), "-o", str(output)]) == 1
    assert not (output / SUMMARY_FILE).exists()
    assert "disk on fire" in caplog.text and "is incomplete (no summary.json)" in caplog.text


def test_a_directory_without_summary_is_an_incomplete_run(tmp_path):
    (tmp_path / "hashes").mkdir()
    (tmp_path / "hashes" / "part-00000-of-00001.parquet").write_bytes(b"PAR1")
    with pytest.raises(ConfigError, match=r"holds an incomplete run \(no summary.json\)"):
        preflight.prepare_output(str(tmp_path), overwrite=False)
    (tmp_path / SUMMARY_FILE).write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run "):
        preflight.prepare_output(str(tmp_path), overwrite=False)


def test_the_summary_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    path = str(tmp_path / SUMMARY_FILE)
    running.write_json(path, {"run": 1})

    def fail(sources, destinations):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(running.FileSystems, "rename", fail)
    with pytest.raises(OSError, match="No space"):
        running.write_json(path, {"run": 2})
    assert json.loads((tmp_path / SUMMARY_FILE).read_text()) == {"run": 1}
    assert os.listdir(tmp_path) == [SUMMARY_FILE]  # the partial file is gone


def test_the_report_calls_a_directory_without_summary_incomplete(tmp_path, capsys):
    from photosieve.pipelines import report_cli

    with pytest.raises(SystemExit):
        report_cli.main([str(tmp_path)])
    assert "not a finished run" in capsys.readouterr().err


# -- private outputs ---------------------------------------------------------------


def _modes(output) -> dict[str, int]:
    return {
        os.path.relpath(os.path.join(top, name), output): stat.S_IMODE(
            os.stat(os.path.join(top, name)).st_mode
        )
        for top, dirs, files in os.walk(output)
        for name in dirs + files
    } | {".": stat.S_IMODE(os.stat(output).st_mode)}


def test_outputs_are_private_by_default_and_shared_on_request(images, tmp_path):
    previous = os.umask(0o022)
    try:
        private, shared = tmp_path / "private", tmp_path / "shared"
        assert cli.main(["scan", "-i", str(images), "-o", str(private)]) == 0
        assert (
            cli.main(["scan", "-i", str(images), "-o", str(shared), "--output-mode", "shared"]) == 0
        )
        assert os.umask(0o022) == 0o022  # restored after the run
    finally:
        os.umask(previous)
    modes = _modes(private)
    assert {name for name in modes} >= {".", "hashes", "errors", SUMMARY_FILE}
    for name, mode in modes.items():
        expected = 0o700 if os.path.isdir(private / name) else 0o600
        assert mode == expected, name
    assert _modes(shared)["."] == 0o755 and _modes(shared)[SUMMARY_FILE] == 0o644


def test_the_report_of_a_run_is_private_too(images, tmp_path):
    output, lists = tmp_path / "out", tmp_path / "k.txt"
    lists.write_text("md5 " + "0" * 32 + "\n")
    previous = os.umask(0o022)
    try:
        assert cli.main(["audit", "-i", str(images), "-l", str(lists), "-o", str(output)]) == 0
        assert report_cli.main([str(output), "--quiet"]) == 0
    finally:
        os.umask(previous)
    assert _modes(output)["report.md"] == 0o600 and _modes(output)["report.html"] == 0o600


# -- credentials -------------------------------------------------------------------


def test_an_azure_connection_string_is_not_written_to_the_summary(images, tmp_path):
    output = tmp_path / "out"
    argv = ["scan", "-i", str(images), "-o", str(output), f"--azure_connection_string={AZURE}"]
    assert cli.main([*argv, "--s3_endpoint_url", "https://user:hunter2@s3.example.com"]) == 0
    text = (output / SUMMARY_FILE).read_text()
    assert "c2VjcmV0LWF6dXJlLWtleQ" not in text and "hunter2" not in text
    options = json.loads(text)["pipeline_options"]
    assert "--azure_connection_string=<redacted>" in options
    assert "https://user:<redacted>@s3.example.com" in options


@pytest.mark.parametrize(
    "arguments,expected",
    [
        (["--azure_connection_string", AZURE], ["--azure_connection_string", "<redacted>"]),
        (
            ["--gbek=a2V5", "--s3_session_token", "t"],
            ["--gbek=<redacted>", "--s3_session_token", "<redacted>"],
        ),
        (["--s3_access_key_id=AKIA1"], ["--s3_access_key_id=<redacted>"]),
        (
            ["--no_auth", "--region", "eu"],
            ["--no_auth", "--region", "eu"],
        ),  # a switch hides nothing
        (
            ["--job_server_jvm_properties=aws.secretKey=zz", "--temp_location=gs://t/tmp"],
            ["--job_server_jvm_properties=aws.secretKey=<redacted>", "--temp_location=gs://t/tmp"],
        ),
        (["--s3_endpoint_url=https://TOKEN@host/"], ["--s3_endpoint_url=https://<redacted>@host/"]),
    ],
)
def test_credential_bearing_beam_options_are_redacted(arguments, expected):
    assert running._redacted(arguments) == expected


def test_every_beam_option_documented_as_a_secret_is_redacted():
    documented = {
        action.dest
        for action in beam_options.beam_parser()._actions
        if action.nargs != 0
        and any(w in (action.help or "").lower() for w in ("secret", "connection string"))
    }
    assert documented and documented <= beam_options.secret_options()
    assert {
        "azure_connection_string",
        "s3_secret_access_key",
        "s3_access_key_id",
        "gbek",
    } <= documented | beam_options.secret_options()


def test_passwords_in_the_summary_options_are_hidden(tmp_path):
    context = running.RunContext("scan", "r", 0, "https://u:pw@host/out")
    config = scan.run(["-i", "https://u:pw@host/in/*", "-o", "https://u:pw@host/out"])
    summary = running.build_summary(context, config, {}, [], 0.0).to_json()
    assert "pw" not in json.dumps({k: summary[k] for k in ("options", "output")}).replace(
        "<redacted>", ""
    )
    assert summary["options"]["input"] == ["https://u:<redacted>@host/in/*"]
