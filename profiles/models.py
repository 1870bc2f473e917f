"""SQLModel tables of the profile store: users, their basic features, history events, chat threads.

Layering follows the full-stack-fastapi template: ``XBase`` (shared fields) -> ``XCreate`` (input)
-> ``X(table=True)`` (row). Basic features have a declared schema (:class:`BasicFeatures`); what a
user *implicitly* prefers is never stored -- it has to be inferred from the history events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PField
from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, SQLModel

SENSITIVE_FEATURES = frozenset(
    {"email", "phone", "home_address", "work_address", "payment_method", "passport_number"}
)
"""Basic features that must not be sent to a platform the user has never used without consent."""


class BasicFeatures(BaseModel):
    """The explicit part of a profile: what a user told the assistant about themselves."""

    model_config = ConfigDict(extra="forbid")

    name: str
    gender: str | None = None
    age: int | None = PField(default=None, ge=0, le=130)
    occupation: str | None = None
    email: str | None = PField(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None
    home_address: str | None = None
    work_address: str | None = None
    city: str | None = None
    language: str | None = None
    payment_method: str | None = None
    passport_number: str | None = None
    dietary_restrictions: str | None = None

    def compact(self) -> dict[str, Any]:
        """Only the fields that are set (what a prompt shows)."""
        return self.model_dump(exclude_none=True)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, min_length=1, max_length=64)


class UserCreate(UserBase):
    basic_features: BasicFeatures
    id: str | None = Field(default=None, description="Stable id; generated when omitted.")


class User(UserBase, table=True):
    id: str = Field(default_factory=_new_id, primary_key=True)
    basic_features: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=_utcnow)

    def features(self) -> BasicFeatures:
        return BasicFeatures.model_validate(self.basic_features)


class EventSource(StrEnum):
    seeded = "seeded"
    runtime = "runtime"


class HistoryEventBase(SQLModel):
    scenario: str = Field(index=True)
    platform: str = Field(index=True)
    action: str = Field(min_length=1, description="What the user did, e.g. 'bought premium wine'.")
    timestamp: datetime = Field(default_factory=_utcnow)
    source: EventSource = EventSource.seeded

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """Stored times are UTC; a naive time from a seed file is taken to be UTC."""
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class HistoryEventCreate(HistoryEventBase):
    pass


class HistoryEvent(HistoryEventBase, table=True):
    __tablename__ = "history_event"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="user.id", index=True)


class ForgetRequest(SQLModel, table=True):
    """A forget in progress (a tombstone). While it exists every lookup treats the user as
    gone, and running forget again finishes the job, so a failure half-way loses nothing and
    leaves no half-forgotten user that can still chat. It holds ids only."""

    __tablename__ = "forget_request"

    user_id: str = Field(primary_key=True)
    thread_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    started_at: datetime = Field(default_factory=_utcnow)


class ChatThread(SQLModel, table=True):
    """A conversation of one user; its messages live in the LangGraph checkpointer."""

    __tablename__ = "chat_thread"

    id: str = Field(default_factory=_new_id, primary_key=True)
    user_id: str = Field(foreign_key="user.id", index=True)
    title: str = ""
    created_at: datetime = Field(default_factory=_utcnow)
    updated_at: datetime = Field(default_factory=_utcnow)
