"""Fixtures for the PTBench format tests: the golden benchmark files eval's tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def golden_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "eval" / "golden"
