"""End to end with the real embedded model (SmolLM2-135M on CPU) on the seeded world.

These tests claim that the runtime works with a real model -- whatever it answers is parsed,
validated against the candidate APIs and either executed or refused, never crashes and never
executes an invalid call -- not that the (possibly untrained) model answers well; accuracy is
eval's job. Marked ``model``: they start the server (~10-30 s) and run a few generations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from sqlmodel import Session, select

from assistant import accounts
from assistant.benchmark import run_benchmark_sample
from assistant.checkpoints import open_checkpointer
from assistant.context import Context
from assistant.graph import build_graph
from assistant.sources import StoreSource
from assistant.turns import run_turn
from profiles.db import init_db, make_engine
from profiles.embeddings import embed_texts
from profiles.history_index import HistoryIndex
from profiles.io import default_seed_file, read_persona_file
from toolcatalog.executor import MockExecutor
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import ToolIndex
from toolcatalog.state import ApiRecord

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseChatModel]:
    client = pytest.importorskip("train.serving.client")
    workspace = Path("/tmp/ptool-bench-assistant")  # shares the converted base model cache
    workspace.mkdir(parents=True, exist_ok=True)
    with client.chat_model(None, "ptool", workspace=workspace, max_retries=0,
                           timeout=300) as model:
        yield model


def test_turns_on_the_seeded_world(real_model: BaseChatModel, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ptool.db'}")
    init_db(engine)
    index = HistoryIndex.from_path(tmp_path / "chroma", engine)
    personas = read_persona_file(default_seed_file())
    personas.users = personas.users[:2]
    accounts.seed_personas(engine=engine, index=index, personas=personas)
    catalog = load_catalog()
    source = StoreSource(engine=engine, history_index=index, catalog=catalog,
                         tool_index=ToolIndex(catalog, embed_texts),
                         executor=MockExecutor(catalog, engine))
    context = Context(chat_model=real_model, source=source, max_new_tokens=128)
    user = personas.users[0].username
    with open_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        graph = build_graph(saver)
        for request in ("order me a hamburger", "book me a flight to Lisbon next Friday"):
            result = run_turn(graph, context=context, user=user, request=request)
            assert result.status in {"done", "clarify", "consent", "invalid", "failed"}
            assert result.answer and result.raw
            state: dict[str, Any] = dict(graph.get_state(
                {"configurable": {"thread_id": result.thread_id}}).values)
            callable_names = {c["tool"]["function"]["name"] for c in state["candidates"]}
            for execution in result.executions:  # only validated candidate calls ran
                assert execution["name"] in callable_names
            if result.status in {"invalid", "clarify", "consent"}:
                assert result.executions == []
    with Session(engine) as session:
        records = session.exec(select(ApiRecord)).all()
    assert all(r.owner == personas.users[0].id for r in records)


def test_benchmark_mode_with_the_real_model(real_model: BaseChatModel) -> None:
    catalog = load_catalog()
    scenario = next(iter(catalog.scenarios.values()))
    sample = {
        "user_profile": str({"basic_features": {"name": "Ann Lee", "home_address": "3 Bay St"},
                             "user_history": {scenario.name: [
                                 {"platform": scenario.platforms[0].name,
                                  "action": "used it last week"}]}}),
        "platforms": [{"name": p.name, "profile": p.profile} for p in scenario.platforms],
        "tools": [a.openai_tool() for p in scenario.platforms for a in p.apis],
        "query": f"help me with {scenario.description.lower()}",
    }
    pred = run_benchmark_sample(sample, real_model, embed=embed_texts, tools_per_platform=2,
                                history_k=5, max_new_tokens=128)
    assert pred["raw"] and pred["prompt_tokens"] > 0
    assert pred["token_count_method"] == "endpoint"
    assert 1 <= pred["model_calls"] <= 2
