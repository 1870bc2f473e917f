"""The graph's nodes (plain typed functions returning partial state updates) and its routers.

Why this split of work: retrieval, the decision models (platform preference, intent), the
candidate values and validation are code and deterministic; the model is asked one thing only --
platform and calls, among what is offered -- so a turn costs one model call (two with a repair) and
everything shown to the user about *why* is computed from data (``provenance.py``). Benchmark
mode runs the same nodes: only ``Context.source`` differs (``assistant.sources``), and the
router ends a benchmark turn after validation, so nothing is executed.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import httpx
import openai
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from assistant import answers, grounding, intent, preference, safety
from assistant.answer_grammar import MAX_CALLS, answer_grammar
from assistant.context import Context
from assistant.errors import ModelUnavailable
from assistant.parsing import message_text, parse_answer_text, parse_tool_calls
from assistant.pinning import RECORD_ID, find_pin
from assistant.preference import shipped_weights
from assistant.prompts import answer_scope, data_text, messages_text, render_messages
from assistant.safety import CHANGES_STATE
from assistant.state import (
    Candidate,
    State,
    ToolCall,
    Turn,
)
from ptbench.answers import ParseError

MODEL_ERRORS: tuple[type[BaseException], ...] = (openai.APIError, httpx.HTTPError, OSError)
"""What a failing endpoint raises (connection refused, timeout, 5xx) -- reported, not crashed."""


def _turn_reset(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Per-turn keys start empty so nothing leaks from the previous turn of the thread."""
    pending = state.get("pending_request")
    request = state["request"].strip()
    return {
        "effective_request": f"{pending} {request}" if pending else request,
        "pending_request": None, "scenario": None, "platforms": [], "candidates": [],
        "evidence": [], "pin": None, "preference": None, "narrowed_to": None, "offered_apis": [],
        "value_options": {}, "raw": "",
        "prompt_tokens": 0, "prompt_tokens_last": 0,
        "token_count_method": "", "platform": None, "calls": [], "parse_error": None,
        "checks": [], "problem": None, "attempts": [],
        "repairs_left": runtime.context.max_repairs, "clarify_question": None,
        "provenance": [], "platform_support": [], "needs_consent": [], "confirmation": None,
        "consent": "not_needed", "executions": [], "recorded_event_ids": [],
        "turn_id": uuid.uuid4().hex,
        "status": "running", "answer": "",
    }


def load_profile(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The user's basic features and which platforms they have used (for consent)."""
    source = runtime.context.source
    profile = source.profile(state.get("user", ""))
    return {**_turn_reset(state, runtime), "mode": source.mode, "user_id": profile.user_id,
            "username": profile.username, "basic_features": profile.basic_features,
            "used_platforms": profile.used_platforms}


def retrieve_tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Candidate APIs: the request's scenario, the best few APIs of every platform in it (so the
    model still chooses the platform), plus the APIs the previous turn called (follow-ups)."""
    ctx = runtime.context
    turns = state.get("turns", [])
    found = ctx.source.candidates(state["effective_request"], ctx.tools_per_platform,
                                  turns[-1] if turns else None)
    update: dict[str, Any] = {"scenario": found.scenario, "platforms": found.platforms,
                              "candidates": found.candidates}
    if found.uncertain and ctx.interactive:
        update["clarify_question"] = answers.scenario_question(found.uncertain)
    return update


def score_platforms(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The preference model's probability per platform, read from this user's history in the
    scenario and their profile (``assistant.preference``); with ``constrain`` the answer is
    narrowed to the top platform when it clears ``Context.constrain_threshold``. A pinned
    request keeps its pin."""
    ctx = runtime.context
    platforms = state["platforms"]
    if ctx.preference == "off" or len(platforms) < 2:
        return {"preference": None, "narrowed_to": None}
    weights = ctx.preference_weights or shipped_weights()
    view = preference.platform_preference(ctx.source, user_id=state["user_id"],
                                          scenario=state.get("scenario"),
                                          request=state["effective_request"],
                                          platforms=platforms,
                                          basic_features=state["basic_features"],
                                          weights=weights)
    top = view["scores"][0]
    threshold = (weights.threshold if ctx.constrain_threshold is None
                 else ctx.constrain_threshold)
    narrowed = (top["platform"] if ctx.preference == "constrain" and not state.get("pin")
                and top["probability"] >= threshold else None)
    return {"preference": view, "narrowed_to": narrowed}


