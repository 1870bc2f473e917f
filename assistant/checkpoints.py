"""Chat threads on disk: LangGraph's checkpointer, in the workspace or in PostgreSQL.

Where threads live follows the profile database (:func:`open_for`):

* SQLite profile store (the default): a separate SQLite file, ``<workspace>/checkpoints.sqlite``.
  Separate because the checkpointer manages its own schema and connection; deleted threads are
  zeroed (``secure_delete``) and the write-ahead log is truncated, so no byte of them survives.
* PostgreSQL profile store: LangGraph's ``PostgresSaver`` in the same database, so every worker
  of a deployment sees every thread (a SQLite file is only shared by processes on one host).

Either way thread ownership lives in the profile store (``ChatThread`` rows): forgetting a user
finds the thread ids there and :func:`forget_hook_for` deletes their checkpoints.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy.engine import make_url

from assistant.accounts import ForgetHook
from profiles.db import StoreUnavailable

CHECKPOINT_FILE = "checkpoints.sqlite"
SETUP_LOCK_KEY = 0x7074_6F6F_6C_01
"""PostgreSQL advisory lock held while the checkpointer creates or upgrades its tables."""
Checkpointer = BaseCheckpointSaver[str]


def checkpoint_path(workspace: Path) -> Path:
    return workspace / CHECKPOINT_FILE


def uses_postgres(database_url: str) -> bool:
    """Whether the profile database (an SQLAlchemy URL) is PostgreSQL, whatever its driver."""
    return make_url(database_url).get_backend_name() == "postgresql"


def postgres_conninfo(database_url: str) -> str:
    """The libpq URI psycopg connects with: the SQLAlchemy URL without its ``+driver`` part."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


@contextmanager
def open_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    """A set-up SQLite checkpointer at ``path``; the connection closes on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=15)
    conn.execute("PRAGMA secure_delete=ON")  # a deleted thread is zeroed, not left in free pages
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


@contextmanager
def open_postgres_checkpointer(database_url: str) -> Iterator[Checkpointer]:
    """A set-up PostgreSQL checkpointer on the profile database; its connection closes on exit.
    ``setup`` creates (or upgrades) the checkpointer's own tables and is idempotent."""
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"chat threads on PostgreSQL need {exc.name!r}; run `pip install '.[postgres]'`"
        ) from exc
    import psycopg  # present whenever PostgresSaver is (the postgres extra)

    conninfo = postgres_conninfo(database_url)
    with PostgresSaver.from_conn_string(conninfo) as saver:
        # several workers opening threads on a new database at once would race to create the
        # checkpointer's tables (a unique violation in PostgreSQL's catalog): they take turns
        # under a session lock held on a connection of its own
        with psycopg.connect(conninfo, autocommit=True) as lock:
            # poll rather than wait inside a statement: a waiting statement is an open
            # transaction, and the migrations' CREATE INDEX CONCURRENTLY would wait for it
            while not lock.execute("SELECT pg_try_advisory_lock(%s)",
                                   (SETUP_LOCK_KEY,)).fetchone()[0]:  # type: ignore[index]
                time.sleep(0.05)
            saver.setup()
        yield saver


@contextmanager
def open_for(database_url: str, workspace: Path) -> Iterator[Checkpointer]:
    """The checkpointer that goes with the profile database at ``database_url``: PostgreSQL
    threads for a PostgreSQL store, else the SQLite file in ``workspace``."""
    if uses_postgres(database_url):
        with open_postgres_checkpointer(database_url) as saver:
            yield saver
    else:
        with open_checkpointer(checkpoint_path(workspace)) as sqlite_saver:
            yield sqlite_saver


def delete_threads(saver: Checkpointer, thread_ids: Iterable[str]) -> int:
    """Delete the threads' checkpoints. For SQLite, then truncate the write-ahead log so their
    bytes survive in no file; PostgreSQL reclaims deleted rows with its own vacuum."""
    n = 0
    for thread_id in thread_ids:
        saver.delete_thread(thread_id)
        n += 1
    if isinstance(saver, SqliteSaver):
        with saver.lock:
            saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return n


def forget_hook(path: Path) -> ForgetHook:
    """For ``accounts.forget_user(forget_hooks=[...])``: drop the user's thread checkpoints
    from the SQLite file at ``path``."""

    def hook(user_id: str, thread_ids: list[str]) -> None:
        del user_id  # threads are keyed by id only
        if thread_ids and path.is_file():
            with open_checkpointer(path) as saver:
                delete_threads(saver, thread_ids)

    return hook


def forget_hook_for(database_url: str, workspace: Path) -> ForgetHook:
    """:func:`forget_hook` for wherever :func:`open_for` keeps the threads."""
    if not uses_postgres(database_url):
        return forget_hook(checkpoint_path(workspace))

    def hook(user_id: str, thread_ids: list[str]) -> None:
        del user_id
        if thread_ids:
            with open_postgres_checkpointer(database_url) as saver:
                delete_threads(saver, thread_ids)

    return hook
