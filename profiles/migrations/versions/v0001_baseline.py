"""Baseline: the profile store (users, history events, chat threads, forget requests) and the
mock platforms' state (api records, executed calls).

It creates only the tables that are missing, so a workspace made with ``create_all`` before
migrations existed upgrades without losing a row.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def _user() -> None:
    op.create_table(
        "user",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("basic_features", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_username", "user", ["username"], unique=True)


def _history_event() -> None:
    op.create_table(
        "history_event",
        sa.Column("scenario", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Enum("seeded", "runtime", name="eventsource"), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("platform", "scenario", "user_id"):
        op.create_index(f"ix_history_event_{column}", "history_event", [column])


def _forget_request() -> None:
    op.create_table(
        "forget_request",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("thread_ids", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def _chat_thread() -> None:
    op.create_table(
        "chat_thread",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_thread_user_id", "chat_thread", ["user_id"])


def _api_record() -> None:
    op.create_table(
        "api_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("record", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("owner", "platform", "record_id"):
        op.create_index(f"ix_api_record_{column}", "api_record", [column])


def _executed_call() -> None:
    op.create_table(
        "executed_call",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_executed_call_owner", "executed_call", ["owner"])


TABLES: dict[str, Callable[[], None]] = {
    # parents before the tables whose foreign keys point at them
    "user": _user,
    "history_event": _history_event,
    "forget_request": _forget_request,
    "chat_thread": _chat_thread,
    "api_record": _api_record,
    "executed_call": _executed_call,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS eventsource")
