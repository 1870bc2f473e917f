"""Forward passes with llama.cpp (``--backend llama.cpp``, the default when installed).

Why: on this 2-core CPU transformers decodes SmolLM2-135M at ~16 tokens/s, bound by per-operation
overhead of ~500 small kernels per token; llama.cpp runs the same Q4_1 file at ~120 tokens/s.
The decode loop (grammar, jump-forward, streaming) stays in
:class:`train.serving.engine.Engine`; this module only feeds token ids and reads logits, through
llama-cpp-python's ``Llama`` object.

The shipped Q4_1 file is re-encoded once to BF16 (llama.cpp's own quantizer, cached in the
workspace): llama.cpp has no repacked AVX-512 kernel for Q4_1, and a 700-token pre-fill took
2.3 s on Q4_1 against 1.0 s on BF16 here (decode 107 vs 79 tokens/s; BF16 wins per request).
The BF16 values are the de-quantized Q4_1 weights -- what the torch engine runs and what the
adapters were trained on. Each served name (the base, every adapter) gets its own ``Llama``
context. An adapter is merged into its own copy of the weights by
:mod:`train.serving.gguf_lora` (built once, cached in the workspace by the adapter's hash); with
``merge=False`` it is converted to a GGUF LoRA and applied at run time instead. Each context keeps
the KV cache of its last sequence, so a prompt sharing a prefix with the previous one pre-fills
only the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from train.serving.engine import LoadedModel, common_prefix, eos_ids

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install llama-cpp-python==0.3.36  (builds from source, ~5 min on 2 cores)"


class LlamaCppUnavailableError(RuntimeError):
    """llama-cpp-python is not installed; the message names the install command."""


class _LlamaSession:
    def __init__(self, llm: Any, reused: int) -> None:
        self.llm, self._reused = llm, reused
        self._n_vocab = int(llm.n_vocab())

    @property
    def reused(self) -> int:
        return self._reused

    def step(self, ids: list[int]) -> torch.Tensor:
        self.llm.eval(ids)
        # Only the batch's last position has logits (logits_all=False): read them directly
        # instead of through Llama.scores, which would be an n_ctx x vocab array.
        raw = self.llm._ctx.get_logits()
        logits = np.ctypeslib.as_array(raw, shape=(self._n_vocab,)).copy()
        return torch.from_numpy(logits).unsqueeze(0)


class LlamaCppBackend:
    """One ``Llama`` context per served name (``None`` = the base)."""

    def __init__(self, contexts: dict[str | None, Any], *, prefix_cache: bool = True,
                 min_reuse: int = 32) -> None:
        self.contexts = contexts
        self.prefix_cache = prefix_cache
        self.min_reuse = min_reuse

    @contextmanager
    def session(self, prompt: list[int], adapter: str | None) -> Iterator[_LlamaSession]:
        llm = self.contexts[adapter]
        cached = llm.input_ids[: llm.n_tokens].tolist()
        reused = min(common_prefix(cached, prompt), len(prompt) - 1)
        if not self.prefix_cache or reused < self.min_reuse:
            reused = 0
        llm.n_tokens = reused  # the next forward pass drops the KV cache past this position
        yield _LlamaSession(llm, reused)


def _reencode(source: Path, out: Path, weights: str) -> Path:
    """``source`` re-encoded as BF16 or F32 GGUF by llama.cpp's quantizer (once; cached)."""
    import ctypes

    import llama_cpp

    ftypes = {"bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16, "f32": llama_cpp.LLAMA_FTYPE_ALL_F32}
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
) -> LoadedModel:
    """Open the base GGUF (and each adapter, converted to GGUF) with llama.cpp.

    The tokenizer is the transformers one from the converted base (the same GGUF vocabulary), so
    the grammar masks and the token ids are the ones the torch engine uses. ``n_ctx=0`` takes the
    model's training context (8,192 for SmolLM2). ``weights="f32"`` keeps the de-quantized values
    exactly (slower; what the equivalence test against the peft model uses). ``merge=True``
    serves each adapter from its own merged copy of the weights; ``False`` applies the GGUF
    LoRA at run time on the shared base (one weight copy, slower per token)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise LlamaCppUnavailableError(
            f"the llama.cpp engine needs llama-cpp-python: {INSTALL_HINT}; "
            "or serve with --backend torch"
        ) from None
    from transformers import AutoTokenizer, GenerationConfig

    from train.base_models import ensure_converted, find_gguf, get_spec

    shipped = find_gguf(get_spec(base_name))
    cache = workspace / "models" / "gguf" / base_name  # not inside the converted dir: rebuilt whole
    model_gguf = _reencode(shipped, cache / f"{shipped.stem}.{weights}.gguf", weights)
    model_dir = ensure_converted(workspace, base_name)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    n_threads = threads or min(os.cpu_count() or 1, 8)
    adapters = dict(adapters or {})

    def open_context(model: Path, lora: Path | None = None) -> Any:
        return Llama(
            model_path=str(model), n_ctx=n_ctx, n_batch=512, n_threads=n_threads,
            n_threads_batch=n_threads, lora_path=str(lora) if lora else None, verbose=False,
        )

    contexts: dict[str | None, Any] = {None: open_context(model_gguf)}
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
        vocab_size=int(contexts[None].n_vocab()),
        backend=LlamaCppBackend(contexts, prefix_cache=prefix_cache),
        engine="llama.cpp",
    )
