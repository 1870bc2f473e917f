"""Candidate values for every parameter of a call, computed by code, each with its source.

Why: a 135M model asked to write an address, a phone number or an order id copies it character
by character, and invents or truncates it. Here code proposes the values -- spans of the
request, matching profile fields, record ids and values in the user's history, values of earlier
turns, dates and times resolved against the current time -- and the answer grammar offers only
those (``answer_grammar``), so the model chooses and the copy is exact. The source of the chosen
candidate is the value's provenance: recorded, not re-derived.

Which parameters are offered at all: required ones always; an optional one only when the
request or the profile supplies it (its name, a value of its enum, a typed value such as a date
or an id), so the model cannot add parameters nobody asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any, Protocol

from assistant import dates
from assistant.intent import words
from assistant.request_values import (
    EMAIL,
    MAX_SPANS,
    PHONE,
    RECORD_ID,
    request_numbers,
    span_candidates,
)
from assistant.span_ranker import offered_spans, shipped_spans
from assistant.state import Event, ParamOptions, Source, Turn, ValueKind, ValueOption

MAX_CANDIDATES = 4
MAX_HISTORY_EVENTS = 50
"""Bounds that keep prompts and grammars small whatever the request or profile holds."""

COMPOSED_TEXT = frozenset({"body", "message", "content", "text", "note", "notes", "comment",
                           "comments", "description", "summary", "bio", "caption", "review"})
"""Words of a text parameter the model may compose (an email body): free text stays allowed,
as it does for another person (a recipient, a payee: the request may name them by role only).
Any other text parameter is a copy of a request span (a dish, a place, a title), so the grammar
offers only the spans and the model cannot invent or truncate one."""

COUNT_WORDS = frozenset({"quantity", "qty", "count", "seats", "tickets", "items", "units",
                         "pieces", "portions"})
"""Words of a count parameter: a request that names no number asks for one ("order a pizza")."""

FROM_PLACE = re.compile(r"\bfrom ([A-Z][\w'-]*(?: [A-Z][\w'-]*)*)")

CONCEPTS: dict[str, frozenset[str]] = {
    "address": frozenset({"address", "addr", "location", "street", "residence", "shipping",
                          "delivery", "deliver", "postal", "mailing", "ship_to", "shipto"}),
    "phone": frozenset({"phone", "mobile", "cell", "tel", "telephone", "contact_number"}),
    "email": frozenset({"email", "mail", "e_mail"}),
    "name": frozenset({"name", "fullname"}),
    "payment": frozenset({"payment", "pay", "card", "wallet", "billing"}),
    "language": frozenset({"language", "lang", "locale"}),
    "passport": frozenset({"passport"}),
    "city": frozenset({"origin", "hometown", "home_city", "departure_city", "from_city"}),
}
"""Personal-data concepts and the words that name them in parameters and profile fields
(``HomeLocation``, ``deliveryAddr``, ``shipping_address`` all reach *address*; a trip's
``origin`` is where the user lives)."""
FIELD_WORDS: dict[str, frozenset[str]] = {"city": frozenset({"city", "town", "hometown"}),
                                          "name": frozenset({"display", "displayname"})}
"""Extra words a profile *field* may use for a concept (a ``city`` field is the origin's
source, while a ``city`` parameter is a place the request names)."""
PERSON_WORDS = frozenset({"customer", "passenger", "guest", "driver", "traveler", "traveller",
                          "full", "first", "last", "user", "contact", "holder", "organizer",
                          "booker", "client", "member", "account", "my", "your", "patient", "rider",
                          "sender", "buyer", "owner", "applicant", "requester", "caller"})
"""Words that make a ``..._name`` parameter the user's own name (not ``product_name``)."""
NOT_A_PERSON = frozenset({"user", "nick", "nickname", "login", "handle", "screen", "company",
                          "business", "product", "event"})
"""Field words that make a ``..._name`` field something other than the user's real name
(``user_name`` is a login)."""
STREET_WORDS = frozenset({
    "st", "street", "ave", "avenue", "rd", "road", "blvd", "boulevard", "lane", "ln", "dr",
    "drive", "way", "weg", "pl", "place", "ct", "court", "sq", "square", "gasse", "strasse",
    "straße", "rua", "calle", "via", "avenida", "allee", "platz"
})
_ADDRESS_LIKE = re.compile(r"\b\d{1,5}(?: [A-Z][\w'.-]*)+(?:, [A-Z][\w'-]*(?: [A-Z][\w'-]*)*)?")


class Finder(Protocol):
    """What the typed value patterns share (a compiled regex, or a filtered one)."""

    def findall(self, text: str, /) -> list[Any]: ...


