"""The latent preference model: which platform a user picks for a request, and why.

A user's choice in a scenario depends on the request's category (their favourite platform for
wine is not the one for groceries), its price tier and its urgency, via per-user overrides
derived from the hidden traits (an impatient user switches to the fastest platform when in a
hurry; a frugal one to the cheapest when the request says so). The same :func:`decide` drives
the simulated history and the gold answers, which is what makes the gold inferable from history
-- and an oracle that knows the rules is the ceiling baselines are compared with.
"""

from __future__ import annotations

import random

from synth.models import Condition, Persona, ScenarioRule
from synth.procedural.spec import PlatformSpec, ScenarioSpec
from synth.seeding import rng_for

_PRICE_RANK = {"budget": 0, "mid": 1, "premium": 2}
_SPEED_RANK = {"slow": 0, "medium": 1, "fast": 2}
_BUDGET_TARGET = {"frugal": 0.0, "moderate": 0.8, "comfortable": 1.4, "affluent": 2.0}


def _utility(persona: Persona, platform: PlatformSpec, category: str, rng: random.Random) -> float:
    u = 1.3 if category in platform.specialties else 0.0
    u -= 0.7 * abs(_PRICE_RANK[platform.price] - _BUDGET_TARGET[persona.traits["budget"]])
    if persona.traits["taste"] == "quality" and platform.price == "premium":
        u += 0.4
    if persona.traits["taste"] == "niche" and platform.price == "budget":
        u += 0.4
    return u + rng.gauss(0.0, 0.8)


def build_rule(persona: Persona, spec: ScenarioSpec, seed: int) -> ScenarioRule:
    """Draw one user's rule for one scenario from their traits (with per-user noise)."""
    rng = rng_for(seed, "rule", persona.id, spec.name)
    names = [p.name for p in spec.platforms]
    base = {}
    for category in spec.categories:
        scores = {p.name: _utility(persona, p, category, rng) for p in spec.platforms}
        base[category] = max(names, key=lambda n: (scores[n], n))
    if len(set(base.values())) == 1:  # nobody uses one platform for everything
        category = rng.choice(sorted(base))
        base[category] = rng.choice([n for n in names if n != base[category]])
    fastest = max(spec.platforms, key=lambda p: _SPEED_RANK[p.speed]).name
    cheapest = min(spec.platforms, key=lambda p: _PRICE_RANK[p.price]).name
    priciest = max(spec.platforms, key=lambda p: _PRICE_RANK[p.price]).name
    budget, urgency = persona.traits["budget"], persona.traits["urgency"]
    on_urgent = on_budget = on_premium = None
    if rng.random() < (0.85 if urgency == "impatient" else 0.35):
        on_urgent = fastest if rng.random() < 0.8 else rng.choice(names)
    if rng.random() < {"frugal": 0.9, "moderate": 0.6, "comfortable": 0.3, "affluent": 0.1}[budget]:
        on_budget = cheapest if rng.random() < 0.8 else rng.choice(names)
    if (
        rng.random()
        < {"frugal": 0.1, "moderate": 0.35, "comfortable": 0.7, "affluent": 0.9}[budget]
    ):
        on_premium = priciest if rng.random() < 0.8 else rng.choice(names)
    return ScenarioRule(base=base, on_urgent=on_urgent, on_budget=on_budget, on_premium=on_premium)


def decide(rule: ScenarioRule, condition: Condition) -> tuple[str, str]:
    """(platform, deciding key). Precedence: urgent > price tier > category."""
    if condition.urgency == "urgent" and rule.on_urgent:
        return rule.on_urgent, "urgent"
    if condition.price == "budget" and rule.on_budget:
        return rule.on_budget, "budget"
    if condition.price == "premium" and rule.on_premium:
        return rule.on_premium, "premium"
    return rule.base[condition.category], f"category:{condition.category}"


def deciding_key(rule: ScenarioRule, condition: Condition) -> str:
    return decide(rule, condition)[1]


def sample_condition(rng: random.Random, categories: list[str]) -> Condition:
    """A request's category, price tier and urgency (same distribution for history and queries)."""
    price = rng.choices(("budget", "normal", "premium"), weights=(0.25, 0.5, 0.25))[0]
    urgency = "urgent" if rng.random() < 0.3 else "normal"
    return Condition(
        category=rng.choice(categories),
        price=price,
        urgency=urgency,
    )
