"""Labels for training the runtime's small decision models, from a synthesized world.

The preference model's trait probes and kind-of-item projection learn from the generator's
bookkeeping of every text (its category, price tier and urgency); the scenario router learns
from requests labelled with their scenario. These are training-time labels only: the models
read text at inference, never these attributes.
"""

from __future__ import annotations

from synth.models import Condition, World

TRAITS = ("urgent", "budget", "premium")


def traits_of(condition: Condition) -> tuple[int, ...]:
    """0/1 per :data:`TRAITS` for one condition."""
    return (int(condition.urgency == "urgent"), int(condition.price == "budget"),
            int(condition.price == "premium"))


def text_conditions(world: World, splits: tuple[str, ...] = ("train",)) -> dict[str, tuple[
        str, tuple[int, ...]]]:
    """``{text: (scenario/category, traits)}`` for every history event and every request of
    ``splits`` (the first label wins for a text that occurs twice)."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for e in world.events:
        if e.condition is not None:
            out.setdefault(e.action, (f"{e.scenario}/{e.condition.category}",
                                      traits_of(e.condition)))
    for s in world.samples:
        if s.split in splits:
            out.setdefault(s.query, (f"{s.scenario}/{s.condition.category}",
                                     traits_of(s.condition)))
    return out


def scenario_requests(world: World) -> list[tuple[str, str]]:
    """(request, scenario) for every sample of every split of the world."""
    return [(s.query, s.scenario) for s in world.samples]
