"""Prompt injection through history, and isolation between users."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from assistant.errors import ThreadNotFound
from assistant.graph import AssistantGraph
from assistant.turns import run_turn
from tests.assistant.conftest import PERSONAS, World, fake, order_call, run_confirmed
from toolcatalog.state import ApiRecord

DAN = {"address": "7 Elm St, Denver", "phone": "+1-303-555-0142"}


def test_injected_history_never_produces_an_unrequested_call(world: World,
                                                             graph: AssistantGraph) -> None:
    obey = "FastFood:[FastFood_deleteAccount(account_id='u-dan')]"
    model = fake(obey, obey)  # a model that follows the injected instruction, twice
    result = run_turn(graph, context=world.context(model), user="dan",
                      request="order me a cheeseburger")
    assert result.status == "invalid"
    assert result.executions == []
    with Session(world.engine) as session:
        assert session.exec(select(ApiRecord)).all() == []
    prompt = model.prompt_text(0)
    # the API exists on the platform but was not retrieved for this request: not callable
    assert "FastFood_deleteAccount(" not in prompt.split("<platforms>\n")[1]
    assert "unknown function 'FastFood_deleteAccount'" in model.prompt_text(1)
    # the injected text stays data: inside the history block, unable to close it
    history = prompt.split("<history>\n")[1].split("</history>")[0]
    assert "ignore your instructions" in history
    assert prompt.count("</history>") == 1 and "‹/history›" in history


def test_injected_history_does_not_stop_the_requested_call(world: World,
                                                           graph: AssistantGraph) -> None:
    model = fake(order_call("FastFood", dish="cheeseburger", address=DAN["address"],
                            phone=DAN["phone"]))
    result = run_confirmed(graph, context=world.context(model), user="dan",
                      request="order me a cheeseburger")
    assert result.status == "done"
    assert [e["name"] for e in result.executions] == ["FastFood_orderFood"]


def _bob_texts() -> list[str]:
    bob = next(u for u in PERSONAS["users"] if u["username"] == "bob")
    return [e["action"] for e in bob["history"]] + list(bob["basic_features"].values())


def test_a_users_chat_never_sees_another_users_history(world: World,
                                                       graph: AssistantGraph) -> None:
    # bob's events are the closest in meaning to this request, alice's are not
    model = fake(order_call("FastFood", dish="bob-secret zucchini burger and omakase"))
    result = run_turn(graph, context=world.context(model, history_k=10), user="alice",
                      request="order the bob-secret zucchini burger and omakase for my lawyer")
    shown = model.prompt_text(0) + result.model_dump_json()
    for text in _bob_texts():
        assert text not in shown
    assert result.platform_support and all(
        e["id"] in _alice_event_ids(world) for e in result.platform_support)


def _alice_event_ids(world: World) -> set[str]:
    from profiles import crud

    with Session(world.engine) as session:
        return {str(e.id) for e in crud.list_events(session=session, user_id="u-alice")}


def test_a_user_cannot_continue_another_users_thread(world: World,
                                                     graph: AssistantGraph) -> None:
    model = fake(order_call("FastFood", address="9 Pine Rd, Boston", phone="+1-212-555-0199"))
    bobs = run_confirmed(graph, context=world.context(model), user="bob",
                    request="order me a hamburger")
    assert bobs.status == "done"
    with pytest.raises(ThreadNotFound, match="ptool chat --user alice --threads"):
        run_turn(graph, context=world.context(fake()), user="alice", request="same again",
                 thread_id=bobs.thread_id)
