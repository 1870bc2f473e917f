"""Fixtures for the eval tests (helpers live in _eval_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _eval_helpers import GOLDEN, load_golden


@pytest.fixture
def golden_dir() -> Path:
    return GOLDEN


@pytest.fixture
def model_outputs() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = load_golden("model_outputs.json")
    return data
