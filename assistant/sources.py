"""Where a turn's data comes from: the stores (chat) or one inline PTBench sample (benchmark).

Why a strategy object instead of ``if sample:`` in every node: chat, the benchmark and the
training-data builder must run the same retrieval, scoring and prompt code, or the benchmark
measures something users never get. Each source answers the same five questions -- who is the
user, which APIs are candidates, which events are evidence, what is the user's history in the
scenario, and run these calls -- and the nodes only ask them.

* :class:`StoreSource` -- SQLModel profile store, the Chroma history index, the catalog's tool
  index and the mock executor (chat, the app, the CLI).
* :class:`SampleSource` -- the profile, platforms and tools a PTBench sample carries inline; it
  ranks with the same per-platform selection and the same event ranking, and executes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant import accounts, answers, retrieval, routing
from assistant.safety import CHANGES_STATE
from assistant.state import (
    Candidate,
    Event,
    Execution,
    InlineSample,
    Mode,
    PlatformInfo,
    ToolCall,
    Turn,
)
from profiles import crud
from profiles.history_index import HistoryIndex
from profiles.models import EventSource, HistoryEventCreate
from toolcatalog.executor import MockExecutor
from toolcatalog.models import Catalog
from toolcatalog.retrieval import Embedder, ToolIndex


@dataclass(frozen=True)
class UserProfile:
    """Who the turn is for: ids, basic features and the platforms they have used."""

    user_id: str
    username: str
    basic_features: dict[str, Any]
    used_platforms: list[str]


@dataclass(frozen=True)
class Retrieved:
    """The request's scenario (``None`` when a sample does not say), its platforms and the
    candidate APIs (the callable set). ``uncertain`` names the likeliest scenarios when the
    router is not confident (chat then asks which is meant)."""

    scenario: str | None
    platforms: list[PlatformInfo]
    candidates: list[Candidate]
    uncertain: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Executed:
    executions: list[Execution]
    recorded_event_ids: list[str] = field(default_factory=list)


class DataSource(Protocol):
    """What the graph's nodes ask about the world (see the module docstring)."""

    @property
    def mode(self) -> Mode: ...

    def profile(self, user: str) -> UserProfile: ...

    def embedder(self) -> Embedder: ...

    def candidates(self, request: str, per_platform: int | None,
                   last_turn: Turn | None) -> Retrieved: ...

    def evidence(self, user_id: str, request: str, scenario: str | None,
                 platforms: Sequence[str], k: int | None) -> list[Event]: ...

    def scenario_history(self, user_id: str, scenario: str | None,
                         platforms: Sequence[str]) -> list[Event]: ...

    def execute(self, user_id: str, platform: str, calls: Sequence[ToolCall],
                candidates: Sequence[Candidate], key: str) -> Executed: ...


