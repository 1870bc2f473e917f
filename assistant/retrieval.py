"""What the prompt is built from: candidate APIs and the user's relevant history.

Why narrow at all: the paper's prompt carries every API of the scenario (72 in PTBench) and the
whole history; on a CPU that prompt alone takes seconds to pre-fill. Candidates keep the best
``k`` APIs *of every platform* of the scenario, so the model still has to choose the platform
(tool personalization), and history is this user's events closest to the request. The callable
set used by validation is exactly these candidates: an API that was not retrieved for this
request cannot be called, whatever the history or a tool output says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast, get_args

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant import intent
from assistant.state import Candidate, Event, InlineSample, PlatformInfo, Turn
from profiles import crud
from profiles.history_index import HistoryIndex, document_text
from toolcatalog.models import ApiSpec, Catalog, Effect, FunctionSpec, Platform
from toolcatalog.retrieval import Embedder, ToolIndex


def retrieval_text(request: str, last_turn: Turn | None) -> str:
    """What routing and tool ranking read. A follow-up ("same as last time but to my office")
    says little on its own, so the previous request is appended."""
    return f"{request} (previously: {last_turn['request']})" if last_turn else request


def store_candidates(
    catalog: Catalog,
    tool_index: ToolIndex,
    request: str,
    per_platform: int | None,
    last_turn: Turn | None,
    scenario_name: str,
) -> dict[str, Any]:
    """The scenario's platforms and the candidate APIs for a request against the catalog,
    ranked by the intent scorer; the APIs the previous turn called stay callable
    (follow-ups)."""
    text = retrieval_text(request, last_turn)
    scenario = catalog.scenario(scenario_name)
    names = [p.name for p in scenario.platforms]
    owned = [(p.name, api) for p in scenario.platforms for api in p.apis]
    scores = intent.score_tools(text, [api.openai_tool() for _, api in owned], names,
                                tool_index.embed, embed_apis=tool_index.catalog_embed)
    taken: dict[str, list[tuple[ApiSpec, float]]] = {name: [] for name in names}
    for i in ranked_per_platform([name for name, _ in owned], scores, per_platform):
        name, api = owned[i]
        taken[name].append((api, scores[i]))
    platforms: list[PlatformInfo] = [{"name": p.name, "profile": dict(p.profile)}
                                     for p in scenario.platforms]
    for plat, api in _previous_apis(catalog, last_turn):
        if plat.name not in taken:
            taken[plat.name] = []
            platforms.append({"name": plat.name, "profile": dict(plat.profile)})
        if all(a.name != api.name for a, _ in taken[plat.name]):
            taken[plat.name].append((api, 0.0))
    candidates: list[Candidate] = [
        {"platform": name, "tool": api.openai_tool(), "effect": api.effect, "record": api.record,
         "intent": score}
        for name, apis in taken.items() for api, score in apis
    ]
    return {"scenario": scenario.name, "platforms": platforms, "candidates": candidates}


def best_per_platform(owners: Sequence[str | None], per_platform: int | None) -> list[int]:
    """Positions of a ranked list to keep: the first ``per_platform`` of every owner (all when
    ``None``). The one selection rule of chat and benchmark retrieval alike."""
    counts: dict[str | None, int] = {}
    keep: list[int] = []
    for i, owner in enumerate(owners):
        if per_platform is None or counts.get(owner, 0) < per_platform:
            counts[owner] = counts.get(owner, 0) + 1
            keep.append(i)
    return keep


def ranked_per_platform(owners: Sequence[str | None], scores: Sequence[float],
                        per_platform: int | None) -> list[int]:
    """Positions of the best-scored items, the first ``per_platform`` of every owner, best
    first: how both sources pick candidate APIs from the intent scorer's probabilities."""
    order = sorted(range(len(owners)), key=lambda i: -scores[i])
    return [order[j] for j in best_per_platform([owners[i] for i in order], per_platform)]


def _previous_apis(catalog: Catalog, last_turn: Turn | None) -> list[tuple[Platform, ApiSpec]]:
    if not last_turn or not last_turn["platform"]:
        return []
    try:
        _, plat = catalog.find_platform(last_turn["platform"])
    except KeyError:
        return []
    apis = [plat.api(call["name"]) for call in last_turn["calls"]]
    return [(plat, api) for api in apis if api is not None]


def scenario_events(engine: Engine, user_id: str, scenario: str | None) -> list[Event]:
    """All of this user's events in the scenario (every scenario when it is ``None``)."""
    with Session(engine) as session:
        rows = crud.list_events(session=session, user_id=user_id, scenario=scenario)
    return [{"id": str(r.id), "scenario": r.scenario, "platform": r.platform,
             "action": r.action, "timestamp": r.timestamp.isoformat()} for r in rows]


