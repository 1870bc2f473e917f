"""Stage 3 -- behaviour simulation: history events acted out from the latent preferences.

For each user and scenario, 10-40 events. A few *anchor* events make sure every rule the user
follows shows up at least once (each category's favourite, twice each active override) -- that
is what makes the gold platform inferable; the rest are drawn from the request distribution, and
about 12% are noise (the user tried another platform for no stated reason). Some events carry a
record id ("order ORD-12345") so later requests like "track ORD-12345" have a home platform.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from synth.models import Condition, Event, Persona, ScenarioRule
from synth.phrasing import HISTORY_CUES
from synth.preferences import decide, sample_condition
from synth.procedural.spec import ScenarioSpec
from synth.seeding import rng_for, stable_id

NOISE_RATE = 0.12
MIN_EVENTS, MAX_EVENTS = 10, 40
REFERENCE_TIME = datetime(2026, 1, 15, 12, 0)


def _action(
    spec: ScenarioSpec, cond: Condition, rng: random.Random, record: str | None = None
) -> str:
    verbs = spec.verbs.get(cond.category) or spec.verbs["*"]
    item = rng.choice(spec.categories[cond.category])
    text = f"{rng.choice(verbs)} {item}"
    cues = []
    if cond.price != "normal":
        cues.append(rng.choice(HISTORY_CUES[cond.price]))
    if cond.urgency == "urgent":
        cues.append(rng.choice(HISTORY_CUES["urgent"]))
    if cues:
        text += ", " + ", ".join(cues)
    if record:
        text = f"{record}: {text}"
    return text


def _anchors(rule: ScenarioRule, spec: ScenarioSpec, rng: random.Random) -> list[Condition]:
    cats = list(spec.categories)
    conds = [Condition(category=c) for c in cats]
    if rule.on_urgent:
        conds += [Condition(category=rng.choice(cats), urgency="urgent") for _ in range(2)]
    if rule.on_budget:
        conds += [Condition(category=rng.choice(cats), price="budget") for _ in range(2)]
    if rule.on_premium:
        conds += [Condition(category=rng.choice(cats), price="premium") for _ in range(2)]
    return conds


def simulate_history(
    persona: Persona,
    spec: ScenarioSpec,
    rule: ScenarioRule,
    seed: int,
) -> list[Event]:
    """The user's events in one scenario, oldest first."""
    rng = rng_for(seed, "history", persona.id, spec.name)
    anchors = _anchors(rule, spec, rng)
    n = max(len(anchors) + 2, rng.randint(MIN_EVENTS, 30))
    n = min(n, MAX_EVENTS)
    drawn = [sample_condition(rng, list(spec.categories)) for _ in range(n - len(anchors))]
    conds = [(c, True) for c in anchors] + [(c, False) for c in drawn]
    rng.shuffle(conds)
    record_kinds = list(spec.record_prefix.items())
    events: list[Event] = []
    names = [p.name for p in spec.platforms]
    times = sorted(rng.randrange(365 * 24 * 60) for _ in conds)
    for k, ((cond, anchor), minutes) in enumerate(zip(conds, reversed(times), strict=True)):
        platform, _ = decide(rule, cond)
        noise = not anchor and rng.random() < NOISE_RATE
        if noise:
            platform = rng.choice([p for p in names if p != platform])
        record = None
        if record_kinds and rng.random() < 0.2:
            kind, prefix = rng.choice(record_kinds)
            record = f"{kind} {prefix}-{stable_id(seed, persona.id, spec.name, k)}"
        stamp = (REFERENCE_TIME - timedelta(minutes=minutes)).isoformat(timespec="minutes")
        events.append(
            Event(
                user_id=persona.id,
                scenario=spec.name,
                platform=platform,
                action=_action(spec, cond, rng, record),
                timestamp=stamp,
                condition=cond,
                noise=noise,
            )
        )
    return sorted(events, key=lambda e: e.timestamp)


def record_ids(events: list[Event], kind: str) -> list[tuple[str, str]]:
    """(record id, platform) pairs planted in a user's events, e.g. ('ORD-01234', 'MegaMart')."""
    out = []
    for event in events:
        head, _, _ = event.action.partition(":")
        parts = head.split(" ")
        if len(parts) == 2 and parts[0] == kind and "-" in parts[1]:
            out.append((parts[1], event.platform))
    return out
