"""CRUD on the profile store. Keyword-only, session first: the caller owns the transaction."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, delete, func, select

from profiles.models import (
    ChatThread,
    EventSource,
    ForgetRequest,
    HistoryEvent,
    HistoryEventCreate,
    User,
    UserCreate,
)


class UnknownUser(LookupError):
    """No user by that name or id; the message suggests close names and `ptool users`."""


def create_user(*, session: Session, user_create: UserCreate) -> User:
    user = User(
        username=user_create.username,
        basic_features=user_create.basic_features.model_dump(exclude_none=True),
    )
    if user_create.id:
        user.id = user_create.id
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_user_by_name(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def being_forgotten(*, session: Session, user_id: str) -> bool:
    return session.get(ForgetRequest, user_id) is not None


def require_user(*, session: Session, name_or_id: str, forgetting: bool = False) -> User:
    """The user with this username (or id); :class:`UnknownUser` with suggestions otherwise.
    A user whose forget has started is unknown too, except to forget itself (``forgetting``)."""
    user = get_user_by_name(session=session, username=name_or_id) or get_user(
        session=session, user_id=name_or_id
    )
    if user is not None and being_forgotten(session=session, user_id=user.id) and not forgetting:
        raise UnknownUser(f"{name_or_id!r} is being forgotten; run `ptool forget {name_or_id}` "
                          "again to finish")
    if user is not None:
        return user
    names = [u.username for u in list_users(session=session)]
    close = difflib.get_close_matches(name_or_id, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownUser(f"no such user {name_or_id!r}.{hint} Try `ptool users` to list them.")


def list_users(*, session: Session, search: str | None = None) -> list[User]:
    """Users by name, without those being forgotten."""
    leaving = select(ForgetRequest.user_id)
    stmt = select(User).where(col(User.id).not_in(leaving)).order_by(User.username)
    if search:
        stmt = stmt.where(col(User.username).icontains(search))
    return list(session.exec(stmt).all())


def add_events(
    *, session: Session, user_id: str, events: Iterable[HistoryEventCreate]
) -> list[HistoryEvent]:
    rows = [HistoryEvent(user_id=user_id, **e.model_dump()) for e in events]
    session.add_all(rows)
    session.flush()
    return rows


def list_events(
    *,
    session: Session,
    user_id: str,
    scenario: str | None = None,
    platform: str | None = None,
    source: EventSource | None = None,
) -> list[HistoryEvent]:
    stmt = select(HistoryEvent).where(HistoryEvent.user_id == user_id)
    if scenario:
        stmt = stmt.where(HistoryEvent.scenario == scenario)
    if platform:
        stmt = stmt.where(HistoryEvent.platform == platform)
    if source:
        stmt = stmt.where(HistoryEvent.source == source)
    return list(
        session.exec(stmt.order_by(col(HistoryEvent.timestamp), col(HistoryEvent.id))).all()
    )


def event_counts(*, session: Session) -> dict[str, int]:
    """Events per user id, in one grouped query (user listings)."""
    stmt = select(HistoryEvent.user_id, func.count()).group_by(HistoryEvent.user_id)
    return {user_id: int(n) for user_id, n in session.exec(stmt).all()}


def count_events(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(HistoryEvent)).one())


def used_platforms(*, session: Session, user_id: str) -> list[str]:
    """The platforms this user has any event on (one DISTINCT query, not every event)."""
    stmt = select(HistoryEvent.platform).where(HistoryEvent.user_id == user_id).distinct()
    return sorted(session.exec(stmt).all())


def all_events(*, session: Session) -> Sequence[HistoryEvent]:
    """Every event of every user: only for rebuilding the index from the source of truth."""
    return session.exec(select(HistoryEvent).order_by(col(HistoryEvent.id))).all()


def delete_event(*, session: Session, user_id: str, event_id: int) -> bool:
    """Delete one event, only if it belongs to ``user_id``."""
    row = session.get(HistoryEvent, event_id)
    if row is None or row.user_id != user_id:
        return False
    session.delete(row)
    return True


def create_thread(*, session: Session, user_id: str, title: str = "") -> ChatThread:
    thread = ChatThread(user_id=user_id, title=title)
    session.add(thread)
    session.flush()
    return thread


def list_threads(*, session: Session, user_id: str) -> list[ChatThread]:
    stmt = select(ChatThread).where(ChatThread.user_id == user_id)
    return list(session.exec(stmt.order_by(col(ChatThread.updated_at).desc())).all())


def delete_user_rows(*, session: Session, user_id: str) -> list[str]:
    """Delete the user's events, threads, row and forget tombstone. Returns the deleted thread
    ids (for checkpoints)."""
    thread_ids = [t.id for t in list_threads(session=session, user_id=user_id)]
    session.exec(delete(HistoryEvent).where(col(HistoryEvent.user_id) == user_id))
    session.exec(delete(ChatThread).where(col(ChatThread.user_id) == user_id))
    session.exec(delete(User).where(col(User.id) == user_id))
    session.exec(delete(ForgetRequest).where(col(ForgetRequest.user_id) == user_id))
    return thread_ids
