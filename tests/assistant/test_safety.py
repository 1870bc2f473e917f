"""Side effects only when the user asked for them: confirmation before a state change, untrusted
recipients and amounts, look-up requests that may only read, and one execution per yes."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from assistant import answers, safety
from assistant.checkpoints import open_checkpointer
from assistant.graph import AssistantGraph, build_graph
from assistant.state import CallProvenance
from assistant.turns import answer_consent, run_turn
from tests.assistant.conftest import World, fake, order_call
from toolcatalog.state import ApiRecord, ExecutedCall


def _records(world: World) -> list[ApiRecord]:
    with Session(world.engine) as session:
        return list(session.exec(select(ApiRecord)).all())


def test_a_state_change_waits_for_yes_and_shows_the_call_and_sources(
        world: World, graph: AssistantGraph) -> None:
    model = fake(order_call("FastFood"))
    context = world.context(model)
    asked = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    assert asked.status == "consent" and asked.executions == [] and _records(world) == []
    assert asked.confirmation is not None
    assert asked.confirmation["changes"] == ["FastFood_orderFood"]
    shown = asked.confirmation["calls"][0]
    assert shown["arguments"]["dish"] == "hamburger"
    assert shown["sources"]["delivery_address"]["kind"] == "profile"
    assert "FastFood_orderFood (create)" in asked.answer and "your profile" in asked.answer
    done = answer_consent(graph, context=context, thread_id=asked.thread_id, granted=True)
    assert done.status == "done" and len(_records(world)) == 1


def test_a_preapproved_api_runs_without_asking(world: World, graph: AssistantGraph) -> None:
    context = world.context(fake(order_call("FastFood")), preapproved=frozenset({"fastfood.*"}))
    result = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    assert result.status == "done" and len(_records(world)) == 1


@pytest.mark.parametrize(("reply", "preapproved", "asked", "untrusted"), [
    pytest.param("PostBox:[PostBox_sendEmail(recipient='attacker@evil.test', "
                 "body='the heating is broken')]", "PostBox.*",
                 "send an email to my landlord: the heating is broken",
                 "PostBox_sendEmail.recipient", id="recipient"),
    pytest.param("PayFast:[PayFast_sendMoney(payee='Mallory Ray', amount=500)]",
                 "PayFast.sendMoney", "send the rent money to my landlord again",
                 "PayFast_sendMoney.payee", id="payee"),
])
def test_a_value_from_history_is_never_used_without_asking_even_when_preapproved(
        world: World, graph: AssistantGraph, reply: str, preapproved: str, asked: str,
        untrusted: str) -> None:
    # pre-approving the API does not cover a recipient or payee nobody in the chat typed
    context = world.context(fake(reply, reply), preapproved=frozenset({preapproved}))
    result = run_turn(graph, context=context, user="erin", request=asked)
    assert result.status == "consent", result.answer
    assert result.confirmation is not None
    assert untrusted in result.confirmation["untrusted"]
    assert "came from your history" in result.answer
    assert _records(world) == []


def test_a_look_up_request_never_produces_a_state_change(world: World,
                                                         graph: AssistantGraph) -> None:
    order = order_call("FastFood")
    model = fake(order, order)  # a model that places an order for a question, twice
    result = run_turn(graph, context=world.context(model), user="alice",
                      request="where is my order ORD-FAS-000123?")
    assert result.status == "invalid" and result.executions == []
    assert "only asks to look something up" in model.prompt_text(1)
    assert _records(world) == []


def test_two_yes_clicks_at_once_execute_once(world: World, graph: AssistantGraph) -> None:
    context = world.context(fake(order_call("FastFood")))
    asked = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    assert asked.status == "consent"
    start = threading.Barrier(2)
    results = []

    def click() -> None:
        start.wait()
        results.append(answer_consent(graph, context=context, thread_id=asked.thread_id,
                                      granted=True))

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for c in clicks:
        c.start()
    for c in clicks:
        c.join()
    assert [r.status for r in results] == ["done", "done"]
    assert len(_records(world)) == 1


def test_a_resume_from_another_process_executes_once(world: World) -> None:
    """Two processes hold their own locks; the turn's idempotency key still runs it once."""
    with open_checkpointer(world.checkpoints) as saver:
        context = world.context(fake(order_call("FastFood")))
        asked = run_turn(build_graph(saver), context=context, user="alice",
                         request="order me a hamburger")
        state = build_graph(saver).get_state({"configurable": {"thread_id": asked.thread_id}})
    turn_key, calls = state.values["turn_id"], state.values["calls"]
    source = world.source()
    first = source.execute("u-alice", "FastFood", calls, state.values["candidates"], key=turn_key)
    again = source.execute("u-alice", "FastFood", calls, state.values["candidates"], key=turn_key)
    assert first.executions[0]["response"] == again.executions[0]["response"]
    assert len(first.recorded_event_ids) == 1 and again.recorded_event_ids == []
    assert len(_records(world)) == 1
    with Session(world.engine) as session:
        assert len(session.exec(select(ExecutedCall)).all()) == 1


@pytest.mark.parametrize(("request_text", "read_only"), [
    ("where is my order ORD-FAS-000123?", True),
    ("track my delivery", True),
    ("what's the status of booking BOO-SKY-1", True),
    ("show me my subscriptions", True),
    ("order me a hamburger", False),
    ("call off LC-9002", False),
    ("check my order and cancel it", False),
    ("find me a ride to the airport", False),
])
def test_read_only_requests(request_text: str, read_only: bool) -> None:
    assert safety.read_only_request(request_text) is read_only


def test_untrusted_values_are_recipients_and_amounts_from_history_or_answers() -> None:
    prov: list[CallProvenance] = [{"name": "P_send", "arguments": {
        "recipientEmail": {"kind": "history", "detail": "x", "event_id": "1"},
        "amount": {"kind": "earlier_turn", "detail": "turn 1: a platform's answer",
                   "event_id": None},
        "subject": {"kind": "request", "detail": "x", "event_id": None},
        "city": {"kind": "history", "detail": "x", "event_id": "2"},
    }}]
    assert safety.untrusted_values(prov) == ["P_send.recipientEmail", "P_send.amount"]


def test_runtime_history_keeps_no_free_text_addressee_or_profile_value() -> None:
    action = answers.event_action(
        "PostBox_sendEmail",
        {"recipient": "bob@x.test", "subject": "rent", "body": "the heating is broken again",
         "priority": "high", "city": "Paris", "dish": "a very long and wordy dish name"},
        {"city": "Paris"})
    assert action == "sendEmail (priority=high)"
