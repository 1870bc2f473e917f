"""Typed records that flow between the synthesis stages.

Each stage takes and returns these models (never loose dicts), so a stage can be swapped between
the procedural and the LLM backend without the others noticing. What the assistant may see
(basic features, history) and what only the generator knows (latent preferences) are kept in
separate fields: :class:`Persona.latent` must never be written into a benchmark file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from profiles.models import BasicFeatures

Split = Literal["train", "test_trained_user", "test_untrained_user", "test_unseen_scenario"]
Source = Literal["query", "profile"]
PriceTier = Literal["budget", "normal", "premium"]
Urgency = Literal["normal", "urgent"]


class ScenarioRule(BaseModel):
    """A user's latent platform preference in one scenario.

    ``base`` maps a request category to a platform; the overrides (when set) win over it for
    requests with that price tier or urgency. Precedence: explicit mention > urgent > price > base.
    """

    model_config = ConfigDict(extra="forbid")

    base: dict[str, str]
    on_urgent: str | None = None
    on_budget: str | None = None
    on_premium: str | None = None


class Persona(BaseModel):
    """A synthetic user: what the assistant sees (features, history) plus the hidden preferences."""

    model_config = ConfigDict(extra="forbid")

    id: str
    username: str
    trained: bool = True
    basic_features: BasicFeatures
    traits: dict[str, str] = Field(
        default_factory=dict,
        description="Implicit feature values (price, urgency, taste) -- hidden.",
    )
    latent: dict[str, ScenarioRule] = Field(
        default_factory=dict, description="Hidden, per scenario."
    )


class Condition(BaseModel):
    """What about a request drives the platform choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    price: PriceTier = "normal"
    urgency: Urgency = "normal"


class Event(BaseModel):
    """One history event; ``noise`` and ``condition`` are generator bookkeeping, not shown."""

    model_config = ConfigDict(extra="forbid")

    user_id: str
    scenario: str
    platform: str
    action: str
    timestamp: str
    condition: Condition | None = None
    noise: bool = False


class ParamValue(BaseModel):
    """One argument of a gold call with its provenance and the values a scorer accepts."""

    model_config = ConfigDict(extra="forbid")

    value: Any
    accepted: list[Any]
    source: Source
    surface: str | None = Field(
        default=None, description="Text of the query that carries a query-derived value."
    )
    feature: str | None = Field(
        default=None, description="Basic feature a profile value comes from."
    )


class GoldCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, ParamValue]


class Sample(BaseModel):
    """One request with its gold solution: the unit that is verified and written out."""

    model_config = ConfigDict(extra="forbid")

    id: str
    split: Split
    user_id: str
    scenario: str
    intent: str
    query: str
    platform: str
    calls: list[GoldCall]
    condition: Condition
    explicit_platform: bool = False

    @property
    def query_params(self) -> list[str]:
        return _names(self, "query")

    @property
    def profile_params(self) -> list[str]:
        return _names(self, "profile")


def _names(sample: Sample, source: Source) -> list[str]:
    seen: list[str] = []
    for call in sample.calls:
        for name, pv in call.arguments.items():
            if pv.source == source and name not in seen:
                seen.append(name)
    return seen


class Rejection(BaseModel):
    """A sample the verifier refused, with every rule that failed (logged, never silently lost)."""

    sample_id: str
    split: Split
    errors: list[str]
    error_types: list[str]


class World(BaseModel):
    """Everything one synthesis run produced, before it is written to disk."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    seed: int
    personas: list[Persona]
    events: list[Event]
    samples: list[Sample]
    rejections: list[Rejection] = Field(default_factory=list)
