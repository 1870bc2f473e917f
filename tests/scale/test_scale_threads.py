"""Chat threads on both backends (the SQLite file, or PostgreSQL's checkpointer in the profile
database): a thread continues after a restart, forget deletes its checkpoints, a turn racing a
forget keeps nothing, and one whole chat turn through the app's adapter."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant import accounts
from assistant.checkpoints import uses_postgres
from assistant.graph import build_graph
from assistant.turns import run_turn, thread_turns
from profiles import crud
from profiles.crud import UnknownUser
from tests.assistant.conftest import (
    World,
    fake,
    follow_up_after_restart,
    order_call,
    run_confirmed,
)
from toolcatalog import state
from ui.chat_adapter import ChatService
from ui.settings import Settings
from ui.wiring import Workspace, open_checkpointer_for, thread_forget_hook

pytestmark = pytest.mark.scale
BOB = {"address": "9 Pine Rd, Boston", "phone": "+1-212-555-0199"}


def _checkpoint_rows(engine: Engine, thread_id: str) -> int:
    """Rows any PostgreSQL checkpointer table holds for the thread."""
    with engine.connect() as conn:
        return sum(int(conn.execute(sa.text(f"SELECT count(*) FROM {table} "
                                            "WHERE thread_id = :t"), {"t": thread_id}).scalar_one())
                   for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"))


def test_the_threads_live_with_the_profile_database(world: World, settings: Settings) -> None:
    with open_checkpointer_for(settings) as saver:
        done = run_confirmed(build_graph(saver), context=world.context(fake(order_call(
            "FastFood"))), user="alice", request="order me a hamburger")
    assert done.status == "done", done.answer
    sqlite_file = settings.workspace / "checkpoints.sqlite"
    if uses_postgres(settings.resolved_database_url):
        assert not sqlite_file.exists()
        assert _checkpoint_rows(world.engine, done.thread_id) > 0
    else:
        assert sqlite_file.is_file()


def test_a_thread_continues_after_a_restart(world: World, settings: Settings) -> None:
    run = follow_up_after_restart(world, partial(open_checkpointer_for, settings))
    assert run.first.status == "done", run.first.answer
    assert run.requests_before == ["order me a hamburger"]
    assert run.statuses_after == ["done", "done"]
    assert run.second.status == "done", run.second.answer
    assert "<earlier_turns>" in run.model.prompt_text(0)
    assert run.second.provenance[0]["arguments"]["dish"]["kind"] == "earlier_turn"
    with Session(world.engine) as session:
        assert [t.id for t in crud.list_threads(session=session, user_id="u-alice")] == [
            run.first.thread_id]


def test_forget_deletes_the_users_checkpoints_only(world: World, settings: Settings) -> None:
    with open_checkpointer_for(settings) as saver:
        graph = build_graph(saver)
        mine = run_confirmed(graph, context=world.context(fake(order_call("FastFood"))),
                             user="alice", request="order me a hamburger")
        bobs = run_confirmed(graph, context=world.context(fake(order_call(
            "FastFood", address=BOB["address"], phone=BOB["phone"]))),
            user="bob", request="order me a hamburger")
    report = accounts.forget_user(engine=world.engine, index=world.index, name_or_id="alice",
                                  forget_hooks=[thread_forget_hook(settings)])
    assert report.threads_deleted == 1
    with open_checkpointer_for(settings) as saver:
        graph = build_graph(saver)
        assert thread_turns(graph, mine.thread_id) == []
        assert len(thread_turns(graph, bobs.thread_id)) == 1
    if uses_postgres(settings.resolved_database_url):
        assert _checkpoint_rows(world.engine, mine.thread_id) == 0
        assert _checkpoint_rows(world.engine, bobs.thread_id) > 0


def test_a_turn_racing_a_forget_keeps_nothing(world: World, settings: Settings) -> None:
    def forget_then_answer() -> str:
        accounts.forget_user(engine=world.engine, index=world.index, name_or_id="alice",
                             forget_hooks=[thread_forget_hook(settings)])
        return order_call("FastFood")

    with open_checkpointer_for(settings) as saver:
        graph = build_graph(saver)
        with pytest.raises(UnknownUser, match="forgotten while this turn ran"):
            run_turn(graph, context=world.context(fake(forget_then_answer)), user="alice",
                     request="order me a hamburger")
        assert list(saver.list(None)) == []  # alice was the only one with a thread
    with Session(world.engine) as session:
        assert crud.get_user(session=session, user_id="u-alice") is None


def test_one_chat_turn_end_to_end_through_the_app(workspace: Workspace) -> None:
    model = fake(order_call("FastFood"))
    service = ChatService(workspace, lambda: model)
    asked = service.send(user="alice", text="order me a hamburger", thread_id=None)
    assert asked.status == "consent" and asked.executions == []
    with Session(workspace.engine) as session:  # nothing ran before the yes
        assert state.count_records(session=session, owner="u-alice", platform="FastFood",
                                   record="order") == 0

    done = service.consent(thread_id=asked.thread_id, granted=True)
    other_worker = ChatService(workspace, lambda: model)  # the same "yes" again, elsewhere
    again = other_worker.consent(thread_id=asked.thread_id, granted=True)

    assert done.status == "done", done.answer
    assert again.status == "done" and again.thread_id == done.thread_id
    assert done.platform == "FastFood"
    assert done.evidence and done.checks
    with Session(workspace.engine) as session:
        assert state.count_records(session=session, owner="u-alice", platform="FastFood",
                                   record="order") == 1
    assert [t.id for t in service.threads("u-alice")] == [asked.thread_id]
    assert [t["request"] for t in service.replay(asked.thread_id)] == [
        "order me a hamburger"]
    service.forget("alice")
    assert service.replay(asked.thread_id) == []


def test_workers_opening_threads_on_a_new_database_at_once_all_succeed(postgres_url: str) -> None:
    """Several app workers start together on a fresh database: the checkpointer's tables are
    created once, the others wait for it instead of failing on PostgreSQL's catalog."""
    from assistant.checkpoints import open_postgres_checkpointer

    start, failures = threading.Barrier(4), []

    def open_one() -> None:
        start.wait()
        try:
            with open_postgres_checkpointer(postgres_url) as saver:
                saver.get_tuple({"configurable": {"thread_id": "nobody"}})
        except Exception as exc:  # the test reports every failure, whatever its kind
            failures.append(repr(exc))

    workers = [threading.Thread(target=open_one) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
