"""Database engine creation: SQLite in WAL mode by default, any SQLAlchemy URL for scale.

Engines hide bound parameters from error messages (``hide_parameters=True``): a failed statement
would otherwise print the personal values it carried (phone numbers, addresses) into a terminal
or a log. :func:`explain_database_error` turns the driver's error into one line that says what
to do, so no caller has to show a traceback.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, create_engine

from profiles import migrations

BUSY_TIMEOUT_S = 15.0
"""How long a SQLite connection waits for another process's write before "database is locked"."""

_ADVICE: tuple[tuple[str, str], ...] = (
    ("database is locked", "another process is writing to it (a running `ptool ui`, `ptool chat` "
     "or `ptool setup`?); wait for it to finish or stop it, then retry"),
    ("readonly database", "the database file is read-only; check its permissions"),
    ("unable to open database file", "check that the file and its folder exist and are "
     "writable (PTOOL_WORKSPACE / PTOOL_DATABASE_URL)"),
    ("no such table", "the workspace has no tables yet; run `ptool setup`"),
    ("disk i/o error", "check the disk (space, permissions) and retry"),
    ("malformed", "the database file is damaged; restore it from a backup or run `ptool setup` "
     "in a new workspace"),
)
DEFAULT_ADVICE = "check PTOOL_DATABASE_URL (and run `ptool setup` for a new workspace)"


class StoreUnavailable(RuntimeError):
    """The database cannot be opened or written. The message says what to try next."""


def make_engine(url: str, *, busy_timeout_s: float | None = None) -> Engine:
    """An engine for ``url``; for SQLite, WAL journal and a busy timeout so readers never block.

    ``busy_timeout_s`` defaults to :data:`BUSY_TIMEOUT_S` (read at call time)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:" and not path.parent.is_dir():
            raise StoreUnavailable(
                f"database folder {path.parent} does not exist; run `ptool setup` first "
                "or set PTOOL_DATABASE_URL"
            )
        timeout = BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
        engine = create_engine(url, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": timeout})
        pragmas = partial(_sqlite_pragmas, busy_timeout_ms=int(timeout * 1000))
        event.listen(engine, "connect", pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"the database driver for {url.split(':', 1)[0]!r} is not installed ({exc.name}); "
            "for PostgreSQL run `pip install '.[postgres]'` and use a "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB URL, or fix PTOOL_DATABASE_URL"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in free pages
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def explain_database_error(exc: OperationalError | sqlite3.OperationalError) -> str:
    """One line: the driver's own message (first line only, never the statement or its
    parameters) and what to do about it."""
    cause = exc.orig if isinstance(exc, OperationalError) else exc
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    advice = next((tip for needle, tip in _ADVICE if needle in reason.lower()), DEFAULT_ADVICE)
    return f"{reason}: {advice}"


def erase_deleted(engine: Engine) -> None:
    """After a forget: fold SQLite's write-ahead log into the database and truncate it, so the
    deleted rows (zeroed by ``secure_delete``) survive in no file. Other engines keep their
    own storage; nothing to do here for them."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def init_db(engine: Engine, extra_tables: tuple[type[SQLModel], ...] = ()) -> None:
    """Create the tables, or upgrade an existing database to the current schema (idempotent;
    see :mod:`profiles.migrations`). ``extra_tables`` only documents other owners' tables:
    the migrations create them too."""
    del extra_tables
    try:
        migrations.upgrade(engine)
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot open database {engine.url!r}: {explain_database_error(exc)}"
        ) from exc


def check_schema(engine: Engine) -> None:
    """Fail with what to run when the database is not at the schema this code expects: a
    workspace made by an older ptool (or before migrations) is upgraded by `ptool setup`,
    rather than failing later on a missing table or column."""
    try:
        current = migrations.current_revision(engine)
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot read database {engine.url!r}: {explain_database_error(exc)}"
        ) from exc
    head = migrations.head_revision()
    if current != head:
        found = f"schema revision {current}" if current else "no schema revision"
        raise StoreUnavailable(
            f"database {engine.url!r} has {found}, this ptool expects {head}; run `ptool setup` "
            "to upgrade it (existing data is kept)"
        )


def check_reachable(engine: Engine) -> None:
    """Fail early with a clear message when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot reach database {engine.url!r}: {explain_database_error(exc)}"
        ) from exc
