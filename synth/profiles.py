"""Stage 2 -- user profile construction.

Bottom-up, the leaves are what the catalog needs from a user: API parameters that a profile can
fill (``delivery_address``, ``passenger_name``...) and platform characteristics (price level,
speed, range). They cluster into features: explicit *basic features* (the profile the assistant
sees) and implicit *preferences* (price, urgency, taste -- never shown, only acted out in the
history). Top-down, values are assigned level by level with k_l values per node (life stage x
region x budget = 5 x 4 x 4 = 80 distinct users), so users differ in the ways that matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from profiles.models import BasicFeatures
from synth.models import Persona
from synth.procedural.data_people import BUDGETS, DIETS, LIFE_STAGES, REGIONS, Region
from synth.procedural.params import PAY, PROFILE_PARAMS
from synth.seeding import rng_for
from toolcatalog.models import Scenario

UNTRAINED_USERS = 6
UNSEEN_SCENARIO_USERS = 15


@dataclass
class FeatureNode:
    """A node of the feature tree: leaves are parameter names or platform characteristics."""

    name: str
    kind: str  # "explicit" | "implicit" | "group"
    leaves: list[str] = field(default_factory=list)
    children: list[FeatureNode] = field(default_factory=list)


_IMPLICIT = {
    "price": ("price",),
    "urgency": ("speed", "delivery"),
    "taste": ("range", "content", "audience", "quality", "integration"),
}


def build_feature_tree(scenarios: Iterable[Scenario]) -> FeatureNode:
    """Cluster the catalog's personalizable leaves into explicit and implicit features."""
    explicit: dict[str, FeatureNode] = {}
    implicit = {name: FeatureNode(name, "implicit") for name in _IMPLICIT}
    for scenario in scenarios:
        for platform in scenario.platforms:
            for key in platform.profile:
                for name, words in _IMPLICIT.items():
                    if any(w in key for w in words) and key not in implicit[name].leaves:
                        implicit[name].leaves.append(key)
                        break
            for api in platform.apis:
                for param in api.function.parameters.get("properties", {}):
                    for feature in PROFILE_PARAMS.get(param, ()):
                        node = explicit.setdefault(feature, FeatureNode(feature, "explicit"))
                        if param not in node.leaves:
                            node.leaves.append(param)
    basic = FeatureNode("basic_features", "group", children=[explicit[k] for k in sorted(explicit)])
    hidden = FeatureNode("implicit_preferences", "group", children=list(implicit.values()))
    return FeatureNode("user", "group", children=[basic, hidden])


def _basic_features(
    uid: int,
    stage: str,
    region: Region,
    budget: str,
    seed: int,
) -> tuple[BasicFeatures, str]:
    rng = rng_for(seed, "profile", uid)
    (lo, hi), occupations, _ = LIFE_STAGES[stage]
    gender = rng.choice(("female", "male"))
    first = rng.choice(region.first_f if gender == "female" else region.first_m)
    last = rng.choice(region.last)
    name = f"{first} {last}".strip()
    handle = name.lower().replace(" ", ".")
    number = 100 + rng.randrange(900)
    street = rng.choice(region.streets)
    work_street = rng.choice([s for s in region.streets if s != street])
    employed = stage not in ("retiree",)
    features = BasicFeatures(
        name=name,
        gender=gender,
        age=rng.randint(lo, hi),
        occupation=rng.choice(occupations),
        email=f"{handle}{uid}@{region.domain}",
        phone=f"{region.phone}{rng.randrange(10000):04d}",
        home_address=f"{number % 97 + 1} {street}, {region.city}",
        work_address=f"{number % 40 + 100} {work_street}, {region.city}" if employed else None,
        city=region.city,
        language=region.language,
        payment_method=rng.choice(PAY[:5] if budget != "frugal" else PAY),
        passport_number=(
            f"{region.language.upper()}{rng.randrange(10**7):07d}" if rng.random() < 0.7 else None
        ),
        dietary_restrictions=rng.choice(DIETS) if rng.random() < 0.3 else None,
    )
    return features, first.split()[0].lower()


def build_personas(seed: int) -> list[Persona]:
    """Top-down value assignment: 5 life stages x 4 regions each x 4 budgets = 80 users."""
    personas: list[Persona] = []
    uid = 0
    usernames: set[str] = set()
    for stage, (_, _, urgency_bias) in LIFE_STAGES.items():
        regions = rng_for(seed, "regions", stage).sample(REGIONS, 4)  # k_2 = 4 per life stage
        for region in regions:
            for budget in BUDGETS:  # k_3 = 4
                rng = rng_for(seed, "traits", uid)
                features, handle = _basic_features(uid, stage, region, budget, seed)
                username = handle
                while username in usernames:
                    username = f"{handle}{rng.randrange(2, 100)}"
                usernames.add(username)
                traits = {
                    "life_stage": stage,
                    "budget": budget,
                    "urgency": "impatient" if rng.random() < urgency_bias else "relaxed",
                    "taste": rng.choice(("mainstream", "niche", "quality")),
                }
                personas.append(
                    Persona(
                        id=f"u{uid:03d}", username=username, basic_features=features, traits=traits
                    )
                )
                uid += 1
    _mark_untrained(personas, seed)
    return personas


def _mark_untrained(personas: list[Persona], seed: int) -> None:
    """Pick the held-out users: spread over life stages, reproducible."""
    rng = rng_for(seed, "untrained")
    stages = list(LIFE_STAGES)
    chosen: list[Persona] = []
    for k in range(UNTRAINED_USERS):
        pool = [
            p
            for p in personas
            if p.traits["life_stage"] == stages[k % len(stages)] and p not in chosen
        ]
        chosen.append(rng.choice(pool))
    for persona in chosen:
        persona.trained = False


def unseen_scenario_users(personas: list[Persona], seed: int) -> list[Persona]:
    """The ~15 trained users who also have history in the unseen scenarios."""
    trained = [p for p in personas if p.trained]
    picked = rng_for(seed, "unseen-users").sample(trained, UNSEEN_SCENARIO_USERS)
    return sorted(picked, key=lambda p: p.id)
