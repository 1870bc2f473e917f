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

# Importing the table modules registers them on SQLModel.metadata before create_all.
from profiles import models as _profile_tables  # noqa: F401

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
            "install it (e.g. `pip install psycopg2-binary` for PostgreSQL) "
            "or fix PTOOL_DATABASE_URL"
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
    """Create missing tables (idempotent). ``extra_tables`` only documents other owners' tables."""
    del extra_tables  # their modules register on the shared metadata when imported
    try:
        SQLModel.metadata.create_all(engine)
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot open database {engine.url!r}: {explain_database_error(exc)}"
        ) from exc


def check_reachable(engine: Engine) -> None:
    """Fail early with a clear message when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot reach database {engine.url!r}: {explain_database_error(exc)}"
        ) from exc
