"""Database engine creation: SQLite in WAL mode by default, any SQLAlchemy URL for scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, create_engine

# Importing the table modules registers them on SQLModel.metadata before create_all.
from profiles import models as _profile_tables  # noqa: F401


class StoreUnavailable(RuntimeError):
    """The database cannot be opened or written. The message says what to try next."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, WAL journal and a busy timeout so readers never block."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:" and not path.parent.is_dir():
            raise StoreUnavailable(
                f"database folder {path.parent} does not exist; run `ptool setup` first "
                "or set PTOOL_DATABASE_URL"
            )
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"the database driver for {url.split(':', 1)[0]!r} is not installed ({exc.name}); "
            "install it (e.g. `pip install psycopg2-binary` for PostgreSQL) "
            "or fix PTOOL_DATABASE_URL"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def init_db(engine: Engine, extra_tables: tuple[type[SQLModel], ...] = ()) -> None:
    """Create missing tables (idempotent). ``extra_tables`` only documents other owners' tables."""
    del extra_tables  # their modules register on the shared metadata when imported
    try:
        SQLModel.metadata.create_all(engine)
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot open database {engine.url!r}: {exc.orig}. Check PTOOL_DATABASE_URL, that the "
            "file is writable and not locked by another process."
        ) from exc


def check_reachable(engine: Engine) -> None:
    """Fail early with a clear message when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot reach database {engine.url!r}: {exc.orig}. Check PTOOL_DATABASE_URL "
            "(and run `ptool setup` for a new workspace)."
        ) from exc
