"""Per-user state of the mock platforms (orders, bookings, carts, subscriptions...).

The table is keyed by an opaque ``owner`` string: the catalog does not know what a user is, the
caller injects the id. It lives in the same database as the profiles so one forget deletes both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.types import JSON
from sqlmodel import Field, Session, SQLModel, col, delete, select


class ApiRecord(SQLModel, table=True):
    """One record a state-changing mock API created (an order, a booking...)."""

    __tablename__ = "api_record"

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(index=True)
    platform: str = Field(index=True)
    record: str = Field(description="Record kind: order, booking, subscription, ...")
    record_id: str = Field(index=True)
    status: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ExecutedCall(SQLModel, table=True):
    """One executed call, keyed by the caller's idempotency key. The key is the primary key,
    so a second execution of the same key (a doubled "yes", a retried resume, another process)
    fails to insert and gets the stored response instead of running again."""

    __tablename__ = "executed_call"

    key: str = Field(primary_key=True, max_length=200)
    owner: str = Field(index=True)
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def count_records(*, session: Session, owner: str, platform: str, record: str) -> int:
    stmt = select(ApiRecord).where(
        ApiRecord.owner == owner, ApiRecord.platform == platform, ApiRecord.record == record
    )
    return len(session.exec(stmt).all())


def find_record(
    *, session: Session, owner: str, platform: str, record: str, record_id: str
) -> ApiRecord | None:
    stmt = select(ApiRecord).where(
        ApiRecord.owner == owner,
        ApiRecord.platform == platform,
        ApiRecord.record == record,
        ApiRecord.record_id == record_id,
    )
    return session.exec(stmt).first()


def list_records(
    *, session: Session, owner: str, platform: str, record: str, limit: int = 20
) -> list[ApiRecord]:
    stmt = (
        select(ApiRecord)
        .where(ApiRecord.owner == owner, ApiRecord.platform == platform, ApiRecord.record == record)
        .order_by(col(ApiRecord.id).desc())
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def delete_owner_records(*, session: Session, owner: str) -> int:
    """Remove every record of one owner (part of forgetting a user). Returns the count."""
    result = session.exec(delete(ApiRecord).where(col(ApiRecord.owner) == owner))
    session.exec(delete(ExecutedCall).where(col(ExecutedCall.owner) == owner))
    return int(result.rowcount or 0)