class _StreetAddress:
    """Finds street addresses in a request or an event ("delivered to 7 Spree Weg, Berlin"): a
    house number and capitalised words, one of them a street word ("2 Pinot Noir" is not one).
    Has the ``findall`` of a compiled pattern, so it sits with the typed patterns."""

    def findall(self, text: str, /) -> list[Any]:
        return [m for m in _ADDRESS_LIKE.findall(text)
                if {w.lower().rstrip(".") for w in m.split(",")[0].split()[1:]} & STREET_WORDS]


STREET_ADDRESS = _StreetAddress()
PLACE_WORDS: dict[str, frozenset[str]] = {
    "home": frozenset({"home", "house", "personal", "residence", "primary", "default"}),
    "work": frozenset({"work", "office", "business", "job", "company"}),
}
"""Which of several addresses (or phones, emails) a request means."""
OTHER_PEOPLE = frozenset({"recipient", "payee", "friend", "receiver", "beneficiary",
                          "attendee", "invitee"})
"""Parameter words that name someone other than the user: never filled from the profile."""


def concepts(name: str, field: bool = False) -> set[str]:
    """The personal-data concepts a parameter (or, with ``field``, a profile field) name refers
    to."""
    tokens = words(name)
    singular = [t[:-2] if t.endswith("sses") else t[:-1] if t.endswith("s") else t
                for t in tokens]  # addresses -> address, phones -> phone
    joined = {"_".join(tokens), *tokens, *singular,
              *("_".join(p) for p in pairwise(tokens))}
    found = {c for c, names in CONCEPTS.items() if names & joined}
    if field:
        found |= {c for c, names in FIELD_WORDS.items() if names & joined}
    if "name" in found and not field and set(tokens) - {"name"} - PERSON_WORDS:
        found.discard("name")  # product_name, event_name: a thing, not the user
    if "name" in found and field and set(tokens) & NOT_A_PERSON:
        found.discard("name")
    if "address" in found and ({"email"} & found or ("mail" in tokens and "e" in tokens)):
        found.discard("address")
    return found


def _someone_else(param: str) -> bool:
    """A parameter naming another person (``recipient_name``, ``payee``, a bare ``to``)."""
    return bool(set(words(param)) & OTHER_PEOPLE) or param.lower() == "to"


