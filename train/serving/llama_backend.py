"""Forward passes with llama.cpp (``--backend llama.cpp``, the default when installed).

Why: on this 2-core CPU transformers decodes SmolLM2-135M at ~16 tokens/s, bound by per-operation
overhead of ~500 small kernels per token; llama.cpp runs the same Q4_1 file at ~120 tokens/s.
The decode loop (grammar, jump-forward, streaming) stays in
:class:`train.serving.engine.Engine`; this module only feeds token ids and reads logits, through
llama-cpp-python's low-level API (``llama_decode`` over a batch of several sequences).

The shipped Q4_1 file is re-encoded once to BF16 (llama.cpp's own quantizer, cached in the
workspace): llama.cpp has no repacked AVX-512 kernel for Q4_1, and a 700-token pre-fill took
2.3 s on Q4_1 against 1.0 s on BF16 here (decode 107 vs 79 tokens/s; BF16 wins per request).
The BF16 values are the de-quantized Q4_1 weights -- what the torch engine runs and what the
adapters were trained on. Each served name (the base, every adapter) gets its own llama.cpp
context. An adapter is merged into its own copy of the weights by
:mod:`train.serving.gguf_lora` (built once, cached in the workspace by the adapter's hash); with
``merge=False`` it is converted to a GGUF LoRA and applied at run time instead. A context holds
several sequences (``slots``): concurrent requests decode together in one forward pass, and each
sequence keeps its cells after its request, so a prompt sharing a prefix with any of them
pre-fills only the rest.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from train.serving.engine import LoadedModel, NoRoomError, common_prefix, eos_ids

log = logging.getLogger(__name__)

SEQUENCE_CONTEXT = 4096
"""Cells per sequence when several decode together: runtime prompts take 800-1,400 tokens, and
4 sequences x 8,192 cells would cost ~750 MB of KV cache per served name (``--context``)."""

INSTALL_HINT = "pip install llama-cpp-python==0.3.36  (builds from source, ~5 min on 2 cores)"


class LlamaCppUnavailableError(RuntimeError):
    """llama-cpp-python is not installed; the message names the install command."""


@dataclass(eq=False)
class _Sequence:
    """One sequence (slot) of a context's KV cache: the tokens its cells hold."""

    seq_id: int
    tokens: list[int] = field(default_factory=list)
    busy: bool = False
    last_used: float = 0.0


class _LlamaSession:
    """One generation on one sequence of a :class:`_Context`."""

    def __init__(self, context: _Context, sequence: _Sequence, reused: int) -> None:
        self.context, self.sequence, self._reused = context, sequence, reused

    @property
    def reused(self) -> int:
        return self._reused

    def step(self, ids: list[int]) -> torch.Tensor:
        return self.context.decode([(self, ids)])[0]


