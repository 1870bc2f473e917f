"""Latency of a full assistant turn and prompt size versus the paper's full-catalog prompt.

What is measured:

* **latency**: wall time of ``assistant.turns.run_turn`` -- profile load, tool retrieval, history
  search, the model call (plus a repair call when needed), validation, mock execution, history
  write, answer -- for seeded personas and one everyday request per scenario. One warm-up turn
  is not counted (it loads the embedding model and the tool index).
* **prompt tokens**: the runtime prompt's tokens as the endpoint reports them (``usage``), and
  the paper-style prompt for the same request -- whole profile and the scenario's history,
  every platform and every API of the scenario with full JSON schemas, as the reference harness
  renders it -- counted with the SmolLM2 tokenizer's chat template (the same template the
  embedded server applies).

Run: ``python bench/assistant_turn.py --turns 20`` (embedded CPU server, started and stopped
here) or ``--base-url http://host:port/v1`` for another endpoint. Writes a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from assistant import accounts
from assistant.context import DEFAULT_HISTORY_K, Context
from assistant.graph import build_graph
from assistant.prompts import ChatMessage, render_paper_messages
from assistant.turns import run_turn
from profiles.io import default_seed_file, read_persona_file
from toolcatalog.models import Catalog
from ui.settings import Settings
from ui.wiring import open_checkpointer_for, open_workspace

EVERYDAY = {
    "shopping": "buy me a pack of AA batteries",
    "takeout": "order me a hamburger",
    "entertainment": "get me two tickets for a concert this weekend",
    "work": "schedule a meeting with my team tomorrow at 10am",
    "travel": "book me a flight to Lisbon next Friday",
}


def _requests(catalog: Catalog, users: list[str], n: int) -> list[tuple[str, str, str]]:
    """(user, scenario, request) round-robin over users and scenarios."""
    scenarios = sorted(catalog.scenarios)
    texts = {s: EVERYDAY.get(s, f"help me with {catalog.scenario(s).description.lower()}")
             for s in scenarios}
    out: list[tuple[str, str, str]] = []
    i = 0
    while len(out) < n:
        scenario = scenarios[i % len(scenarios)]
        out.append((users[(i // len(scenarios) + i) % len(users)], scenario, texts[scenario]))
        i += 1
    return out


def _paper_messages(catalog: Catalog, scenario: str, features: dict[str, Any],
                    history: list[dict[str, str]], query: str) -> list[ChatMessage]:
    sc = catalog.scenario(scenario)
    profile = {"basic_features": features, "user_history": {scenario: history}}
    platforms = [{"name": p.name, "profile": p.profile} for p in sc.platforms]
    tools = [a.openai_tool() for p in sc.platforms for a in p.apis]
    return render_paper_messages(profile=str(profile), platforms=platforms, tools=tools,
                                 query=query)


class _PromptRecorder(BaseChatModel):
    """For ``--tokens-only``: keeps each prompt and answers nothing useful (no latency claim)."""

    prompts: list[list[dict[str, str]]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "prompt-recorder"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        self.prompts.append([{"role": roles[m.type], "content": str(m.content)}
                             for m in messages])
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="-"))])


def _time_nodes() -> dict[str, float]:
    """Wrap every graph node in ``assistant.nodes`` with a timer (before ``build_graph``); the
    returned dict accumulates seconds per node name until cleared."""
    import functools

    from assistant import nodes, validation

    seconds: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for name in ("load_profile", "retrieve_tools", "retrieve_history", "score_platforms",
                 "ground_values", "decide", "confirm", "execute", "respond"):
        setattr(nodes, name, timed(name, getattr(nodes, name)))
    validation.validate = timed("validate", validation.validate)  # type: ignore[assignment]
    return seconds


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/ptool-bench-assistant"))
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--model", default="ptool")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--history-k", type=int, default=DEFAULT_HISTORY_K)
    parser.add_argument("--tools-per-platform", type=int, default=3)
    parser.add_argument("--tokens-only", action="store_true",
                        help="Count prompt tokens without a model (no latency numbers).")
    parser.add_argument("--users", type=int, default=8, help="Seeded personas to use.")
    parser.add_argument("--pause-s", type=float, default=0.0,
                        help="Idle seconds before each turn (a user reading and typing); the "
                             "server's threads then stop spinning before the next turn's own "
                             "CPU work starts.")
    parser.add_argument("--out", type=Path, default=None,
                        help="Summary JSON (default <workspace>/assistant_turn.json).")
    args = parser.parse_args(argv)

    from sqlmodel import Session
    from transformers import AutoTokenizer

    from profiles import crud
    from train.base_models import ensure_converted
    from train.serving.client import chat_model

    ws: Path = args.workspace
    settings = Settings(workspace=ws, database_url=f"sqlite:///{ws / 'ptool.db'}",
                        chroma_url=None, chroma_path=ws / "chroma")
    # the chat process's wiring: the same caches (request and event vectors in memory, API
    # vectors persisted in the workspace) as `ptool chat` and the app
    store = open_workspace(settings, create=True)
    engine, catalog = store.engine, store.catalog
    personas = read_persona_file(default_seed_file())
    personas.users = personas.users[: args.users]  # idempotent: seeded once per workspace
    accounts.seed_personas(engine=engine, index=store.index, personas=personas)
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_converted(ws)))

    def template_tokens(messages: list[ChatMessage]) -> int:
        text = tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False,
                                             add_generation_prompt=True)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    with Session(engine) as session:
        wanted = {p.username for p in personas.users}
        users = {u.username: u for u in crud.list_users(session=session) if u.username in wanted}
        histories = {name: [{"platform": e.platform, "action": e.action, "scenario": e.scenario}
                            for e in crud.list_events(session=session, user_id=u.id)]
                     for name, u in users.items()}
    plan = _requests(catalog, sorted(users), args.turns + 1)
    rows: list[dict[str, Any]] = []
    recorder = _PromptRecorder()
    with ExitStack() as stack:
        model: BaseChatModel = recorder if args.tokens_only else stack.enter_context(chat_model(
            args.base_url, args.model, workspace=ws, max_retries=0, timeout=600))
        saver = stack.enter_context(open_checkpointer_for(settings))
        node_seconds = _time_nodes()
        graph = build_graph(saver)
        context = Context(chat_model=model, source=store.source(), history_k=args.history_k,
                          tools_per_platform=args.tools_per_platform, consent="never_ask",
                          max_new_tokens=args.max_new_tokens,
                          count_tokens=lambda text: len(tokenizer(text)["input_ids"]),
                          model_label=args.base_url or "embedded server")
        for n, (user, scenario, request) in enumerate(plan):
            time.sleep(args.pause_s)
            node_seconds.clear()
            start = time.perf_counter()
            result = run_turn(graph, context=context, user=user, request=request)
            seconds = time.perf_counter() - start
            values = graph.get_state({"configurable": {"thread_id": result.thread_id}}).values
            paper = template_tokens(_paper_messages(
                catalog, scenario, dict(users[user].basic_features),
                [{"platform": h["platform"], "action": h["action"]}
                 for h in histories[user] if h["scenario"] == scenario], request))
            runtime_tokens = values.get("prompt_tokens_last", 0)
            if args.tokens_only:
                runtime_tokens = template_tokens(recorder.prompts[-len(values["attempts"])])
            row = {"user": user, "scenario": scenario, "request": request,
                   "seconds": round(seconds, 3), "status": result.status,
                   "model_calls": len(values.get("attempts", [])) + (
                       0 if values.get("problem") else 1),
                   "runtime_prompt_tokens": runtime_tokens,
                   "runtime_tokens_turn": result.prompt_tokens,
                   "token_count_method": "chat template" if args.tokens_only
                   else result.token_count_method,
                   "paper_prompt_tokens": paper, "raw": result.raw[:200],
                   "node_seconds": {k: round(v, 3) for k, v in node_seconds.items()}}
            if n == 0:
                print(f"warm-up: {row['seconds']} s (not counted)")
                continue
            rows.append(row)
            print(f"{row['seconds']:6.2f} s  {row['status']:8s} tokens "
                  f"{row['runtime_prompt_tokens']} vs paper {paper}  {user}: {request!r} -> "
                  f"{row['raw'][:80]!r}")
    secs = [0.0] if args.tokens_only else [r["seconds"] for r in rows]
    runtime = [r["runtime_prompt_tokens"] for r in rows]
    paper_tokens = [r["paper_prompt_tokens"] for r in rows]
    summary = {
        "turns": len(rows), "p50_s": round(_pct(secs, 0.5), 2), "p95_s": round(_pct(secs, 0.95), 2),
        "mean_s": round(statistics.mean(secs), 2),
        "runtime_prompt_tokens_median": statistics.median(runtime),
        "paper_prompt_tokens_median": statistics.median(paper_tokens),
        "token_ratio_median": round(statistics.median(
            p / max(1, r) for p, r in zip(paper_tokens, runtime, strict=True)), 1),
        "node_p50_s": {name: round(_pct([r["node_seconds"].get(name, 0.0) for r in rows], 0.5), 3)
                       for name in sorted({k for r in rows for k in r["node_seconds"]})},
        "statuses": {s: sum(1 for r in rows if r["status"] == s) for s in {r["status"]
                                                                           for r in rows}},
        "catalog": {"scenarios": len(catalog.scenarios), "apis": len(catalog.iter_apis())},
        "settings": {"history_k": args.history_k, "tools_per_platform": args.tools_per_platform,
                     "max_new_tokens": args.max_new_tokens, "model": args.model,
                     "endpoint": args.base_url or "embedded"},
        "rows": rows,
    }
    out: Path = args.out or ws / "assistant_turn.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))
    return summary


if __name__ == "__main__":
    main()
