"""Benchmark mode: run the live graph on one inline PTBench sample (what eval calls).

Why the same graph: the benchmark should measure the runtime users get -- the same prompt
renderer, parser, callable-set validation and repair round -- not a separate code path. What
differs is only where data comes from (the sample instead of the stores) and that nothing is
executed, nobody is asked back (the paper forbids it) and no thread is stored.

Usage (eval)::

    from assistant.benchmark import run_benchmark_sample
    pred = run_benchmark_sample(sample_dict, chat_model)             # paper setting: all tools
    pred = run_benchmark_sample(sample_dict, chat_model, embed=embed_texts,
                                tools_per_platform=3, history_k=12)  # compact runtime setting
    pred["platform"], pred["calls"]  # -> score; pred["raw"] is the model's last answer

``sample`` is one element of a PTBench ``data.json`` (``user_profile`` as a dict or its
Python-literal string; ``platforms``; ``tools``; ``query``) or a loaded
:class:`~ptbench.samples.BenchSample`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel

from assistant.context import DEFAULT_PREFERENCE, Context, PreferenceMode
from assistant.graph import graph
from assistant.sources import SampleSource
from assistant.state import Event, InlineSample, PlatformInfo, PreferenceView, ToolCall
from ptbench.samples import BenchSample, parse_profile
from toolcatalog.retrieval import Embedder


class BenchmarkPrediction(TypedDict):
    """The graph's answer for one sample. ``valid`` is False when the last answer still failed
    validation after the repair round (it is returned anyway: the metrics decide)."""

    platform: str | None
    calls: list[ToolCall]
    raw: str
    prompt_tokens: int
    token_count_method: str
    model_calls: int
    valid: bool
    errors: list[str]
    preference: PreferenceView | None
    offered_apis: list[str]


def _history(raw: Any) -> list[Event]:
    """``{scenario: [{"platform", "action"}, ...]}`` (PTBench) or a flat list of events."""
    if isinstance(raw, Mapping):
        items = [(str(s), e) for s, events in raw.items() for e in (events or [])]
    else:
        items = [(str(e.get("scenario", "")), e) for e in (raw or [])]
    return [{"id": f"h{n}", "scenario": scenario, "platform": str(e.get("platform", "")),
             "action": str(e.get("action", "")), "timestamp": str(e.get("timestamp", ""))}
            for n, (scenario, e) in enumerate(items, 1) if isinstance(e, Mapping)]


def sample_to_inline(sample: Mapping[str, Any]) -> InlineSample:
    """A PTBench sample as the inline data a :class:`~assistant.sources.SampleSource` serves."""
    profile = parse_profile(sample.get("user_profile", {}))
    platforms: list[PlatformInfo] = []
    for p in sample["platforms"]:
        traits = p.get("profile", {})
        platforms.append({"name": str(p["name"]), "profile": dict(traits) if isinstance(
            traits, Mapping) else {"description": str(traits)}})
    return {"basic_features": dict(profile.get("basic_features") or {}),
            "history": _history(profile.get("user_history")),
            "platforms": platforms, "tools": list(sample["tools"])}


def run_benchmark_sample(
    sample: BenchSample | Mapping[str, Any],
    chat_model: BaseChatModel,
    *,
    embed: Embedder | None = None,
    history_k: int | None = None,
    tools_per_platform: int | None = None,
    max_repairs: int = 1,
    count_tokens: Callable[[str], int] | None = None,
    max_new_tokens: int | None = None,
    answer_grammar: bool = True,
    preference: PreferenceMode = DEFAULT_PREFERENCE,
    grounding: bool = True,
    now: datetime | None = None,
) -> BenchmarkPrediction:
    """Run the graph on one sample and return the prediction.

    Defaults are the paper's setting (every tool, the whole history). ``tools_per_platform`` and
    ``history_k`` narrow them like the runtime does; both need ``embed`` (e.g.
    ``profiles.embeddings.embed_texts``). Raises ``ModelUnavailable`` when the endpoint is down.
    """
    data = sample.model_dump() if isinstance(sample, BenchSample) else sample
    source = SampleSource(sample_to_inline(data), embed)
    context = Context(chat_model=chat_model, source=source, history_k=history_k,
                      tools_per_platform=tools_per_platform, max_repairs=max_repairs,
                      prior_turns=0, interactive=False, count_tokens=count_tokens,
                      max_new_tokens=max_new_tokens, answer_grammar=answer_grammar,
                      preference=preference, grounding=grounding,
                      now=(lambda: now) if now else datetime.now,
                      model_label="the benchmark model")
    state = graph.invoke({"request": str(data["query"])}, context=context)
    attempts = state.get("attempts", [])
    problem = state.get("problem")
    return {
        "platform": state.get("platform"),
        "calls": list(state.get("calls", [])),
        "raw": state.get("raw", ""),
        "prompt_tokens": state.get("prompt_tokens", 0),
        "token_count_method": state.get("token_count_method", ""),
        "model_calls": len(attempts) + (0 if problem else 1),
        "valid": not problem,
        "errors": attempts[-1]["errors"] if problem and attempts else [],
        "preference": state.get("preference"),
        "offered_apis": list(state.get("offered_apis", [])),
    }
