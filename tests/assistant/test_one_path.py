"""One code path: a PTBench sample run in chat mode (its user loaded into a temp store) and in
benchmark mode (the sample inline) gets the same candidates, evidence and preference scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant import accounts
from assistant.benchmark import sample_to_inline
from assistant.context import DEFAULT_HISTORY_K, DEFAULT_TOOLS_PER_PLATFORM
from assistant.preference import score_platforms
from assistant.sources import DataSource, SampleSource, StoreSource
from profiles.db import init_db, make_engine
from profiles.embeddings import embed_texts
from profiles.history_index import HistoryIndex
from profiles.io import PersonaFile
from toolcatalog.executor import MockExecutor
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import ToolIndex

FROZEN = Path(__file__).resolve().parents[2] / "eval" / "data" / "ptbench_synth"


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    with (FROZEN / "test_untrained_user" / "data.json").open(encoding="utf-8") as fh:
        samples: list[dict[str, Any]] = json.load(fh)
    return next(s for s in samples if "order" in s["query"].lower())


def _store_source(tmp_path: Path, sample: dict[str, Any]) -> StoreSource:
    inline = sample_to_inline(sample)
    engine = make_engine(f"sqlite:///{tmp_path / 'ptool.db'}")
    init_db(engine)
    index = HistoryIndex.from_path(tmp_path / "chroma", engine)
    history = [{"scenario": e["scenario"], "platform": e["platform"], "action": e["action"]}
               for e in inline["history"]]
    accounts.seed_personas(engine=engine, index=index, personas=PersonaFile.model_validate({
        "format_version": 1, "users": [{"id": "u-sample", "username": "sampled",
                                        "basic_features": inline["basic_features"],
                                        "history": history}]}))
    catalog = load_catalog()
    return StoreSource(engine=engine, history_index=index, catalog=catalog,
                       tool_index=ToolIndex(catalog, embed_texts),
                       executor=MockExecutor(catalog, engine))


def _what_a_turn_sees(source: DataSource, request: str) -> dict[str, Any]:
    """The questions the graph's nodes ask, in their order."""
    profile = source.profile("sampled")
    found = source.candidates(request, DEFAULT_TOOLS_PER_PLATFORM, None)
    names = [p["name"] for p in found.platforms]
    evidence = source.evidence(profile.user_id, request, found.scenario, names,
                               DEFAULT_HISTORY_K)
    history = source.scenario_history(profile.user_id, found.scenario, names)
    view = score_platforms(request=request, events=history, platforms=found.platforms,
                           basic_features=profile.basic_features, embed=source.embedder())
    return {
        "platforms": names,
        "candidates": sorted((c["platform"], c["tool"]["function"]["name"])
                             for c in found.candidates),
        "evidence": sorted((e["platform"], e["action"]) for e in evidence),
        "history": sorted((e["platform"], e["action"]) for e in history),
        "scores": [(s["platform"], round(s["probability"], 3)) for s in view["scores"]],
        "features": profile.basic_features,
    }


def test_chat_and_benchmark_see_the_same_turn(tmp_path: Path, sample: dict[str, Any]) -> None:
    request = str(sample["query"])
    chat = _what_a_turn_sees(_store_source(tmp_path, sample), request)
    bench = _what_a_turn_sees(SampleSource(sample_to_inline(sample), embed_texts), request)
    assert chat["platforms"] == bench["platforms"]
    assert chat["candidates"] == bench["candidates"]
    assert chat["history"] == bench["history"]
    assert chat["evidence"] == bench["evidence"]
    assert chat["scores"] == bench["scores"]
    assert chat["features"] == bench["features"]
