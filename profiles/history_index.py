"""Per-user semantic search over history events, stored in one Chroma collection.

Privacy rule: *every* query carries a ``user_id`` filter built here in code, and the hits are
checked again after the query, so one user's events can never surface in another user's search.
The database is the source of truth; :meth:`HistoryIndex.rebuild` recreates the index from it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel

from profiles.embeddings import LocalEmbeddingFunction
from profiles.models import HistoryEvent

COLLECTION = "history_events"


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


class HistoryIndex:
    """Add, delete and search users' history events; the client is injected (no global state)."""

    def __init__(self, client: ClientAPI, collection: str = COLLECTION) -> None:
        self._client = client
        self._name = collection
        self._collection: Any = None

    @classmethod
    def from_path(cls, path: Path) -> HistoryIndex:
        path.mkdir(parents=True, exist_ok=True)
        settings = ChromaSettings(anonymized_telemetry=False)
        return cls(chromadb.PersistentClient(path=str(path), settings=settings))

    @classmethod
    def from_url(cls, url: str) -> HistoryIndex:
        parsed = urlparse(url)
        settings = ChromaSettings(anonymized_telemetry=False)
        return cls(
            chromadb.HttpClient(
                host=parsed.hostname or "localhost",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=settings,
            )
        )

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._client.get_or_create_collection(
                self._name,
                embedding_function=LocalEmbeddingFunction(),  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine"},
            )
        return self._collection

    def add(self, events: Sequence[HistoryEvent], batch_size: int = 512) -> None:
        """Index (or re-index) events; ids are the database ids, so re-adding is an upsert."""
        for start in range(0, len(events), batch_size):
            batch = [e for e in events[start : start + batch_size] if e.id is not None]
            if not batch:
                continue
            self.collection.upsert(
                ids=[str(e.id) for e in batch],
                documents=[event_document(e) for e in batch],
                metadatas=[
                    {
                        "user_id": e.user_id,
                        "scenario": e.scenario,
                        "platform": e.platform,
                        "action": e.action,
                        "timestamp": e.timestamp.isoformat(),
                    }
                    for e in batch
                ],
            )

    def delete_events(self, event_ids: Iterable[int]) -> None:
        ids = [str(i) for i in event_ids]
        if ids:
            self.collection.delete(ids=ids)

    def delete_user(self, user_id: str) -> None:
        """Remove every vector of one user (forget)."""
        self.collection.delete(where={"user_id": user_id})

    def count(self, user_id: str | None = None) -> int:
        if user_id is None:
            return int(self.collection.count())
        return len(self.collection.get(where={"user_id": user_id}, include=[])["ids"])

    def search(
        self, *, user_id: str, text: str, k: int = 5, scenario: str | None = None
    ) -> list[HistoryHit]:
        """The ``k`` events of ``user_id`` closest in meaning to ``text``."""
        if not user_id:
            raise ValueError("a history search needs a user_id")
        where: dict[str, Any] = {"user_id": user_id}
        if scenario:
            where = {"$and": [{"user_id": user_id}, {"scenario": scenario}]}
        result = self.collection.query(
            query_texts=[text],
            n_results=max(1, k),
            where=where,
            include=["metadatas", "distances"],
        )
        hits: list[HistoryHit] = []
        for event_id, meta, dist in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            if meta["user_id"] != user_id:  # defence in depth: never trust the filter alone
                raise AssertionError("history index returned another user's event")
            hits.append(HistoryHit(event_id=int(event_id), distance=float(dist), **meta))
        return hits

    def rebuild(self, events: Sequence[HistoryEvent]) -> int:
        """Drop the collection and index ``events`` (the database's rows) again."""
        with contextlib.suppress(Exception):
            self._client.delete_collection(self._name)
        self._collection = None
        self.add(events)
        return len(events)
