"""Per-user semantic search over history events: vectors in Chroma, text in the database.

Privacy rules, each enforced here in code:

* Chroma holds **vectors, ids and two metadata keys only** -- a one-way key of the owner and the
  scenario. No event text and no user id goes into Chroma's files, so forgetting a user in the
  database leaves nothing readable behind in the index (Chroma keeps deleted entries in its log
  for a while, but there is no text to keep). Hits are read back from the database.
* Every query carries the owner filter built here, and the hits are checked again against the
  database rows, so one user's events can never surface in another user's search.

Crash safety: the database is the source of truth. :meth:`HistoryIndex.repair` adds what the
index misses and drops what the database no longer has (setup and workspace start-up call it).
:meth:`HistoryIndex.rebuild` fills a *new* collection and swaps it in by renaming it to the next
generation, so a search in another process never sees a half-built index, and a handle on a
collection that was swapped out re-resolves itself.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from profiles.embeddings import LocalEmbeddingFunction, embed_texts
from profiles.models import HistoryEvent

PREFIX = "ptool_history_v2_"
"""Collections of this index format; the generation follows (``..._g000003``)."""
LEGACY_COLLECTIONS = ("history_events",)
"""Older formats that stored event text in Chroma: deleted when this format first opens."""
CATALOG_VECTORS = "ptool_catalog_vectors"
_RETRY_WAITS_S = (0.0, 0.2, 0.5)
"""Pauses before each try of an index call (the first is immediate): a swap in another process
settles in between."""
_GENERATION = re.compile(rf"^{re.escape(PREFIX)}g(\d{{6}})$")
T = TypeVar("T")


class IndexUnavailable(RuntimeError):
    """The history index cannot be read or written. The message says what to run."""


class HistoryHit(BaseModel):
    """One retrieved event with its cosine distance (smaller = closer)."""

    event_id: int
    user_id: str
    scenario: str
    platform: str
    action: str
    timestamp: str
    distance: float


def document_text(action: str, platform: str, scenario: str) -> str:
    """The text that is embedded for an event: platform and action, in the scenario's words.
    Benchmark mode ranks an inline sample's events by the same text, so both rank alike."""
    return f"{action} (on {platform}, {scenario})"


def event_document(event: HistoryEvent) -> str:
    return document_text(event.action, event.platform, event.scenario)


def owner_key(user_id: str) -> str:
    """What Chroma stores instead of the user id (one-way, stable)."""
    return hashlib.sha256(f"ptool-owner:{user_id}".encode()).hexdigest()[:32]


def _generation(name: str) -> int | None:
    found = _GENERATION.match(name)
    return int(found.group(1)) if found else None


FRESH_HINT = "run `ptool reindex --fresh` to rebuild it from the database"


