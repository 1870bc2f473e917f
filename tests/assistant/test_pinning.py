"""A request that names its platform or refers to a record pins the platform (grammar + check)."""

from __future__ import annotations

from typing import Any

from assistant.benchmark import run_benchmark_sample
from assistant.pinning import find_pin, named_platforms
from assistant.state import Event
from tests.assistant.conftest import fake
from tests.assistant.test_benchmark_mode import GOOD, _sample

PLATFORMS = ["FastFood", "FineDine", "Fine"]


def _event(platform: str, action: str) -> Event:
    return {"id": "h0", "scenario": "takeout", "platform": platform, "action": action,
            "timestamp": ""}


def test_a_named_platform_pins_only_as_a_whole_word() -> None:
    assert named_platforms("order sushi on finedine please", PLATFORMS) == ["FineDine"]
    assert find_pin("sushi from FineDine", PLATFORMS, []) == {
        "platform": "FineDine", "reason": "the request names FineDine"}
    assert find_pin("sushi, something fine", ["FineDine", "FastFood"], []) is None


def test_two_named_platforms_pin_nothing() -> None:
    assert find_pin("FastFood or FineDine, whichever", PLATFORMS, []) is None


def test_a_record_id_pins_the_platform_its_history_event_is_on() -> None:
    events = [_event("FastFood", "order FD-40263: ordered in a burger"),
              _event("FineDine", "order FD-99549: had delivered sushi")]
    assert find_pin("where is FD-99549?", PLATFORMS, events) == {
        "platform": "FineDine", "reason": "FD-99549 in your history is on FineDine"}
    assert find_pin("where is FD-11111?", PLATFORMS, events) is None  # not in this history
    assert find_pin("where is FD-9954?", PLATFORMS, events) is None  # no partial matches


def test_record_on_two_platforms_or_conflicting_name_pins_nothing() -> None:
    events = [_event("FastFood", "order FD-1234: burger"), _event("FineDine", "FD-1234 again")]
    assert find_pin("track FD-1234", PLATFORMS, events) is None
    one = [_event("FastFood", "order FD-1234: burger")]
    assert find_pin("track FD-1234 on FineDine", PLATFORMS, one) is None


def _pinned_sample() -> dict[str, Any]:
    sample = _sample(False)
    sample["query"] = "Order two sushi sets for me from FastFood."
    return sample


def test_pin_narrows_the_grammar_and_validation_rejects_another_platform() -> None:
    fixed = GOOD.replace("FineDine", "FastFood")
    model = fake(GOOD, fixed)
    pred = run_benchmark_sample(_pinned_sample(), model)
    grammar = model.options[0]["extra_body"]["structured_outputs"]["grammar"]
    assert "FastFood:[" in grammar and "FineDine:[" not in grammar
    assert pred["model_calls"] == 2 and pred["valid"] and pred["platform"] == "FastFood"
    repair = model.prompt_text(1)
    assert "output:platform_conflict: the request names FastFood" in repair


def test_without_a_pin_every_platform_stays_in_the_grammar() -> None:
    """With the preference model as a hint only, nothing narrows the grammar."""
    model = fake(GOOD)
    run_benchmark_sample(_sample(False), model, preference="hint")
    grammar = model.options[0]["extra_body"]["structured_outputs"]["grammar"]
    assert "FastFood:[" in grammar and "FineDine:[" in grammar
