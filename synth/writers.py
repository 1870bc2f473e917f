"""Dataset writers: personas for ``ptool setup``, PTBench-format test files, training records.

Every writer is byte-stable (fixed key order, fixed separators, no timestamps of "now"), which
is what makes ``ptool synth world --seed 0`` reproducible to the byte. Test files hold one sample
per line inside the JSON list so a regenerated benchmark diffs readably in git.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ptbench.answers import Call
from ptbench.records import Annotations, Gold, TrainingRecord
from synth.models import Event, Persona, Sample, World
from toolcatalog.models import Scenario

PERSONAS_FORMAT_VERSION = 1
TEST_SPLITS = ("test_trained_user", "test_untrained_user", "test_unseen_scenario")


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def personas_document(world: World) -> dict[str, Any]:
    """``profiles/data/personas.json``: features and history only -- never the latent rules."""
    by_user: dict[str, list[Event]] = defaultdict(list)
    for event in world.events:
        by_user[event.user_id].append(event)
    users = []
    for persona in world.personas:
        history = sorted(by_user[persona.id], key=lambda e: (e.timestamp, e.scenario))
        users.append(
            {
                "id": persona.id,
                "username": persona.username,
                "basic_features": persona.basic_features.compact(),
                "history": [
                    {
                        "scenario": e.scenario,
                        "platform": e.platform,
                        "action": e.action,
                        "timestamp": e.timestamp,
                    }
                    for e in history
                ],
            }
        )
    return {"format_version": PERSONAS_FORMAT_VERSION, "users": users}


def write_personas(world: World, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = personas_document(world)
    lines = [_dump(u) for u in doc["users"]]
    body = ",\n".join(lines)
    text = f'{{"format_version":{doc["format_version"]},"users":[\n{body}\n]}}\n'
    path.write_text(text, encoding="utf-8")
    return path


class SampleRenderer:
    """Turns samples into PTBench dicts / training records; caches per-user histories."""

    def __init__(self, world: World, catalog: dict[str, Scenario]) -> None:
        self._catalog = catalog
        self._personas = {p.id: p for p in world.personas}
        self._history: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(dict)
        for event in world.events:
            self._history[event.user_id].setdefault(event.scenario, []).append(
                {"platform": event.platform, "action": event.action}
            )

    def user_profile(self, persona: Persona, scenario: str) -> dict[str, Any]:
        """Basic features + history of the training scenarios (and of ``scenario`` itself, so
        unseen-scenario samples show that scenario's history but training never does)."""
        history = {
            name: events
            for name, events in self._history[persona.id].items()
            if not self._catalog[name].unseen or name == scenario
        }
        return {"basic_features": persona.basic_features.compact(), "user_history": history}

    def platforms(self, scenario: str) -> list[dict[str, Any]]:
        return [{"name": p.name, "profile": p.profile} for p in self._catalog[scenario].platforms]

    def tools(self, scenario: str) -> list[dict[str, Any]]:
        return [a.openai_tool() for p in self._catalog[scenario].platforms for a in p.apis]

    def ptbench(self, sample: Sample) -> dict[str, Any]:
        """One element of a PTBench ``data.json`` list (plus ``id``)."""
        persona = self._personas[sample.user_id]
        answer = [
            sample.platform,
            [{c.name: {k: pv.accepted for k, pv in c.arguments.items()}} for c in sample.calls],
        ]
        return {
            "id": sample.id,
            "user_profile": self.user_profile(persona, sample.scenario),
            "platforms": self.platforms(sample.scenario),
            "tools": self.tools(sample.scenario),
            "query": sample.query,
            "answer": answer,
            "query_params": sample.query_params,
            "profile_params": sample.profile_params,
        }

    def train_record(self, sample: Sample, *, inline_tools: bool = False) -> TrainingRecord:
        """The stable intermediate training record (:mod:`ptbench.records`)."""
        persona = self._personas[sample.user_id]
        tools: list[Any] = (
            self.tools(sample.scenario)
            if inline_tools
            else [a.name for p in self._catalog[sample.scenario].platforms for a in p.apis]
        )
        return TrainingRecord(
            id=sample.id,
            user_id=persona.id,
            scenario=sample.scenario,
            profile=self.user_profile(persona, sample.scenario),
            platforms=self.platforms(sample.scenario),
            tools=tools,
            query=sample.query,
            gold=Gold(platform=sample.platform, calls=[
                Call(name=c.name, arguments={k: pv.value for k, pv in c.arguments.items()})
                for c in sample.calls]),
            annotations=Annotations(
                query_params=sample.query_params,
                profile_params=sample.profile_params,
                sources={c.name: {k: (pv.feature or "query") for k, pv in c.arguments.items()}
                         for c in sample.calls},
                accepted={c.name: {k: pv.accepted for k, pv in c.arguments.items()}
                          for c in sample.calls},
                intent=sample.intent,
                explicit_platform=sample.explicit_platform,
            ),
        )


def write_benchmark(world: World, catalog: dict[str, Scenario], directory: Path) -> list[Path]:
    """``<dir>/<split>/data.json`` for the three test splits."""
    renderer = SampleRenderer(world, catalog)
    written = []
    for split in TEST_SPLITS:
        rows = [renderer.ptbench(s) for s in world.samples if s.split == split]
        path = directory / split / "data.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[\n" + ",\n".join(_dump(r) for r in rows) + "\n]\n", encoding="utf-8")
        written.append(path)
    return written


def write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(_dump(row) + "\n")
            n += 1
    return n


def write_train(
    world: World, catalog: dict[str, Scenario], path: Path, *, inline_tools: bool = False
) -> int:
    renderer = SampleRenderer(world, catalog)
    return write_jsonl(
        (
            renderer.train_record(s, inline_tools=inline_tools).model_dump()
            for s in world.samples
            if s.split == "train"
        ),
        path,
    )


def write_rejections(world: World, path: Path, *, splits: Iterable[str] = TEST_SPLITS) -> int:
    keep = set(splits)
    return write_jsonl((r.model_dump() for r in world.rejections if r.split in keep), path)
