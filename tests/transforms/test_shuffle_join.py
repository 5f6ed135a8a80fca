"""ShuffleJoin: the docstring example runs; the join's exactness is tested in test_matching and test_bucket_join."""

from __future__ import annotations

import doctest

from photosieve.transforms import shuffle_join


def test_module_examples_run():
    assert doctest.testmod(shuffle_join).failed == 0