def _allowed_platforms(state: State) -> list[str]:
    """The platforms the answer may name: the pinned one, the narrowed one, or all."""
    pin, narrowed = state.get("pin"), state.get("narrowed_to")
    return ([pin["platform"]] if pin else [narrowed] if narrowed
            else [p["name"] for p in state["platforms"]])


def _required(tool: dict[str, Any]) -> list[str]:
    function = tool.get("function", tool)
    return list((function.get("parameters") or {}).get("required") or [])


def _vague_effect(candidates: list[Candidate], offered: list[str]) -> list[str]:
    """When the intent scorer sees no API clearly meant (:data:`intent.VAGUE_BELOW`) and the
    likeliest one would change something, what the likeliest few APIs do (to ask which is
    meant); empty otherwise."""
    ranked = sorted((c for c in candidates if c["tool"]["function"]["name"] in offered),
                    key=lambda c: -c["intent"])
    if (not ranked or ranked[0]["intent"] >= intent.VAGUE_BELOW
            or ranked[0]["effect"] not in CHANGES_STATE):
        return []
    seen: list[str] = []
    for c in ranked:
        text = str(c["tool"]["function"].get("description", "")).split(" (")[0].rstrip(". ")
        if text and text not in seen:
            seen.append(text)
    return seen[:3]


def _reading_apis(offered: list[str], candidates: list[Candidate],
                  platforms: list[str]) -> list[str]:
    """For a look-up request: the offered APIs that only read, else every reading candidate on
    the allowed platforms (``validate`` refuses a state change if none reads)."""
    reads = [n for n in offered if safety.effect_of(n, candidates) not in CHANGES_STATE]
    return reads or [c["tool"]["function"]["name"] for c in candidates
                     if c["effect"] not in CHANGES_STATE and c["platform"] in (*platforms, None)
                     ] or offered


