"""The ``validate`` node: is the model's answer one the turn can act on, and what happens next.

Why a node of its own: this is where the decision is checked against the candidates, not
trusted. Every call is checked against its schema and the grounded candidates (the grammar's
checks again, for endpoints that ignore grammars), every value is traced to its source, and the
outcome is one of repair (errors fed back once), clarify (a value nobody supplied), confirm (a
state change or untrusted value, ``assistant.safety``) or execute. Benchmark mode runs the same
checks; nothing executes there.
"""

from __future__ import annotations

import json
from typing import Any

from langgraph.runtime import Runtime

from assistant import answers, grounding, retrieval, safety
from assistant.context import Context
from assistant.provenance import (
    platform_support,
    profile_fields_for,
    sensitive_fields_sent,
    source_of,
)
from assistant.state import Attempt, CallCheck, CallProvenance, State
from profiles.models import SENSITIVE_FEATURES
from toolcatalog.checks import check_call


def validate(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check the answer against the candidate APIs only (the callable set), trace every value,
    and decide between execute, repair, clarify and consent."""
    ctx = runtime.context
    interactive = ctx.interactive and state["mode"] == "store"
    platform, errors = _match_platform(state)
    gaps: list[str] = []  # required values the model could not fill
    unanswerable: list[str] = []  # ... and the profile does not have either
    checks: list[CallCheck] = []
    provenance: list[CallProvenance] = []
    features = state["basic_features"]
    apis = retrieval.callable_apis(state["candidates"], platform)
    for call in state["calls"] if platform else []:
        check = check_call(call["name"], call["arguments"], apis)
        checks.append({"name": call["name"], "valid": check.valid,
                       "error_type": check.error_type, "errors": list(check.errors)})
        api = apis.get(call["name"])
        grounded = (state.get("value_options") or {}).get(call["name"], {})
        sources = {arg: grounding.source_from_options(value, grounded.get(arg))
                   or source_of(value, request=state["effective_request"],
                                basic_features=features, evidence=state["evidence"],
                                turns=state.get("turns", []))
                   for arg, value in call["arguments"].items()}
        provenance.append({"name": call["name"], "arguments": sources})
        if check.error_type not in (None, "call:missing_required"):
            errors.extend(check.errors)
            continue
        errors.extend(grounding.check_grounded(call["name"], call["arguments"],
                                               state.get("offered_apis") or [], grounded))
        for param in api.required if api else []:
            fields = profile_fields_for(param)
            known = [f for f in fields if features.get(f)]
            if param not in call["arguments"]:
                gaps.append(param)
                errors.append(f"{call['name']}: missing required parameter '{param}'"
                              + (f" (the profile has {', '.join(known)})" if known else ""))
                if fields and not known:
                    unanswerable.append(param)
            elif interactive and fields and sources[param]["kind"] == "inferred":
                gaps.append(param)
                if known:
                    errors.append(f"{call['name']}: value of '{param}' is not in the request or "
                                  f"the profile; use the profile's {' or '.join(known)}")
                else:
                    unanswerable.append(param)
                    errors.append(f"{call['name']}: '{param}' is unknown")
    if platform and not state["calls"]:
        errors.append("output:no_calls: the answer names a platform but calls no API")
    if interactive:
        errors.extend(safety.read_intent_errors(state["effective_request"], state["calls"],
                                                state["candidates"]))
    seen = [json.dumps(c, sort_keys=True, default=str) for c in state["calls"]]
    if len(set(seen)) < len(seen):
        errors.append("output:extra_call: the answer makes the same call twice; make it once")
    update: dict[str, Any] = {"platform": platform or state.get("platform"), "checks": checks,
                              "provenance": provenance,
                              "platform_support": platform_support(platform, state["evidence"])}
    if interactive and (unanswerable or (gaps and len(gaps) == len(errors)
                                         and state["repairs_left"] <= 0)):
        asked = list(dict.fromkeys(unanswerable or gaps))
        return {**update, "clarify_question": answers.clarify_question(asked, platform),
                "problem": None}
    if errors:
        attempt: Attempt = {"raw": state.get("raw", ""), "errors": errors}
        return {**update, "problem": "; ".join(errors),
                "attempts": [*state.get("attempts", []), attempt]}
    needs: list[str] = []
    if interactive and ctx.consent == "ask_once" and platform not in (
            state.get("used_platforms", []) + state.get("consented_platforms", [])):
        needs = sensitive_fields_sent(
            [s for p in provenance for s in p["arguments"].values()], SENSITIVE_FEATURES)
    confirm = (safety.confirmation(platform=platform or "", calls=state["calls"],
                                   candidates=state["candidates"], provenance=provenance,
                                   sensitive=needs, approved=ctx.preapproved)
               if interactive else None)
    return {**update, "problem": None, "needs_consent": needs, "confirmation": confirm}


def _match_platform(state: State) -> tuple[str | None, list[str]]:
    if state.get("parse_error"):
        return None, [f"output:unparsable: {state['parse_error']}"]
    names = [p["name"] for p in state["platforms"]]
    said = (state.get("platform") or "").strip().strip("'\"")
    match = next((n for n in names if n.lower() == said.lower()), None)
    if match is None:
        return None, [f"output:unknown_platform: {said!r} is not one of {', '.join(names)}"]
    pin = state.get("pin")
    if pin and match != pin["platform"]:
        return match, [f"output:platform_conflict: {pin['reason']}; answer on "
                       f"{pin['platform']}, not {match}"]
    narrowed = state.get("narrowed_to")
    if narrowed and not pin and match != narrowed:
        return match, [f"output:platform_conflict: this user's history points to {narrowed}; "
                       f"answer on {narrowed}, not {match}"]
    return match, []