def flatten_profile(profile: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``(path, value)`` for every scalar of a (possibly nested) profile: ``contact.phone``."""
    out: list[tuple[str, str]] = []
    for key, value in profile.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.extend(flatten_profile(value, path))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                out.append((path, text))
    return out


def _place(name: str) -> str | None:
    tokens = set(words(name))
    return next((p for p, names in PLACE_WORDS.items() if names & tokens), None)


def _request_place(request: str) -> str | None:
    tokens = set(words(request))
    return next((p for p, names in PLACE_WORDS.items() if names & tokens), None)


def profile_candidates(param: str, description: str, request: str,
                       profile: Mapping[str, Any]) -> list[ValueOption]:
    """Profile values whose field means what the parameter means, best first: same concept,
    then the address (phone, email) the request points at ("to work"), home before others."""
    wanted = concepts(param) or concepts(description)
    if not wanted or _someone_else(param):
        return []
    place = _place(param) or _request_place(request)
    scored: list[tuple[float, str, str]] = []
    for path, value in flatten_profile(profile):
        leaf = path.split(".")[-1]
        have = concepts(leaf, field=True) or concepts(path, field=True)
        if not have & wanted:
            continue
        if "name" in wanted and not {"name"} >= (have & wanted) and "name" not in have:
            continue
        field_place = _place(path)
        score = 1.0 + (0.6 if place and field_place == place else 0.0)
        score += 0.1 if field_place in (None, "home") else 0.0
        score -= 0.05 * path.count(".")
        if "name" in wanted and set(words(leaf)) - {"name", "full"}:
            score -= 0.5  # user_name, nickname, company_name: a weaker match for a person
        scored.append((score, path, value))
    scored.sort(key=lambda s: -s[0])
    if not scored:
        return []
    top = scored[0][0]
    return [{"value": value, "source": {"kind": "profile", "detail": path, "event_id": None}}
            for score, path, value in scored[:MAX_CANDIDATES] if score >= top - 0.3]


def _from_request(value: str, detail: str) -> ValueOption:
    return {"value": value, "source": {"kind": "request", "detail": detail, "event_id": None}}


def history_values(pattern: Finder, history: Sequence[Event]) -> list[ValueOption]:
    """Values matching ``pattern`` in the user's events (most recent first)."""
    out: list[ValueOption] = []
    for event in reversed(history):
        for found in pattern.findall(event["action"]):
            out.append({"value": found, "source": {
                "kind": "history", "detail": f"[{event['platform']}] {event['action']}",
                "event_id": event["id"]}})
    return out


def turn_values(turns: Sequence[Turn], param: str) -> list[ValueOption]:
    """Values an earlier turn of the thread used for a parameter of this name, or returned
    under it (most recent first)."""
    out: list[ValueOption] = []
    for n in range(len(turns), 0, -1):
        turn = turns[n - 1]
        for call in turn["calls"]:
            value = call["arguments"].get(param)
            if isinstance(value, str) and value:
                out.append({"value": value, "source": {
                    "kind": "earlier_turn", "detail": f"turn {n}: {call['name']}.{param}",
                    "event_id": None}})
        for result in turn["results"]:
            response = result.get("response")
            value = response.get(param) if isinstance(response, Mapping) else None
            if isinstance(value, str) and value:
                out.append({"value": value, "source": {
                    "kind": "earlier_turn", "detail": f"turn {n}: {result['name']} answer",
                    "event_id": None}})
    return out


def param_kind(name: str, schema: Mapping[str, Any]) -> ValueKind:
    """What kind of value a parameter takes, from its type, name, format and description."""
    if schema.get("enum"):
        return "other"
    if schema.get("type") in ("integer", "number"):
        return "number"
    if schema.get("type") not in (None, "string"):
        return "other"
    fmt = str(schema.get("format", ""))
    tokens = set(words(name))
    description = str(schema.get("description", "")).lower()
    if fmt == "date-time" or "datetime" in tokens or {"date", "time"} <= tokens:
        return "datetime"
    if fmt == "date" or tokens & {"date", "day", "checkin", "birthday"} or (
            {"check", "in"} <= tokens or {"check", "out"} <= tokens) or "yyyy-mm-dd" in description:
        return "date"
    if fmt == "time" or tokens & {"time", "hour"} or "hh:mm" in description:
        return "time"
    if tokens & {"id", "reference", "ref", "confirmation"} or name.lower().endswith("id"):
        return "id"
    if (concepts(name) or concepts(description)) and not _someone_else(name):
        return "personal"
    return "text"


def _one(request: str) -> ValueOption:
    """A count of one: said by an article ("order a pizza"), else a guess."""
    article = re.search(r"\b(an?)\b", request, re.IGNORECASE)
    if article:
        return _from_request("1", f"{article.group(1)!r} in your request")
    return {"value": "1", "source": {"kind": "inferred", "event_id": None,
                                     "detail": "one: the request names no number"}}


def _supplied_by_request(name: str, schema: Mapping[str, Any], request: str) -> bool:
    """Whether the request supplies an optional parameter: one of its enum values as a word
    ("by rating"), else its name's words (a number also needs a digit: "under 50")."""
    text = request.lower()
    if schema.get("enum"):
        return any(re.search(rf"(?<!\w){re.escape(str(v).lower())}(?!\w)", text)
                   for v in schema["enum"])
    said = {w[:5] for w in words(request)}
    named = any(w[:5] in said for w in words(name) if len(w) > 2)
    if schema.get("type") in ("integer", "number"):
        return named and re.search(r"\d", request) is not None
    return named


def _dedupe(options: Sequence[ValueOption]) -> list[ValueOption]:
    seen: set[str] = set()
    out: list[ValueOption] = []
    for option in options:
        key = option["value"].lower()
        if key not in seen:
            seen.add(key)
            out.append(option)
    return out


def ground_parameter(name: str, schema: Mapping[str, Any], *, required: bool, request: str,
                     basic_features: Mapping[str, Any], history: Sequence[Event],
                     turns: Sequence[Turn], now: datetime,
                     platforms: Sequence[str] = (), api: str = "") -> ParamOptions:
    """The grammar's options for one parameter (see the module docstring). ``api``: the
    API's name and description, which the span ranker reads."""
    kind = param_kind(name, schema)
    description = str(schema.get("description", ""))
    found: list[ValueOption] = []
    if kind == "date":
        found = [_from_request(d, f"{text!r} in your request") for text, d in
                 dates.find_dates(request, now)]
    elif kind == "time":
        found = [_from_request(t, f"{text!r} in your request") for text, t in
                 dates.find_times(request)]
    elif kind == "datetime":
        found = [_from_request(v, f"{text!r} in your request") for text, v in
                 dates.find_datetimes(request, now)]
    elif kind == "id":
        found = [_from_request(v, "in your request") for v in RECORD_ID.findall(request)]
        found += turn_values(turns, name) + history_values(RECORD_ID, history)
    elif kind == "personal":
        wanted = concepts(name) or concepts(description)
        typed: dict[str, Finder] = {"email": EMAIL, "phone": PHONE, "city": FROM_PLACE,
                                    "address": STREET_ADDRESS}
        pattern = next((typed[c] for c in sorted(wanted) if c in typed), None)
        if pattern is not None:
            found = [_from_request(v.strip(), "in your request") for v in pattern.findall(request)]
        found += profile_candidates(name, description, request, basic_features)
        found += turn_values(turns, name)
        if pattern is not None and not any(o["source"]["kind"] == "profile" for o in found):
            found += history_values(pattern, history)
    elif kind == "number":
        found = [_from_request(n, f"{text!r} in your request") for text, n in
                 request_numbers(request, now, integer=schema.get("type") == "integer")]
        if set(words(name)) & COUNT_WORDS:
            found.append(_one(request))
    elif kind == "text":
        spans = span_candidates(request, platforms)
        if not _free_text(name):  # a copy of a span: offer the ranker's few best
            spans = offered_spans(spans, param=f"{name} {description}", api=api,
                                  weights=shipped_spans())
        found = [_from_request(s.text, "from your request") for s in spans]
        found += turn_values(turns, name)
    found = _dedupe(found)
    found = found[:MAX_SPANS if kind == "text" else MAX_CANDIDATES]
    if kind == "other":
        offer = required or _supplied_by_request(name, schema, request)
        return {"kind": kind, "candidates": [], "free_text": True, "offer": offer}
    if kind == "number":  # a number elsewhere in the request does not offer an optional one
        offer = required or _supplied_by_request(name, schema, request)
        return {"kind": kind, "candidates": found, "free_text": not found, "offer": offer}
    if kind == "text":
        offer = required or _supplied_by_request(name, schema, request)
        free = not found or _free_text(name)
        return {"kind": kind, "candidates": found, "free_text": free, "offer": offer}
    typed_in_request = any(o["source"]["kind"] == "request" for o in found)
    offer = required or typed_in_request or (kind == "personal"
                                             and _supplied_by_request(name, schema, request))
    return {"kind": kind, "candidates": found, "free_text": not found, "offer": offer}


def _free_text(name: str) -> bool:
    """A text parameter the model may write itself (see :data:`COMPOSED_TEXT`)."""
    return bool(set(words(name)) & COMPOSED_TEXT) or _someone_else(name)


def ground_call(tool: Mapping[str, Any], *, request: str, basic_features: Mapping[str, Any],
                history: Sequence[Event], turns: Sequence[Turn], now: datetime,
                platforms: Sequence[str] = ()) -> dict[str, ParamOptions]:
    """Options for every parameter of one API."""
    function = tool.get("function", tool)
    params = function.get("parameters") or {}
    required = set(params.get("required") or [])
    api = f"{function.get('name', '')} {function.get('description', '')}"
    return {name: ground_parameter(name, schema or {}, required=name in required,
                                   request=request, basic_features=basic_features,
                                   history=history, turns=turns, now=now, platforms=platforms,
                                   api=api)
            for name, schema in (params.get("properties") or {}).items()}


def source_from_options(value: Any, options: ParamOptions | None) -> Source | None:
    """The source of the candidate a value is (the grammar made the copy exact)."""
    if options is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).lower()
    return next((o["source"] for o in options["candidates"] if o["value"].lower() == text), None)


