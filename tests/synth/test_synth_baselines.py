"""The history reader: rules inferred from history by majority, overrides only when they help."""

from __future__ import annotations

from synth.baselines import infer_rule
from synth.models import Condition, Event


def _event(platform: str, category: str, price: str = "normal", urgency: str = "normal") -> Event:
    return Event(user_id="u", scenario="shopping", platform=platform, action="did something",
                 timestamp="2026-01-01T00:00:00",
                 condition=Condition(category=category, price=price, urgency=urgency))


def test_base_per_category_from_plain_events() -> None:
    events = [_event("A", "wine"), _event("A", "wine"), _event("B", "wine", price="budget"),
              _event("C", "books")]
    rule = infer_rule(events, ["wine", "books", "toys"])
    assert rule.base == {"wine": "A", "books": "C", "toys": "A"}  # toys: overall majority
    assert rule.on_budget == "B"  # the base rule (A) explains none of the budget events


def test_ties_leave_the_override_unset() -> None:
    events = [_event("A", "wine"), _event("A", "wine", price="premium"),
              _event("B", "wine", price="premium")]
    assert infer_rule(events, ["wine"]).on_premium is None  # B explains 1, no override explains 1


def test_override_kept_only_when_it_explains_more_events() -> None:
    consistent = [_event("A", "wine"), _event("C", "books"),
                  _event("B", "wine", urgency="urgent"), _event("B", "books", urgency="urgent")]
    assert infer_rule(consistent, ["wine", "books"]).on_urgent == "B"
    follows_category = [_event("A", "wine"), _event("C", "books"),
                        _event("A", "wine", urgency="urgent"),
                        _event("C", "books", urgency="urgent")]
    assert infer_rule(follows_category, ["wine", "books"]).on_urgent is None


def test_budget_override_from_non_urgent_budget_events() -> None:
    events = [_event("A", "wine"), _event("B", "wine", price="budget"),
              _event("B", "wine", price="budget"), _event("C", "wine", price="budget",
                                                        urgency="urgent")]
    rule = infer_rule(events, ["wine"])
    assert rule.on_budget == "B"
    assert rule.on_urgent == "C"
