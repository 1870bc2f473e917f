"""Test-wide settings: never touch a model hub, never read the developer's PTOOL_* settings.

It also offers the live servers of the ``scale`` tests (started on first use, once per run):
``postgres_url`` (an empty database of its own per test) and ``chroma_url`` (a Chroma server,
emptied around each test). See ``tests/live_servers.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests import live_servers

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"


@pytest.fixture(autouse=True)
def _isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each test sees no PTOOL_* variables from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("PTOOL_"):
            monkeypatch.delenv(key, raising=False)


def _live_server(find: Callable[[], Path],
                 start: Callable[[Path], AbstractContextManager[str]]) -> Iterator[str]:
    """Start the server that ``find`` locates and yield its URL; it stops when the fixture
    ends. A server that is not installed fails the test with the install hint alone."""
    try:
        found = find()
    except live_servers.ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    with start(found) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; its SQLAlchemy URL (no db)."""
    yield from _live_server(live_servers.postgres_bindir, live_servers.postgres_cluster)


def _admin(database: str, statement: str, server: str) -> None:
    import psycopg  # the postgres extra: only the live tests need it

    from assistant.checkpoints import postgres_conninfo

    with psycopg.connect(postgres_conninfo(f"{server}/{database}"), autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """``postgresql+psycopg://...`` of a new empty database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin("postgres", f'CREATE DATABASE "{name}"', postgres_server)
    yield f"{postgres_server}/{name}"
    _admin("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', postgres_server)


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[str]:
    """``chroma run`` on a free loopback port; its http:// URL."""
    yield from _live_server(live_servers.chroma_executable, live_servers.chroma_server)


def _empty_chroma(url: str) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url)
    client = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    for collection in client.list_collections():
        client.delete_collection(collection.name)


@pytest.fixture
def chroma_url(chroma_server: str) -> Iterator[str]:
    """The Chroma server, with no collection before or after the test (the history index's
    collection names are fixed, so tests sharing the server must not see each other's)."""
    _empty_chroma(chroma_server)
    yield chroma_server
    _empty_chroma(chroma_server)
