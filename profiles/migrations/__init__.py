"""Schema migrations of the workspace database (Alembic), applied by :func:`profiles.db.init_db`.

Why revisions rather than ``SQLModel.metadata.create_all``: ``create_all`` adds missing tables
but never changes an existing one, so a workspace made by an older ptool would keep its old
schema without a word. Each revision under ``versions/`` is written with plain SQLAlchemy types,
not the models, so it keeps describing the schema of its time whatever the models become; a
test fails when the models and the head revision disagree.

A workspace created before migrations existed has tables but no ``alembic_version`` table: the
baseline revision creates only the tables it lacks, so upgrading such a workspace keeps every
row. The same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

SCRIPT_LOCATION = Path(__file__).parent
_PG_LOCK_KEY = 0x7074_6F6F_6C  # "ptool": one advisory lock for every migrating process


def _config(connection: Connection | None = None) -> Config:
    """An ini-less Alembic config; ``env.py`` takes the open connection from its attributes."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision this code knows (read once: the files do not change at run time)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions under {SCRIPT_LOCATION / 'versions'}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for an empty or pre-migration database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the head revision (idempotent). On PostgreSQL an advisory lock
    makes concurrent ``ptool setup`` runs (several workers starting at once) take turns, so
    none of them tries to create a table another is creating."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        command.upgrade(_config(conn), "head")