class _Context:
    """One llama.cpp context over one model file: a KV cache shared by ``slots`` sequences.

    Why the low-level API: ``Llama`` drives a single sequence. Here each running request owns a
    sequence id; one ``llama_decode`` call carries the next tokens of every running request, so
    concurrent requests share each forward pass (decoding reads the weights once for all of
    them). Each sequence has cells of its own (``n_ctx`` per sequence): in llama.cpp's unified
    cache every sequence's attention spans all sequences' cells, which measured slower here
    (4 prompts of 700 tokens: 13.4 s against 7.9 s). A new prompt that starts like any sequence's
    tokens -- running or idle -- gets that prefix by ``llama_memory_seq_cp`` and pre-fills only
    the rest."""

    def __init__(self, model_path: Path, lora_path: Path | None, *, slots: int, n_ctx: int,
                 threads: int, prefix_cache: bool, min_reuse: int) -> None:
        import llama_cpp

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's own log
        self._lib = llama_cpp
        self._stack = ExitStack()
        self.prefix_cache, self.min_reuse = prefix_cache, min_reuse
        model = llama_cpp.llama_model_load_from_file(
            str(model_path).encode(), llama_cpp.llama_model_default_params())
        if not model:
            raise RuntimeError(f"llama.cpp could not load {model_path}; delete it to rebuild")
        self._stack.callback(llama_cpp.llama_model_free, model)
        params = llama_cpp.llama_context_default_params()
        per_sequence = n_ctx or int(llama_cpp.llama_model_n_ctx_train(model))
        params.n_ctx = per_sequence * slots
        params.n_batch = params.n_ctx  # one call may carry whole prompts; split into ubatches
        params.n_ubatch = 512
        params.n_seq_max = slots
        params.kv_unified = False  # each sequence attends over its own cells only
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise RuntimeError(f"llama.cpp could not open a context for {model_path}")
        self._stack.callback(llama_cpp.llama_free, self.ctx)
        if lora_path is not None:
            adapter = llama_cpp.llama_adapter_lora_init(model, str(lora_path).encode())
            if not adapter:
                raise RuntimeError(f"llama.cpp could not load the LoRA {lora_path}; delete it "
                                   "to convert it again")
            self._stack.callback(llama_cpp.llama_adapter_lora_free, adapter)
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
            if llama_cpp.llama_set_adapters_lora(self.ctx, adapters, 1,
                                                  (ctypes.c_float * 1)(1.0)):
                raise RuntimeError(f"llama.cpp could not apply the LoRA {lora_path}")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.n_ctx = int(llama_cpp.llama_n_ctx(self.ctx))
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model)))
        self._batch = llama_cpp.llama_batch_init(self.n_ctx, 0, 1)
        self._stack.callback(llama_cpp.llama_batch_free, self._batch)
        self.n_ctx_seq = self.n_ctx // slots
        self.sequences = [_Sequence(i) for i in range(slots)]

    def close(self) -> None:
        self._stack.close()

    def acquire(self, prompt: list[int], reserve: int) -> _LlamaSession | None:
        """A free sequence holding the longest cached prefix of ``prompt``; ``None`` while every
        sequence is busy (the caller waits for one to finish)."""
        free = [s for s in self.sequences if not s.busy]
        if not free:
            return None
        if len(prompt) + reserve > self.n_ctx_seq:
            raise ValueError(f"prompt of {len(prompt)} tokens plus {reserve} to generate does "
                             f"not fit a sequence's context of {self.n_ctx_seq}; shorten the "
                             "request or serve with fewer --parallel sequences")
        shared = {s.seq_id: common_prefix(s.tokens, prompt) for s in self.sequences}
        target = max(free, key=lambda s: (shared[s.seq_id], -s.last_used))
        source = max(self.sequences, key=lambda s: shared[s.seq_id])
        reused = min(shared[source.seq_id], len(prompt) - 1)
        if not self.prefix_cache or reused < self.min_reuse:
            reused = 0
        if shared[target.seq_id] < reused:
            # Another sequence holds a longer prefix. llama.cpp copies only whole sequences
            # between sequences' buffers: copy it all, then cut it back to the prefix.
            self._lib.llama_memory_seq_rm(self.memory, target.seq_id, -1, -1)
            self._lib.llama_memory_seq_cp(self.memory, source.seq_id, target.seq_id, -1, -1)
        self._lib.llama_memory_seq_rm(self.memory, target.seq_id, reused, -1)
        target.tokens = list(prompt[:reused])
        target.busy = True
        return _LlamaSession(self, target, reused)

    def release(self, session: _LlamaSession) -> None:
        """The sequence keeps its cells (a later prompt may reuse them) but takes no more."""
        sequence = session.sequence
        sequence.busy, sequence.last_used = False, time.monotonic()

    def decode(self, feeds: Sequence[tuple[_LlamaSession, list[int]]]) -> list[torch.Tensor]:
        """One forward pass over every session's next ``ids``; the logits after each one's last
        id, float32 ``[1, vocab]``."""
        batch, lib = self._batch, self._lib
        n = 0
        last: list[int] = []
        for session, ids in feeds:
            sequence = session.sequence
            pos = len(sequence.tokens)
            for j, token in enumerate(ids):
                batch.token[n], batch.pos[n] = token, pos + j
                batch.n_seq_id[n], batch.seq_id[n][0] = 1, sequence.seq_id
                batch.logits[n] = j == len(ids) - 1
                n += 1
            last.append(n - 1)
        batch.n_tokens = n
        status = lib.llama_decode(self.ctx, batch)
        if status != 0:  # drop whatever part of the batch reached the cache
            for session, _ in feeds:
                sequence = session.sequence
                lib.llama_memory_seq_rm(self.memory, sequence.seq_id, len(sequence.tokens), -1)
            raise RuntimeError(f"llama.cpp decode failed (status {status}) for {len(feeds)} "
                               f"sequence(s) of {n} tokens; retry the request")
        out = []
        for (session, ids), index in zip(feeds, last, strict=True):
            session.sequence.tokens.extend(ids)
            raw = lib.llama_get_logits_ith(self.ctx, index)
            logits = np.ctypeslib.as_array(raw, shape=(self.n_vocab,)).copy()
            out.append(torch.from_numpy(logits).unsqueeze(0))
        return out


