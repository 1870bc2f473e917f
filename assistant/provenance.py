"""Where each argument value came from, and why a platform was chosen -- computed by code.

Why not ask the model: a small model's self-explanations are unreliable, and an explanation is
only worth showing when it is checkable. Every value is traced to the user's request (quoted),
a named profile field, a history event, or an earlier turn of the thread; what matches none of
them is labelled ``inferred`` -- the model chose it. The same tracing decides when to ask the
user instead of inventing a value (a parameter that needs profile data nobody gave) and which
sensitive profile fields a call would send to a platform (consent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.state import Event, Source, Turn

PROFILE_PARAMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("address", "deliver_to", "shipping_to", "ship_to"), ("home_address", "work_address")),
    (("phone", "mobile", "contact_number", "telephone"), ("phone",)),
    (("email", "e_mail"), ("email",)),
    (("payment",), ("payment_method",)),
    (("passport",), ("passport_number",)),
    (("language", "locale"), ("language",)),
    (("customer_name", "passenger_name", "guest_name", "traveler_name", "traveller_name",
      "contact_name", "recipient_name", "full_name", "holder_name", "attendee_name"), ("name",)),
)
"""Registry: a parameter whose name contains one of the keys is filled from these profile
fields (first present wins when the request says nothing)."""

_NUMBER_WORDS = {1: ("a", "an", "one", "single"), 2: ("two", "couple", "pair"), 3: ("three",),
                 4: ("four",), 5: ("five",), 6: ("six",), 7: ("seven",), 8: ("eight",),
                 9: ("nine",), 10: ("ten",), 12: ("twelve", "dozen")}


def profile_fields_for(param: str) -> tuple[str, ...]:
    """The profile fields a parameter is personal data from (``()`` for ordinary parameters)."""
    key = param.lower()
    for needles, fields in PROFILE_PARAMS:
        if any(n in key for n in needles):
            return fields
    return ()


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _contains_phrase(haystack: str, needle: str, min_len: int = 2) -> bool:
    if len(needle) < min_len:
        return False
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def _mostly_in(haystack: str, needle: str) -> bool:
    """At least 60% of the value's words appear in the text (paraphrased addresses etc.)."""
    words = re.findall(r"\w+", needle)
    if len(words) < 2:
        return False
    hits = sum(1 for w in words if _contains_phrase(haystack, w))
    return hits / len(words) >= 0.6


def _number_in(text: str, value: float) -> bool:
    if float(value).is_integer():
        n = int(value)
        if _contains_phrase(text, str(n), 1) or any(_contains_phrase(text, w, 1)
                                                  for w in _NUMBER_WORDS.get(n, ())):
            return True
    return _contains_phrase(text, str(value))


def _from_request(value: Any, request: str) -> Source | None:
    text = _norm(request)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if _number_in(text, value):
            return {"kind": "request", "detail": f'"{value}" in your request', "event_id": None}
        return None
    if isinstance(value, str):
        needle = _norm(value)
        if _contains_phrase(text, needle) or _mostly_in(text, needle):
            return {"kind": "request", "detail": f'"{value}" from your request', "event_id": None}
        return None
    if isinstance(value, list) and value and all(_from_request(v, request) for v in value):
        return {"kind": "request", "detail": "every item is in your request", "event_id": None}
    return None


def _from_profile(value: Any, basic_features: Mapping[str, Any]) -> Source | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    needle = _norm(str(value))
    for field, feature in basic_features.items():
        have = _norm(str(feature))
        if not have:
            continue
        if needle == have:
            return {"kind": "profile", "detail": field, "event_id": None}
    for field, feature in basic_features.items():
        have = _norm(str(feature))
        if len(needle) >= 6 and len(have) >= 6 and (needle in have or have in needle):
            return {"kind": "profile", "detail": f"{field} (partly)", "event_id": None}
    return None


def _from_history(value: Any, evidence: Sequence[Event]) -> Source | None:
    if not isinstance(value, str) or len(value.strip()) < 3:
        return None
    needle = _norm(value)
    for event in evidence:
        if _contains_phrase(_norm(event["action"]), needle):
            return {"kind": "history", "detail": f"[{event['platform']}] {event['action']}",
                    "event_id": event["id"]}
    return None


def _walk(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


def _from_turns(value: Any, turns: Sequence[Turn]) -> Source | None:
    for n in range(len(turns), 0, -1):
        turn = turns[n - 1]
        for call in turn["calls"]:
            for arg, old in call["arguments"].items():
                if old == value:
                    return {"kind": "earlier_turn", "detail": f"turn {n}: {call['name']}.{arg}",
                            "event_id": None}
        if any(v == value for v in _walk(turn["results"]) if v not in (None, "", True, False)):
            return {"kind": "earlier_turn", "detail": f"turn {n}: a platform's answer",
                    "event_id": None}
    return None


def source_of(
    value: Any,
    *,
    request: str,
    basic_features: Mapping[str, Any],
    evidence: Sequence[Event],
    turns: Sequence[Turn] = (),
) -> Source:
    """Trace one argument value: request, then profile, earlier turns, history, else inferred."""
    return (
        _from_request(value, request)
        or _from_profile(value, basic_features)
        or _from_turns(value, turns)
        or _from_history(value, evidence)
        or {"kind": "inferred", "detail": "chosen by the model (not in your request, profile "
            "or history)", "event_id": None}
    )


def platform_support(platform: str | None, evidence: Sequence[Event]) -> list[Event]:
    """The retrieved history events on the chosen platform: why it fits this user."""
    if not platform:
        return []
    return [e for e in evidence if e["platform"].lower() == platform.lower()]


def sensitive_fields_sent(sources: Sequence[Source], sensitive: frozenset[str]) -> list[str]:
    """Sensitive profile fields a call's values were taken from (consent is about these)."""
    out: list[str] = []
    for source in sources:
        if source["kind"] == "profile":
            field = source["detail"].split(" ")[0]
            if field in sensitive and field not in out:
                out.append(field)
    return out
