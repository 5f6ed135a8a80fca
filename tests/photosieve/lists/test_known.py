"""KnownList: what matching needs of a list, picklable, version-checked."""

from __future__ import annotations

import doctest
import io
import pickle

import pytest

from photosieve.errors import ConfigError
from photosieve.lists import ListSpec, read_list
from photosieve.lists import known as known_module
from photosieve.lists.known import known_list, list_info, without


def test_module_examples_run():
    assert doctest.testmod(known_module).failed == 0


def _read(spec: ListSpec, stored: bytes):
    return read_list(spec.path, name=spec.name, open_fn=lambda path, mode: io.BytesIO(stored))


def test_a_known_list_pickles_and_drops_the_algorithms_matched_elsewhere():
    spec = ListSpec("mixed.txt", role="suppress", thresholds={"pdq": 12})
    known = known_list(spec, _read(spec, b"pdq " + b"0f" * 32 + b"\nmd5 " + b"ab" * 16 + b"\n"))
    clone = pickle.loads(pickle.dumps(known))
    assert (clone.name, clone.role, clone.thresholds) == (
        "mixed",
        "suppress",
        {"md5": 0.0, "pdq": 12.0},
    )
    assert list_info(clone).sizes == {"md5": 1, "pdq": 1}
    rest = without(known, frozenset({"pdq"}))
    assert sorted(rest.groups) == sorted(rest.thresholds) == ["md5"]


def test_another_version_than_the_launcher_checked_fails():
    spec = ListSpec("l.txt")
    hash_list = _read(spec, b"pdq " + b"0f" * 32 + b"\n")
    assert known_list(spec, hash_list, hash_list.version).version == hash_list.version
    with pytest.raises(ConfigError, match="changed while the run started"):
        known_list(spec, hash_list, "0" * 64)
