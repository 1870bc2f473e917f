"""The LLM backend: the PTool pipeline with a chat model writing tools, histories and samples.

Stages, each a batch of structured-output tasks through :class:`StructuredRunner` (bounded
concurrency, retries, resumable cache, token accounting): platforms -> functional areas -> APIs
per area (the API tree, depth-first); a history per user and scenario acted out from hidden
traits; a user agent writing a request for a target API and naming its platform; an assistant
agent writing the annotated solution; a judge. Personas come from the same top-down skeleton as
the procedural backend (their values are data, not prose). Every sample then goes through the
same rule-based verification as procedural ones. Nothing here picks a model or an endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from synth import prompts
from synth.backends.runner import StructuredRunner, Task
from synth.backends.schemas import (
    ApiDraft,
    ApisOut,
    AreasOut,
    HistoryOut,
    PlatformsOut,
    QueryOut,
    SolutionOut,
    Verdict,
)
from synth.behaviours import REFERENCE_TIME
from synth.models import Condition, Event, GoldCall, ParamValue, Persona, Rejection, Sample, World
from synth.procedural import scenario_specs
from synth.profiles import build_personas
from synth.seeding import rng_for
from synth.tools import api_name
from synth.verification import VerifyContext, verify
from toolcatalog.models import ApiSpec, FunctionSpec, Platform, Scenario

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LLMWorldConfig:
    """Sizes of an LLM-generated world (small by default: every item is a model call)."""

    seed: int = 0
    scenarios: tuple[str, ...] = ("shopping",)
    platforms: int = 3
    areas: int = 4
    apis_per_area: int = 6
    users: int = 4
    events_per_scenario: int = 12
    samples_per_pair: int = 3


def _api_from_draft(draft: ApiDraft, platform: str, style: int) -> ApiSpec:
    props: dict[str, Any] = {}
    for p in draft.parameters:
        schema: dict[str, Any] = {"type": p.type, "description": p.description}
        if p.enum:
            schema["enum"] = p.enum
        props[p.name] = schema
    required = [p.name for p in draft.parameters if p.required]
    record = draft.record or (draft.stem.split("_")[-1] if draft.effect != "read" else None)
    return ApiSpec(
        function=FunctionSpec(
            name=api_name(platform, draft.stem, style),
            description=f"{draft.description} ({platform})",
            parameters={"type": "object", "properties": props, "required": required},
            response={"type": "object", "properties": {"status": {"type": "string"}}},
        ),
        effect=draft.effect,
        record=record,
    )


def _platform_briefs(scenario: Scenario) -> list[dict[str, Any]]:
    """What the history and user-agent prompts say about a scenario's platforms: name and
    characteristics, not their APIs."""
    return [{"name": x.name, "profile": x.profile} for x in scenario.platforms]


@dataclass(frozen=True)
class VerdictJudge:
    """Model-based verification: the recorded verdict of the judge prompt for one sample."""

    verdict: Verdict

    def __call__(self, sample: Sample, persona: Persona) -> list[str]:
        v = self.verdict
        ok = v.profile_ok and v.query_ok and v.solution_ok
        return [] if ok else (v.problems or ["judge rejected the sample"])


class LLMBackend:
    """Build a :class:`World` with a chat model (see the module docstring)."""

    name = "llm"

    def __init__(self, runner: StructuredRunner, config: LLMWorldConfig | None = None) -> None:
        self.runner = runner
        self.config = config or LLMWorldConfig()

    def _ask(
        self, stage: str, schema: type[M], prompts_by_key: Mapping[str, Sequence[BaseMessage]],
        desc: str,
    ) -> dict[str, M]:
        """One stage as one batch (the runner works through it concurrently). Each answer is
        cached under ``<stage>/<key>``, so a resumed build finds it; the answers come back by
        the caller's keys, typed as ``schema``."""
        tasks = [Task(f"{stage}/{key}", messages, schema)
                 for key, messages in prompts_by_key.items()]
        answers = self.runner.run(tasks, desc=desc)
        return {key: cast(M, answers[f"{stage}/{key}"]) for key in prompts_by_key}

    def build_catalog(self) -> dict[str, Scenario]:
        cfg, specs = self.config, scenario_specs()
        briefs = {s: specs[s].description for s in cfg.scenarios}
        plats = self._ask(
            "platforms",
            PlatformsOut,
            {s: prompts.platforms_prompt(s, d, cfg.platforms) for s, d in briefs.items()},
            desc="platforms",
        )
        areas = self._ask(
            "areas",
            AreasOut,
            {s: prompts.areas_prompt(s, d, cfg.areas) for s, d in briefs.items()},
            desc="areas",
        )
        apis = self._ask(
            "apis",
            ApisOut,
            {
                f"{s}/{a}": prompts.apis_prompt(s, a, cfg.apis_per_area)
                for s in briefs
                for a in areas[s].areas
            },
            desc="apis",
        )
        catalog = {}
        for s in briefs:
            drafts: dict[str, ApiDraft] = {}
            for a in areas[s].areas:
                for d in apis[f"{s}/{a}"].apis:
                    drafts.setdefault(d.stem, d)
            platforms = [
                Platform(
                    name=p.name,
                    profile=p.profile,
                    apis=[_api_from_draft(d, p.name, k) for d in drafts.values()],
                )
                for k, p in enumerate(plats[s].platforms)
            ]
            catalog[s] = Scenario(
                name=s, description=briefs[s], unseen=specs[s].unseen, platforms=platforms
            )
        return catalog

    def build(self, personas: list[Persona] | None = None) -> tuple[World, dict[str, Scenario]]:
        cfg = self.config
        catalog = self.build_catalog()
        personas = personas or build_personas(cfg.seed)[: cfg.users]
        pairs = [(p, catalog[s]) for p in personas for s in cfg.scenarios]
        histories = self._ask(
            "history",
            HistoryOut,
            {
                f"{p.id}/{sc.name}": prompts.history_prompt(
                    p.basic_features.compact(), p.traits, _platform_briefs(sc),
                    cfg.events_per_scenario,
                )
                for p, sc in pairs
            },
            desc="histories",
        )
        events: dict[tuple[str, str], list[Event]] = {}
        for p, sc in pairs:
            names = {x.name for x in sc.platforms}
            drafts = histories[f"{p.id}/{sc.name}"].events
            stamp = REFERENCE_TIME.isoformat(timespec="minutes")
            events[(p.id, sc.name)] = [
                Event(
                    user_id=p.id,
                    scenario=sc.name,
                    platform=e.platform,
                    action=e.action,
                    timestamp=stamp,
                )
                for e in drafts
                if e.platform in names
            ]
        targets = {}
        for p, sc in pairs:
            rng = rng_for(cfg.seed, "llm-targets", p.id, sc.name)
            apis = [a for a in sc.platforms[0].apis if a.required]
            for k in range(cfg.samples_per_pair):
                targets[f"{p.id}/{sc.name}/{k}"] = (
                    p,
                    sc,
                    rng.choice(apis) if apis else sc.platforms[0].apis[0],
                )
        queries = self._ask(
            "query",
            QueryOut,
            {
                key: prompts.query_prompt(
                    p.basic_features.compact(), self._hist(events, p, sc), _platform_briefs(sc),
                    api.openai_tool(),
                )
                for key, (p, sc, api) in targets.items()
            },
            desc="user agent",
        )
        solutions = self._ask(
            "solution",
            SolutionOut,
            {
                key: prompts.solution_prompt(
                    p.basic_features.compact(), self._hist(events, p, sc), queries[key].query,
                    [a.openai_tool() for x in sc.platforms for a in x.apis],
                )
                for key, (p, sc, _) in targets.items()
            },
            desc="assistant agent",
        )
        samples = {
            key: self._sample(key, p, sc, queries[key], solutions[key])
            for key, (p, sc, _) in targets.items()
        }
        verdicts = self._ask(
            "judge",
            Verdict,
            {
                key: prompts.judge_prompt(
                    targets[key][0].basic_features.compact(),
                    s.query,
                    {"platform": s.platform, "calls": [c.model_dump() for c in s.calls]},
                )
                for key, s in samples.items()
            },
            desc="judge",
        )
        world = World(
            seed=cfg.seed,
            personas=personas,
            events=[e for v in events.values() for e in v],
            samples=[],
        )
        seen: set[str] = set()
        for key, sample in samples.items():
            p, sc, _ = targets[key]
            verdict = verdicts[key]

            ctx = VerifyContext(sc, p, events[(p.id, sc.name)], seen)
            rejection = verify(sample, ctx, judge=VerdictJudge(verdict))
            wanted = queries[key].platform
            if rejection is None and wanted != sample.platform:
                rejection = Rejection(
                    sample_id=sample.id,
                    split=sample.split,
                    error_types=["agents:platform_mismatch"],
                    errors=[f"user wants {wanted}, assistant chose {sample.platform}"],
                )
            if rejection is None:
                world.samples.append(sample)
            else:
                world.rejections.append(rejection)
        return world, catalog

    @staticmethod
    def _hist(
        events: dict[tuple[str, str], list[Event]],
        p: Persona,
        sc: Scenario,
    ) -> list[dict[str, str]]:
        return [{"platform": e.platform, "action": e.action} for e in events[(p.id, sc.name)]]

    @staticmethod
    def _sample(key: str, p: Persona, sc: Scenario, q: QueryOut, sol: SolutionOut) -> Sample:
        calls = []
        for call in sol.calls:
            args = {}
            for a in call.arguments:
                try:
                    value = json.loads(a.value_json)
                except json.JSONDecodeError:
                    value = a.value_json
                args[a.name] = ParamValue(
                    value=value,
                    accepted=[value],
                    source=a.source,
                    surface=a.surface,
                    feature=a.feature,
                )
            calls.append(GoldCall(name=call.name, arguments=args))
        intent = calls[0].name if calls else "unknown"
        return Sample(
            id=f"llm-{key}",
            split="train",
            user_id=p.id,
            scenario=sc.name,
            intent=intent,
            query=q.query,
            platform=sol.platform,
            calls=calls,
            condition=Condition(category="llm"),
        )
