"""The stores on both backends: profile CRUD, the history index (add, search, isolation,
rebuild) and forget, through the same functions the CLI and the app call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from assistant import accounts
from profiles import crud, migrations
from profiles.crud import UnknownUser
from profiles.io import PersonaFile
from profiles.models import BasicFeatures, HistoryEventCreate, UserCreate
from toolcatalog import state
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace, thread_forget_hook

pytestmark = pytest.mark.scale


def test_setup_gives_the_head_schema_and_is_idempotent(workspace: Workspace,
                                                       settings: Settings) -> None:
    assert migrations.current_revision(workspace.engine) == migrations.head_revision()
    if settings.chroma_url:  # the index lives on the server, not in the workspace
        assert not settings.resolved_chroma_path.exists()
    again = open_workspace(settings, create=True)
    report = accounts.seed_personas(engine=again.engine, index=again.index,
                                    personas=PersonaFile.model_validate(
                                        {"format_version": 1, "users": []}))
    assert report.users_total == 5 and report.users_added == 0
    assert again.index.count() == accounts.event_count(engine=again.engine)
    again.engine.dispose()


def test_crud_round_trip(workspace: Workspace) -> None:
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with Session(workspace.engine) as session:
        user = crud.create_user(session=session, user_create=UserCreate(
            username="zoe", basic_features=BasicFeatures(name="Zoë Ångström", phone="+1-555")))
        crud.add_events(session=session, user_id=user.id, events=[
            HistoryEventCreate(scenario="takeout", platform="FastFood",
                               action="ordered crème brûlée", timestamp=when)])
        thread = crud.create_thread(session=session, user_id=user.id, title="dessert")
        session.commit()
        user_id, thread_id = user.id, thread.id
    with Session(workspace.engine) as session:
        found = crud.require_user(session=session, name_or_id="zoe")
        assert found.id == user_id and found.features().name == "Zoë Ångström"
        events = crud.list_events(session=session, user_id=user_id, scenario="takeout")
        assert [e.action for e in events] == ["ordered crème brûlée"]
        assert events[0].timestamp.astimezone(UTC) == when
        assert [t.id for t in crud.list_threads(session=session, user_id=user_id)] == [thread_id]
        assert crud.delete_event(session=session, user_id=user_id, event_id=events[0].id or 0)
        session.commit()
        assert crud.list_events(session=session, user_id=user_id) == []
        with pytest.raises(UnknownUser, match="Did you mean"):
            crud.require_user(session=session, name_or_id="zo")


def test_history_search_stays_within_the_user(workspace: Workspace) -> None:
    index = workspace.index
    hits = index.search(user_id="u-alice", text="a burger", k=10)
    assert hits and "cheeseburger" in hits[0].action
    assert {h.user_id for h in hits} == {"u-alice"}
    for text in ("bob-secret zucchini burger", "omakase for his lawyer"):
        assert all("bob-" not in h.action for h in index.search(user_id="u-alice", text=text))
    scoped = index.search(user_id="u-alice", text="trip", k=10, scenario="travel")
    assert [h.action for h in scoped] == ["booked a flight to Lisbon"]


def test_recorded_events_are_searchable_and_rebuild_restores_the_index(
        workspace: Workspace) -> None:
    engine, index = workspace.engine, workspace.index
    accounts.record_events(engine=engine, index=index, user_id="u-carol", events=[
        HistoryEventCreate(scenario="takeout", platform="NewEats",
                           action="ordered a mushroom risotto")])
    assert index.search(user_id="u-carol", text="risotto", k=1)[0].platform == "NewEats"
    total = accounts.event_count(engine=engine)
    index.delete_user("u-carol")
    assert index.count("u-carol") == 0
    assert accounts.reindex(engine=engine, index=index) == total
    assert index.count("u-carol") == 2
    assert index.search(user_id="u-carol", text="risotto", k=1)[0].user_id == "u-carol"


def test_forget_removes_rows_vectors_records_and_keeps_others(workspace: Workspace) -> None:
    engine, index = workspace.engine, workspace.index
    with Session(engine) as session:
        crud.create_thread(session=session, user_id="u-alice", title="t")
        session.add(state.ApiRecord(owner="u-alice", platform="FastFood", record="order",
                                    record_id="ORD-1", status="confirmed"))
        session.commit()
    bob_events = index.count("u-bob")

    report = accounts.forget_user(engine=engine, index=index, name_or_id="alice",
                                  forget_hooks=[thread_forget_hook(workspace.settings)])

    assert (report.events_deleted, report.threads_deleted, report.api_records_deleted) == (
        4, 1, 1)
    assert index.count("u-alice") == 0 and index.count("u-bob") == bob_events
    assert index.search(user_id="u-alice", text="burger") == []
    with Session(engine) as session:
        assert crud.get_user(session=session, user_id="u-alice") is None
        assert crud.list_events(session=session, user_id="u-alice") == []
        assert crud.list_threads(session=session, user_id="u-alice") == []
        assert state.count_records(session=session, owner="u-alice", platform="FastFood",
                                   record="order") == 0
    with pytest.raises(UnknownUser):
        accounts.forget_user(engine=engine, index=index, name_or_id="alice")
