"""Account-level operations that span the profile store, its index and the mock platforms.

These keep the database (source of truth) and the Chroma index in step: every write goes to the
database first and the index second, so a crash in between leaves the index *behind*, never
ahead, and :func:`repair_index` catches it up. A forget removes rows, vectors, mock-platform
records and (through ``forget_hooks``) chat checkpoints. It starts by writing a tombstone: from
then on the user is gone for every lookup, and a forget that fails half-way is finished by
running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from profiles import crud
from profiles.db import erase_deleted
from profiles.history_index import HistoryIndex, IndexUnavailable
from profiles.io import PersonaFile, import_personas
from profiles.models import ForgetRequest, HistoryEvent, HistoryEventCreate
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
    index_note: str = Field(default="", description="Set when the index could not be cleaned "
                            "(damaged); its vectors carry no text and the next repair drops them.")


class IndexReport(BaseModel):
    events_in_database: int
    added: int
    removed: int


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
    """Delete everything the system holds about one user. Raises ``UnknownUser`` first if absent.

    Order: tombstone (the user is gone for every lookup from here on), index vectors, hooks
    (chat checkpoints), then the rows with the tombstone in one transaction, then SQLite's log
    is truncated so no deleted byte survives in a file. If any step raises, the tombstone stays
    and running forget again finishes."""
    with Session(engine) as session:
        user = crud.require_user(session=session, name_or_id=name_or_id, forgetting=True)
        user_id, username = user.id, user.username
        tomb = session.get(ForgetRequest, user_id) or ForgetRequest(user_id=user_id)
        threads = [t.id for t in crud.list_threads(session=session, user_id=user_id)]
        tomb.thread_ids = sorted({*tomb.thread_ids, *threads})
        thread_ids = list(tomb.thread_ids)
        session.add(tomb)
        session.commit()
    note = ""
    try:
        index.delete_user(user_id)
    except IndexUnavailable as exc:
        note = str(exc)
    for hook in forget_hooks:
        hook(user_id, thread_ids)
    with Session(engine) as session:
        n_events = len(crud.list_events(session=session, user_id=user_id))
        n_records = delete_owner_records(session=session, owner=user_id)
        crud.delete_user_rows(session=session, user_id=user_id)
        session.commit()
    erase_deleted(engine)
    return ForgetReport(
        user_id=user_id,
        username=username,
        events_deleted=n_events,
        threads_deleted=len(thread_ids),
        api_records_deleted=n_records,
        index_note=note,
    )


def sweep_forgotten(*, engine: Engine, user_id: str) -> bool:
    """For a turn that was running while its user was forgotten: delete whatever it wrote
    after the forget (platform records, events). Returns True when the user is gone."""
    with Session(engine) as session:
        if (crud.get_user(session=session, user_id=user_id) is not None
                and not crud.being_forgotten(session=session, user_id=user_id)):
            return False
        delete_owner_records(session=session, owner=user_id)
        if crud.get_user(session=session, user_id=user_id) is None:
            crud.delete_user_rows(session=session, user_id=user_id)
        session.commit()
    erase_deleted(engine)
    return True


def reindex(*, engine: Engine, index: HistoryIndex, fresh: bool = False) -> int:
    """Rebuild the history index from the database (the source of truth) into a new collection
    that is swapped in. ``fresh`` first deletes a local index's files (a damaged index)."""
    if fresh:
        index.erase_files()
    with Session(engine) as session:
        events = list(crud.all_events(session=session))
    return index.rebuild(events)


def event_count(*, engine: Engine) -> int:
    """Events in the database (compared with the index's count at start-up)."""
    with Session(engine) as session:
        return crud.count_events(session=session)


def repair_index(*, engine: Engine, index: HistoryIndex) -> IndexReport:
    """Make the index match the database: index the events it misses (a crash between the
    database commit and the index write) and drop vectors whose rows are gone."""
    with Session(engine) as session:
        events = list(crud.all_events(session=session))
    added, removed = index.repair(events)
    return IndexReport(events_in_database=len(events), added=added, removed=removed)
