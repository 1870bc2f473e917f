"""Multi-turn threads: follow-ups, resuming after a restart, forgetting a user's threads."""

from __future__ import annotations

from sqlmodel import Session

from assistant import accounts
from assistant.checkpoints import forget_hook, open_checkpointer
from assistant.graph import build_graph
from assistant.turns import thread_turns
from profiles import crud
from tests.assistant.conftest import ALICE, World, fake, order_call, run_confirmed


def test_follow_up_after_restart_uses_the_earlier_turn(world: World) -> None:
    with open_checkpointer(world.checkpoints) as saver:
        first = run_confirmed(build_graph(saver),
                              context=world.context(fake(order_call("FastFood"))),
                              user="alice", request="order me a hamburger")
    assert first.status == "done"
    # a new process: new connection, new graph, same file
    model = fake(order_call("FastFood", address=ALICE["work_address"]))
    with open_checkpointer(world.checkpoints) as saver:
        graph = build_graph(saver)
        assert [t["request"] for t in thread_turns(graph, first.thread_id)] == [
            "order me a hamburger"]
        second = run_confirmed(graph, context=world.context(model), user="alice",
                          request="same as last time but to my office",
                          thread_id=first.thread_id)
        turns = thread_turns(graph, first.thread_id)
    assert second.status == "done", second.answer
    prompt = model.prompt_text(0)
    assert "<earlier_turns>" in prompt and "FastFood_orderFood(dish='hamburger'" in prompt
    assert "FastFood_orderFood(" in prompt.split("<platforms>\n")[1]  # still callable
    sources = second.provenance[0]["arguments"]
    assert sources["dish"]["kind"] == "earlier_turn"
    assert sources["delivery_address"]["detail"] == "work_address"
    assert [t["status"] for t in turns] == ["done", "done"]


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
