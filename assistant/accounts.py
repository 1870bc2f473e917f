"""Account-level operations that span the profile store, its index and the mock platforms.

These keep the database (source of truth) and the Chroma index in step: every write goes to the
database first and the index second, and a forget removes rows, vectors, mock-platform records
and (through ``forget_hooks``) chat checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from profiles import crud
from profiles.history_index import HistoryIndex
from profiles.io import PersonaFile, import_personas
from profiles.models import HistoryEvent, HistoryEventCreate
from toolcatalog.state import delete_owner_records

ForgetHook = Callable[[str, list[str]], None]
"""Called with (user_id, thread_ids) when a user is forgotten, e.g. to drop chat checkpoints."""


class SetupReport(BaseModel):
    users_added: int
    events_indexed: int
    users_total: int


class ForgetReport(BaseModel):
    user_id: str
    username: str
    events_deleted: int
    threads_deleted: int
    api_records_deleted: int


def seed_personas(*, engine: Engine, index: HistoryIndex, personas: PersonaFile) -> SetupReport:
    """Import personas that are not in the store yet and index their events (idempotent)."""
    with Session(engine) as session:
        users, events = import_personas(session=session, personas=personas)
        session.commit()
        for e in events:
            session.refresh(e)
        index.add(events)
        total = len(crud.list_users(session=session))
    return SetupReport(users_added=len(users), events_indexed=len(events), users_total=total)


def record_events(
    *, engine: Engine, index: HistoryIndex, user_id: str, events: Iterable[HistoryEventCreate]
) -> list[HistoryEvent]:
    """Store new history events for one user, then index them."""
    with Session(engine) as session:
        rows = crud.add_events(session=session, user_id=user_id, events=events)
        session.commit()
        for row in rows:
            session.refresh(row)
    index.add(rows)
    return rows


def delete_event(*, engine: Engine, index: HistoryIndex, user_id: str, event_id: int) -> bool:
    """Delete one of ``user_id``'s events from the store and the index."""
    with Session(engine) as session:
        deleted = crud.delete_event(session=session, user_id=user_id, event_id=event_id)
        session.commit()
    if deleted:
        index.delete_events([event_id])
    return deleted


def forget_user(
    *,
    engine: Engine,
    index: HistoryIndex,
    name_or_id: str,
    forget_hooks: Iterable[ForgetHook] = (),
) -> ForgetReport:
    """Delete everything the system holds about one user. Raises ``UnknownUser`` first if absent."""
    with Session(engine) as session:
        user = crud.require_user(session=session, name_or_id=name_or_id)
        user_id, username = user.id, user.username
        n_events = len(crud.list_events(session=session, user_id=user_id))
        n_records = delete_owner_records(session=session, owner=user_id)
        thread_ids = crud.delete_user_rows(session=session, user_id=user_id)
        session.commit()
    index.delete_user(user_id)
    for hook in forget_hooks:
        hook(user_id, thread_ids)
    return ForgetReport(
        user_id=user_id,
        username=username,
        events_deleted=n_events,
        threads_deleted=len(thread_ids),
        api_records_deleted=n_records,
    )


def reindex(*, engine: Engine, index: HistoryIndex) -> int:
    """Rebuild the history index from the database (the source of truth)."""
    with Session(engine) as session:
        events = list(crud.all_events(session=session))
    return index.rebuild(events)
