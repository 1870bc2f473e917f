"""The preference model: real shipped weights, real embeddings, no language model needed.

What it must do for users: read a cold-start user's request against the platforms'
descriptions, read stated preferences in a profile, explain itself with the events it weighed,
follow new history without retraining, and never override a request that names its platform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import accounts
from assistant.benchmark import run_benchmark_sample
from assistant.graph import AssistantGraph
from assistant.preference import (
    PreferenceModelMissing,
    PreferenceWeights,
    score_platforms,
    shipped_weights,
    stated_preferences,
)
from assistant.state import Event, PlatformInfo
from assistant.turns import run_turn
from profiles.embeddings import embed_texts
from profiles.models import EventSource, HistoryEventCreate
from tests.assistant.conftest import World, fake, order_call

SHOPS: list[PlatformInfo] = [
    {"name": "LuxeLane", "profile": {"price level": "premium", "range": "designer fashion, "
                                     "fine wine, high-end gadgets"}},
    {"name": "ThriftHub", "profile": {"price level": "budget, second-hand and refurbished",
                                      "range": "used electronics, books, vintage clothing"}},
    {"name": "MegaMart", "profile": {"price level": "mid-range", "range": "groceries, "
                                     "household goods in bulk"}},
]


def _event(n: int, platform: str, action: str) -> Event:
    return {"id": f"e{n}", "scenario": "shopping", "platform": platform, "action": action,
            "timestamp": ""}


def _score(request: str, events: list[Event], features: dict[str, Any] | None = None,
           ) -> dict[str, float]:
    view = score_platforms(request=request, events=events, platforms=SHOPS,
                           basic_features=features or {}, embed=embed_texts)
    return {s["platform"]: s["probability"] for s in view["scores"]}


def test_probabilities_cover_every_candidate_and_sum_to_one() -> None:
    probs = _score("order a bluetooth speaker", [_event(1, "MegaMart", "bought batteries")])
    assert set(probs) == {"LuxeLane", "ThriftHub", "MegaMart"}
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_cold_start_user_is_judged_by_the_platforms_descriptions() -> None:
    view = score_platforms(request="find me a used vintage jacket, second-hand is fine",
                           events=[], platforms=SHOPS, basic_features={}, embed=embed_texts)
    assert view["scores"][0]["platform"] == "ThriftHub"
    assert view["history_events"] == 0
    assert view["reasons"][-1]["kind"] == "platform"
    assert "second-hand" in view["reasons"][-1]["text"]


def test_stated_preferences_in_the_profile_move_the_choice() -> None:
    request = "order a pair of headphones"
    plain = _score(request, [])
    quality = _score(request, [], {"preferences": "pays more for quality, values premium "
                                                 "brands and brand reputation"})
    thrifty = _score(request, [], {"about": {"shopping_style": "always hunts for the lowest "
                                             "price, loves bargains and second-hand finds"}})
    assert quality["LuxeLane"] > plain["LuxeLane"]
    assert thrifty["ThriftHub"] > plain["ThriftHub"]
    assert max(quality, key=quality.__getitem__) == "LuxeLane"
    assert max(thrifty, key=thrifty.__getitem__) == "ThriftHub"


def test_a_cold_start_request_asking_for_the_cheap_option_goes_to_the_budget_platform() -> None:
    plain = _score("order a pair of headphones", [])
    cheap = _score("order a pair of headphones, the cheapest you can find", [])
    assert cheap["ThriftHub"] > plain["ThriftHub"]
    assert max(cheap, key=cheap.__getitem__) == "ThriftHub"


def test_the_cold_start_layer_never_scores_a_user_with_history() -> None:
    """Users with events are scored by the layers that read them, whatever the cold layer."""
    events = [_event(1, "MegaMart", "bought batteries"), _event(2, "LuxeLane", "bought a watch")]
    shipped = shipped_weights()
    skewed = shipped.with_cold_layer(np.array([-50.0, 40.0, -30.0, 20.0], dtype=np.float32))
    request, features = "order a bluetooth speaker", {"likes": "bargains"}
    views = [score_platforms(request=request, events=events, platforms=SHOPS, embed=embed_texts,
                             basic_features=features, weights=w) for w in (shipped, skewed)]
    assert views[0]["scores"] == views[1]["scores"]
    cold = [score_platforms(request=request, events=[], platforms=SHOPS, embed=embed_texts,
                            basic_features=features, weights=w) for w in (shipped, skewed)]
    assert cold[0]["scores"] != cold[1]["scores"]


def test_stated_preferences_are_read_from_preference_keys_only() -> None:
    features = {"home_address": "5 Elm St", "likes": "indie labels",
                "profile": {"shoppingPreferences": "values craftsmanship"},
                "personal_email": "a@b.example", "favouriteBrands": ["Patagonia"],
                "monthly_budget": "tight", "budget_limit": 300}
    assert stated_preferences(features) == ("indie labels; values craftsmanship; Patagonia; "
                                            "tight")


def test_the_explanation_names_the_events_the_model_weighed() -> None:
    events = [_event(1, "LuxeLane", "bought a bottle of wine: Champagne brut"),
              _event(2, "LuxeLane", "got a case of wine: Cava"),
              _event(3, "MegaMart", "bought sparkling water"),
              _event(4, "ThriftHub", "ordered a graphic novel")]
    view = score_platforms(request="get me a bottle of Barolo", events=events, platforms=SHOPS,
                           basic_features={}, embed=embed_texts)
    best = view["scores"][0]["platform"]
    assert best == "LuxeLane"
    named = {r["event_id"] for r in view["reasons"] if r["kind"] == "event"}
    assert named and named <= {"e1", "e2"}


def test_three_contradicting_events_flip_the_choice() -> None:
    events = [_event(1, "MegaMart", "bought a bottle of red wine"),
              _event(2, "MegaMart", "got a case of wine: Merlot"),
              _event(3, "ThriftHub", "ordered a graphic novel"),
              _event(4, "LuxeLane", "bought designer sunglasses")]
    request = "order a bottle of red wine"
    before = _score(request, events)
    assert max(before, key=before.__getitem__) == "MegaMart"
    newer = [_event(10 + i, "LuxeLane", text) for i, text in enumerate(
        ("bought a bottle of red wine: Barolo", "got a case of red wine: Bordeaux",
         "ordered red wine: Rioja"))]
    after = _score(request, events + newer)
    assert max(after, key=after.__getitem__) == "LuxeLane"


def test_a_missing_or_foreign_weights_file_says_how_to_recover(tmp_path: Path) -> None:
    with pytest.raises(PreferenceModelMissing, match="ptool train preference"):
        PreferenceWeights.load(tmp_path / "absent.npz")
    np.savez(tmp_path / "odd.npz", platform_features=np.array(["something_else"]))
    with pytest.raises(PreferenceModelMissing, match="retrain"):
        PreferenceWeights.load(tmp_path / "odd.npz")


# -- in the runtime ----------------------------------------------------------------------------

def _sample(query: str) -> dict[str, Any]:
    history = {"takeout": [
        {"platform": "FineDine", "action": f"ordered {dish}"}
        for dish in ("a sushi platter", "salmon nigiri", "a tuna roll", "an omakase menu")]}
    tools = [{"type": "function", "function": {
        "name": f"{p}_orderFood", "description": f"Order a dish for delivery ({p})",
        "parameters": {"type": "object", "properties": {"dish": {"type": "string"}},
                       "required": ["dish"]}}} for p in ("FastFood", "FineDine")]
    return {"query": query, "user_profile": {"basic_features": {"name": "Eve"},
                                             "user_history": history},
            "platforms": [{"name": "FastFood", "profile": {"range": "burgers"}},
                          {"name": "FineDine", "profile": {"range": "sushi"}}],
            "tools": tools}


def _grammar(model: Any) -> str:
    return str(model.options[0]["extra_body"]["structured_outputs"]["grammar"])


def _platform_listing(prompt: str) -> str:
    return prompt.split("<platforms>\n")[1].split("</platforms>")[0]


def test_constrain_narrows_the_grammar_and_hint_only_informs() -> None:
    answer = "FineDine:[FineDine_orderFood(dish='sushi')]"
    constrained = fake(answer)
    pred = run_benchmark_sample(_sample("order sushi for dinner"), constrained,
                                preference="constrain")
    assert pred["preference"] and pred["preference"]["scores"][0]["platform"] == "FineDine"
    assert "FineDine:[" in _grammar(constrained) and "FastFood:[" not in _grammar(constrained)
    assert "<platform_scores>" in constrained.prompt_text(0)
    listing = _platform_listing(constrained.prompt_text(0))
    assert "FineDine_orderFood" in listing and "FastFood" not in listing  # only what it may call
    hinted = fake(answer)
    run_benchmark_sample(_sample("order sushi for dinner"), hinted, preference="hint")
    assert "FastFood:[" in _grammar(hinted) and "<platform_scores>" in hinted.prompt_text(0)
    assert "FastFood_orderFood" in _platform_listing(hinted.prompt_text(0))
    off = fake(answer)
    pred = run_benchmark_sample(_sample("order sushi for dinner"), off, preference="off")
    assert pred["preference"] is None and "<platform_scores>" not in off.prompt_text(0)


def test_a_request_that_names_its_platform_stays_pinned() -> None:
    model = fake("FastFood:[FastFood_orderFood(dish='sushi')]")
    pred = run_benchmark_sample(_sample("order sushi from FastFood"), model,
                                preference="constrain")
    assert pred["preference"] and pred["preference"]["scores"][0]["platform"] == "FineDine"
    assert "FastFood:[" in _grammar(model) and "FineDine:[" not in _grammar(model)
    assert "FineDine" not in _platform_listing(model.prompt_text(0))
    assert pred["platform"] == "FastFood" and pred["valid"]


def test_new_history_changes_the_next_choice_without_retraining(
        world: World, graph: AssistantGraph) -> None:
    sushi = order_call("FastFood", dish="sushi")
    context = world.context(fake(sushi, sushi), preference="hint")
    first = run_turn(graph, context=context, user="alice", request="order me sushi tonight")
    assert first.preference is not None
    before = {s["platform"]: s["probability"] for s in first.preference["scores"]}
    accounts.record_events(engine=world.engine, index=world.index, user_id="u-alice", events=[
        HistoryEventCreate(scenario="takeout", platform="NewEats", source=EventSource.seeded,
                           action=text) for text in ("ordered sushi", "had sushi delivered",
                                                     "ordered a sushi set")])
    second = run_turn(graph, context=context, user="alice", request="order me sushi tonight")
    assert second.preference is not None
    after = {s["platform"]: s["probability"] for s in second.preference["scores"]}
    assert after["NewEats"] > before["NewEats"]
    assert second.preference["scores"][0]["platform"] == "NewEats"