class LlamaCppBackend:
    """One :class:`_Context` per served name (``None`` = the base), each of ``slots`` sequences.
    Sessions of different names in one :meth:`step_many` run one forward pass per context."""

    def __init__(self, contexts: dict[str | None, _Context], *, slots: int = 1) -> None:
        self.contexts = contexts
        self.slots = slots

    def context_window(self) -> int:
        """Positions one request may use: its sequence's cells."""
        return self.contexts[None].n_ctx_seq

    @contextmanager
    def session(self, prompt: list[int], adapter: str | None,
                reserve: int = 0) -> Iterator[_LlamaSession]:
        """Raises :class:`~train.serving.engine.NoRoomError` while every sequence is busy."""
        context = self.contexts[adapter]
        session = context.acquire(prompt, reserve)
        if session is None:
            raise NoRoomError("no free sequence")
        try:
            yield session
        finally:
            context.release(session)

    def step_many(self, feeds: Sequence[tuple[Any, list[int]]]) -> list[torch.Tensor]:
        by_context: dict[_Context, list[int]] = {}
        for i, (session, _) in enumerate(feeds):
            by_context.setdefault(session.context, []).append(i)
        out: dict[int, torch.Tensor] = {}
        for context, indices in by_context.items():
            out.update(zip(indices, context.decode([feeds[i] for i in indices]), strict=True))
        return [out[i] for i in range(len(feeds))]


def _reencode(source: Path, out: Path, weights: str) -> Path:
    """``source`` re-encoded as ``weights`` (one of ``models.GGUF_WEIGHTS``) by llama.cpp's
    quantizer (once; cached)."""
    import llama_cpp

    ftypes = {"bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16, "f32": llama_cpp.LLAMA_FTYPE_ALL_F32,
              "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}
    if weights not in ftypes:
        raise ValueError(f"unknown weight type {weights!r}; use one of {', '.join(ftypes)}")
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftypes[weights]
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    log.info("re-encoding %s as %s for llama.cpp (one-off) -> %s", source.name, weights, out)
    if llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(),
                                      ctypes.byref(params)) != 0:
        raise RuntimeError(f"llama.cpp could not re-encode {source} as {weights} (see its log)")
    tmp.replace(out)
    return out


def _adapter_digest(adapter_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / part).read_bytes())
    return digest.hexdigest()[:12]


def _merged_model(cache: Path, shipped: Path, name: str, adapter_dir: Path, weights: str) -> Path:
    """The base with the adapter merged in, as ``weights`` GGUF (built once; cached by hash)."""
    from train.serving.gguf_lora import merge_lora

    out = cache / f"{shipped.stem}.{name}-{_adapter_digest(adapter_dir)}.{weights}.gguf"
    if out.exists():
        return out
    base_f32 = _reencode(shipped, cache / f"{shipped.stem}.f32.gguf", "f32")
    log.info("merging LoRA adapter %s into %s", adapter_dir, out)
    if weights == "f32":
        return merge_lora(adapter_dir, base_f32, out)
    merged_f32 = merge_lora(adapter_dir, base_f32, out.with_suffix(".f32.tmp"))
    try:
        return _reencode(merged_f32, out, weights)
    finally:
        merged_f32.unlink(missing_ok=True)


