"""The CPU inference engine: one decode loop over a forward-pass backend, and a request queue.

Why our own decode loop instead of ``model.generate`` / llama.cpp's sampler: per token we need
the grammar mask (xgrammar), jump-forward over forced text, streaming, a cancel check (client
gone) and a reusable KV cache of the prompt prefix. Keeping that loop here means the torch and
the llama.cpp backends answer a request identically up to their logits.

One worker thread runs the model and serves up to ``backend.slots`` requests at once: each step
is one forward pass carrying the next tokens of every running request (llama.cpp batches them as
sequences of one call; on 2 cores two separate forward passes would only split the same cores).
A request joins the running ones at the next step, pre-filling its prompt in that pass; the
rest wait in a bounded queue and the server answers 503 when it is full.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from train.serving.constrained import Constraint, GrammarFactory

log = logging.getLogger(__name__)


class QueueFullError(RuntimeError):
    """Too many requests are waiting; the caller should retry later (HTTP 503)."""


class NoRoomError(RuntimeError):
    """The backend cannot start another sequence until a running one ends (the engine waits)."""


@dataclass
class GenerationJob:
    """One request for the worker. ``emit`` receives text deltas, then one :class:`Finished`."""

    prompt_ids: list[int]
    emit: Callable[[object], None]
    adapter: str | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    constraint: Constraint | None = None
    ignore_eos: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Finished:
    """End of a generation, with the OpenAI ``finish_reason`` and timing for the benchmark."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    prefill_s: float
    decode_s: float
    error: str | None = None
    forced_tokens: int = 0
    """Completion tokens the grammar forced (fed without a forward pass of their own)."""


class ForwardSession(Protocol):
    """One generation on one backend: feed token ids, get the last position's logits."""

    @property
    def reused(self) -> int:
        """Prompt tokens whose KV cache was reused (not fed again)."""

    def step(self, ids: list[int]) -> torch.Tensor:
        """Feed ``ids`` after what was fed so far; float32 logits of the last one, [1, vocab]."""


class Backend(Protocol):
    """Runs forward passes: torch (:mod:`train.serving.torch_backend`) or llama.cpp
    (:mod:`train.serving.llama_backend`). The decode loop, grammar and streaming live in
    :class:`Engine`, so both backends answer the same requests the same way."""

    slots: int
    """How many sessions may be open at once (their steps then run in one :meth:`step_many`)."""

    def session(
        self, prompt: list[int], adapter: str | None, reserve: int = 0
    ) -> AbstractContextManager[ForwardSession]:
        """A session for ``prompt`` with room for ``reserve`` generated tokens (reusing a cached
        prefix when it can); closing it lets the backend keep the sequence's cache for the next
        request. Entering raises :class:`NoRoomError` while no session can start."""

    def step_many(self, feeds: Sequence[tuple[Any, list[int]]]) -> list[torch.Tensor]:
        """One step of several open sessions: feed each its ``ids``; each one's last logits."""


@dataclass
class LoadedModel:
    """What the engine serves: a tokenizer, the adapters' names and the backend running them."""

    tokenizer: Any
    base_name: str
    adapters: dict[str, Path]
    eos_ids: set[int]
    vocab_size: int
    backend: Backend
    engine: str = "torch"
    """Which backend: ``torch`` or ``llama.cpp`` (shown by ``/health``)."""
    _grammars: GrammarFactory | None = None
    _grammars_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def grammars(self) -> GrammarFactory:
        """Built once, on first use, so plain chat works even without xgrammar. Request
        threads and the engine's warm-up may ask at the same time."""
        with self._grammars_lock:
            if self._grammars is None:
                self._grammars = GrammarFactory(self.tokenizer, self.vocab_size)
            return self._grammars

    def warm_up(self) -> None:
        """Build the grammar factory ahead of the first request: importing xgrammar and reading
        the vocabulary take about 1.5 s on 2 cores, which a one-shot ``ptool chat`` would
        otherwise wait for after the server was already up. Without xgrammar nothing happens
        here; the structured request that needs it gets the error."""
        with contextlib.suppress(Exception):  # the first request that needs it reports it
            _ = self.grammars


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def eos_ids(tokenizer: Any, configured: int | list[int] | None) -> set[int]:
    """End-of-sequence ids: the tokenizer's plus the model's generation config's."""
    eos: set[int] = set()
    for value in (tokenizer.eos_token_id, configured):
        if isinstance(value, int):
            eos.add(value)
        elif isinstance(value, list):
            eos.update(value)
    return eos


