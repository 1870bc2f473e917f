"""The CPU inference engine: one model, its LoRA adapters, a prefix cache and a request queue.

Why our own decode loop instead of ``model.generate``: per token we need the grammar mask,
streaming, a cancel check (client gone) and a reusable KV cache of the prompt prefix; each is a
line or two here and a callback class each through ``generate``. One worker thread runs the model:
on 2 cores a second concurrent forward pass only splits the same cores (torch already uses both),
so requests wait in a bounded queue and the server answers 503 when it is full.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from train.constrained import Constraint, GrammarFactory

log = logging.getLogger(__name__)


class QueueFullError(RuntimeError):
    """Too many requests are waiting; the caller should retry later (HTTP 503)."""


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


@dataclass
class _CacheEntry:
    tokens: tuple[int, ...]
    adapter: str | None
    cache: Any


class PrefixCache:
    """Keeps the KV caches of recent sequences so a shared prompt prefix is pre-filled once.

    The assistant's prompts share the system prompt and the tool list; only the user's part
    changes. Entries are never mutated: a hit is deep-copied and cropped to the common prefix.
    """

    def __init__(self, size: int = 8, min_tokens: int = 32) -> None:
        self._entries: list[_CacheEntry] = []
        self._size = size
        self._min = min_tokens

    def lookup(self, tokens: list[int], adapter: str | None) -> tuple[Any, int]:
        """Best (cache copy, reused length); reuse stops one token short so logits exist."""
        best: _CacheEntry | None = None
        best_len = 0
        for entry in self._entries:
            if entry.adapter != adapter:
                continue
            n = _common_prefix(entry.tokens, tokens)
            if n > best_len:
                best, best_len = entry, n
        best_len = min(best_len, len(tokens) - 1)
        if best is None or best_len < self._min or self._size == 0:
            return None, 0
        self._entries.remove(best)
        self._entries.append(best)
        cache = copy.deepcopy(best.cache)
        drop = cache.get_seq_length() - best_len
        try:
            if drop:
                cache.crop(-drop)  # transformers 5: a negative count of tokens to remove
        except (RuntimeError, ValueError):  # e.g. a sliding-window layer past its window
            return None, 0
        return cache, best_len

    def store(self, tokens: list[int], adapter: str | None, cache: Any) -> None:
        if self._size == 0:
            return
        self._entries.append(_CacheEntry(tuple(tokens), adapter, cache))
        del self._entries[: -self._size]


def _common_prefix(a: tuple[int, ...], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass
class LoadedModel:
    """A base model, optionally wrapped by peft with named adapters, plus its tokenizer.

    ``merged`` holds, per adapter name, a copy of the base with that adapter merged into its
    weights (when loaded with ``merge=True``); requests for that adapter run on the copy."""

    model: Any
    tokenizer: Any
    base_name: str
    adapters: dict[str, Path]
    eos_ids: set[int]
    merged: dict[str, Any] = field(default_factory=dict)
    _grammars: GrammarFactory | None = None

    def model_for(self, adapter: str | None) -> Any:
        """The module that serves ``adapter`` (``None``: the base)."""
        return self.merged.get(adapter, self.model) if adapter else self.model

    @property
    def grammars(self) -> GrammarFactory:
        """Built on first structured request, so plain chat works even without xgrammar."""
        if self._grammars is None:
            self._grammars = GrammarFactory(self.tokenizer, int(self.model.config.vocab_size))
        return self._grammars


def load_model(
    model_dir: Path,
    *,
    base_name: str,
    adapters: dict[str, Path] | None = None,
    dtype: str = "bfloat16",
    merge: bool = True,
) -> LoadedModel:
    """Load a converted base model and its adapters, each served under its name.

    ``merge=True`` (default): each adapter is merged into its own copy of the base. Why: decode
    on this CPU is bound by per-operation overhead, and an unmerged LoRA on every linear layer
    adds several small operations per layer and token; a merged copy runs exactly as fast as
    the base. The price is one more copy of the weights per adapter (270 MB in bf16 for
    SmolLM2-135M) and bf16 rounding of the merged weights. ``merge=False`` attaches every
    adapter to the one base model (peft, switched per request).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}; use float32 or bfloat16")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype).eval()
    adapters = dict(adapters or {})
    if adapters and merge:
        from peft import PeftModel

        merged = {
            name: PeftModel.from_pretrained(copy.deepcopy(model), str(path))
            .merge_and_unload()
            .eval()
            for name, path in adapters.items()
        }
        return LoadedModel(model=model, tokenizer=tokenizer, base_name=base_name,
                           adapters=adapters, eos_ids=_eos_ids(tokenizer, model), merged=merged)
    if adapters:
        from peft import PeftModel

        items = list(adapters.items())
        first_name, first_path = items[0]
        model = PeftModel.from_pretrained(model, str(first_path), adapter_name=first_name)
        for name, path in items[1:]:
            model.load_adapter(str(path), adapter_name=name)
        model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        base_name=base_name,
        adapters=adapters,
        eos_ids=_eos_ids(tokenizer, model),
    )


