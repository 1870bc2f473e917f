"""Stage 5 -- verification: rule-based checks in a fixed order, plus an optional model judge.

Each rule returns a typed :class:`~toolcatalog.checks.CheckResult` with a namespaced error type,
so a rejection log says exactly what was wrong (``provenance:leak``, ``call:missing_required``).
Call-level checks reuse toolcatalog's own checker (the one the runtime uses), run on the first
accepted value of every argument. The model-based judge is a :class:`Judge` the LLM backend
provides; the procedural backend has none (its samples are correct by construction, and the
rules below are what guard that construction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from synth.models import Event, Persona, Rejection, Sample
from synth.phrasing import ENUM_CUES, parse_date, parse_quantity, parse_time
from synth.preferences import decide
from toolcatalog.checks import CheckResult, check_call
from toolcatalog.models import Scenario

SENSITIVE = ("email", "phone", "home_address", "work_address", "passport_number")


@dataclass
class VerifyContext:
    """What the rules may look at: the catalog scenario, the persona, their events, seen queries."""

    scenario: Scenario
    persona: Persona
    events: list[Event]
    seen_queries: set[str] = field(default_factory=set)


class Judge(Protocol):
    """Model-based verification: returns a list of problems (empty = accepted)."""

    def __call__(self, sample: Sample, persona: Persona) -> list[str]: ...


Rule = Callable[[Sample, VerifyContext], CheckResult]


def normalize_query(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def check_structure(sample: Sample, ctx: VerifyContext) -> CheckResult:
    errors = []
    if not sample.query.strip():
        errors.append("empty query")
    if not sample.calls:
        errors.append("no gold call")
    for call in sample.calls:
        for name, pv in call.arguments.items():
            if not pv.accepted or pv.value not in pv.accepted:
                errors.append(f"{call.name}.{name}: value {pv.value!r} not among accepted values")
    return CheckResult.fail("sample:structure", errors) if errors else CheckResult.ok()


def check_platform(sample: Sample, ctx: VerifyContext) -> CheckResult:
    if ctx.scenario.platform(sample.platform) is None:
        known = ", ".join(p.name for p in ctx.scenario.platforms)
        return CheckResult.fail(
            "platform:unknown", [f"platform {sample.platform!r} not in {known}"]
        )
    return CheckResult.ok()


def check_calls(sample: Sample, ctx: VerifyContext) -> CheckResult:
    """Function exists on the platform; names, required, types and enums (toolcatalog order)."""
    platform = ctx.scenario.platform(sample.platform)
    apis = {a.name: a for a in platform.apis} if platform else {}
    for call in sample.calls:
        args = {k: v.value for k, v in call.arguments.items()}
        result = check_call(call.name, args, apis)
        if not result.valid:
            return result
    return CheckResult.ok()


def check_profile_provenance(sample: Sample, ctx: VerifyContext) -> CheckResult:
    features = ctx.persona.basic_features.model_dump()
    errors = [
        f"{c.name}.{n}: {pv.value!r} is not the profile's {pv.feature}"
        for c in sample.calls
        for n, pv in c.arguments.items()
        if pv.source == "profile" and (pv.feature is None or features.get(pv.feature) != pv.value)
    ]
    return CheckResult.fail("provenance:profile", errors) if errors else CheckResult.ok()


def _derives(name: str, value: Any, surface: str) -> bool:
    """Does the query text ``surface`` say ``value``?"""
    if isinstance(value, bool):
        return str(value).lower() in surface.lower()
    if isinstance(value, int):
        return parse_quantity(surface) == value or str(value) == surface.strip()
    if isinstance(value, float):
        return surface.strip() == str(value) or surface.strip() == str(int(value))
    if name in ENUM_CUES:
        return surface in ENUM_CUES[name].get(str(value), ()) or surface == value
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return parse_date(surface) == text
    if re.fullmatch(r"\d{2}:\d{2}", text):
        return parse_time(surface) == text
    return text.lower() in surface.lower()


def check_query_provenance(sample: Sample, ctx: VerifyContext) -> CheckResult:
    errors = []
    query = sample.query.lower()
    for call in sample.calls:
        for name, pv in call.arguments.items():
            if pv.source != "query":
                continue
            if not pv.surface or pv.surface.lower() not in query:
                errors.append(f"{call.name}.{name}: {pv.surface!r} does not appear in the query")
            elif not _derives(name, pv.value, pv.surface):
                errors.append(
                    f"{call.name}.{name}: {pv.value!r} does not follow from {pv.surface!r}"
                )
    return CheckResult.fail("provenance:query", errors) if errors else CheckResult.ok()


def check_no_leak(sample: Sample, ctx: VerifyContext) -> CheckResult:
    """The user agent must not state profile values: the assistant has to look them up."""
    features = ctx.persona.basic_features.model_dump()
    profile_values = {
        pv.value for c in sample.calls for pv in c.arguments.values() if pv.source == "profile"
    }
    profile_values |= {features[k] for k in SENSITIVE if features.get(k)}
    query = sample.query.lower()
    leaked = sorted(
        str(v) for v in profile_values if isinstance(v, str) and len(v) > 3 and v.lower() in query
    )
    if leaked:
        return CheckResult.fail(
            "provenance:leak", [f"query states profile value {v!r}" for v in leaked]
        )
    return CheckResult.ok()


def check_inferable(sample: Sample, ctx: VerifyContext) -> CheckResult:
    """The gold platform must be recoverable: from a mention, a record id, or the history."""
    if sample.explicit_platform:
        ok = sample.platform.lower() in sample.query.lower()
        why = "explicit platform is not mentioned in the query"
    elif any(
        pv.source == "query" and n.endswith("_id")
        for c in sample.calls
        for n, pv in c.arguments.items()
    ):
        ids = [pv.value for c in sample.calls for n, pv in c.arguments.items() if n.endswith("_id")]
        ok = all(
            any(
                e.platform == sample.platform and e.action.split(":")[0].endswith(f" {i}")
                for e in ctx.events
            )
            for i in ids
        )
        why = "record id is not in the history on the gold platform"
    elif sample.scenario not in ctx.persona.latent:
        return CheckResult.ok()  # no known rule (LLM world): the model judge decides
    else:
        rule = ctx.persona.latent[sample.scenario]
        gold, key = decide(rule, sample.condition)
        same = [
            e.platform
            for e in ctx.events
            if e.condition is not None and decide(rule, e.condition)[1] == key
        ]
        ok = gold == sample.platform and same.count(gold) > len(same) / 2
        why = (
            f"history does not support {sample.platform} for {key} ({same.count(gold)}/{len(same)})"
        )
    return CheckResult.ok() if ok else CheckResult.fail("gold:not_inferable", [why])


def check_unique(sample: Sample, ctx: VerifyContext) -> CheckResult:
    if normalize_query(sample.query) in ctx.seen_queries:
        return CheckResult.fail("sample:duplicate", [f"request already used: {sample.query!r}"])
    return CheckResult.ok()


RULES: tuple[Rule, ...] = (
    check_structure,
    check_platform,
    check_calls,
    check_profile_provenance,
    check_query_provenance,
    check_no_leak,
    check_inferable,
    check_unique,
)
"""Fixed order: structure -> platform -> calls -> provenance -> inferability -> uniqueness."""


def verify(
    sample: Sample, ctx: VerifyContext, *, judge: Judge | None = None, rules: Iterable[Rule] = RULES
) -> Rejection | None:
    """None when accepted (and the query is recorded as seen), else the rejection with reasons."""
    errors: list[str] = []
    types: list[str] = []
    for rule in rules:
        result = rule(sample, ctx)
        if not result.valid:
            errors += result.errors
            types.append(result.error_type or "unknown")
            if result.error_type in ("sample:structure", "platform:unknown"):
                break  # later rules would only repeat the same problem
    if not errors and judge is not None:
        problems = judge(sample, ctx.persona)
        if problems:
            errors, types = problems, ["judge:rejected"]
    if errors:
        return Rejection(sample_id=sample.id, split=sample.split, errors=errors, error_types=types)
    ctx.seen_queries.add(normalize_query(sample.query))
    return None