def ground_values(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Which APIs the answer may call (on each allowed platform, the one the intent scorer is
    sure of, else every candidate) and the candidate values of their parameters, found by code
    (``assistant.grounding``). A required value nothing supplies is asked for in chat before
    the model is called (a vague request asks; it does not act)."""
    ctx = runtime.context
    candidates = state["candidates"]
    if not ctx.grounding:
        return {"offered_apis": [c["tool"]["function"]["name"] for c in candidates],
                "value_options": {}}
    threshold = (intent.shipped_intent().threshold if ctx.intent_threshold is None
                 else ctx.intent_threshold)
    offered: list[str] = []
    for platform in _allowed_platforms(state):
        mine = [(c["tool"]["function"]["name"], c["intent"]) for c in candidates
                if c["platform"] in (platform, None)]
        offered.extend(n for n in intent.selected(mine, threshold) if n not in offered)
    request = state["effective_request"]
    if ctx.interactive and state["mode"] == "store" and safety.read_only_request(request):
        offered = _reading_apis(offered, candidates, _allowed_platforms(state))
    names = [p["name"] for p in state["platforms"]]
    history = ctx.source.scenario_history(state["user_id"], state.get("scenario"), names)
    tools = {c["tool"]["function"]["name"]: c["tool"] for c in candidates}
    now = ctx.now()
    options = {name: grounding.ground_call(tools[name], request=request,
                                           basic_features=state["basic_features"],
                                           history=history[-grounding.MAX_HISTORY_EVENTS:],
                                           turns=state.get("turns", []), now=now,
                                           platforms=names)
               for name in offered}
    update: dict[str, Any] = {"offered_apis": offered, "value_options": options}
    vague = _vague_effect(candidates, offered)
    if ctx.interactive and state["mode"] == "store" and vague:
        update["clarify_question"] = answers.intent_question(vague)
    elif ctx.interactive and state["mode"] == "store" and offered:
        missing = [grounding.missing_values(options[name], _required(tools[name]))
                   for name in offered]
        if all(missing):  # every callable API lacks a value nothing supplies
            allowed = _allowed_platforms(state)
            update["clarify_question"] = answers.clarify_question(
                missing[0], allowed[0] if len(allowed) == 1 else None)
    return update


def retrieve_history(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """This user's events closest to the request, within the request's scenario, and the
    platform the request pins, if any (a record id is looked up in all of the scenario's
    events of this user, not only the retrieved ones)."""
    ctx = runtime.context
    request = state["effective_request"]
    names = [p["name"] for p in state["platforms"]]
    user_id, scenario = state["user_id"], state.get("scenario")
    events = (ctx.source.scenario_history(user_id, scenario, names)
              if RECORD_ID.search(request) else [])
    return {"evidence": ctx.source.evidence(user_id, request, scenario, names, ctx.history_k),
            "pin": find_pin(request, names, events)}


def _count_tokens(ai: AIMessage, text: str, ctx: Context) -> tuple[int, str]:
    usage = ai.usage_metadata
    if usage and usage.get("input_tokens"):
        return int(usage["input_tokens"]), "endpoint"
    if ctx.count_tokens is not None:
        return ctx.count_tokens(text), "tokenizer"
    return max(1, len(text) // 4), "chars/4"


def _root_cause(exc: BaseException) -> BaseException:
    """The first error of a chain (client wrappers say "Connection error." and keep what
    happened, e.g. the embedded server's start-up log, underneath)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def decide(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """One model call: which platform, which calls. The prompt lists only what the answer may
    name (``prompts.answer_scope``); on a repair round the rejected answers and their errors
    are part of it."""
    ctx = runtime.context
    candidates = state["candidates"]
    attempts = state.get("attempts", [])
    turns = state.get("turns", [])
    tools = [(c["platform"], c["tool"]) for c in candidates]
    offered = set(state.get("offered_apis") or [c["tool"]["function"]["name"]
                                                for c in candidates])
    callable_tools = [(p, t) for p, t in tools if t["function"]["name"] in offered]
    allowed = _allowed_platforms(state)
    scope = answer_scope(state["platforms"], callable_tools, allowed, state["evidence"])
    messages = render_messages(
        basic_features=state["basic_features"], history=scope.history,
        platforms=scope.platforms, tools=scope.tools,
        query=state["effective_request"],
        prior_turns=turns[-ctx.prior_turns:] if ctx.prior_turns else [], attempts=attempts,
        preference=state.get("preference") if ctx.preference != "off" else None)
    kwargs: dict[str, Any] = {}
    if ctx.max_new_tokens:
        kwargs["max_tokens"] = ctx.max_new_tokens
    per_platform = max(sum(1 for p, _ in callable_tools if p in (name, None))
                       for name in allowed) if allowed else MAX_CALLS
    grammar = (answer_grammar(allowed, callable_tools, max_calls=min(MAX_CALLS, per_platform),
                              options=state.get("value_options") or None)
               if ctx.answer_grammar else None)
    if grammar is not None:  # vLLM's field; the embedded server reads it too
        kwargs["extra_body"] = {"structured_outputs": {"grammar": grammar}}
    try:
        reply = ctx.chat_model.invoke([dict(m) for m in messages], **kwargs)
    except MODEL_ERRORS as exc:
        root = _root_cause(exc)
        cause = f"; {data_text(str(root), 600)}" if root is not exc else ""
        raise ModelUnavailable(
            f"{ctx.model_label} did not answer ({type(exc).__name__}: {exc}{cause}). Check "
            "that the model server is running, or set PTOOL_MODEL_BASE_URL to a reachable "
            "OpenAI-compatible endpoint; the chat thread is unchanged, retry the request."
        ) from exc
    ai = reply if isinstance(reply, AIMessage) else AIMessage(content=reply.content)
    raw = message_text(ai.content)
    tokens, method = _count_tokens(ai, messages_text(messages), ctx)
    owners = {c["tool"]["function"]["name"]: c["platform"] for c in candidates}
    update: dict[str, Any] = {
        "raw": raw, "prompt_tokens": state.get("prompt_tokens", 0) + tokens,
        "prompt_tokens_last": tokens, "token_count_method": method, "parse_error": None,
        "platform": None, "calls": [],
        "repairs_left": state["repairs_left"] - (1 if attempts else 0),
    }
    try:
        parsed = (parse_tool_calls([dict(t) for t in ai.tool_calls], owners.get) if ai.tool_calls
                  else parse_answer_text(raw))
    except ParseError as exc:
        return {**update, "parse_error": str(exc)}
    calls: list[ToolCall] = [{"name": c.name, "arguments": c.arguments} for c in parsed.calls]
    return {**update, "platform": parsed.platform, "calls": calls}


def confirm(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Wait for the user's yes before a call changes something, uses a recipient or amount
    from untrusted text, or sends sensitive data to a new platform (``assistant.safety``).
    The interrupt shows the exact calls and each value's source; only ``True`` or a yes word
    resumes into ``execute``."""
    asked = state["confirmation"]
    assert asked is not None  # route_after_validate comes here only with one
    reply = interrupt({"kind": "confirm", **asked,
                       "question": answers.confirm_question(asked)})
    granted = reply is True or str(reply).strip().lower() in {"y", "yes", "true", "ok"}
    platform = asked["platform"]
    return {"consent": "granted" if granted else "denied",
            "consented_platforms": [platform] if granted and asked["features"] else []}


def execute(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the validated calls on the mock platform; record state changes as runtime history.
    The turn's id is the idempotency key, so a doubled resume executes once."""
    done = runtime.context.source.execute(state["user_id"], state["platform"] or "",
                                          state["calls"], state["candidates"],
                                          key=state["turn_id"])
    return {"executions": done.executions, "recorded_event_ids": done.recorded_event_ids}


def respond(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The short answer and the turn's record in the thread."""
    platform = state.get("platform")
    executions = state.get("executions", [])
    if state.get("clarify_question"):
        status, answer = "clarify", state["clarify_question"] or ""
    elif state.get("consent") == "denied":
        status, answer = "declined", answers.declined_answer(platform)
    elif state.get("problem"):
        status, answer = "invalid", answers.invalid_answer(state["attempts"][-1]["errors"])
    elif state["mode"] == "benchmark":
        status, answer = "done", ""
    else:
        status = "done" if all(e["ok"] for e in executions) else "failed"
        answer = answers.done_answer(platform=platform or "", executions=executions,
                                     provenance=state["provenance"],
                                     support=state["platform_support"],
                                     platforms=state["platforms"],
                                     preference=state.get("preference"))
    update: dict[str, Any] = {"status": status, "answer": answer,
                              "pending_request": state["effective_request"]
                              if status == "clarify" else None}
    if state["mode"] == "store":
        turn: Turn = {"request": state["effective_request"], "status": status,
                      "platform": platform,
                      "calls": [{"name": e["name"], "arguments": e["arguments"]}
                                for e in executions],
                      "results": [{"name": e["name"], "response": e["response"]}
                                  for e in executions],
                      "answer": answer}
        update["turns"] = [turn]
    return update


# -- routers (pure) ----------------------------------------------------------------------------


def route_after_tools(state: State) -> Literal["retrieve_history", "respond"]:
    """A request whose kind of service is unclear is asked about before anything else."""
    return "respond" if state.get("clarify_question") else "retrieve_history"


def route_after_grounding(state: State) -> Literal["decide", "respond"]:
    """A required value nothing supplies is asked about before the model is called."""
    return "respond" if state.get("clarify_question") else "decide"


def route_after_validate(state: State) -> Literal["decide", "confirm", "execute", "respond"]:
    if state.get("clarify_question"):
        return "respond"
    if state.get("problem"):
        return "decide" if state.get("repairs_left", 0) > 0 else "respond"
    if state.get("mode") == "benchmark":
        return "respond"
    return "confirm" if state.get("confirmation") else "execute"


def route_after_confirm(state: State) -> Literal["execute", "respond"]:
    return "execute" if state.get("consent") == "granted" else "respond"
