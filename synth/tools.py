"""Stage 1 -- tool generation: the API tree, written out in toolcatalog's format.

Level 1 is the scenario, level 2 its platforms (each with characteristics), then the scenario's
functional areas are refined depth-first into concrete functions (the leaves). Every platform
gets every shared leaf -- functionally similar APIs is the whole point of tool personalization --
but in its own naming style, behind its own name prefix (API names must be unique within a
scenario), plus a few leaves that follow from its traits (a concierge for a premium platform).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from synth.procedural.common import ACCOUNT_AREA, PRICE_EXTRAS, SPEED_EXTRAS
from synth.procedural.params import PARAMS, response_schema
from synth.procedural.spec import FuncSpec, PlatformSpec, ScenarioSpec
from toolcatalog.models import ApiSpec, FunctionSpec, Platform, Scenario


def _camel(stem: str) -> str:
    head, *rest = stem.split("_")
    return head + "".join(w.capitalize() for w in rest)


def _pascal(stem: str) -> str:
    return "".join(w.capitalize() for w in stem.split("_"))


STYLES: tuple[Callable[[str], str], ...] = (_camel, lambda stem: stem, _pascal)
"""Naming style of platform k (k mod 3): camelCase, snake_case, PascalCase."""

_PRICE_EXTRA_PARAM = {"budget": "promo_code", "premium": "express", "mid": "note"}


def api_name(platform: str, stem: str, style: int) -> str:
    """``MegaMart`` + ``place_order`` + style 0 -> ``MegaMart_placeOrder``."""
    return f"{platform}_{STYLES[style % len(STYLES)](stem)}"


def platform_functions(spec: ScenarioSpec, platform: PlatformSpec) -> list[FuncSpec]:
    """The leaves one platform exposes, in depth-first order: shared areas, account, extras."""
    return [
        *spec.functions(),
        *ACCOUNT_AREA,
        *PRICE_EXTRAS[platform.price],
        *SPEED_EXTRAS[platform.speed],
    ]


def parse_params(compact: str) -> tuple[list[str], list[str]]:
    """``"a! b c!"`` -> (names in order, required names)."""
    names, required = [], []
    for token in compact.split():
        name = token.rstrip("!")
        if name not in PARAMS:
            raise KeyError(
                f"parameter {name!r} is not in the shared vocabulary (synth/procedural/params.py)"
            )
        names.append(name)
        if token.endswith("!"):
            required.append(name)
    return names, required


def build_api(func: FuncSpec, platform: PlatformSpec, style: int) -> ApiSpec:
    """One leaf, specialised for one platform."""
    names, required = parse_params(func.params)
    if func.effect == "create":
        extra = _PRICE_EXTRA_PARAM[platform.price]
        if extra not in names:
            names.append(extra)
    properties: dict[str, Any] = {n: dict(PARAMS[n]) for n in names}
    function = FunctionSpec(
        name=api_name(platform.name, func.stem, style),
        description=f"{func.description} ({platform.name})",
        parameters={"type": "object", "properties": properties, "required": required},
        response=response_schema(func.response),
    )
    return ApiSpec(
        function=function,
        effect=func.effect,
        record=func.record,
    )


def build_scenario(spec: ScenarioSpec) -> Scenario:
    """The catalog model of one scenario spec (what ``toolcatalog`` loads)."""
    platforms = [
        Platform(
            name=p.name,
            profile=dict(p.profile),
            apis=[build_api(f, p, k) for f in platform_functions(spec, p)],
        )
        for k, p in enumerate(spec.platforms)
    ]
    return Scenario(
        name=spec.name, description=spec.description, unseen=spec.unseen, platforms=platforms
    )


def scenario_json(scenario: Scenario) -> str:
    """Stable serialisation (same model -> same bytes), in the hand-reviewable indented style."""
    raw = scenario.model_dump(mode="json", exclude_none=True)
    return json.dumps(raw, indent=1, ensure_ascii=False) + "\n"


def write_catalog(scenarios: Iterable[Scenario], directory: Path) -> list[Path]:
    """Write one ``<scenario>.json`` per scenario and remove stale scenario files."""
    directory.mkdir(parents=True, exist_ok=True)
    scenarios = list(scenarios)
    written = []
    for scenario in scenarios:
        path = directory / f"{scenario.name}.json"
        path.write_text(scenario_json(scenario), encoding="utf-8")
        written.append(path)
    keep = {p.name for p in written}
    for stale in directory.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()
    return written