def _eos_ids(tokenizer: Any, model: Any) -> set[int]:
    eos: set[int] = set()
    for value in (tokenizer.eos_token_id, model.generation_config.eos_token_id):
        if isinstance(value, int):
            eos.add(value)
        elif isinstance(value, list):
            eos.update(value)
    return eos


class Engine:
    """Runs :class:`GenerationJob` s one at a time on a worker thread."""

    def __init__(self, loaded: LoadedModel, *, max_queue: int = 16, prefix_cache: int = 8,
                 jump_forward: bool = True) -> None:
        self.loaded = loaded
        self.jump_forward = jump_forward
        self._jobs: queue.Queue[GenerationJob | None] = queue.Queue(maxsize=max_queue)
        self._cache = PrefixCache(size=prefix_cache)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stats = {"completed": 0, "cancelled": 0, "failed": 0}
        """Counters for /health: a cancelled count shows dropped clients really free the model."""

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ptool-engine", daemon=True)
                self._thread.start()

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

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled.is_set():
                self.stats["cancelled"] += 1
                continue
            try:
                self._generate(job)
            except Exception as exc:  # a bad request must not kill the worker
                log.exception("generation failed")
                self.stats["failed"] += 1
                job.emit(Finished("", "error", len(job.prompt_ids), 0, 0, 0.0, 0.0, str(exc)))

    def _adapter_context(self, adapter: str | None) -> Any:
        model = self.loaded.model
        if not self.loaded.adapters or self.loaded.merged:
            return nullcontext()
        if adapter is None:
            return model.disable_adapter()
        model.set_adapter(adapter)
        return nullcontext()

    @torch.inference_mode()
    def _generate(self, job: GenerationJob) -> None:
        model, tok = self.loaded.model_for(job.adapter), self.loaded.tokenizer
        prompt = job.prompt_ids
        generator = None
        if job.temperature > 0:
            generator = torch.Generator().manual_seed(job.seed if job.seed is not None else 0)
        t0 = time.perf_counter()
        cache, reused = self._cache.lookup(prompt, job.adapter)
        generated: list[int] = []
        text = ""
        finish = "length"
        prefill_s = 0.0
        forced_count = 0
        with self._adapter_context(job.adapter):
            feed = torch.tensor([prompt[reused:]])
            step = -1
            while len(generated) < job.max_tokens:
                step += 1
                # logits_to_keep=1: only the last position's logits (saves ~0.12 s of a
                # 700-token pre-fill, measured: the 49k-wide head over every prompt token).
                out = model(input_ids=feed, past_key_values=cache, use_cache=True, logits_to_keep=1)
                cache = out.past_key_values
                if step == 0:
                    prefill_s = time.perf_counter() - t0
                logits = out.logits[:, -1, :].float()
                if job.constraint is not None:
                    job.constraint.mask(logits)
                token = _pick(logits, job.temperature, job.top_p, generator)
                if job.constraint is not None:
                    job.constraint.accept(token)
                if token in self.loaded.eos_ids and not job.ignore_eos:
                    finish = "stop"
                    break
                generated.append(token)
                new_text = tok.decode(generated, skip_special_tokens=True)
                hit = _find_stop(new_text, job.stop)
                if hit is not None:
                    new_text, finish = new_text[:hit], "stop"
                if len(new_text) > len(text) and not new_text.endswith("\ufffd"):
                    job.emit(new_text[len(text) :])
                    text = new_text
                if finish == "stop" or (job.constraint is not None and job.constraint.finished):
                    finish = "stop"
                    break
                if job.cancelled.is_set():
                    finish = "cancelled"
                    break
                forced = self._forced_ids(job, text, new_text, len(generated))
                generated.extend(forced)
                forced_count += len(forced)
                feed = torch.tensor([[token, *forced]])
        if cache is not None:
            # Every generated token but possibly the last was fed; the cache length says which.
            fed = prompt + generated
            self._cache.store(fed[: cache.get_seq_length()], job.adapter, cache)
        final = tok.decode(generated, skip_special_tokens=True)
        hit = _find_stop(final, job.stop)
        if hit is not None:
            final = final[:hit]
        if len(final) > len(text):
            job.emit(final[len(text) :])
        total = time.perf_counter() - t0
        self.stats["cancelled" if finish == "cancelled" else "completed"] += 1
        job.emit(
            Finished(
                final, finish, len(prompt), len(generated), reused, prefill_s, total - prefill_s,
                forced_tokens=forced_count,
            )
        )


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
