"""Scenario routing: the shipped router on the shipped catalog, and asking when unsure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from assistant import accounts, routing
from assistant.checkpoints import open_checkpointer
from assistant.context import Context
from assistant.graph import build_graph
from assistant.routing import RouterMissing, RouterWeights, route
from assistant.sources import StoreSource
from assistant.turns import run_turn
from profiles.db import init_db, make_engine
from profiles.embeddings import embed_texts
from profiles.history_index import HistoryIndex
from profiles.io import PersonaFile
from tests.assistant.conftest import ALICE, fake
from toolcatalog.executor import MockExecutor
from toolcatalog.loader import load_catalog
from toolcatalog.models import Catalog
from toolcatalog.retrieval import ToolIndex


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_shipped_router_sends_everyday_requests_to_their_service(catalog: Catalog) -> None:
    names = list(catalog.scenarios)
    for text, scenario in (("buy me a pack of AA batteries", "shopping"),
                           ("book me a flight to Lisbon next Friday", "travel"),
                           ("order me a pizza for dinner", "takeout")):
        found = route(embed_texts([text])[0], names)
        assert found is not None and found.scenario == scenario, text


def test_a_catalog_the_router_does_not_know_falls_back() -> None:
    assert route(np.zeros(384, dtype=np.float32), ["takeout", "travel"]) is None


def test_low_confidence_is_reported_with_the_runner_up() -> None:
    weights = RouterWeights(scenarios=("a", "b"), coef=np.zeros((2, 3), np.float32),
                            bias=np.zeros(2, np.float32), threshold=0.6)
    found = route(np.ones(3, np.float32), ["a", "b"], weights)
    assert found is not None and not found.confident and found.runner_up is not None


def test_an_unreadable_router_file_says_how_to_recover(tmp_path: Path) -> None:
    with pytest.raises(RouterMissing, match="ptool train router"):
        RouterWeights.load(tmp_path / "absent.npz")


def _store(tmp_path: Path, catalog: Catalog) -> tuple[Engine, StoreSource]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ptool.db'}")
    init_db(engine)
    index = HistoryIndex.from_path(tmp_path / "chroma", engine)
    accounts.seed_personas(engine=engine, index=index, personas=PersonaFile.model_validate({
        "format_version": 1,
        "users": [{"id": "u-alice", "username": "alice", "basic_features": ALICE,
                   "history": []}]}))
    source = StoreSource(engine=engine, history_index=index, catalog=catalog,
                         tool_index=ToolIndex(catalog, embed_texts),
                         executor=MockExecutor(catalog, engine))
    return engine, source


def test_an_unsure_route_asks_which_service_before_acting(
        tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    _, source = _store(tmp_path, catalog)
    flat = RouterWeights(scenarios=tuple(catalog.scenarios), threshold=0.5,
                         coef=np.zeros((len(catalog.scenarios), 384), np.float32),
                         bias=np.zeros(len(catalog.scenarios), np.float32))
    monkeypatch.setattr(routing, "shipped_router", lambda: flat)
    model = fake()  # never called: the turn asks first
    with open_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        result = run_turn(build_graph(saver), context=Context(chat_model=model, source=source),
                          user="alice", request="help me with everything please")
    assert result.status == "clarify" and "Which kind of service" in result.answer
    assert result.calls == [] and not model.seen
