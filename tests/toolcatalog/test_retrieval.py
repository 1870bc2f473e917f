"""Tool retrieval with the real bundled embedding model."""

from __future__ import annotations

from profiles.embeddings import embed_texts
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import ToolIndex


def test_retrieval_finds_the_scenario_and_the_right_kind_of_api() -> None:
    index = ToolIndex(load_catalog(), embed_texts)
    assert index.best_scenario("book me a flight to Rome next Friday") == "travel"
    assert index.best_scenario("order a pepperoni pizza for delivery") == "takeout"
    hits = index.search("where is my package? track the order", k=3, scenario="shopping")
    assert len(hits) == 3
    assert all(h.scenario == "shopping" for h in hits)
    assert any("track" in h.api.name.lower() or "order" in h.api.name.lower() for h in hits)
    platforms = {h.platform for h in index.search("buy a bottle of wine", k=9, scenario="shopping")}
    assert len(platforms) >= 2, "candidates should span platforms so the model can choose"
