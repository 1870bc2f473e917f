"""Import and export of personas (basic features + history) as JSON, the seed format.

File format: ``{"format_version": 1, "users": [{"id", "username", "basic_features", "history":
[{"scenario", "platform", "action", "timestamp"}]}]}``. Import is idempotent: a user that
already exists (same username, and same id where the file gives one) is skipped, so
``ptool setup`` can run twice.

Why the whole file is checked before anything is written: users are looked up by "username or
id" (:func:`profiles.crud.require_user`), so a username equal to another user's id -- or an id
equal to another user's username -- would make one of them unreachable by name; and a file that
fails half way must not leave half its users behind. :class:`PersonaFile` checks the file on its
own, :func:`import_personas` checks it against the store, and only then inserts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlmodel import Session

from profiles import crud
from profiles.models import BasicFeatures, HistoryEvent, HistoryEventCreate, User, UserCreate

MAX_LISTED = 5
"""Problems named in one error message; the rest are counted."""


class PersonaFileError(ValueError):
    """The persona file is unreadable or malformed; the message names the file and the field."""


class PersonaRecord(BaseModel):
    id: str | None = Field(default=None, min_length=1, max_length=64)
    username: str = Field(min_length=1, max_length=64)
    basic_features: BasicFeatures
    history: list[HistoryEventCreate] = Field(default_factory=list)


class PersonaFile(BaseModel):
    format_version: int = 1
    users: list[PersonaRecord]

    @model_validator(mode="after")
    def _names_and_ids_are_unambiguous(self) -> PersonaFile:
        problems = list(_file_problems(self.users))
        if problems:
            raise ValueError(_summary(problems))
        return self


def _file_problems(records: list[PersonaRecord]) -> Iterator[str]:
    """Repeated usernames or ids, and a username that is another record's id (or vice versa)."""
    name_at: dict[str, int] = {}
    id_at: dict[str, int] = {}
    for i, r in enumerate(records):
        if r.username in name_at:
            yield f"users.{i}: username {r.username!r} repeats users.{name_at[r.username]}"
        name_at.setdefault(r.username, i)
        if r.id is not None:
            if r.id in id_at:
                yield f"users.{i}: id {r.id!r} repeats users.{id_at[r.id]}"
            id_at.setdefault(r.id, i)
    for i, r in enumerate(records):
        other = id_at.get(r.username)
        if other is not None and other != i:
            yield (f"users.{i}: username {r.username!r} is the id of users.{other}; lookups by "
                   "name or id would find the wrong user")


def _summary(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    return shown + (f" (and {more} more)" if more > 0 else "")


def default_seed_file() -> Path:
    return Path(str(resources.files("profiles") / "data" / "personas.json"))


def read_persona_file(path: Path) -> PersonaFile:
    """Parse and check the whole file (schema, then names and ids); nothing is written."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return PersonaFile.model_validate(raw)
    except OSError as exc:
        raise PersonaFileError(f"{path}: cannot read persona file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise PersonaFileError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if not where:  # a check of the file as a whole
            raise PersonaFileError(f"{path}: {first['msg'].removeprefix('Value error, ')}") from exc
        raise PersonaFileError(f"{path}: field '{where}': {first['msg']}") from exc


def _store_problem(session: Session, index: int, record: PersonaRecord) -> str | None:
    """Why ``record`` cannot go into this store, if it cannot; ``None`` when it is new or is
    already there (same id and username)."""
    by_name = crud.get_user_by_name(session=session, username=record.username)
    by_id = crud.get_user(session=session, user_id=record.id) if record.id else None
    where = f"users.{index}"
    if by_name is not None:
        if record.id is None or by_name.id == record.id:
            return None  # already imported
        return (f"{where}: username {record.username!r} already belongs to user id "
                f"{by_name.id!r}, not {record.id!r}")
    if by_id is not None:
        return f"{where}: id {record.id!r} already belongs to user {by_id.username!r}"
    if crud.get_user(session=session, user_id=record.username) is not None:
        return (f"{where}: username {record.username!r} is another user's id; lookups by name "
                "or id would find the wrong user")
    if record.id and crud.get_user_by_name(session=session, username=record.id) is not None:
        return (f"{where}: id {record.id!r} is another user's username; lookups by name or id "
                "would find the wrong user")
    return None


def _is_stored(session: Session, record: PersonaRecord) -> bool:
    return crud.get_user_by_name(session=session, username=record.username) is not None


def import_personas(
    *, session: Session, personas: PersonaFile
) -> tuple[list[User], list[HistoryEvent]]:
    """Insert the users that do not exist yet; returns the new users and their new events.

    Raises :class:`PersonaFileError` before inserting anything when a record clashes with a
    stored user (see the module docstring)."""
    problems = [p for i, r in enumerate(personas.users)
                if (p := _store_problem(session, i, r)) is not None]
    if problems:
        raise PersonaFileError(f"persona file: {_summary(problems)}; nothing was imported")
    new_users: list[User] = []
    new_events: list[HistoryEvent] = []
    for record in personas.users:
        if _is_stored(session, record):
            continue
        user = crud.create_user(
            session=session,
            user_create=UserCreate(
                id=record.id, username=record.username, basic_features=record.basic_features
            ),
        )
        new_users.append(user)
        new_events.extend(crud.add_events(session=session, user_id=user.id, events=record.history))
    return new_users, new_events


def export_user(*, session: Session, user: User) -> dict[str, Any]:
    """One user's profile and history in the persona-file format (what the user may take away)."""
    events = crud.list_events(session=session, user_id=user.id)
    return {
        "id": user.id,
        "username": user.username,
        "basic_features": user.basic_features,
        "history": [
            {
                "scenario": e.scenario,
                "platform": e.platform,
                "action": e.action,
                "timestamp": e.timestamp.isoformat(),
                "source": e.source.value,
            }
            for e in events
        ],
    }
