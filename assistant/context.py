"""Per-run settings and injected services, passed to every node as ``runtime.context``.

Why a dataclass in the run context instead of globals or a god object: the chat model, stores
and knobs differ per caller (CLI, app, eval, tests) and per run, and none of them belongs in the
checkpointed state. The composition root builds one; nodes only read it. Store-mode services are
optional so that benchmark mode (inline sample, no stores) runs the very same graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from sqlalchemy.engine import Engine

from profiles.history_index import HistoryIndex
from toolcatalog.executor import MockExecutor
from toolcatalog.models import Catalog
from toolcatalog.retrieval import Embedder, ToolIndex

ConsentPolicy = Literal["ask_once", "never_ask"]

DEFAULT_HISTORY_K = 12
"""History events a runtime turn shows the model. Why 12: a reader that knows the user's rule
picks the right platform for 76.8 % of untrained users from the 5 most similar events but 93.1 %
from 12 (``bench/history_ceiling.py``); urgent / premium overrides need events that similarity
to the request does not rank first. An event is ~15 tokens, so 12 cost ~100 more than 5."""

DEFAULT_TOOLS_PER_PLATFORM = 3
"""Candidate APIs per platform a runtime turn shows the model (the best-ranked ones)."""


@dataclass(frozen=True)
class Context:
    """What one run of the graph may use.

    ``history_k`` / ``tools_per_platform``: ``None`` means "everything" (the paper's setting);
    small numbers keep the prompt short on a CPU. ``interactive`` allows clarifying questions and
    consent prompts; benchmark mode turns it off (the paper's prompt forbids asking back).
    ``answer_grammar`` sends the answer format as a grammar (``assistant.answer_grammar``) for
    constrained decoding; turn it off for endpoints without vLLM-style structured outputs.
    """

    chat_model: BaseChatModel
    catalog: Catalog | None = None
    engine: Engine | None = None
    history_index: HistoryIndex | None = None
    tool_index: ToolIndex | None = None
    executor: MockExecutor | None = None
    embed: Embedder | None = None
    history_k: int | None = DEFAULT_HISTORY_K
    tools_per_platform: int | None = DEFAULT_TOOLS_PER_PLATFORM
    max_repairs: int = 1
    prior_turns: int = 3
    consent: ConsentPolicy = "ask_once"
    interactive: bool = True
    count_tokens: Callable[[str], int] | None = None
    model_label: str = "the chat model"
    max_new_tokens: int | None = None
    answer_grammar: bool = True

    def need_store(self) -> tuple[Engine, HistoryIndex, Catalog, ToolIndex, MockExecutor]:
        """The store-mode services, or a clear error naming what the caller forgot to wire."""
        parts = {"engine": self.engine, "history_index": self.history_index,
                 "catalog": self.catalog, "tool_index": self.tool_index,
                 "executor": self.executor}
        missing = [name for name, value in parts.items() if value is None]
        if missing:
            raise ValueError(f"store mode needs Context.{', Context.'.join(missing)}")
        assert self.engine is not None and self.history_index is not None  # for mypy
        assert self.catalog is not None and self.tool_index is not None
        assert self.executor is not None
        return self.engine, self.history_index, self.catalog, self.tool_index, self.executor
