"""Declarative description of the procedural world (the API tree and its request grammar).

The procedural backend reads these specs instead of asking a model: a scenario lists its
platforms (level 2 of the API tree, each with characteristics that drive preferences), its
functional areas refined depth-first into concrete functions (the leaves), the request
categories with their slot pools, and the intents users phrase requests for. Functions are
written compactly (``"product_name! quantity! note"``: ``!`` = required) and expanded against the
shared parameter vocabulary in :mod:`synth.procedural.params`, so a typo fails at build time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PriceLevel = Literal["budget", "mid", "premium"]
Speed = Literal["slow", "medium", "fast"]


@dataclass(frozen=True)
class FuncSpec:
    """A leaf of the API tree, before it is specialised for one platform."""

    stem: str
    description: str
    params: str
    effect: str = "read"
    record: str | None = None
    response: str = "status"


@dataclass(frozen=True)
class PlatformSpec:
    """Level 2 of the API tree: a platform and the traits its characteristics express."""

    name: str
    profile: dict[str, str]
    price: PriceLevel
    speed: Speed
    specialties: tuple[str, ...]
    extras: tuple[FuncSpec, ...] = ()


@dataclass(frozen=True)
class IntentSpec:
    """A kind of request: which function it calls and how users phrase it.

    Templates name query parameters in braces (``{product_name}``); ``{dest}`` marks where a
    delivery cue ("to the office") goes. ``item_param`` is filled from the category pools; an
    intent with ``record`` refers to a record id planted in the user's history instead.
    """

    func: str
    templates: tuple[str, ...]
    item_param: str | None = None
    categories: tuple[str, ...] = ()
    record: str | None = None
    weight: float = 1.0
    then: str | None = None  # a second function called after the first (two-call requests)


@dataclass(frozen=True)
class ScenarioSpec:
    """Level 1 of the API tree plus the request grammar of the scenario."""

    name: str
    description: str
    platforms: tuple[PlatformSpec, ...]
    areas: dict[str, tuple[FuncSpec, ...]]
    categories: dict[str, tuple[str, ...]]
    intents: tuple[IntentSpec, ...]
    verbs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    record_prefix: dict[str, str] = field(default_factory=dict)
    unseen: bool = False

    def functions(self) -> list[FuncSpec]:
        """Shared leaves in depth-first order (area by area)."""
        return [f for funcs in self.areas.values() for f in funcs]
