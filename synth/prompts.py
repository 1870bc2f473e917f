"""Every prompt of the LLM synthesis backend (and only those: the runtime's live elsewhere).

Each builder returns chat messages for one step of the PTool pipeline; the matching output
schema is in :mod:`synth.backends.schemas`. Inputs are passed as compact JSON so a prompt never
depends on Python reprs.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

SYSTEM = (
    "You generate synthetic data for a benchmark of personalized tool use. "
    "Answer only through the requested structured output. Be concrete and realistic."
)


def _msgs(task: str, payload: dict[str, Any]) -> list[BaseMessage]:
    body = f"{task}\n\nInput:\n{json.dumps(payload, ensure_ascii=False, sort_keys=True)}"
    return [SystemMessage(SYSTEM), HumanMessage(body)]


def platforms_prompt(scenario: str, description: str, n: int) -> list[BaseMessage]:
    return _msgs(
        f"Invent {n} competing platforms for the scenario. They must offer functionally similar "
        "services but differ clearly in price level, speed, range and audience, so that "
        "different users would prefer different platforms.",
        {"scenario": scenario, "description": description},
    )


def areas_prompt(scenario: str, description: str, n: int) -> list[BaseMessage]:
    return _msgs(
        f"List {n} functional areas (level 3 of the API tree) of the scenario.",
        {"scenario": scenario, "description": description},
    )


def apis_prompt(scenario: str, area: str, n: int) -> list[BaseMessage]:
    return _msgs(
        f"Refine the functional area into {n} concrete APIs (leaves of the API tree). Use "
        "parameters a user profile could fill where natural (delivery_address, email, phone, "
        "payment_method, language, passenger_name). State-changing APIs need an effect and a "
        "record kind; include lookups such as tracking an order.",
        {"scenario": scenario, "area": area},
    )


def history_prompt(
    features: dict[str, Any], traits: dict[str, str], platforms: list[dict[str, Any]], n: int
) -> list[BaseMessage]:
    return _msgs(
        f"Write {n} past actions of this user in the scenario, each on one of the platforms. "
        "Act out the hidden preferences (which platform for which kind of request, price, "
        "urgency) without naming them. Actions are short past-tense phrases.",
        {"basic_features": features, "hidden_preferences": traits, "platforms": platforms},
    )


def query_prompt(
    features: dict[str, Any],
    history: list[dict[str, str]],
    platforms: list[dict[str, Any]],
    api: dict[str, Any],
) -> list[BaseMessage]:
    return _msgs(
        "You are the user. Write one short, casual request that needs the given API. Never state "
        "values that are in your profile (address, email, phone, name, payment method, "
        "language): the assistant knows them. Do not name a platform. Also say which platform "
        "you would use, consistent with your history.",
        {"profile": features, "history": history, "platforms": platforms, "api": api},
    )


def solution_prompt(
    features: dict[str, Any], history: list[dict[str, str]], query: str, tools: list[dict[str, Any]]
) -> list[BaseMessage]:
    return _msgs(
        "You are the assistant. Choose the platform this user prefers for the request and write "
        "the calls with every required parameter. Mark each argument's source: 'query' (quote "
        "the words of the request that state it as surface) or 'profile' (name the basic feature).",
        {"profile": features, "history": history, "query": query, "tools": tools},
    )


def judge_prompt(
    features: dict[str, Any],
    query: str,
    solution: dict[str, Any],
) -> list[BaseMessage]:
    return _msgs(
        "Judge this sample. profile_ok: the profile is coherent. query_ok: the request is "
        "natural and does not reveal profile values. solution_ok: platform and calls solve the "
        "request, profile values come from the profile. List problems.",
        {"profile": features, "query": query, "solution": solution},
    )
