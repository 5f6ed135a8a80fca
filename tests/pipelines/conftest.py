"""Fixtures the pipelines' tests share."""

from __future__ import annotations

import pytest

from tests.transforms import samples


@pytest.fixture()
def images(tmp_path):
    """A folder of two generated PNGs."""
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in (1, 2):
        (folder / f"img{seed}.png").write_bytes(samples.encode(samples.picture(seed), "PNG"))
    return folder
