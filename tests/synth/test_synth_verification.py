"""Each verification rule rejects one planted defect (and a clean sample passes them all)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from synth.models import Sample, World
from synth.verification import VerifyContext, normalize_query, verify
from toolcatalog.models import Scenario


def _clean(world: World, catalog: dict[str, Scenario]) -> tuple[Sample, VerifyContext]:
    persona = next(p for p in world.personas if p.trained)
    sample = next(
        s
        for s in world.samples
        if s.user_id == persona.id and s.intent == "place_order" and not s.explicit_platform
    )
    events = [e for e in world.events if e.user_id == persona.id and e.scenario == sample.scenario]
    return sample.model_copy(deep=True), VerifyContext(catalog[sample.scenario], persona, events)


def _arg(s: Sample, name: str):  # type: ignore[no-untyped-def]
    return s.calls[0].arguments[name]


def _structure(s: Sample, c: VerifyContext) -> None:
    _arg(s, "quantity").accepted = []


def _platform(s: Sample, c: VerifyContext) -> None:
    s.platform = "NoSuchMart"


def _function(s: Sample, c: VerifyContext) -> None:
    s.calls[0].name = s.calls[0].name + "Typo"


def _unexpected(s: Sample, c: VerifyContext) -> None:
    extra = _arg(s, "quantity").model_copy()
    s.calls[0].arguments["colour"] = extra


def _missing(s: Sample, c: VerifyContext) -> None:
    del s.calls[0].arguments["payment_method"]


def _type(s: Sample, c: VerifyContext) -> None:
    pv = _arg(s, "quantity")
    pv.value, pv.accepted = "two", ["two"]


def _enum(s: Sample, c: VerifyContext) -> None:
    pv = _arg(s, "payment_method")
    pv.value, pv.accepted = "bitcoin", ["bitcoin"]
    c.persona = c.persona.model_copy(deep=True)
    c.persona.basic_features.payment_method = "bitcoin"


def _profile(s: Sample, c: VerifyContext) -> None:
    pv = _arg(s, "delivery_address")
    pv.value, pv.accepted = "999 Nowhere Rd", ["999 Nowhere Rd"]


def _query(s: Sample, c: VerifyContext) -> None:
    pv = _arg(s, "product_name")
    pv.value, pv.accepted, pv.surface = "caviar", ["caviar"], "caviar"


def _leak(s: Sample, c: VerifyContext) -> None:
    s.query += f" to {c.persona.basic_features.home_address}"


def _inferable(s: Sample, c: VerifyContext) -> None:
    others = [p.name for p in c.scenario.platforms if p.name != s.platform]
    plat = c.scenario.platform(others[0])
    assert plat is not None
    s.platform = others[0]
    stem = s.calls[0].name.split("_", 1)[1].lower().replace("_", "")
    s.calls[0].name = next(
        a.name for a in plat.apis if a.name.split("_", 1)[1].lower().replace("_", "") == stem
    )


def _duplicate(s: Sample, c: VerifyContext) -> None:
    c.seen_queries.add(normalize_query(s.query))


PLANTED: dict[str, Callable[[Sample, VerifyContext], None]] = {
    "sample:structure": _structure,
    "platform:unknown": _platform,
    "call:unknown_function": _function,
    "call:unexpected_param": _unexpected,
    "call:missing_required": _missing,
    "call:wrong_type": _type,
    "call:invalid_value": _enum,
    "provenance:profile": _profile,
    "provenance:query": _query,
    "provenance:leak": _leak,
    "gold:not_inferable": _inferable,
    "sample:duplicate": _duplicate,
}


def test_clean_sample_passes(small_world: tuple[World, dict[str, Scenario]]) -> None:
    sample, ctx = _clean(*small_world)
    assert verify(sample, ctx) is None


@pytest.mark.parametrize("error_type", sorted(PLANTED))
def test_planted_defect_is_rejected(
    error_type: str, small_world: tuple[World, dict[str, Scenario]]
) -> None:
    sample, ctx = _clean(*small_world)
    PLANTED[error_type](sample, ctx)
    rejection = verify(sample, ctx)
    assert rejection is not None
    assert error_type in rejection.error_types, rejection
    assert rejection.errors


def test_judge_can_reject(small_world: tuple[World, dict[str, Scenario]]) -> None:
    sample, ctx = _clean(*small_world)
    rejection = verify(sample, ctx, judge=lambda s, p: ["query sounds robotic"])
    assert rejection is not None and rejection.error_types == ["judge:rejected"]
