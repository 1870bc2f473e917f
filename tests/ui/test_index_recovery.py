"""The history index survives crashes and other processes: ``kill -9`` of setup or reindex, a
reindex while another process searches, and a damaged index file. Real ``ptool`` processes,
real SQLite and Chroma."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.db import make_engine
from profiles.history_index import PREFIX, HistoryIndex
from tests.assistant.conftest import write_catalog

USERS, EVENTS = 40, 50  # 2,000 events: a few seconds of embedding, a window to kill in
DISHES = ["cheeseburger", "sushi platter", "fries and a cola", "veggie burger", "ramen"]


def _personas(path: Path) -> Path:
    users = [{"id": f"u-{n:03d}", "username": f"user{n:03d}",
              "basic_features": {"name": f"User {n}", "phone": f"+1-555-01{n:02d}"},
              "history": [{"scenario": "takeout",
                           "platform": ("FastFood", "FineDine", "NewEats")[(n + e) % 3],
                           "action": f"ordered a {DISHES[(n * e) % len(DISHES)]} #{e}"}
                          for e in range(EVENTS)]} for n in range(USERS)]
    path.write_text(json.dumps({"format_version": 1, "users": users}), encoding="utf-8")
    return path


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PTOOL_WORKSPACE": str(root / "ws"),
            "PTOOL_CATALOG_DIR": str(root / "catalog"), "HF_HUB_OFFLINE": "1",
            "COLUMNS": "300"}


def _ptool(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ui.cli", *args], env=_env(root),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run(root: Path, *args: str) -> tuple[int, str]:
    proc = _ptool(root, *args)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def _sql_events(root: Path) -> int:
    db = root / "ws" / "ptool.db"
    if not db.is_file():
        return 0
    with sqlite3.connect(db, timeout=15) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM history_event").fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def _index(root: Path) -> HistoryIndex:
    return HistoryIndex.from_path(root / "ws" / "chroma",
                                  make_engine(f"sqlite:///{root / 'ws' / 'ptool.db'}"))


def _kill_when(proc: subprocess.Popen[str], ready: object, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if callable(ready) and ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return
        time.sleep(0.05)
    raise AssertionError(f"the process ended (rc {proc.returncode}) before it could be killed")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeded")
    write_catalog(root / "catalog")
    rc, out = _run(root, "setup", "--personas", str(_personas(root / "personas.json")))
    assert rc == 0, out
    return root


@pytest.fixture
def workspace(seeded: Path, tmp_path: Path) -> Iterator[Path]:
    shutil.copytree(seeded, tmp_path, dirs_exist_ok=True)
    yield tmp_path


def test_kill_9_of_setup_after_its_commit_is_repaired_by_the_next_command(tmp_path: Path) -> None:
    write_catalog(tmp_path / "catalog")
    setup = _ptool(tmp_path, "setup", "--personas", str(_personas(tmp_path / "p.json")))
    _kill_when(setup, lambda: _sql_events(tmp_path) > 0)
    assert _sql_events(tmp_path) == USERS * EVENTS
    assert _index(tmp_path).count() < USERS * EVENTS  # the crash left the index behind
    rc, out = _run(tmp_path, "users")
    assert rc == 0, out
    assert "history index repaired" in out
    assert _index(tmp_path).count() == USERS * EVENTS


def test_kill_9_of_reindex_keeps_the_old_index_whole(workspace: Path) -> None:
    index = _index(workspace)
    assert index.count() == USERS * EVENTS

    def staging() -> bool:
        return any("staging" in c.name for c in index.client.list_collections())

    _kill_when(_ptool(workspace, "reindex"), staging)
    assert _index(workspace).count() == USERS * EVENTS
    rc, out = _run(workspace, "history", "user001", "--search", "sushi", "-k", "3")
    assert rc == 0 and "sushi" in out, out


def test_a_reindex_in_another_process_never_breaks_searches_here(workspace: Path) -> None:
    index = _index(workspace)
    before = [h.event_id for h in index.search(user_id="u-001", text="sushi", k=5)]
    reindex = _ptool(workspace, "reindex")
    searched = 0
    while reindex.poll() is None:
        assert [h.event_id for h in index.search(user_id="u-001", text="sushi", k=5)] == before
        searched += 1
    assert reindex.returncode == 0 and searched > 0
    assert [h.event_id for h in index.search(user_id="u-001", text="sushi", k=5)] == before
    names = [c.name for c in index.client.list_collections()]
    assert names == [f"{PREFIX}g000002"]  # swapped in; the old generation is gone


def test_a_damaged_index_breaks_only_what_needs_it_and_reindex_fresh_recovers(
        workspace: Path) -> None:
    chroma = workspace / "ws" / "chroma" / "chroma.sqlite3"
    chroma.write_bytes(b"this is not a database" * 100)
    rc, out = _run(workspace, "users")
    assert rc == 0 and "user001" in out, out
    rc, out = _run(workspace, "history", "user001", "--search", "sushi")
    assert rc == 1 and "ptool reindex --fresh" in out, out
    rc, out = _run(workspace, "forget", "user002", "--yes")
    assert rc == 0 and "forgot user002" in out, out
    rc, out = _run(workspace, "reindex", "--fresh")
    assert rc == 0, out
    assert _index(workspace).count() == (USERS - 1) * EVENTS
    rc, out = _run(workspace, "history", "user001", "--search", "sushi", "-k", "3")
    assert rc == 0 and "sushi" in out, out