class _Run:
    """One job being decoded: its open session, what to feed next, and what it produced."""

    def __init__(self, engine: Engine, job: GenerationJob) -> None:
        self.engine, self.job = engine, job
        self.t0 = time.perf_counter()
        self._stack = ExitStack()
        self.session: ForwardSession = self._stack.enter_context(
            engine.loaded.backend.session(job.prompt_ids, job.adapter, job.max_tokens))
        self.feed = job.prompt_ids[self.session.reused:]
        self.generator = None
        if job.temperature > 0:
            self.generator = torch.Generator().manual_seed(job.seed if job.seed is not None else 0)
        self.generated: list[int] = []
        self.text = ""
        self.finish = "length"
        self.prefill_s: float | None = None
        self.forced_count = 0

    def advance(self, logits: torch.Tensor) -> bool:
        """Take the logits of the last feed: pick a token, stream text; ``True`` when done."""
        job, tok = self.job, self.engine.loaded.tokenizer
        if self.prefill_s is None:
            self.prefill_s = time.perf_counter() - self.t0
        if job.constraint is not None:
            job.constraint.mask(logits)
        token = _pick(logits, job.temperature, job.top_p, self.generator)
        if job.constraint is not None:
            job.constraint.accept(token)
        if token in self.engine.loaded.eos_ids and not job.ignore_eos:
            self.finish = "stop"
            return True
        self.generated.append(token)
        new_text = tok.decode(self.generated, skip_special_tokens=True)
        hit = _find_stop(new_text, job.stop)
        if hit is not None:
            new_text, self.finish = new_text[:hit], "stop"
        if len(new_text) > len(self.text) and not new_text.endswith("\ufffd"):
            job.emit(new_text[len(self.text):])
            self.text = new_text
        if self.finish == "stop" or (job.constraint is not None and job.constraint.finished):
            self.finish = "stop"
            return True
        if job.cancelled.is_set():
            self.finish = "cancelled"
            return True
        if len(self.generated) >= job.max_tokens:
            return True
        forced = self.engine._forced_ids(job, self.text, new_text, len(self.generated))
        self.generated.extend(forced)
        self.forced_count += len(forced)
        self.feed = [token, *forced]
        return len(self.generated) >= job.max_tokens

    def close(self) -> None:
        """Release the session and send the job its :class:`Finished`."""
        self._stack.close()
        job = self.job
        final = self.engine.loaded.tokenizer.decode(self.generated, skip_special_tokens=True)
        hit = _find_stop(final, job.stop)
        if hit is not None:
            final = final[:hit]
        if len(final) > len(self.text):
            job.emit(final[len(self.text):])
        total = time.perf_counter() - self.t0
        prefill = self.prefill_s if self.prefill_s is not None else total
        self.engine.stats["cancelled" if self.finish == "cancelled" else "completed"] += 1
        job.emit(Finished(final, self.finish, len(job.prompt_ids), len(self.generated),
                          self.session.reused, prefill, total - prefill,
                          forced_tokens=self.forced_count))

    def fail(self, exc: BaseException) -> None:
        self._stack.close()
        self.engine._fail(self.job, exc)


