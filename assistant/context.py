"""Per-run settings and injected services, passed to every node as ``runtime.context``.

Why a dataclass in the run context instead of globals or a god object: the chat model, stores
and knobs differ per caller (CLI, app, eval, tests) and per run, and none of them belongs in the
checkpointed state. The composition root builds one; nodes only read it. Where data comes from
is one field, ``source``, so that benchmark mode (one inline sample, no stores) runs the very
same graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from langchain_core.language_models import BaseChatModel

from assistant.preference import PreferenceWeights
from assistant.sources import DataSource, StoreSource

ConsentPolicy = Literal["ask_once", "never_ask"]
PreferenceMode = Literal["off", "hint", "constrain"]
"""What the preference model's scores do: nothing (the paper's pure-LLM setting), go into the
prompt as evidence (``hint``), or also narrow the answer grammar to the top platform when its
probability clears the threshold chosen on the dev users (``constrain``)."""

DEFAULT_PREFERENCE: PreferenceMode = "constrain"
"""Measured best on PTBench (``bench/RESULTS.md``, preference model section)."""

DEFAULT_CONSTRAIN_THRESHOLD = 0.0
"""``constrain`` narrows to the model's top platform whatever its probability. Why: on the 28 of
500 dev-user requests where the top probability was below the trained model's confidence point
(0.72), the language model chose the right platform 9 times and the preference model's top 19
times (``bench/RESULTS.md``, preference model section)."""

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

    ``source`` is where the data comes from (``assistant.sources``: the stores for chat, one
    inline sample for the benchmark); every node asks it and none branches on the mode.
    ``history_k`` / ``tools_per_platform``: ``None`` means "everything" (the paper's setting);
    small numbers keep the prompt short on a CPU. ``interactive`` allows clarifying questions and
    consent prompts; benchmark mode turns it off (the paper's prompt forbids asking back).
    ``answer_grammar`` sends the answer format as a grammar (``assistant.answer_grammar``) for
    constrained decoding; turn it off for endpoints without vLLM-style structured outputs.
    ``preference`` (:data:`PreferenceMode`) and ``preference_weights`` (``None``: the shipped
    model) set up the platform preference model; ``constrain_threshold`` is the top probability
    from which ``constrain`` narrows (``None``: the weights' own confidence point, chosen in
    training for precision). ``grounding`` offers the model only the APIs
    the intent scorer is sure of and, for each parameter, the candidate values code found
    (``assistant.grounding``); off, the grammar allows any API of the candidates and any value
    of the schema's type. ``intent_threshold`` (``None``: the shipped scorer's) is the
    probability above which only the scorer's API is offered. ``now`` is the clock relative
    dates are resolved against (tests fix it). ``preapproved`` holds ``Platform.api`` or
    ``Platform.*`` entries that run without asking first (``assistant.safety``); a recipient or
    amount taken from untrusted text is asked about anyway.
    """

    chat_model: BaseChatModel
    source: DataSource
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
    preference: PreferenceMode = DEFAULT_PREFERENCE
    preference_weights: PreferenceWeights | None = None
    constrain_threshold: float | None = DEFAULT_CONSTRAIN_THRESHOLD
    grounding: bool = True
    intent_threshold: float | None = None
    now: Callable[[], datetime] = datetime.now
    preapproved: frozenset[str] = frozenset()

    def store(self) -> StoreSource:
        """The store-backed source (thread ownership needs the database), or a clear error."""
        if not isinstance(self.source, StoreSource):
            raise ValueError("chat threads need Context(source=StoreSource(...)); a sample "
                             "source is for benchmark runs")
        return self.source