class HistoryIndex:
    """Add, delete, search and repair users' history vectors (see the module docstring).

    The Chroma client is created on first use, so a damaged index breaks only the commands that
    need it, with :class:`IndexUnavailable` saying what to run."""

    def __init__(self, connect: Callable[[], ClientAPI], engine: Engine,
                 path: Path | None = None) -> None:
        self._connect = connect
        self._engine = engine
        self._path = path
        self._client: ClientAPI | None = None
        self._collection: Any = None

    @classmethod
    def from_path(cls, path: Path, engine: Engine) -> HistoryIndex:
        settings = ChromaSettings(anonymized_telemetry=False)

        def connect() -> ClientAPI:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=settings)

        return cls(connect, engine, path)

    @classmethod
    def from_url(cls, url: str, engine: Engine) -> HistoryIndex:
        parsed = urlparse(url)
        settings = ChromaSettings(anonymized_telemetry=False)
        return cls(lambda: chromadb.HttpClient(host=parsed.hostname or "localhost",
                                               port=parsed.port or 8000,
                                               ssl=parsed.scheme == "https", settings=settings),
                   engine)

    # -- collections ---------------------------------------------------------------------------

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            try:
                self._client = self._connect()
            except Exception as exc:  # a damaged file raises many kinds of errors
                raise IndexUnavailable(f"the history index cannot be opened "
                                       f"({type(exc).__name__}: {str(exc)[:200]}); "
                                       f"{FRESH_HINT}") from exc
        return self._client

    def _open(self, name: str, *, create: bool = True) -> Any:
        if not create:
            return self.client.get_collection(
                name, embedding_function=LocalEmbeddingFunction())  # type: ignore[arg-type]
        return self.client.get_or_create_collection(
            name, embedding_function=LocalEmbeddingFunction(),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"})

    def _names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    def _current(self) -> Any:
        """The newest generation. It is opened, never created, when one exists: a rebuild in
        another process may drop it between the listing and the opening, and re-creating it
        would swap an empty index in (the failure makes :meth:`_run` look again)."""
        names = self._names()
        generations = [g for g in map(_generation, names) if g is not None]
        for legacy in LEGACY_COLLECTIONS:
            if legacy in names:  # text-bearing format: never keep it around
                self.client.delete_collection(legacy)
        if not generations:
            return self._open(f"{PREFIX}g000001")
        return self._open(f"{PREFIX}g{max(generations):06d}", create=False)

    def catalog_vectors(self) -> Any:
        """The collection that caches the catalog's API vectors next to the history
        (``embeddings.StoredVectors``): catalog texts only, never a user's."""
        return self.client.get_or_create_collection(CATALOG_VECTORS, embedding_function=None)

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._current()
        return self._collection

    def _run(self, action: Callable[[Any], T]) -> T:
        """Run ``action(collection)``. A collection that a rebuild in another process swapped
        out fails in several ways (not found, a missing segment while it is being dropped), so
        a failure looks the current collection up again and retries, twice; what still fails
        becomes :class:`IndexUnavailable`."""
        for wait_s in _RETRY_WAITS_S:
            time.sleep(wait_s)
            try:
                return action(self.collection)
            except IndexUnavailable:
                raise
            except Exception as exc:
                failure = exc
                self._collection = None
        raise IndexUnavailable(f"the history index failed ({type(failure).__name__}: "
                               f"{str(failure)[:200]}); {FRESH_HINT}") from failure

    # -- writes --------------------------------------------------------------------------------

    def add(self, events: Sequence[HistoryEvent], batch_size: int = 512) -> None:
        """Index (or re-index) events; ids are the database ids, so re-adding is an upsert."""
        self._add_to(None, events, batch_size)

    def _add_to(self, collection: Any, events: Sequence[HistoryEvent], batch_size: int) -> None:
        for start in range(0, len(events), batch_size):
            batch = [e for e in events[start : start + batch_size] if e.id is not None]
            if not batch:
                continue
            vectors = embed_texts([event_document(e) for e in batch])
            payload = {"ids": [str(e.id) for e in batch],
                       "embeddings": [list(map(float, v)) for v in vectors],
                       "metadatas": [{"owner": owner_key(e.user_id), "scenario": e.scenario}
                                     for e in batch]}
            if collection is None:
                self._run(lambda c, p=payload: c.upsert(**p))  # type: ignore[misc]
            else:
                collection.upsert(**payload)

    def delete_events(self, event_ids: Iterable[int]) -> None:
        ids = [str(i) for i in event_ids]
        if ids:
            self._run(lambda c: c.delete(ids=ids))

    def delete_user(self, user_id: str) -> None:
        """Remove every vector of one user (forget)."""
        self._run(lambda c: c.delete(where={"owner": owner_key(user_id)}))

    # -- reads ---------------------------------------------------------------------------------

    def count(self, user_id: str | None = None) -> int:
        if user_id is None:
            return int(self._run(lambda c: c.count()))
        found = self._run(lambda c: c.get(where={"owner": owner_key(user_id)}, include=[]))
        return len(found["ids"])

    def ids(self) -> set[int]:
        """Every event id in the index (for :meth:`repair`)."""
        return {int(i) for i in self._run(lambda c: c.get(include=[]))["ids"]}

    def search(
        self, *, user_id: str, text: str, k: int = 5, scenario: str | None = None
    ) -> list[HistoryHit]:
        """The ``k`` events of ``user_id`` closest in meaning to ``text``."""
        if not user_id:
            raise ValueError("a history search needs a user_id")
        where: dict[str, Any] = {"owner": owner_key(user_id)}
        if scenario:
            where = {"$and": [where, {"scenario": scenario}]}
        vector = [float(x) for x in embed_texts([text])[0]]

        def query(collection: Any) -> Any:
            found = collection.query(query_embeddings=[vector], n_results=max(1, k),
                                     where=where, include=["distances"])
            if not found["ids"][0] and self._has_events(user_id, scenario):
                raise LookupError("the index has none of this user's events")  # swapped out?
            return found

        try:
            result = self._run(query)
        except IndexUnavailable as exc:
            if not isinstance(exc.__cause__, LookupError):
                raise
            return []  # the index really lacks them; repair (at start-up) adds them back
        distances = dict(zip(map(int, result["ids"][0]), result["distances"][0], strict=True))
        with Session(self._engine) as session:
            rows = session.exec(select(HistoryEvent).where(
                col(HistoryEvent.id).in_(list(distances)))).all()
        hits: list[HistoryHit] = []
        for row in rows:
            if row.user_id != user_id:  # defence in depth: never trust the filter alone
                raise AssertionError("history index returned another user's event")
            assert row.id is not None
            hits.append(HistoryHit(event_id=row.id, user_id=row.user_id, scenario=row.scenario,
                                   platform=row.platform, action=row.action,
                                   timestamp=row.timestamp.isoformat(),
                                   distance=float(distances[row.id])))
        return sorted(hits, key=lambda h: h.distance)

    def _has_events(self, user_id: str, scenario: str | None) -> bool:
        query = select(HistoryEvent.id).where(HistoryEvent.user_id == user_id)
        if scenario:
            query = query.where(HistoryEvent.scenario == scenario)
        with Session(self._engine) as session:
            return session.exec(query.limit(1)).first() is not None

    # -- repair and rebuild --------------------------------------------------------------------

    def repair(self, events: Sequence[HistoryEvent]) -> tuple[int, int]:
        """Make the index hold exactly ``events`` (the database's rows): add the missing ones,
        drop the ones the database no longer has. Returns (added, removed)."""
        have = self.ids()
        want = {e.id: e for e in events if e.id is not None}
        missing = [e for i, e in want.items() if i not in have]
        extra = sorted(have - set(want))
        self.add(missing)
        self.delete_events(extra)
        return len(missing), len(extra)

    def rebuild(self, events: Sequence[HistoryEvent]) -> int:
        """Index ``events`` into a new collection, then swap it in: rename it to the next
        generation and drop the older ones. Searches elsewhere keep using the old collection
        until the swap and re-resolve after it."""
        try:
            generations = [g for g in map(_generation, self._names()) if g is not None]
            staging = self._open(f"{PREFIX}staging_{uuid.uuid4().hex[:12]}")
            self._add_to(staging, events, 512)
            name = f"{PREFIX}g{max(generations, default=0) + 1:06d}"
            staging.modify(name=name)
            for old in self._names():
                if (old != name and old.startswith(PREFIX)) or old in LEGACY_COLLECTIONS:
                    self.client.delete_collection(old)
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(f"rebuilding the history index failed "
                                   f"({type(exc).__name__}: {str(exc)[:200]}); "
                                   f"{FRESH_HINT}") from exc
        self._collection = None
        return len(events)

    def erase_files(self) -> bool:
        """Delete a local index's files (``reindex --fresh`` on a damaged index). Returns False
        for a Chroma server, whose files are not ours to delete."""
        if self._path is None:
            return False
        self._client = None
        self._collection = None
        chromadb.api.client.SharedSystemClient.clear_system_cache()
        shutil.rmtree(self._path, ignore_errors=True)
        return True
