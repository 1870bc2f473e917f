"""Alembic's environment script, run by :func:`profiles.migrations.upgrade` with an open
connection (there is no ``alembic.ini``: the database is whatever engine the caller passes).

Only tables of this project are compared: the PostgreSQL checkpointer keeps its own tables in
the same database and manages their schema itself.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from profiles import models as _profile_tables  # noqa: F401  (registers the tables)


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Skip reflected tables no model describes (the checkpointer's), so autogenerate never
    proposes to drop them."""
    del obj, name
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through profiles.migrations.upgrade(engine)")
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      include_object=_ours, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
