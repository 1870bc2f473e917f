"""The catalog's API vectors are embedded once per workspace: a second process (a second
one-shot ``ptool chat``) reads them back instead of embedding the catalog again."""

from __future__ import annotations

from pathlib import Path

from assistant import retrieval
from profiles.embeddings import StoredVectors
from tests.ui.conftest import make_workspace
from toolcatalog.retrieval import ToolIndex
from ui.wiring import open_workspace


def _stored(index: ToolIndex) -> StoredVectors:
    embed = index.catalog_embed
    assert isinstance(embed, StoredVectors)
    return embed


def test_a_second_process_embeds_no_api_text(tmp_path: Path) -> None:
    first = make_workspace(tmp_path)
    index = first.tool_index()
    hits = [h.api.name for h in index.search("order me a hamburger", k=3)]
    n_apis = len(first.catalog.iter_apis())
    assert _stored(index).embedded == 2 * n_apis  # routing and ranking texts
    first.engine.dispose()

    again = open_workspace(first.settings).tool_index()  # what a new process builds
    assert [h.api.name for h in again.search("order me a hamburger", k=3)] == hits
    found = retrieval.store_candidates(first.catalog, again, "order me a hamburger", 3, None,
                                       "takeout")  # a chat turn's candidate ranking
    assert found["candidates"] and _stored(again).embedded == 0


def test_requests_are_never_stored(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    index = ws.tool_index()
    index.search("a very private request about my lawyer", k=1)
    stored = ws.index.catalog_vectors().count()
    assert stored == 2 * len(ws.catalog.iter_apis())
