"""Candidate values computed by code: the profile matcher, request spans, ids, gating."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.grounding import (
    concepts,
    flatten_profile,
    ground_call,
    ground_parameter,
    missing_values,
    param_kind,
    profile_candidates,
    source_from_options,
)
from assistant.request_values import request_numbers, request_spans
from assistant.state import Event

NOW = datetime(2026, 12, 1, 9, 0)
ODD_PROFILE = {
    "fullName": "Ann Lee",
    "HomeLocation": "5 Elm St, Springfield",
    "officeAddress": "1 Main Rd, Springfield",
    "contact": {"mobilePhone": "+1 555 0100", "e_mail": "ann@example.org"},
    "preferredLanguage": "fr",
    "wallet": "apple_pay",
}


def _values(options: list) -> list[str]:
    return [o["value"] for o in options]


@pytest.mark.parametrize("param", ["delivery_address", "deliveryAddr", "shipping_address",
                                   "HomeLocation", "home_address", "address"])
def test_address_parameters_reach_the_home_address(param: str) -> None:
    found = profile_candidates(param, "", "send it over", ODD_PROFILE)
    assert _values(found)[0] == "5 Elm St, Springfield"
    assert found[0]["source"] == {"kind": "profile", "detail": "HomeLocation", "event_id": None}


def test_the_request_picks_which_address() -> None:
    assert _values(profile_candidates("delivery_address", "", "to my office please",
                                      ODD_PROFILE)) == ["1 Main Rd, Springfield"]
    # the parameter's own word wins over the request's
    assert _values(profile_candidates("home_address", "", "to my office",
                                      ODD_PROFILE))[0] == "5 Elm St, Springfield"


@pytest.mark.parametrize(("param", "expected"), [
    ("phone", "+1 555 0100"), ("contactNumber", "+1 555 0100"), ("email", "ann@example.org"),
    ("organizer_email", "ann@example.org"), ("language", "fr"), ("preferredLanguage", "fr"),
    ("passenger_name", "Ann Lee"), ("customerName", "Ann Lee"), ("payment_method", "apple_pay"),
])
def test_nested_and_camel_case_fields_match(param: str, expected: str) -> None:
    assert _values(profile_candidates(param, "", "book it", ODD_PROFILE))[0] == expected


def test_someone_elses_name_is_never_the_users() -> None:
    assert profile_candidates("recipient_name", "", "send it", ODD_PROFILE) == []
    assert param_kind("payee", {"type": "string"}) == "text"


def test_flatten_and_concepts() -> None:
    assert ("contact.mobilePhone", "+1 555 0100") in flatten_profile(ODD_PROFILE)
    assert concepts("deliveryAddr") == {"address"}
    assert concepts("e_mail") == {"email"}


def test_spans_skip_fillers_and_platform_names() -> None:
    spans = request_spans("get me a Bordeaux red on LuxeLane asap", ["LuxeLane"])
    assert "Bordeaux red" in spans
    assert not any("LuxeLane" in s for s in spans)
    assert not any(s.split()[0] in {"get", "me", "on"} for s in spans)


def test_ids_come_from_the_request_then_history() -> None:
    history: list[Event] = [{"id": "7", "scenario": "shopping", "platform": "Shop",
                             "action": "order ORD-55555: bought tea", "timestamp": ""}]
    said = ground_parameter("order_id", {"type": "string"}, required=True,
                            request="where is ORD-12345", basic_features={}, history=history,
                            turns=[], now=NOW)
    assert _values(said["candidates"]) == ["ORD-12345", "ORD-55555"]
    remembered = ground_parameter("order_id", {"type": "string"}, required=True,
                                  request="where is my last order", basic_features={},
                                  history=history, turns=[], now=NOW)
    assert remembered["candidates"][0]["source"]["event_id"] == "7"
    assert not remembered["free_text"]


def test_optional_parameters_only_when_supplied() -> None:
    tool = {"function": {"name": "Shop_search", "parameters": {
        "type": "object", "required": ["keyword"], "properties": {
            "keyword": {"type": "string"},
            "promo_code": {"type": "string"},
            "sort_by": {"type": "string", "enum": ["price", "rating"]},
            "delivery_date": {"type": "string"},
            "phone": {"type": "string"}}}}}
    plain = ground_call(tool, request="find green tea", basic_features=ODD_PROFILE,
                        history=[], turns=[], now=NOW)
    assert plain["keyword"]["offer"]
    assert not any(plain[p]["offer"] for p in ("promo_code", "sort_by", "delivery_date",
                                               "phone"))
    asked = ground_call(tool, request="find green tea by rating for delivery tomorrow, "
                        "promo code SAVE10", basic_features=ODD_PROFILE, history=[], turns=[],
                        now=NOW)
    assert all(asked[p]["offer"] for p in ("promo_code", "sort_by", "delivery_date"))
    assert _values(asked["delivery_date"]["candidates"]) == ["2026-12-02"]


def test_provenance_is_the_chosen_candidate() -> None:
    options = ground_parameter("phone", {"type": "string"}, required=True, request="call me",
                               basic_features=ODD_PROFILE, history=[], turns=[], now=NOW)
    source = source_from_options("+1 555 0100", options)
    assert source is not None and source["detail"] == "contact.mobilePhone"
    assert source_from_options("+1 000", options) is None


def test_missing_required_personal_values_are_asked_for() -> None:
    tool = {"function": {"name": "Bank_payBill", "parameters": {
        "type": "object", "required": ["account_id", "phone"], "properties": {
            "account_id": {"type": "string"}, "phone": {"type": "string"}}}}}
    options = ground_call(tool, request="help me with banking", basic_features={},
                          history=[], turns=[], now=NOW)
    assert missing_values(options, ["account_id", "phone"]) == ["account_id", "phone"]


def test_ship_to_is_an_address_and_a_bare_to_is_someone_else() -> None:
    schema = {"type": "string", "description": "street address for delivery"}
    assert param_kind("shipTo", schema) == "personal"
    assert _values(profile_candidates("shipTo", "", "send it", ODD_PROFILE))[0] == (
        "5 Elm St, Springfield")
    assert param_kind("to", {"type": "string"}) == "text"


def _options(name: str, schema: dict, request: str, required: bool = True) -> dict:
    return dict(ground_parameter(name, schema, required=required, request=request,
                                 basic_features=ODD_PROFILE, history=[], turns=[], now=NOW))


def test_numbers_come_from_the_request_not_from_its_times_dates_or_ids() -> None:
    assert request_numbers("pick up one salad at 3 pm, order ORD-12345 on May 3 2026",
                           NOW, integer=True) == [("one", "1")]
    assert request_numbers("rooms under 1,200.50 for four nights", NOW, integer=False) == [
        ("1,200.50", "1200.50"), ("four", "4")]
    quantity = _options("quantity", {"type": "integer"}, "pick up a salad at 8 pm")
    assert _values(quantity["candidates"]) == ["1"] and not quantity["free_text"]
    assert quantity["candidates"][0]["source"]["kind"] == "request"  # "a salad"
    guessed = _options("quantity", {"type": "integer"}, "pick up salads at 8 pm")
    assert guessed["candidates"][0]["source"]["kind"] == "inferred"
    seats = _options("seats", {"type": "integer"}, "book 2 seats for the final")
    assert _values(seats["candidates"]) == ["2", "1"]
    nights = _options("nights", {"type": "integer"}, "a room from May 3 to May 5")
    assert nights["candidates"] == [] and nights["free_text"]  # nothing to copy: the model says


def test_an_optional_number_is_not_offered_by_another_number() -> None:
    price = _options("max_price", {"type": "number"}, "book 2 seats", required=False)
    assert not price["offer"]
    assert _options("max_price", {"type": "number"}, "a price under 50", required=False)["offer"]


def test_text_values_are_exact_spans_unless_the_model_composes_them() -> None:
    city = _options("city", {"type": "string"}, "a room in Brussels for four nights")
    assert "Brussels" in _values(city["candidates"]) and not city["free_text"]
    body = _options("body", {"type": "string"}, "email Bo that the meeting moved")
    assert body["free_text"]
    assert source_from_options(2, _options("seats", {"type": "integer"}, "2 seats")) is not None


def test_spans_stay_inside_a_clause_and_never_end_with_an_article() -> None:
    spans = request_spans("please put on The Baker's Dozen - top of the line, thanks")
    assert "The Baker's Dozen" in spans and "top of the line" in spans
    assert not [s for s in spans if "-" in s or s.lower().endswith(("the", " a"))]
    assert "Dozen top" not in spans and "line thanks" not in spans