class Engine:
    """Runs :class:`GenerationJob` s on a worker thread, up to ``backend.slots`` at once."""

    def __init__(self, loaded: LoadedModel, *, max_queue: int = 16,
                 jump_forward: bool = True, warm_up: bool = False) -> None:
        self.loaded = loaded
        self.jump_forward = jump_forward
        self._warm_up = warm_up
        """Build the grammar factory in the background at start (the server; tests leave it)."""
        self._jobs: queue.Queue[GenerationJob | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stats = {"completed": 0, "cancelled": 0, "failed": 0, "batched_steps": 0}
        """Counters for /health: a cancelled count shows dropped clients really free the model;
        ``batched_steps`` counts forward passes that carried more than one request."""

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ptool-engine", daemon=True)
                self._thread.start()
                if self._warm_up:
                    threading.Thread(target=self.loaded.warm_up, name="ptool-warm-up",
                                     daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(timeout=30)
                self._thread = None

    @property
    def waiting(self) -> int:
        return self._jobs.qsize()

    def submit(self, job: GenerationJob) -> None:
        """Queue a job; raise :class:`QueueFullError` instead of blocking when full."""
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise QueueFullError(
                f"{self._jobs.maxsize} requests already waiting; retry shortly"
            ) from None

    def _fail(self, job: GenerationJob, exc: BaseException) -> None:
        log.error("generation failed: %s", exc, exc_info=exc)
        self.stats["failed"] += 1
        job.emit(Finished("", "error", len(job.prompt_ids), 0, 0, 0.0, 0.0, str(exc)))

    def _run(self) -> None:
        active: list[_Run] = []
        held: GenerationJob | None = None  # waits for room the running jobs hold
        stopping = False
        while not (stopping and not active):
            while not stopping and len(active) < max(1, self.loaded.backend.slots):
                job = held
                held = None
                if job is None:
                    try:
                        job = self._jobs.get(block=not active)
                    except queue.Empty:
                        break
                if job is None:
                    stopping = True
                    break
                if job.cancelled.is_set():
                    self.stats["cancelled"] += 1
                    continue
                try:
                    active.append(_Run(self, job))
                except NoRoomError:
                    held = job
                    break
                except Exception as exc:  # a bad request must not kill the worker
                    self._fail(job, exc)
            if active:
                active = self._step(active)
        if held is not None:
            self._fail(held, RuntimeError("the server is stopping"))

    def _step(self, active: list[_Run]) -> list[_Run]:
        """One forward pass for every running job; the jobs still running after it."""
        try:
            all_logits = self.loaded.backend.step_many([(r.session, r.feed) for r in active])
        except Exception as exc:
            for run in active:
                run.fail(exc)
            return []
        if len(active) > 1:
            self.stats["batched_steps"] += 1
        running = []
        for run, logits in zip(active, all_logits, strict=True):
            try:
                done = run.advance(logits)
            except Exception as exc:
                run.fail(exc)
                continue
            if done:
                try:
                    run.close()
                except Exception as exc:
                    run.fail(exc)
            else:
                running.append(run)
        return running

    def _forced_ids(self, job: GenerationJob, text: str, new_text: str, count: int) -> list[int]:
        """Tokens of the grammar's forced continuation ("jump forward"), already accepted by the
        constraint. Skipped mid-character (the forced text would start inside a UTF-8 sequence)
        and when stop strings apply (they are checked on sampled text only).

        The last token of the forced text is left to the model: it may merge with what follows
        (``=`` + ``'`` is one token, ``='``). Forcing ``=`` alone puts the model on a token
        boundary it never saw in training, and the fine-tuned model then wrote ``", 20:00"``
        instead of ``'20:00'`` (measured on the benchmark)."""
        if (not self.jump_forward or job.constraint is None or job.stop or new_text != text
                or job.constraint.finished):
            return []
        forced = job.constraint.forced_text()
        if not forced:
            return []
        ids = self.loaded.tokenizer(forced, add_special_tokens=False)["input_ids"][:-1]
        ids = list(ids[: max(0, job.max_tokens - count)])
        accepted = self.loaded.tokenizer.decode(ids, skip_special_tokens=True)
        if not ids or not forced.startswith(accepted):
            return []
        job.constraint.accept_text(accepted)
        return ids


def _find_stop(text: str, stops: list[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(hits) if hits else None


def _pick(
    logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator | None
) -> int:
    """Greedy at temperature 0 (deterministic), else seeded nucleus sampling."""
    if temperature <= 0 or generator is None:
        return int(logits.argmax(dim=-1).item())
    probs = torch.softmax(logits / temperature, dim=-1)[0]
    if top_p < 1.0:
        sorted_p, idx = probs.sort(descending=True)
        keep = sorted_p.cumsum(0) - sorted_p < top_p
        probs = torch.zeros_like(probs).scatter(0, idx[keep], sorted_p[keep])
    return int(torch.multinomial(probs, 1, generator=generator).item())