def _lora_gguf(cache: Path, shipped: Path, name: str, adapter_dir: Path) -> Path:
    """The adapter as a GGUF LoRA, converted once and cached by the adapter file's hash."""
    from train.serving.gguf_lora import convert_lora

    out = cache / "lora" / f"{name}-{_adapter_digest(adapter_dir)}.gguf"
    if not out.exists():
        log.info("converting LoRA adapter %s -> %s", adapter_dir, out)
        convert_lora(adapter_dir, shipped, out)
    return out


def load_llama(
    workspace: Path,
    *,
    base_name: str,
    adapters: dict[str, Path] | None = None,
    threads: int | None = None,
    n_ctx: int = 0,
    prefix_cache: bool = True,
    weights: str = "bf16",
    merge: bool = True,
    slots: int = 4,
) -> LoadedModel:
    """Open the base GGUF (and each adapter, converted to GGUF) with llama.cpp.

    The tokenizer is the transformers one from the converted base (the same GGUF vocabulary), so
    the grammar masks and the token ids are the ones the torch engine uses. ``n_ctx=0`` takes the
    model's training context (8,192 for SmolLM2) with one slot, else
    :data:`SEQUENCE_CONTEXT` per sequence. ``weights="f32"`` keeps the de-quantized values
    exactly (slower; what the equivalence test against the peft model uses). ``merge=True``
    serves each adapter from its own merged copy of the weights; ``False`` applies the GGUF
    LoRA at run time on the shared base (one weight copy, slower per token). ``slots``: how
    many requests decode together in each context (they share its ``n_ctx`` cells)."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise LlamaCppUnavailableError(
            f"the llama.cpp engine needs llama-cpp-python: {INSTALL_HINT}; "
            "or serve with --backend torch"
        ) from None
    from transformers import GenerationConfig, PreTrainedTokenizerFast

    from train.base_models import ensure_converted, find_gguf, get_spec

    shipped = find_gguf(get_spec(base_name))
    cache = workspace / "models" / "gguf" / base_name  # not inside the converted dir: rebuilt whole
    model_gguf = _reencode(shipped, cache / f"{shipped.stem}.{weights}.gguf", weights)
    model_dir = ensure_converted(workspace, base_name)
    # The fast tokenizer class directly: AutoTokenizer first resolves the model's config class,
    # which imports transformers' model-loading stack (1.2 s of the server's start on 2 cores)
    # for a tokenizer that is the same (tokenizer.json, chat template, special tokens).
    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    n_threads = threads or min(os.cpu_count() or 1, 8)
    adapters = dict(adapters or {})

    if not n_ctx and slots > 1:
        n_ctx = SEQUENCE_CONTEXT

    def open_context(model: Path, lora: Path | None = None) -> _Context:
        return _Context(model, lora, slots=slots, n_ctx=n_ctx, threads=n_threads,
                        prefix_cache=prefix_cache, min_reuse=32)

    contexts: dict[str | None, _Context] = {None: open_context(model_gguf)}
    for name, path in adapters.items():
        if merge:
            contexts[name] = open_context(_merged_model(cache, shipped, name, path, weights))
        else:
            contexts[name] = open_context(model_gguf, _lora_gguf(cache, shipped, name, path))
    try:
        configured = GenerationConfig.from_pretrained(model_dir).eos_token_id
    except OSError:
        configured = None
    return LoadedModel(
        tokenizer=tokenizer,
        base_name=base_name,
        adapters=adapters,
        eos_ids=eos_ids(tokenizer, configured),
        vocab_size=contexts[None].n_vocab,
        backend=LlamaCppBackend(contexts, slots=slots),
        engine="llama.cpp",
    )
