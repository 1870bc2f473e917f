"""Chat threads on disk: LangGraph's SQLite checkpointer in the workspace.

Why a separate SQLite file (``<workspace>/checkpoints.sqlite``) rather than the profile
database: the checkpointer manages its own schema and connection, and the profile store may be
PostgreSQL. Thread ownership lives in the profile store (``ChatThread`` rows), so forgetting a
user finds the thread ids there and :func:`forget_hook` deletes their checkpoints here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from assistant.accounts import ForgetHook

CHECKPOINT_FILE = "checkpoints.sqlite"


def checkpoint_path(workspace: Path) -> Path:
    return workspace / CHECKPOINT_FILE


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


def delete_threads(saver: SqliteSaver, thread_ids: Iterable[str]) -> int:
    """Delete the threads' checkpoints, then truncate the write-ahead log so their bytes
    survive in no file."""
    n = 0
    for thread_id in thread_ids:
        saver.delete_thread(thread_id)
        n += 1
    with saver.lock:
        saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return n


def forget_hook(path: Path) -> ForgetHook:
    """For ``accounts.forget_user(forget_hooks=[...])``: drop the user's thread checkpoints."""

    def hook(user_id: str, thread_ids: list[str]) -> None:
        del user_id  # threads are keyed by id only
        if thread_ids and path.is_file():
            with open_checkpointer(path) as saver:
                delete_threads(saver, thread_ids)

    return hook
