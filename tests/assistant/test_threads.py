"""Multi-turn threads: follow-ups, resuming after a restart, forgetting a user's threads."""

from __future__ import annotations

from functools import partial

from sqlmodel import Session

from assistant import accounts
from assistant.checkpoints import forget_hook, open_checkpointer
from assistant.graph import build_graph
from assistant.turns import thread_turns
from profiles import crud
from tests.assistant.conftest import (
    World,
    fake,
    follow_up_after_restart,
    order_call,
    run_confirmed,
)


def test_follow_up_after_restart_uses_the_earlier_turn(world: World) -> None:
    # a new process: new connection, new graph, same file
    run = follow_up_after_restart(world, partial(open_checkpointer, world.checkpoints))
    assert run.first.status == "done"
    assert run.requests_before == ["order me a hamburger"]
    assert run.second.status == "done", run.second.answer
    prompt = run.model.prompt_text(0)
    assert "<earlier_turns>" in prompt and "FastFood_orderFood(dish='hamburger'" in prompt
    assert "FastFood_orderFood(" in prompt.split("<platforms>\n")[1]  # still callable
    sources = run.second.provenance[0]["arguments"]
    assert sources["dish"]["kind"] == "earlier_turn"
    assert sources["delivery_address"]["detail"] == "work_address"
    assert run.statuses_after == ["done", "done"]


def test_forget_deletes_the_users_threads(world: World) -> None:
    with open_checkpointer(world.checkpoints) as saver:
        graph = build_graph(saver)
        mine = run_confirmed(graph, context=world.context(fake(order_call("FastFood"))),
                        user="alice", request="order me a hamburger")
        bobs = run_confirmed(graph, context=world.context(fake(order_call(
            "FastFood", address="9 Pine Rd, Boston", phone="+1-212-555-0199"))),
            user="bob", request="order me a hamburger")
    report = accounts.forget_user(engine=world.engine, index=world.index, name_or_id="alice",
                                  forget_hooks=[forget_hook(world.checkpoints)])
    assert report.threads_deleted == 1
    with open_checkpointer(world.checkpoints) as saver:
        graph = build_graph(saver)
        assert thread_turns(graph, mine.thread_id) == []
        assert len(thread_turns(graph, bobs.thread_id)) == 1  # other users keep theirs
    with Session(world.engine) as session:
        assert crud.list_threads(session=session, user_id="u-alice") == []