def missing_values(options: Mapping[str, ParamOptions],
                   required: Sequence[str]) -> list[str]:
    """Required personal, date and id parameters nothing supplies: ask, do not invent."""
    return [name for name in required if name in options
            and options[name]["kind"] in ("personal", "date", "datetime", "id")
            and not options[name]["candidates"]]


def check_grounded(name: str, arguments: Mapping[str, Any], offered: Sequence[str],
                   options: Mapping[str, ParamOptions]) -> list[str]:
    """What the grammar would have refused, for endpoints that ignore it: an API the request
    does not ask for, a parameter nothing supplies, a value that is none of the candidates."""
    if offered and name not in offered:
        return [f"output:api_not_asked: the request asks for {' or '.join(offered)}, "
                f"not {name}"]
    errors: list[str] = []
    for arg, value in arguments.items():
        found = options.get(arg)
        if found is None:
            continue
        if not found["offer"]:
            errors.append(f"{name}: leave out '{arg}': neither the request nor the profile "
                          "supplies it")
        elif (found["candidates"] and not found["free_text"]
              and source_from_options(value, found) is None):
            shown = ", ".join(repr(o["value"]) for o in found["candidates"][:MAX_CANDIDATES])
            errors.append(f"{name}: '{arg}' must be one of {shown}")
    return errors
