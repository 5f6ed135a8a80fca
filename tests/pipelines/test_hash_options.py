"""The shared hashing flags: --max-frames reaches the decoder and is checked before any work."""

from __future__ import annotations

import argparse

import pytest

from photosieve.decode import DEFAULT_MAX_FRAMES
from pipelines.hash_options import add_hash_arguments, decode_options


def _parse(*argv: str) -> argparse.Namespace:
    return add_hash_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_max_frames_reaches_the_decoder_options():
    assert decode_options(_parse("--all-frames", "--max-frames", "7")).max_frames == 7
    assert decode_options(_parse()).max_frames == DEFAULT_MAX_FRAMES


@pytest.mark.parametrize("value", ["0", "-3", "many", "1.5"])
def test_max_frames_below_one_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse("--max-frames", value)
    assert exit_info.value.code == 2
    assert "--max-frames: must be an integer >= 1" in capsys.readouterr().err
