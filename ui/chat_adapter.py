"""The app's one door into the assistant: run a turn, answer consent, list and replay threads.

Why an adapter: ``assistant.turns`` already returns everything a chat turn shows -- its
:class:`~assistant.turns.TurnResult` carries the calls, provenance, executions, retrieved
evidence, validation checks and the scenario's platforms -- so the app renders that result as is
and no turn logic lives here. What the adapter adds is the per-call resources (a checkpointer
connection per turn, so no connection is shared between browser sessions) and the
:class:`Context` built from the app's one workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlmodel import Session

from assistant import accounts, turns
from assistant.context import Context
from assistant.graph import AssistantGraph, build_graph
from profiles import crud
from ui.wiring import Workspace, open_checkpointer_for, thread_forget_hook

ChatModelFactory = Callable[[], BaseChatModel]
"""Called once per turn: cheap for ``ChatOpenAI``; lets tests hand out scripted fakes."""


@dataclass(frozen=True)
class ThreadInfo:
    id: str
    title: str
    updated: str


class ChatService:
    """Stateless between calls (apart from read-only catalog embeddings): safe to share between
    browser sessions, which differ only in the user and thread ids they pass in."""

    def __init__(self, workspace: Workspace, chat_model_factory: ChatModelFactory) -> None:
        self.workspace = workspace
        self.chat_model_factory = chat_model_factory
        # lazy: embeds on first use; the cache keeps a user's event vectors between turns
        self.tool_index = workspace.tool_index()

    def context(self) -> Context:
        ws = self.workspace
        return Context(chat_model=self.chat_model_factory(), source=ws.source(self.tool_index),
                       answer_grammar=ws.settings.answer_grammar,
                       preference=ws.settings.preference,
                       preapproved=ws.settings.preapproved)

    @contextmanager
    def _graph(self) -> Iterator[AssistantGraph]:
        with open_checkpointer_for(self.workspace.settings) as saver:
            yield build_graph(saver)

    def send(self, *, user: str, text: str, thread_id: str | None) -> turns.TurnResult:
        """One turn (a yes/no reply resumes a pending consent question, as in the CLI)."""
        with self._graph() as graph:
            return turns.run_turn(graph, context=self.context(), user=user, request=text,
                                  thread_id=thread_id)

    def consent(self, *, thread_id: str, granted: bool) -> turns.TurnResult:
        """The answer to the consent question a thread is paused on (the Yes/No buttons)."""
        with self._graph() as graph:
            return turns.answer_consent(graph, context=self.context(), thread_id=thread_id,
                                        granted=granted)

    def threads(self, user_id: str) -> list[ThreadInfo]:
        with Session(self.workspace.engine) as session:
            rows = crud.list_threads(session=session, user_id=user_id)
            return [ThreadInfo(id=t.id, title=t.title or "(untitled)",
                               updated=t.updated_at.isoformat()[:16].replace("T", " "))
                    for t in rows]

    def replay(self, thread_id: str) -> list[dict[str, Any]]:
        """The finished turns of a thread (request, platform, calls, results, answer)."""
        with self._graph() as graph:
            return turns.thread_turns(graph, thread_id)

    def forget(self, name_or_id: str) -> accounts.ForgetReport:
        ws = self.workspace
        return accounts.forget_user(engine=ws.engine, index=ws.index, name_or_id=name_or_id,
                                    forget_hooks=[thread_forget_hook(ws.settings)])

