"""The pipeline, wired: catalog -> personas -> histories -> requests -> verified samples.

``build_world(seed)`` is pure and deterministic (every random stream is derived from the seed
and a name, see :mod:`synth.seeding`); writing is done by :mod:`synth.writers`. Test splits are
generated before the training split and share one set of seen requests, so no request of a test
file appears in training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from synth.behaviours import simulate_history
from synth.models import Event, Persona, Rejection, Sample, Split, World
from synth.preferences import build_rule
from synth.procedural import scenario_specs
from synth.procedural.spec import ScenarioSpec
from synth.profiles import build_personas, unseen_scenario_users
from synth.queries import UserScenario, draft_sample
from synth.seeding import rng_for
from synth.tools import build_scenario
from synth.verification import Judge, VerifyContext, verify
from toolcatalog.models import Scenario

SPLIT_PREFIX: dict[Split, str] = {
    "train": "tr",
    "test_trained_user": "tt",
    "test_untrained_user": "tu",
    "test_unseen_scenario": "us",
}
Progress = Callable[[int], None]


@dataclass(frozen=True)
class WorldConfig:
    """Sizes of the world (defaults: the paper's test sizes, >= 8,000 training requests)."""

    seed: int = 0
    train_per_pair: int = 22
    test_sizes: dict[str, int] = field(
        default_factory=lambda: {
            "test_trained_user": 474,
            "test_untrained_user": 609,
            "test_unseen_scenario": 218,
        }
    )
    with_train: bool = True
    max_attempts_per_sample: int = 25


def build_catalog() -> dict[str, Scenario]:
    """Stage 1 for every scenario (training ones first, then the unseen ones)."""
    return {name: build_scenario(spec) for name, spec in scenario_specs().items()}


def _allocate(total: int, n_pairs: int, seed: int, split: str) -> list[int]:
    base, extra = divmod(total, n_pairs)
    bonus = set(rng_for(seed, "allocate", split).sample(range(n_pairs), extra))
    return [base + (1 if k in bonus else 0) for k in range(n_pairs)]


def build_world(
    config: WorldConfig | None = None,
    *,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> tuple[World, dict[str, Scenario]]:
    """Run every stage; returns the world (personas, events, samples, rejections) and catalog."""
    config = config or WorldConfig()
    seed = config.seed
    specs = scenario_specs()
    catalog = build_catalog()
    personas = build_personas(seed)
    training = [s for s in specs.values() if not s.unseen]
    unseen = [s for s in specs.values() if s.unseen]
    unseen_users = unseen_scenario_users(personas, seed)
    events: dict[tuple[str, str], list[Event]] = {}
    for persona in personas:
        for spec in training + (unseen if persona in unseen_users else []):
            persona.latent[spec.name] = build_rule(persona, spec, seed)
            events[(persona.id, spec.name)] = simulate_history(
                persona, spec, persona.latent[spec.name], seed
            )
    trained = [p for p in personas if p.trained]
    untrained = [p for p in personas if not p.trained]
    plan: list[tuple[Split, list[Persona], list[ScenarioSpec], int | None]] = [
        ("test_untrained_user", untrained, training, config.test_sizes["test_untrained_user"]),
        ("test_trained_user", trained, training, config.test_sizes["test_trained_user"]),
        ("test_unseen_scenario", unseen_users, unseen, config.test_sizes["test_unseen_scenario"]),
    ]
    if config.with_train:
        plan.append(("train", trained, training, None))
    seen: set[str] = set()
    samples: list[Sample] = []
    rejections: list[Rejection] = []
    for split, users, scenario_list, total in plan:
        pairs = [(p, s) for p in users for s in scenario_list]
        counts = (
            _allocate(total, len(pairs), seed, split)
            if total is not None
            else [config.train_per_pair] * len(pairs)
        )
        split_samples: list[Sample] = []
        for (persona, spec), n in zip(pairs, counts, strict=True):
            us = UserScenario(spec, catalog[spec.name], persona, events[(persona.id, spec.name)])
            ctx = VerifyContext(catalog[spec.name], persona, us.events, seen)
            rng = rng_for(seed, "queries", split, persona.id, spec.name)
            accepted = attempts = 0
            while accepted < n and attempts < n * config.max_attempts_per_sample:
                draft = draft_sample(us, rng, split, f"{split}/{persona.id}/{spec.name}/{attempts}")
                attempts += 1
                if draft is None:
                    continue
                rejection = verify(draft, ctx, judge=judge)
                if rejection is not None:
                    rejections.append(rejection)
                    continue
                split_samples.append(draft)
                accepted += 1
            if progress:
                progress(accepted)
        for k, sample in enumerate(split_samples):
            sample.id = f"{SPLIT_PREFIX[split]}-{k:05d}"
        samples += split_samples
    all_events = [e for key in sorted(events) for e in events[key]]
    world = World(
        seed=seed, personas=personas, events=all_events, samples=samples, rejections=rejections
    )
    return world, catalog
