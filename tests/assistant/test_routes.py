"""Every route of the graph with a fake chat model: success, repair, invalid after repair,
clarify, consent (granted / declined), unknown user, model endpoint down."""

from __future__ import annotations

import httpx
import openai
import pytest
from sqlmodel import Session, select

from assistant.errors import ModelUnavailable
from assistant.graph import AssistantGraph
from assistant.turns import answer_consent, run_turn, thread_turns
from profiles import crud
from profiles.crud import UnknownUser
from profiles.models import EventSource
from tests.assistant.conftest import ALICE, World, fake, order_call, run_confirmed
from toolcatalog.state import ApiRecord


def _records(world: World, owner: str) -> list[ApiRecord]:
    with Session(world.engine) as session:
        return list(session.exec(select(ApiRecord).where(ApiRecord.owner == owner)).all())


def _runtime_events(world: World, user_id: str) -> list[str]:
    with Session(world.engine) as session:
        return [e.action for e in crud.list_events(session=session, user_id=user_id,
                                                   source=EventSource.runtime)]


def test_success_executes_records_history_and_explains(world: World,
                                                      graph: AssistantGraph) -> None:
    model = fake(order_call("FastFood"))
    result = run_confirmed(graph, context=world.context(model), user="alice",
                      request="order me a hamburger")
    assert result.status == "done", result.answer
    assert result.platform == "FastFood"
    assert result.executions[0]["ok"] and result.executions[0]["response"]["status"] == "confirmed"
    sources = result.provenance[0]["arguments"]
    assert sources["dish"]["kind"] == "request"
    assert sources["quantity"]["kind"] == "request"  # "a hamburger"
    assert sources["delivery_address"] == {"kind": "profile", "detail": "home_address",
                                           "event_id": None}
    assert sources["phone"]["detail"] == "phone"
    assert {e["platform"] for e in result.platform_support} == {"FastFood"}
    assert "Why FastFood" in result.answer and "home_address" in result.answer
    assert len(_records(world, "u-alice")) == 1
    events = _runtime_events(world, "u-alice")
    assert events == ["orderFood (dish=hamburger, quantity=1)"]  # no address/phone in history
    # only candidate tools and this user's evidence were in the prompt
    prompt = model.prompt_text(0)
    assert "FastFood_orderFood(" in prompt and "<history>" in prompt
    assert "SkyJet_bookFlight" not in prompt


def test_repair_round_feeds_errors_back(world: World, graph: AssistantGraph) -> None:
    bad = ("FastFood:[FastFood_orderFood(dish='hamburger', quantity='lots', "
           f"delivery_address={ALICE['home_address']!r}, phone={ALICE['phone']!r})]")
    model = fake(bad, order_call("FastFood"))
    result = run_confirmed(graph, context=world.context(model), user="alice",
                      request="order me a hamburger")
    assert result.status == "done"
    assert len(model.seen) == 2
    repair_prompt = model.prompt_text(1)
    assert "rejected" in repair_prompt and "quantity" in repair_prompt
    assert bad in repair_prompt  # the rejected answer is shown back as the assistant turn
    assert result.prompt_tokens > 0


def test_invalid_after_repair_executes_nothing(world: World, graph: AssistantGraph) -> None:
    model = fake("I would love to help!", "FastFood:[FastFood_orderPizza(size='L')]")
    result = run_turn(graph, context=world.context(model), user="alice",
                      request="order me a hamburger")
    assert result.status == "invalid"
    assert "nothing was executed" in result.answer
    assert "unknown function" in result.answer
    assert result.executions == []
    assert _records(world, "u-alice") == [] and _runtime_events(world, "u-alice") == []


