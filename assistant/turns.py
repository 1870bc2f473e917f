"""One chat turn for a stored user, as the CLI and the app call it.

Why a thin layer over ``graph.invoke``: thread ownership (a user can only continue their own
threads), the confirmation interrupt (a "yes"/"no" reply resumes it), one turn at a time per
thread (two "yes" clicks resume once), and one typed result for ``--json`` and the UI. The
graph, the context and the stores are passed in; the only state here is the per-thread locks.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant import accounts
from assistant.checkpoints import delete_threads
from assistant.context import Context
from assistant.errors import ThreadNotFound
from assistant.graph import AssistantGraph
from profiles import crud
from profiles.crud import UnknownUser
from profiles.models import ChatThread

TurnStatus = Literal["done", "clarify", "consent", "invalid", "declined", "failed"]
_YES = {"y", "yes", "ok", "sure", "go ahead", "true"}
_NO = {"n", "no", "cancel", "stop", "false"}
_THREAD_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def _thread_lock(thread_id: str) -> threading.Lock:
    """One lock per thread in this process: a turn and its resume never run side by side.
    Across processes the turn's idempotency key keeps a call from running twice."""
    with _LOCKS_GUARD:
        return _THREAD_LOCKS[thread_id]


class TurnResult(BaseModel):
    """What a turn produced (``ptool chat --json`` prints this)."""

    thread_id: str
    status: TurnStatus
    answer: str
    platform: str | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)
    provenance: list[dict[str, Any]] = Field(default_factory=list)
    platform_support: list[dict[str, Any]] = Field(default_factory=list)
    pin_reason: str | None = None
    preference: dict[str, Any] | None = None
    narrowed_to: str | None = None
    offered_apis: list[str] = Field(default_factory=list)
    executions: list[dict[str, Any]] = Field(default_factory=list)
    consent_features: list[str] = Field(default_factory=list)
    confirmation: dict[str, Any] | None = Field(
        default=None, description="While status is 'consent': the calls waiting for a yes, "
        "each value's source, and why it asks (assistant.safety).")
    raw: str = ""
    prompt_tokens: int = 0
    token_count_method: str = ""
    scenario: str | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    checks: list[dict[str, Any]] = Field(default_factory=list)
    platforms: list[dict[str, Any]] = Field(default_factory=list)


def start_thread(*, engine: Engine, user_id: str, title: str = "") -> str:
    with Session(engine) as session:
        thread = crud.create_thread(session=session, user_id=user_id, title=title[:80])
        session.commit()
        return thread.id


def _own_thread(engine: Engine, user_id: str, thread_id: str, username: str) -> None:
    with Session(engine) as session:
        thread = session.get(ChatThread, thread_id)
        if thread is None or thread.user_id != user_id:
            raise ThreadNotFound(f"no chat thread {thread_id!r} for {username}; list them with "
                                 f"`ptool chat --user {username} --threads`")
        thread.updated_at = datetime.now(UTC)
        session.add(thread)
        session.commit()


def _reply_kind(text: str) -> bool | None:
    word = text.strip().lower().rstrip(".!")
    return True if word in _YES else False if word in _NO else None


def run_turn(
    graph: AssistantGraph, *, context: Context, user: str, request: str,
    thread_id: str | None = None,
) -> TurnResult:
    """Answer ``request`` for ``user`` (name or id) in a new or existing thread.

    Raises ``UnknownUser``, ``ThreadNotFound`` or ``ModelUnavailable`` with a message to show.
    A yes/no reply to a pending consent question resumes it; any other text starts a new turn
    (the pending call is dropped, nothing is sent)."""
    engine = context.store().engine
    with Session(engine) as session:
        owner = crud.require_user(session=session, name_or_id=user)
        user_id, username = owner.id, owner.username
    if thread_id is None:
        thread_id = start_thread(engine=engine, user_id=user_id, title=request)
    else:
        _own_thread(engine, user_id, thread_id, username)
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    with _thread_lock(thread_id):
        pending = graph.get_state(config).interrupts
        reply = _reply_kind(request)
        try:
            if pending and reply is not None:
                graph.invoke(Command(resume=reply), config, context=context)
            else:
                graph.invoke({"request": request, "user": user_id}, config,
                             context=context)
        finally:
            _unless_forgotten(graph, context, user_id, thread_id, username)
        return thread_result(graph, thread_id)


def answer_consent(graph: AssistantGraph, *, context: Context, thread_id: str,
                   granted: bool) -> TurnResult:
    """Resume a turn waiting for a yes/no. A second answer to the same question (a double
    click, a retried request) finds nothing pending and changes nothing."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    with _thread_lock(thread_id):
        snapshot = graph.get_state(config)
        if snapshot.interrupts:
            user_id = str(snapshot.values.get("user_id", ""))
            try:
                graph.invoke(Command(resume=granted), config, context=context)
            finally:
                _unless_forgotten(graph, context, user_id, thread_id, user_id)
        return thread_result(graph, thread_id)


def _unless_forgotten(graph: AssistantGraph, context: Context, user_id: str, thread_id: str,
                      username: str) -> None:
    """A turn that ran while its user was forgotten leaves nothing behind: what it wrote
    after the forget (checkpoints, records) is deleted and the turn reports an unknown user."""
    if not accounts.sweep_forgotten(engine=context.store().engine, user_id=user_id):
        return
    saver = graph.checkpointer
    if isinstance(saver, BaseCheckpointSaver):  # SQLite or PostgreSQL alike
        delete_threads(saver, [thread_id])
    raise UnknownUser(f"{username!r} was forgotten while this turn ran; nothing of it was kept")


def _pin_reason(values: dict[str, Any]) -> str | None:
    """Why the request fixed the platform, when the answer is on that platform."""
    pin = values.get("pin")
    return pin["reason"] if pin and pin["platform"] == values.get("platform") else None


def thread_result(graph: AssistantGraph, thread_id: str) -> TurnResult:
    """The latest turn of a thread, including a pending consent question."""
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    values: dict[str, Any] = dict(snapshot.values)
    common: dict[str, Any] = {
        "thread_id": thread_id, "platform": values.get("platform"),
        "calls": values.get("calls", []), "provenance": values.get("provenance", []),
        "platform_support": values.get("platform_support", []),
        "pin_reason": _pin_reason(values),
        "preference": values.get("preference"), "narrowed_to": values.get("narrowed_to"),
        "offered_apis": values.get("offered_apis") or [],
        "executions": values.get("executions", []), "raw": values.get("raw", ""),
        "prompt_tokens": values.get("prompt_tokens", 0),
        "token_count_method": values.get("token_count_method", ""),
        "scenario": values.get("scenario"),
        "evidence": [dict(e) for e in values.get("evidence", [])],
        "checks": [dict(c) for c in values.get("checks", [])],
        "platforms": [dict(p) for p in values.get("platforms", [])],
    }
    if snapshot.interrupts:
        ask = snapshot.interrupts[0].value
        return TurnResult(status="consent", answer=str(ask.get("question", "")),
                          consent_features=list(ask.get("features", [])),
                          confirmation={k: v for k, v in ask.items() if k != "question"},
                          **common)
    return TurnResult(status=values.get("status", "failed"), answer=values.get("answer", ""),
                      **common)


def thread_turns(graph: AssistantGraph, thread_id: str) -> list[dict[str, Any]]:
    """Every finished turn of a thread (what a restarted process resumes from)."""
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    return list(snapshot.values.get("turns", []))
