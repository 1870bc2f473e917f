"""Import and export of personas (basic features + history) as JSON, the seed format.

File format: ``{"format_version": 1, "users": [{"id", "username", "basic_features", "history":
[{"scenario", "platform", "action", "timestamp"}]}]}``. Import is idempotent: a user that
already exists (same id or username) is skipped, so ``ptool setup`` can run twice.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from profiles import crud
from profiles.models import BasicFeatures, HistoryEvent, HistoryEventCreate, User, UserCreate


class PersonaFileError(ValueError):
    """The persona file is unreadable or malformed; the message names the file and the field."""


class PersonaRecord(BaseModel):
    id: str | None = None
    username: str
    basic_features: BasicFeatures
    history: list[HistoryEventCreate] = Field(default_factory=list)


class PersonaFile(BaseModel):
    format_version: int = 1
    users: list[PersonaRecord]


def default_seed_file() -> Path:
    return Path(str(resources.files("profiles") / "data" / "personas.json"))


def read_persona_file(path: Path) -> PersonaFile:
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
        raise PersonaFileError(f"{path}: field '{where}': {first['msg']}") from exc


def import_personas(
    *, session: Session, personas: PersonaFile
) -> tuple[list[User], list[HistoryEvent]]:
    """Insert the users that do not exist yet; returns the new users and their new events."""
    new_users: list[User] = []
    new_events: list[HistoryEvent] = []
    for record in personas.users:
        exists = crud.get_user_by_name(session=session, username=record.username) or (
            record.id and crud.get_user(session=session, user_id=record.id)
        )
        if exists:
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