def test_clarify_when_value_is_in_neither_request_nor_profile(world: World,
                                                             graph: AssistantGraph) -> None:
    # carol has no address and no phone: nothing to offer, so she is asked before any model
    # call (an invented address cannot be sent)
    model = fake()
    context = world.context(model)
    first = run_turn(graph, context=context, user="carol", request="order me a veggie burger")
    assert first.status == "clarify"
    assert "delivery address" in first.answer and "phone" in first.answer
    assert first.executions == [] and _records(world, "u-carol") == [] and model.seen == []
    # the reply completes the pending request
    model.replies.append(order_call("FastFood", dish="veggie burger", address="5 Elm Street",
                                    phone="555-0100"))
    second = run_confirmed(graph, context=context, user="carol",
                      request="deliver to 5 Elm Street, my phone is 555-0100",
                      thread_id=first.thread_id)
    assert second.status == "done", second.answer
    assert "order me a veggie burger" in model.prompt_text(-1)
    assert second.provenance[0]["arguments"]["delivery_address"]["kind"] == "request"


def test_missing_value_after_repair_asks_instead_of_failing(world: World,
                                                           graph: AssistantGraph) -> None:
    no_qty = ("FastFood:[FastFood_orderFood(dish='hamburger', "
              f"delivery_address={ALICE['home_address']!r}, phone={ALICE['phone']!r})]")
    model = fake(no_qty, no_qty)
    result = run_turn(graph, context=world.context(model), user="alice",
                      request="get me hamburgers")
    assert result.status == "clarify" and "quantity" in result.answer


def test_consent_asked_once_for_a_never_used_platform(world: World,
                                                     graph: AssistantGraph) -> None:
    model = fake(order_call("NewEats"), order_call("NewEats", dish="salad"))
    context = world.context(model)
    asked = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    assert asked.status == "consent"
    assert set(asked.consent_features) == {"home_address", "phone"}
    assert "never used NewEats" in asked.answer
    assert _records(world, "u-alice") == []  # nothing sent before the answer
    done = answer_consent(graph, context=context, thread_id=asked.thread_id, granted=True)
    assert done.status == "done" and len(_records(world, "u-alice")) == 1
    # the platform is now used: the next order still asks first, but not about the data
    again = run_turn(graph, context=context, user="alice", request="order me a salad",
                     thread_id=asked.thread_id)
    assert again.status == "consent" and again.consent_features == []
    assert again.confirmation and again.confirmation["changes"] == ["NewEats_orderFood"]


def test_consent_declined_by_reply_sends_nothing(world: World, graph: AssistantGraph) -> None:
    model = fake(order_call("NewEats"))
    context = world.context(model)
    asked = run_turn(graph, context=context, user="alice", request="order me a hamburger")
    assert asked.status == "consent"
    declined = run_turn(graph, context=context, user="alice", request="no",
                        thread_id=asked.thread_id)
    assert declined.status == "declined" and "nothing was sent to NewEats" in declined.answer
    assert _records(world, "u-alice") == []


def test_consent_can_be_switched_off(world: World, graph: AssistantGraph) -> None:
    model = fake(order_call("NewEats"))
    result = run_confirmed(graph, context=world.context(model, consent="never_ask"), user="alice",
                      request="order me a hamburger")
    assert result.status == "done"


def test_unknown_user_is_a_clear_error(world: World, graph: AssistantGraph) -> None:
    with pytest.raises(UnknownUser, match=r"no such user 'alise'.*alice.*ptool users"):
        run_turn(graph, context=world.context(fake()), user="alise", request="order food")


def test_endpoint_down_is_clear_and_keeps_the_thread(world: World,
                                                    graph: AssistantGraph) -> None:
    down = openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))
    model = fake(order_call("FastFood"), down, order_call("FastFood", dish="fries"))
    context = world.context(model, model_label="http://127.0.0.1:9/v1")
    first = run_confirmed(graph, context=context, user="alice", request="order me a hamburger")
    with pytest.raises(ModelUnavailable, match=r"127\.0\.0\.1:9.*PTOOL_MODEL_BASE_URL"):
        run_turn(graph, context=context, user="alice", request="order me fries",
                 thread_id=first.thread_id)
    assert [t["status"] for t in thread_turns(graph, first.thread_id)] == ["done"]
    retry = run_confirmed(graph, context=context, user="alice", request="order me fries",
                     thread_id=first.thread_id)
    assert retry.status == "done"
    assert [t["request"] for t in thread_turns(graph, first.thread_id)] == [
        "order me a hamburger", "order me fries"]
