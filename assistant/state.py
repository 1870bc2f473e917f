"""The graph's state: what one chat thread remembers, checkpointed after every node.

Why plain ``TypedDict`` values (strings, numbers, lists, dicts) rather than pydantic objects or
catalog models: the SQLite checkpointer serialises the state, and plain values round-trip without
registering types with its serializer, survive code changes between a thread's turns, and are
what the CLI's ``--json`` prints. Typed wrappers live at the package boundary (``runtime.py``).

Keys fall in three groups:

* **input** -- ``request`` and, in chat, ``user`` (:class:`TurnInput`); where the data comes from
  is ``Context.source``, not the state;
* **per turn** -- reset by ``load_profile`` at the start of every turn;
* **per thread** -- ``turns``, ``pending_request`` and ``consented_platforms`` outlive a turn.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

Mode = Literal["store", "benchmark"]
Status = Literal["running", "done", "clarify", "invalid", "declined", "failed"]
SourceKind = Literal["request", "profile", "history", "earlier_turn", "inferred"]


class Event(TypedDict):
    """One behaviour-history event shown to the model (``id`` is the store id or ``h<n>``)."""

    id: str
    scenario: str
    platform: str
    action: str
    timestamp: str


class PlatformInfo(TypedDict):
    """A platform of the scenario and its characteristics (why a user may prefer it)."""

    name: str
    profile: dict[str, Any]


class Candidate(TypedDict):
    """One callable API for this request. ``platform`` is ``None`` when an inline benchmark
    tool cannot be attributed to a platform (it is then callable on any of them)."""

    platform: str | None
    tool: dict[str, Any]
    effect: str
    record: str | None
    intent: float
    """The intent scorer's probability that the request asks for this API (0 when unscored)."""


class ToolCall(TypedDict):
    name: str
    arguments: dict[str, Any]


class CallCheck(TypedDict):
    name: str
    valid: bool
    error_type: str | None
    errors: list[str]


class Source(TypedDict):
    """Where one argument value came from, computed by code (``provenance.py``)."""

    kind: SourceKind
    detail: str
    event_id: str | None


ValueKind = Literal[
    "personal", "date", "time", "datetime", "id", "text", "number", "other"]


class ValueOption(TypedDict):
    """One value the answer grammar offers for a parameter, and where it comes from."""

    value: str
    source: Source


class ParamOptions(TypedDict):
    """What the grammar allows for one parameter (``assistant.grounding``): the candidates,
    whether the model may also write its own text, and whether an optional parameter is
    offered at all."""

    kind: ValueKind
    candidates: list[ValueOption]
    free_text: bool
    offer: bool


class CallProvenance(TypedDict):
    name: str
    arguments: dict[str, Source]


class Confirmation(TypedDict):
    """What a turn waits for a "yes" to (``assistant.safety``): the exact calls with each
    value's source, and why it asks -- APIs that change something (``changes``), recipients or
    amounts taken from untrusted text (``untrusted``, ``call.param``), sensitive profile fields
    going to a platform the user never used (``features``)."""

    platform: str
    calls: list[dict[str, Any]]
    changes: list[str]
    untrusted: list[str]
    features: list[str]


class Execution(TypedDict):
    """The mock platform's answer to one call (tool output: untrusted text)."""

    platform: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    response: dict[str, Any]


class Pin(TypedDict):
    """The platform the request itself fixes (``assistant.pinning``) and why, for the user."""

    platform: str
    reason: str


class ScoredPlatform(TypedDict):
    platform: str
    probability: float


class PreferenceReason(TypedDict):
    """An event or profile field that drove the preference model's choice."""

    kind: str
    platform: str
    text: str
    event_id: str | None
    weight: float


class PreferenceView(TypedDict):
    """The preference model's output for this turn (``assistant.preference``), best first."""

    scores: list[ScoredPlatform]
    reasons: list[PreferenceReason]
    history_events: int


class Attempt(TypedDict):
    """One model answer that failed validation; fed back to the model in the repair round."""

    raw: str
    errors: list[str]


class Turn(TypedDict):
    """What a finished turn leaves in the thread (shown to the model in later turns)."""

    request: str
    status: str
    platform: str | None
    calls: list[ToolCall]
    results: list[dict[str, Any]]
    answer: str


class InlineSample(TypedDict):
    """One PTBench sample's profile, platforms and tools (``sources.SampleSource`` serves it)."""

    basic_features: dict[str, Any]
    history: list[Event]
    platforms: list[PlatformInfo]
    tools: list[dict[str, Any]]


class TurnInput(TypedDict, total=False):
    """What a caller passes to start a turn (the graph's input schema)."""

    request: str
    user: str


class State(TypedDict, total=False):
    # input
    request: str
    user: str
    # per turn (reset by load_profile)
    mode: Mode
    user_id: str
    username: str
    basic_features: dict[str, Any]
    used_platforms: list[str]
    effective_request: str
    scenario: str | None
    platforms: list[PlatformInfo]
    candidates: list[Candidate]
    evidence: list[Event]
    pin: Pin | None
    preference: PreferenceView | None
    narrowed_to: str | None
    offered_apis: list[str]
    value_options: dict[str, dict[str, ParamOptions]]
    raw: str
    prompt_tokens: int
    prompt_tokens_last: int
    token_count_method: str
    platform: str | None
    calls: list[ToolCall]
    parse_error: str | None
    checks: list[CallCheck]
    problem: str | None
    attempts: list[Attempt]
    repairs_left: int
    clarify_question: str | None
    provenance: list[CallProvenance]
    platform_support: list[Event]
    needs_consent: list[str]
    confirmation: Confirmation | None
    consent: Literal["not_needed", "granted", "denied"]
    turn_id: str
    executions: list[Execution]
    recorded_event_ids: list[str]
    status: Status
    answer: str
    # per thread
    turns: Annotated[list[Turn], operator.add]
    pending_request: str | None
    consented_platforms: Annotated[list[str], operator.add]
