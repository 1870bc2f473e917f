"""Grounded calls with a scripted model: the failure classes of other people's requests --
an extra call, an extra optional parameter, a value copied from the wrong field -- are refused
(and repaired), the grammar offers only candidates, provenance is the chosen candidate, and a
required value nothing supplies is asked for before the model is called."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session, select

from assistant.graph import AssistantGraph
from assistant.nodes import _vague_effect
from assistant.state import Candidate
from assistant.turns import run_turn
from tests.assistant.conftest import ALICE, World, fake, order_call, run_confirmed
from toolcatalog.state import ApiRecord

xgr = pytest.importorskip("xgrammar")
from xgrammar.testing import _is_grammar_accept_string  # noqa: E402  (after the importorskip)

SURE = 0.5
"""A lower cut than the shipped scorer's, so the test catalog's obvious requests narrow."""
NOW = datetime(2026, 12, 1, 9, 0)


def _context(world: World, *replies: str, **overrides: object):  # type: ignore[no-untyped-def]
    model = fake(*replies)
    return model, world.context(model, intent_threshold=SURE, now=lambda: NOW, **overrides)


def _records(world: World) -> list[ApiRecord]:
    with Session(world.engine) as session:
        return list(session.exec(select(ApiRecord)).all())


def test_an_extra_call_is_refused_and_repaired(world: World, graph: AssistantGraph) -> None:
    extra = (order_call("FastFood")[:-1]
             + ", FastFood_trackDelivery(order_id='ORD-1')]")
    model, context = _context(world, extra, order_call("FastFood"))
    result = run_confirmed(graph, context=context, user="alice", request="order me a hamburger")
    assert {a.split("_")[1] for a in result.offered_apis} == {"orderFood"}
    assert "api_not_asked" in model.prompt_text(1)
    assert result.status == "done" and [e["name"] for e in result.executions] == [
        "FastFood_orderFood"]
    assert len(_records(world)) == 1


def test_an_optional_parameter_nobody_supplied_is_refused(world: World,
                                                          graph: AssistantGraph) -> None:
    noted = order_call("FastFood")[:-2] + ", note='ring twice')]"
    model, context = _context(world, noted, order_call("FastFood"))
    result = run_confirmed(graph, context=context, user="alice", request="order me a hamburger")
    assert "leave out 'note'" in model.prompt_text(1)
    assert result.status == "done" and "note" not in result.executions[0]["arguments"]


def test_a_note_the_request_asks_for_is_offered(world: World, graph: AssistantGraph) -> None:
    noted = order_call("FastFood")[:-2] + ", note='ring twice')]"
    _, context = _context(world, noted)
    result = run_confirmed(graph, context=context, user="alice",
                      request="order me a hamburger, with a note: ring twice")
    assert result.status == "done" and result.executions[0]["arguments"]["note"] == "ring twice"


def test_a_value_from_the_wrong_field_is_refused(world: World, graph: AssistantGraph) -> None:
    wrong = order_call("FastFood", phone=ALICE["email"])
    model, context = _context(world, wrong, order_call("FastFood"))
    result = run_confirmed(graph, context=context, user="alice", request="order me a hamburger")
    assert f"'phone' must be one of '{ALICE['phone']}'" in model.prompt_text(1)
    assert result.status == "done"
    assert result.executions[0]["arguments"]["phone"] == ALICE["phone"]


def test_the_request_chooses_the_office_address(world: World, graph: AssistantGraph) -> None:
    home = order_call("FastFood")
    office = order_call("FastFood", address=ALICE["work_address"])
    model, context = _context(world, home, office)
    result = run_confirmed(graph, context=context, user="alice",
                      request="order me a hamburger to my office")
    assert "must be one of" in model.prompt_text(1)
    assert result.executions[0]["arguments"]["delivery_address"] == ALICE["work_address"]
    grammar = model.options[1]["extra_body"]["structured_outputs"]["grammar"]
    compiled = xgr.Grammar.from_ebnf(grammar)
    assert _is_grammar_accept_string(compiled, office)
    assert not _is_grammar_accept_string(compiled, home)


def test_provenance_is_the_candidate_the_model_chose(world: World,
                                                    graph: AssistantGraph) -> None:
    _, context = _context(world, order_call("FastFood"))
    result = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    sources = result.provenance[0]["arguments"]
    assert sources["phone"]["kind"] == "profile" and sources["phone"]["detail"] == "phone"
    assert sources["delivery_address"]["detail"] == "home_address"


def test_a_date_is_resolved_against_the_clock(world: World, graph: AssistantGraph) -> None:
    booked = ("SkyJet:[SkyJet_bookFlight(destination='Lisbon', passenger_name='Alice Moreau', "
              "date='2026-12-04')]")
    model, context = _context(world, booked)
    result = run_confirmed(graph, context=context, user="alice",
                      request="book me a flight to Lisbon next Friday")
    assert result.status == "done"
    assert result.provenance[0]["arguments"]["date"]["kind"] == "request"
    grammar = model.options[0]["extra_body"]["structured_outputs"]["grammar"]
    wrong = booked.replace("2026-12-04", "2022-01-01")
    assert not _is_grammar_accept_string(xgr.Grammar.from_ebnf(grammar), wrong)


def test_a_required_personal_value_nobody_has_is_asked_for(world: World,
                                                          graph: AssistantGraph) -> None:
    model, context = _context(world)  # no reply queued: the model must not be called
    result = run_turn(graph, context=context, user="carol", request="order me a hamburger")
    assert result.status == "clarify"
    assert "phone" in result.answer and "delivery address" in result.answer
    assert model.seen == [] and _records(world) == []


def _candidate(name: str, effect: str, score: float) -> Candidate:
    return {"platform": "Bank", "tool": {"type": "function", "function": {
        "name": name, "description": f"{name.split('_')[1]} something. (Bank)"}},
        "effect": effect, "record": None, "intent": score}


def test_a_vague_request_that_would_change_something_asks() -> None:
    vague = [_candidate("Bank_payBill", "create", 0.01), _candidate("Bank_balance", "read", 0.0)]
    names = ["Bank_payBill", "Bank_balance"]
    assert _vague_effect(vague, names) == ["payBill something", "balance something"]
    read_first = [_candidate("Bank_balance", "read", 0.02),
                  _candidate("Bank_payBill", "create", 0.0)]
    assert _vague_effect(read_first, names) == []  # a lookup may go ahead
    sure = [_candidate("Bank_payBill", "create", 0.6)]
    assert _vague_effect(sure, ["Bank_payBill"]) == []
