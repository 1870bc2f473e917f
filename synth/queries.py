"""Stage 4 -- query and solution generation (procedural user agent + assistant agent).

The *user agent* picks an intent and a request condition, decides the platform the way the user
would (explicit mention > record's home platform > latent rule), and phrases the request from
templates, cue pools and casual register -- never stating a profile value, only cues such as
"to the office". The *assistant agent* writes the gold call on that platform: values the request
states are annotated ``query`` (with the text that carries them), the rest come from the named
basic feature and are annotated ``profile``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

from synth.behaviours import record_ids
from synth.models import Condition, Event, GoldCall, ParamValue, Persona, Sample, Split
from synth.phrasing import (
    CLOSERS,
    DEST_HOME,
    DEST_WORK,
    ENUM_CUES,
    MENTIONS,
    NEUTRAL_OPENERS,
    OPENERS,
    QUERY_CUES,
    REASONS,
    date_surface,
    quantity_surface,
    random_date,
    roughen,
    time_surface,
)
from synth.preferences import decide, sample_condition
from synth.procedural.params import PROFILE_PARAMS
from synth.procedural.spec import IntentSpec, ScenarioSpec
from synth.tools import api_name
from toolcatalog.models import Scenario

EXPLICIT_RATE = 0.08
TYPO_RATE = 0.03
_ID_PARAM = {
    "order": "order_id",
    "booking": "booking_id",
    "meeting": "meeting_id",
    "transfer": "transfer_id",
    "appointment": "appointment_id",
    "enrollment": "enrollment_id",
}
_SELF_ASKING = (
    "can ",
    "could ",
    "i ",
    "i'",
    "what",
    "who",
    "where",
    "how",
    "has ",
    "any ",
    "did ",
    "please",
    "we're",
    "remind",
)
_DATES = {"date", "check_in", "pickup_date", "due_date"}
_TIMES = {"time", "pickup_time"}
_COUNTS = {"quantity": 4, "guests": 6, "nights": 7, "days": 10}


@dataclass
class UserScenario:
    """Everything the generator knows about one user in one scenario."""

    spec: ScenarioSpec
    scenario: Scenario
    persona: Persona
    events: list[Event]


def strip_article(item: str) -> str:
    for article in ("the ", "a ", "an "):
        if item.lower().startswith(article):
            return item[len(article) :]
    return item


def _slot(field: str, rng: random.Random) -> tuple[Any, str]:
    """(value, surface) of a non-item query slot."""
    if field in _DATES:
        d = random_date(rng)
        return d.isoformat(), date_surface(d, rng)
    if field in _TIMES:
        hour, minute = rng.randint(8, 21), rng.choice((0, 0, 15, 30, 45))
        return f"{hour:02d}:{minute:02d}", time_surface(hour, minute, rng)
    if field in _COUNTS:
        n = rng.choices(range(1, _COUNTS[field] + 1), weights=range(_COUNTS[field], 0, -1))[0]
        return n, quantity_surface(n, rng)
    if field == "amount":
        n = rng.choice((20, 35, 50, 75, 100, 150, 250, 400, 600, 1000, 1500))
        return n, str(n)
    if field in ENUM_CUES:
        value = rng.choice(sorted(ENUM_CUES[field]))
        return value, rng.choice(ENUM_CUES[field][value])
    if field == "reason":
        reason = rng.choice(REASONS)
        return reason, reason
    raise ValueError(f"no slot generator for query field {field!r}")


def _pick_intent(us: UserScenario, rng: random.Random) -> IntentSpec | None:
    usable = [i for i in us.spec.intents if i.record is None or record_ids(us.events, i.record)]
    if not usable:
        return None
    return rng.choices(usable, weights=[i.weight for i in usable])[0]


def draft_sample(
    us: UserScenario,
    rng: random.Random,
    split: Split,
    sample_id: str,
) -> Sample | None:
    """One candidate request + gold solution (not yet verified); None if the user cannot
    make this request (e.g. no work address for a required field)."""
    intent = _pick_intent(us, rng)
    if intent is None:
        return None
    names = [p.name for p in us.spec.platforms]
    rule = us.persona.latent[us.spec.name]
    values: dict[str, tuple[Any, list[Any], str]] = {}
    explicit = False
    if intent.record:
        record_id, platform = rng.choice(record_ids(us.events, intent.record))
        values[_ID_PARAM[intent.record]] = (record_id, [record_id], record_id)
        condition = Condition(category=next(iter(us.spec.categories)))
    else:
        condition = sample_condition(rng, list(intent.categories or us.spec.categories))
        platform, _ = decide(rule, condition)
        if rng.random() < EXPLICIT_RATE:
            platform, explicit = rng.choice(names), True
        item = rng.choice(us.spec.categories[condition.category])
    template = rng.choice(intent.templates)
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    if not intent.record:
        assert intent.item_param is not None
        surface = strip_article(item) if "quantity" in fields else item
        values[intent.item_param] = (
            strip_article(item),
            list(dict.fromkeys([strip_article(item), item])),
            surface,
        )
    for field in fields:
        if field not in values and field != "dest":
            value, surface = _slot(field, rng)
            values[field] = (value, [value], surface)
    style = names.index(platform)
    fn = api_name(platform, intent.func, style)
    plat = us.scenario.platform(platform)
    api = plat.api(fn) if plat else None
    if api is None:
        raise ValueError(f"{us.spec.name}: intent {intent.func!r} has no API on {platform}")
    to_work = (
        "dest" in fields and bool(us.persona.basic_features.work_address) and rng.random() < 0.3
    )
    arguments = _arguments(api.function.parameters, values, us.persona, to_work, fn)
    if arguments is None:
        return None
    query = _render(
        template,
        values,
        rng,
        condition,
        platform if explicit else None,
        intent.record is None,
        to_work,
    )
    return Sample(
        id=sample_id,
        split=split,
        user_id=us.persona.id,
        scenario=us.spec.name,
        intent=intent.func,
        query=query,
        platform=platform,
        calls=[GoldCall(name=fn, arguments=arguments)],
        condition=condition,
        explicit_platform=explicit,
    )


def _arguments(
    schema: dict[str, Any],
    values: dict[str, tuple[Any, list[Any], str]],
    persona: Persona,
    to_work: bool,
    fn: str,
) -> dict[str, ParamValue] | None:
    props = schema.get("properties", {})
    out: dict[str, ParamValue] = {}
    for name, (value, accepted, surface) in values.items():
        if name not in props:
            raise ValueError(f"{fn}: template slot {name!r} is not a parameter")
        out[name] = ParamValue(value=value, accepted=accepted, source="query", surface=surface)
    features = persona.basic_features.model_dump()
    for name in schema.get("required", []):
        if name in out:
            continue
        if name not in PROFILE_PARAMS:
            raise ValueError(
                f"{fn}: required {name!r} is neither in the template nor a profile field"
            )
        options = PROFILE_PARAMS[name]
        feature = options[1] if to_work and len(options) > 1 else options[0]
        if features.get(feature) is None:
            return None
        out[name] = ParamValue(
            value=features[feature], accepted=[features[feature]], source="profile", feature=feature
        )
    return out


def _render(
    template: str,
    values: dict[str, tuple[Any, list[Any], str]],
    rng: random.Random,
    condition: Condition,
    mention: str | None,
    cues: bool,
    to_work: bool,
) -> str:
    """Template + cues + register. Literal text may get typos; slot surfaces never do."""
    casual = rng.random() < 0.5
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(roughen(literal, rng, TYPO_RATE) if casual and literal else literal)
        if field == "dest":
            parts.append(rng.choice(DEST_WORK) if to_work else rng.choice(DEST_HOME))
        elif field:
            parts.append(values[field][2])
    body = "".join(parts)
    tails = []
    if cues and condition.price != "normal":
        tails.append(rng.choice(QUERY_CUES[condition.price]))
    if cues and condition.urgency == "urgent":
        tails.append(rng.choice(QUERY_CUES["urgent"]))
    rng.shuffle(tails)
    if tails:
        body += rng.choice((", ", " - ", ". ", " ")) + ", ".join(tails)
    if mention:
        phrase = rng.choice(MENTIONS).format(p=mention)
        body = f"{phrase}, {body}" if rng.random() < 0.3 else f"{body} {phrase}"
    asks = body.lower().startswith(_SELF_ASKING)
    text = rng.choice(NEUTRAL_OPENERS if asks else OPENERS) + body + rng.choice(CLOSERS)
    if not casual and text:
        text = text[0].upper() + text[1:]
    return " ".join(text.split())
