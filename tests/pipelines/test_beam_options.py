"""Beam's options as photosieve checks them (pipelines.beam_options): which exist, which are secrets."""

from __future__ import annotations

import pytest

from photosieve.pipelines import beam_options

AZURE = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0LWF6dXJlLWtleQ==;EndpointSuffix=core.windows.net"


def test_every_beam_options_class_contributes_its_options():
    names = set(beam_options.option_names())
    # StandardOptions, DirectOptions, AzureOptions, S3Options, FlinkRunnerOptions, render's RenderOptions
    assert {"--runner", "--direct_running_mode", "--azure_connection_string"} <= names
    assert {"--s3_secret_access_key", "--flink_master", "--render_output"} <= names


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
    assert beam_options.redacted(arguments) == expected


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


def test_unknown_arguments_name_flags_without_their_values():
    unknown, bad = beam_options.unknown_arguments(["--runner=FnApiRunner", "--runer=X", "stray"])
    assert (unknown, bad) == (["--runer", "stray"], None)
    unknown, bad = beam_options.unknown_arguments(["--direct_num_workers", "many"])
    assert unknown == [] and "many" in bad


@pytest.mark.parametrize(
    "name,hint",
    [
        ("--num_shards", " (did you mean --num-shards?)"),
        ("--THRESHOLD", " (did you mean --threshold?)"),
        ("--zzzz", ""),
    ],
)
def test_did_you_mean_compares_without_dashes_and_case(name, hint):
    assert beam_options.did_you_mean(name, ["--num-shards", "--threshold", "--output"]) == hint
