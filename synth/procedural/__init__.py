"""The procedural (offline, seeded) backend's world description: scenarios as data."""

from __future__ import annotations

from synth.procedural.spec import ScenarioSpec


def scenario_specs() -> dict[str, ScenarioSpec]:
    """All scenario specs by name: the 5 training scenarios, then the 3 unseen ones."""
    from synth.procedural.data_commerce import SHOPPING, TAKEOUT
    from synth.procedural.data_leisure import ENTERTAINMENT, TRAVEL, WORK
    from synth.procedural.data_unseen import FINANCE, KNOWLEDGE, LIFESTYLE

    specs = (SHOPPING, TAKEOUT, ENTERTAINMENT, WORK, TRAVEL, FINANCE, LIFESTYLE, KNOWLEDGE)
    return {s.name: s for s in specs}