def user_events(
    engine: Engine, index: HistoryIndex, user_id: str, request: str, scenario: str | None,
    k: int | None,
) -> list[Event]:
    """This user's history for the request: top-``k`` by meaning, or all of the scenario."""
    if k is None:
        return scenario_events(engine, user_id, scenario)
    hits = index.search(user_id=user_id, text=request, k=k, scenario=scenario)
    return [{"id": str(h.event_id), "scenario": h.scenario, "platform": h.platform,
             "action": h.action, "timestamp": h.timestamp} for h in hits if h.user_id == user_id]


def _top(embed: Embedder, query: str, texts: Sequence[str], k: int) -> list[int]:
    if not texts:
        return []
    vectors = embed(list(texts))
    scores = vectors @ embed([query])[0]
    return [int(i) for i in np.argsort(-scores)[:k]]


def scope_events(events: Sequence[Event], platforms: Sequence[str]) -> list[Event]:
    """The events of the scenarios the listed platforms belong to (all when none match).

    Why: the chat runtime searches only the request's scenario, but an inline sample's history
    spans every scenario (music, travel, ...) while its platforms are of one. Ranked over all of
    it, about half of 12 retrieved events were on platforms the request cannot use, evidence
    the model must skip. A scenario counts when any of its events is on a listed platform."""
    names = set(platforms)
    scenarios = {e["scenario"] for e in events if e["platform"] in names}
    scoped = [e for e in events if e["scenario"] in scenarios]
    return scoped or list(events)


def rank_events(events: Sequence[Event], request: str, embed: Embedder | None,
                k: int | None, platforms: Sequence[str] | None = None) -> list[Event]:
    """Inline history: all of it (paper setting) or, with an embedder, the ``k`` closest, within
    the scenarios of ``platforms`` when they are given (:func:`scope_events`), ranked by the
    text the chat runtime's history index embeds."""
    if k is None or embed is None:
        return list(events)
    if platforms is not None:
        events = scope_events(events, platforms)
    if len(events) <= k:
        return list(events)
    texts = [document_text(e["action"], e["platform"], e["scenario"]) for e in events]
    keep = sorted(_top(embed, request, texts, k))
    return [events[i] for i in keep]


def tool_owner(tool: Mapping[str, Any], platforms: Sequence[str]) -> str | None:
    """Which platform an inline tool belongs to: a ``Platform_`` name prefix or a ``(Platform)``
    mention in its description; ``None`` when the sample does not say."""
    function = tool.get("function", tool)
    name = str(function.get("name", "")).lower()
    description = str(function.get("description", "")).lower()
    for platform in sorted(platforms, key=len, reverse=True):
        p = platform.lower()
        if name.startswith(p) or f"({p})" in description:
            return platform
    return None


def inline_candidates(sample: InlineSample, request: str, embed: Embedder | None,
                      per_platform: int | None) -> dict[str, Any]:
    """Candidates from a benchmark sample: every tool (paper setting) or the best few per
    platform by the intent scorer when an embedder and ``per_platform`` are given."""
    names = [p["name"] for p in sample["platforms"]]
    owned = [(tool_owner(t, names), t) for t in sample["tools"]]
    scores = [0.0] * len(owned)
    if per_platform is not None and embed is not None:
        scores = intent.score_tools(request, [t for _, t in owned], names, embed)
        keep = sorted(ranked_per_platform([o for o, _ in owned], scores, per_platform))
        owned, scores = [owned[i] for i in keep], [scores[i] for i in keep]
    candidates: list[Candidate] = [{"platform": owner, "tool": dict(tool), "effect": "read",
                                    "record": None, "intent": score}
                                   for (owner, tool), score in zip(owned, scores, strict=True)]
    return {"scenario": None, "platforms": list(sample["platforms"]), "candidates": candidates}


def callable_apis(candidates: Sequence[Candidate], platform: str | None) -> dict[str, ApiSpec]:
    """The callable set on the chosen platform: its candidates (plus unattributed ones).

    Built with ``model_construct`` because inline benchmark tools need not satisfy the catalog's
    stricter naming rules; only the parameter schema matters for checking a call."""
    apis: dict[str, ApiSpec] = {}
    for c in candidates:
        if c["platform"] not in (platform, None):
            continue
        function = c["tool"].get("function", c["tool"])
        spec = FunctionSpec.model_construct(
            name=function["name"], description=function.get("description", ""),
            parameters=function.get("parameters", {"type": "object"}),
            response=function.get("response", {"type": "object"}))
        effect = cast(Effect, c["effect"] if c["effect"] in get_args(Effect) else "read")
        apis[function["name"]] = ApiSpec.model_construct(
            type="function", function=spec, effect=effect, record=c["record"])
    return apis
