"""names: escaped object names round-trip every byte string and never hold a member separator."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from photosieve.names import (
    MEMBER_SEPARATOR,
    escape,
    member_uri,
    occurrence_uri,
    split_member,
    split_occurrence,
    to_bytes,
    unescape,
)
from photosieve.reading import container_path


@given(st.binary(max_size=64))
def test_every_posix_name_round_trips(raw):
    name = os.fsdecode(raw)  # what os.listdir and Beam's local filesystem hand over
    escaped = escape(name)
    assert to_bytes(escaped) == raw
    assert unescape(escaped) == name
    escaped.encode("utf-8")  # strict: a coder or Parquet column takes it
    assert MEMBER_SEPARATOR not in escaped


@given(st.text(max_size=40))
def test_every_text_name_round_trips(name):
    assert unescape(escape(name)) == name


def test_plain_names_are_kept_as_they_are():
    for name in ("photos/a.jpg", "gs://bucket/été/猫.png", "x!y/z.jpg", "a.zip!"):
        assert escape(name) == name


def test_undecodable_bytes_percent_signs_and_controls_are_escaped():
    assert escape(os.fsdecode(b"a\xff.jpg")) == "a%FF.jpg"
    assert escape("100%.jpg") == "100%25.jpg"
    assert escape("evil\x1b[31m.jpg") == "evil%1B[31m.jpg"
    assert escape("gpj.\u202eexe") == "gpj.%E2%80%AEexe"  # right-to-left override


def test_a_folder_named_like_an_archive_member_is_not_one():
    real = escape("photos/a.zip!/m.jpg")  # a folder "a.zip!" beside a.zip
    member = member_uri(escape("photos/a.zip"), "m.jpg")
    assert real != member
    assert split_member(real) == (real, None)
    assert split_member(member) == ("photos/a.zip", "m.jpg")


def test_member_names_are_escaped_too():
    uri = member_uri("a.tar", "d!/\x07.jpg")
    assert uri == "a.tar!/d%21/%07.jpg"
    assert split_member(uri) == ("a.tar", "d%21/%07.jpg")
    assert unescape(split_member(uri)[1]) == "d!/\x07.jpg"


@given(st.binary(max_size=32), st.integers(min_value=2, max_value=10**6))
def test_no_escaped_member_name_looks_like_a_later_occurrence(raw, occurrence):
    uri = member_uri("s/a.zip", os.fsdecode(raw))
    assert split_occurrence(uri) == (uri, 1)
    again = occurrence_uri(uri, occurrence)
    assert again != uri and split_occurrence(again) == (uri, occurrence)
    assert member_uri("s/a.zip", os.fsdecode(raw) + f"%!{occurrence}") != again


def test_later_occurrences_keep_their_archive_and_name():
    uri = occurrence_uri("s/a.zip!/d/m.jpg", 3)
    assert uri == "s/a.zip!/d/m.jpg%!3"
    assert split_member(uri) == ("s/a.zip", "d/m.jpg%!3")
    assert container_path(uri, archives=True) == "s/a.zip"
    assert occurrence_uri("s/a.zip!/m.jpg", 1) == "s/a.zip!/m.jpg"


def test_a_lone_surrogate_no_file_system_gives_is_still_written_as_plain_text():
    escaped = escape("a\udd00.jpg")  # not from os.fsdecode, which makes only U+DC80..U+DCFF
    assert escaped == "a%ED%B4%80.jpg"
    escaped.encode("utf-8")
