"""Test-wide settings: never touch a model hub, never read the developer's PTOOL_* settings."""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"


@pytest.fixture(autouse=True)
def _isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each test sees no PTOOL_* variables from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("PTOOL_"):
            monkeypatch.delenv(key, raising=False)