@dataclass(frozen=True)
class StoreSource:
    """The stores of a workspace (chat, app, CLI)."""

    engine: Engine
    history_index: HistoryIndex
    catalog: Catalog
    tool_index: ToolIndex
    executor: MockExecutor

    @property
    def mode(self) -> Mode:
        return "store"

    def embedder(self) -> Embedder:
        return self.tool_index.embed

    def profile(self, user: str) -> UserProfile:
        with Session(self.engine) as session:
            row = crud.require_user(session=session, name_or_id=user)
            used = crud.used_platforms(session=session, user_id=row.id)
            return UserProfile(user_id=row.id, username=row.username,
                               basic_features=dict(row.basic_features), used_platforms=used)

    def candidates(self, request: str, per_platform: int | None,
                   last_turn: Turn | None) -> Retrieved:
        scenario, uncertain = self._route(retrieval.retrieval_text(request, last_turn))
        found = retrieval.store_candidates(self.catalog, self.tool_index, request,
                                           per_platform, last_turn, scenario)
        return Retrieved(**found, uncertain=uncertain)

    def _route(self, text: str) -> tuple[str, list[str]]:
        """The trained router's scenario (and the top two when it is unsure); the tool
        index's vote for catalogs the router was not trained on."""
        found = routing.route(self.tool_index.vector(text), list(self.catalog.scenarios))
        if found is None:
            return self.tool_index.best_scenario(text), []
        unsure = [] if found.confident else [s for s in (found.scenario, found.runner_up) if s]
        return found.scenario, unsure

    def evidence(self, user_id: str, request: str, scenario: str | None,
                 platforms: Sequence[str], k: int | None) -> list[Event]:
        return retrieval.user_events(self.engine, self.history_index, user_id, request,
                                     scenario, k)

    def scenario_history(self, user_id: str, scenario: str | None,
                         platforms: Sequence[str]) -> list[Event]:
        return retrieval.scenario_events(self.engine, user_id, scenario)

    def execute(self, user_id: str, platform: str, calls: Sequence[ToolCall],
                candidates: Sequence[Candidate], key: str) -> Executed:
        """Run the calls on the mock platform; state changes become runtime history.

        ``key`` names the turn: each state-changing call runs under ``key:n``, so a doubled or
        retried resume of the same turn executes nothing twice (``MockExecutor.execute``)."""
        with Session(self.engine) as session:
            if (crud.get_user(session=session, user_id=user_id) is None
                    or crud.being_forgotten(session=session, user_id=user_id)):
                raise crud.UnknownUser("this user was forgotten while the turn ran; nothing "
                                       "was executed")
        scenario = self.catalog.find_platform(platform)[0].name
        effects = {c["tool"]["function"]["name"]: c["effect"] for c in candidates}
        executions: list[Execution] = []
        events: list[HistoryEventCreate] = []
        for n, call in enumerate(calls):
            changes = effects.get(call["name"]) in CHANGES_STATE
            result = self.executor.execute(owner=user_id, platform=platform, name=call["name"],
                                           arguments=call["arguments"],
                                           key=f"{key}:{n}" if changes else None)
            executions.append({"platform": platform, "name": call["name"],
                               "arguments": dict(call["arguments"]), "ok": result.ok,
                               "response": result.response})
            if result.ok and changes and not result.replayed:
                events.append(HistoryEventCreate(
                    scenario=scenario, platform=platform, source=EventSource.runtime,
                    action=answers.event_action(call["name"], call["arguments"],
                                                self.profile(user_id).basic_features)))
        rows = accounts.record_events(engine=self.engine, index=self.history_index,
                                      user_id=user_id, events=events) if events else []
        return Executed(executions=executions, recorded_event_ids=[str(r.id) for r in rows])


@dataclass(frozen=True)
class SampleSource:
    """One PTBench sample's inline data (benchmark mode, training-data rendering).

    ``embed`` ranks tools and events like the runtime; without it every tool and the whole
    history are shown (the paper's setting)."""

    sample: InlineSample
    embed: Embedder | None = None

    @property
    def mode(self) -> Mode:
        return "benchmark"

    def embedder(self) -> Embedder:
        """The ranking embedder, or the bundled model in the paper's setting (the preference
        model reads embeddings even when every tool and event is shown)."""
        if self.embed is not None:
            return self.embed
        from profiles.embeddings import embed_texts

        return embed_texts

    def profile(self, user: str) -> UserProfile:
        used = sorted({e["platform"] for e in self.sample["history"]})
        return UserProfile(user_id="", username="",
                           basic_features=dict(self.sample["basic_features"]),
                           used_platforms=used)

    def candidates(self, request: str, per_platform: int | None,
                   last_turn: Turn | None) -> Retrieved:
        return Retrieved(**retrieval.inline_candidates(self.sample, request, self.embed,
                                                       per_platform))

    def evidence(self, user_id: str, request: str, scenario: str | None,
                 platforms: Sequence[str], k: int | None) -> list[Event]:
        return retrieval.rank_events(self.sample["history"], request, self.embed, k, platforms)

    def scenario_history(self, user_id: str, scenario: str | None,
                         platforms: Sequence[str]) -> list[Event]:
        return retrieval.scope_events(self.sample["history"], platforms)

    def execute(self, user_id: str, platform: str, calls: Sequence[ToolCall],
                candidates: Sequence[Candidate], key: str) -> Executed:
        raise RuntimeError("benchmark mode executes nothing (route_after_validate ends the "
                           "turn after validation)")
