"""Determinism and basic invariants of the procedural world."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from profiles.models import BasicFeatures
from synth.models import World
from synth.tools import write_catalog
from synth.verification import VerifyContext, check_inferable
from synth.world import WorldConfig, build_world
from synth.writers import personas_document, write_benchmark, write_personas
from toolcatalog.loader import load_catalog
from toolcatalog.models import Scenario

SMALL = WorldConfig(
    seed=3,
    with_train=False,
    test_sizes={"test_trained_user": 40, "test_untrained_user": 30, "test_unseen_scenario": 20},
)


def _write(directory: Path) -> dict[str, bytes]:
    world, catalog = build_world(SMALL)
    write_catalog(catalog.values(), directory / "catalog")
    write_personas(world, directory / "personas.json")
    write_benchmark(world, catalog, directory / "bench")
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first, second = _write(tmp_path / "a"), _write(tmp_path / "b")
    assert first.keys() == second.keys()
    assert first == second


def test_other_seed_differs() -> None:
    a, _ = build_world(SMALL)
    b, _ = build_world(WorldConfig(seed=4, with_train=False, test_sizes=SMALL.test_sizes))
    assert [s.query for s in a.samples] != [s.query for s in b.samples]


def test_user_counts_and_splits(small_world: tuple[World, dict[str, Scenario]]) -> None:
    world, _ = small_world
    assert len(world.personas) == 80
    assert sum(not p.trained for p in world.personas) == 6
    counts = Counter(s.split for s in world.samples)
    assert counts == {
        "test_trained_user": 474,
        "test_untrained_user": 609,
        "test_unseen_scenario": 218,
    }
    untrained = {p.id for p in world.personas if not p.trained}
    assert {s.user_id for s in world.samples if s.split == "test_untrained_user"} == untrained


def test_events_per_scenario_between_10_and_40(
    small_world: tuple[World, dict[str, Scenario]],
) -> None:
    world, _ = small_world
    per = Counter((e.user_id, e.scenario) for e in world.events)
    assert min(per.values()) >= 10 and max(per.values()) <= 40
    assert {s for _, s in per} == {
        "shopping",
        "takeout",
        "entertainment",
        "work",
        "travel",
        "finance",
        "lifestyle",
        "knowledge",
    }


def test_gold_platform_is_inferable(small_world: tuple[World, dict[str, Scenario]]) -> None:
    world, catalog = small_world
    personas = {p.id: p for p in world.personas}
    events: dict[tuple[str, str], list] = {}
    for e in world.events:
        events.setdefault((e.user_id, e.scenario), []).append(e)
    for s in world.samples:
        ctx = VerifyContext(
            catalog[s.scenario], personas[s.user_id], events[(s.user_id, s.scenario)]
        )
        assert check_inferable(s, ctx).valid, s.id


def test_personas_document_is_loadable_and_hides_latent(
    small_world: tuple[World, dict[str, Scenario]],
) -> None:
    world, _ = small_world
    doc = personas_document(world)
    assert doc["format_version"] == 1
    for user in doc["users"]:
        BasicFeatures.model_validate(user["basic_features"])
        assert set(user) == {"id", "username", "basic_features", "history"}
    assert len({u["username"] for u in doc["users"]}) == 80
    assert any("wine" in e["action"].lower() for u in doc["users"] for e in u["history"])


def test_catalog_is_full_size_and_loads(
    tmp_path: Path, small_world: tuple[World, dict[str, Scenario]]
) -> None:
    _, catalog = small_world
    write_catalog(catalog.values(), tmp_path)
    loaded = load_catalog(tmp_path)
    assert len(loaded.scenarios) == 8
    assert {n for n, s in loaded.scenarios.items() if s.unseen} == {
        "finance",
        "lifestyle",
        "knowledge",
    }
    for scenario in loaded.scenarios.values():
        assert len(scenario.platforms) == 3
        assert all(22 <= len(p.apis) <= 26 for p in scenario.platforms)
        assert any(a.effect == "lookup" for p in scenario.platforms for a in p.apis)
