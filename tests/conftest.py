"""Shared test fixtures and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
DATA_DIR = TESTS_DIR / "data"
PDQ_REFERENCE_DIR = DATA_DIR / "pdq-reference"


@pytest.fixture(scope="session")
def pdq_reference_dir() -> Path:
    return PDQ_REFERENCE_DIR
