"""Fixtures for list tests: the reference lists and a helper to write small files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

HASH_LISTS_DIR = Path(__file__).resolve().parents[2] / "data" / "hash-lists"


@pytest.fixture(scope="session")
def hash_lists_dir() -> Path:
    return HASH_LISTS_DIR


@pytest.fixture(scope="session")
def pdq_hashes() -> list[str]:
    """256-bit hashes from Meta's haystack.txt."""
    return (HASH_LISTS_DIR / "haystack.txt").read_text().split()


@pytest.fixture
def write(tmp_path: Path):
    """write(name, content) -> path; bytes or str; ``.gz`` names are gzipped."""

    def _write(name: str, content: str | bytes) -> str:
        data = content.encode() if isinstance(content, str) else content
        if name.endswith(".gz"):
            data = gzip.compress(data)
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return _write
