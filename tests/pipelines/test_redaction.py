"""Credentials in URLs and secret NAME=VALUE pairs stay out of summaries and printed lines."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from photosieve.pipelines import redaction


@pytest.mark.parametrize(
    "text,expected",
    [
        ("https://user:hunter2@host/l.csv", "https://user:<redacted>@host/l.csv"),
        (
            "gs://TOKEN@bucket/x and s3://a:b@c/d",
            "gs://<redacted>@bucket/x and s3://a:<redacted>@c/d",
        ),
        ("/photos/me@home/a.jpg", "/photos/me@home/a.jpg"),  # no URL: an ordinary name
        ("s3://bucket/dir@2026/a.jpg", "s3://bucket/dir@2026/a.jpg"),  # '@' after the host
    ],
)
def test_url_credentials_are_hidden_and_nothing_else(text, expected):
    assert redaction.redact_url_password(text) == expected


def test_secret_pairs_are_hidden_in_option_values():
    text = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=S3CR3T;EndpointSuffix=x"
    assert redaction.redact_text(text) == (
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=<redacted>;EndpointSuffix=x"
    )


def test_the_log_filter_rewrites_records_with_url_credentials(caplog):
    logger = logging.getLogger("tests.redaction")
    scrub = redaction.ScrubURLCredentials()
    caplog.handler.addFilter(scrub)
    try:
        with caplog.at_level(logging.INFO, logger="tests.redaction"):
            logger.info("reading %s", "https://u:hunter2@host/list.csv")
            logger.info("list known=%s", "/lists/k.csv")
    finally:
        caplog.handler.removeFilter(scrub)
    assert caplog.messages == [
        "reading https://u:<redacted>@host/list.csv",
        "list known=/lists/k.csv",
    ]


def test_the_command_line_prints_no_url_password(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "photosieve.pipelines.cli", "scan", "-i", str(tmp_path / "in")]
        + ["-o", "nosuchscheme://u:hunter2@host/out"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "cannot be used" in result.stderr and "u:<redacted>@host" in result.stderr
    assert "hunter2" not in result.stderr
