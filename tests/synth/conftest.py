"""Shared fixtures: one small procedural world per session (the test splits only, ~3 s)."""

from __future__ import annotations

import pytest

from synth.models import World
from synth.world import WorldConfig, build_world
from toolcatalog.models import Scenario


@pytest.fixture(scope="session")
def small_world() -> tuple[World, dict[str, Scenario]]:
    return build_world(WorldConfig(seed=0, with_train=False))
