"""The engine's batched decode loop, on a toy backend whose next token is the last one plus one.

What is checked: several requests share forward passes and each still gets the answer it gets
alone; a request that arrives while others run joins them; a request that finds every sequence
busy waits for one instead of failing; a request that fails or is cancelled leaves the others
running and frees its sequence.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import pytest
import torch

from train.serving.engine import Engine, Finished, GenerationJob, LoadedModel, NoRoomError

VOCAB = 12
EOS = 11


class _CharTokenizer:
    eos_token_id = EOS

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(ord("a") + i) for i in ids if i != EOS)


class _Session:
    def __init__(self, prompt: list[int]) -> None:
        self.fed: list[int] = []
        self.reused = 0

    def step(self, ids: list[int]) -> torch.Tensor:
        self.fed.extend(ids)
        logits = torch.zeros(1, VOCAB)
        logits[0, (self.fed[-1] + 1) % VOCAB] = 1.0
        return logits


class _CountingBackend:
    """``slots`` sequences; records how many sessions each forward pass carried."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.open = 0
        self.batch_sizes: list[int] = []
        self.gate: threading.Event | None = None
        """When set, the first forward pass waits for it (so tests can queue jobs meanwhile)."""

    @contextmanager
    def session(self, prompt: list[int], adapter: str | None,
                reserve: int = 0) -> Iterator[_Session]:
        if self.open >= self.slots:
            raise NoRoomError("busy")
        self.open += 1
        try:
            yield _Session(prompt)
        finally:
            self.open -= 1

    def step_many(self, feeds: Sequence[tuple[Any, list[int]]]) -> list[torch.Tensor]:
        if self.gate is not None:
            self.gate.wait(timeout=10)
            self.gate = None
        self.batch_sizes.append(len(feeds))
        return [session.step(ids) for session, ids in feeds]


def _engine(backend: _CountingBackend) -> Engine:
    loaded = LoadedModel(tokenizer=_CharTokenizer(), base_name="toy", adapters={},
                         eos_ids={EOS}, vocab_size=VOCAB, backend=cast(Any, backend))
    return Engine(loaded)


def _job(first: int, max_tokens: int = 20, **kwargs: Any) -> tuple[GenerationJob, list[object]]:
    events: list[object] = []
    done = threading.Event()

    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, Finished):
            done.set()

    job = GenerationJob(prompt_ids=[first], emit=emit, max_tokens=max_tokens, **kwargs)
    job.done = done  # type: ignore[attr-defined]
    return job, events


def _finish(job: GenerationJob, events: list[object]) -> Finished:
    assert job.done.wait(timeout=10), "the job never finished"  # type: ignore[attr-defined]
    last = events[-1]
    assert isinstance(last, Finished)
    return last


def _answers(engine: Engine, backend: _CountingBackend, firsts: Sequence[int]) -> list[Finished]:
    """Submit one job per first token while the backend holds its first pass, then collect."""
    backend.gate = threading.Event()
    jobs = [_job(first) for first in firsts]
    engine.start()
    try:
        for job, _ in jobs:
            engine.submit(job)
        backend.gate.set()
        return [_finish(job, events) for job, events in jobs]
    finally:
        engine.stop()


@pytest.fixture
def backend() -> _CountingBackend:
    return _CountingBackend(slots=4)


def test_concurrent_jobs_share_forward_passes_and_keep_their_answers(
    backend: _CountingBackend,
) -> None:
    engine = _engine(backend)
    answers = _answers(engine, backend, (0, 3, 6, 8))
    # Alone, a prompt [n] decodes n+1, n+2, ... up to the end-of-sequence token.
    assert [a.text for a in answers] == ["bcdefghijk", "efghijk", "hijk", "jk"]
    assert all(a.finish_reason == "stop" for a in answers)
    assert max(backend.batch_sizes) > 1
    assert sum(backend.batch_sizes) == sum(len(a.text) + 1 for a in answers)
    assert len(backend.batch_sizes) < sum(len(a.text) + 1 for a in answers)
    assert engine.stats["batched_steps"] > 0 and engine.stats["completed"] == 4


def test_a_job_waits_for_a_free_sequence_instead_of_failing() -> None:
    backend = _CountingBackend(slots=2)
    answers = _answers(_engine(backend), backend, (0, 1, 2))
    assert [a.text for a in answers] == ["bcdefghijk", "cdefghijk", "defghijk"]
    assert max(backend.batch_sizes) == 2


class _Exploding:
    """A grammar whose mask fails on its second token."""

    finished = False

    def __init__(self) -> None:
        self.calls = 0

    def mask(self, logits: torch.Tensor) -> None:
        self.calls += 1
        if self.calls == 2:
            raise ValueError("grammar broke")

    def accept(self, token: int) -> None:
        pass

    def forced_text(self) -> str:
        return ""


def test_a_failing_or_cancelled_job_leaves_the_others_running(backend: _CountingBackend) -> None:
    engine = _engine(backend)
    backend.gate = threading.Event()
    good, good_events = _job(0)
    bad, bad_events = _job(0, constraint=cast(Any, _Exploding()))
    gone, gone_events = _job(0)
    gone.cancelled.set()
    engine.start()
    try:
        for job in (good, bad, gone):
            engine.submit(job)
        backend.gate.set()
        assert _finish(good, good_events).text == "bcdefghijk"
        failed = _finish(bad, bad_events)
    finally:
        engine.stop()
    assert failed.finish_reason == "error" and "grammar broke" in (failed.error or "")
    assert not gone_events  # dropped before it took a sequence
    assert backend.open == 0  # every session was closed
    assert engine.stats["failed"] == 1 and engine.stats["cancelled"] == 1


def test_max_tokens_ends_a_job_with_length(backend: _CountingBackend) -> None:
    engine = _engine(backend)
    job, events = _job(0, max_tokens=3)
    engine.start()
    try:
        engine.submit(job)
        answer = _finish(job, events)
    finally:
        engine.stop()
    assert (answer.text, answer.finish_reason, answer.completion_tokens) == ("bcd", "length", 3)
