"""Which backend runs the forward passes, loading it, and the engine started over it.

Why a module of its own: both backends answer through one :class:`~train.serving.engine.Engine`,
so the choice between llama.cpp (fast, GGUF) and torch (any base or adapter) is made once, at
start-up, and the rest of the server does not know which one answers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from train.serving.engine import Engine, LoadedModel

log = logging.getLogger(__name__)

BACKENDS = ("auto", "llama.cpp", "torch")
DEFAULT_SLOTS = 4
"""Requests the llama.cpp backend decodes together (see :mod:`train.serving.engine`)."""


def build_engine(
    *,
    workspace: Path,
    base: str,
    adapters: dict[str, Path],
    backend: str = "auto",
    dtype: str = "bfloat16",
    gguf_weights: str = "bf16",
    threads: int | None = None,
    max_queue: int = 16,
    prefix_cache: int = 8,
    jump_forward: bool = True,
    merge: bool = True,
    slots: int = DEFAULT_SLOTS,
    context: int = 0,
) -> Engine:
    """Resolve the base model (converting it once), load adapters, and return a started engine.

    ``backend="auto"``: llama.cpp when llama-cpp-python is installed and every adapter converts
    to GGUF, else torch (with a warning naming the reason). ``dtype`` and a prefix cache of more
    than one sequence apply to torch only, ``gguf_weights`` and ``slots`` (requests decoded
    together) to llama.cpp only."""
    from train.serving.gguf_lora import LoraConversionError
    from train.serving.llama_backend import LlamaCppUnavailableError, load_llama

    loaded = None
    if backend in ("auto", "llama.cpp"):
        try:
            loaded = load_llama(workspace, base_name=base, adapters=adapters, threads=threads,
                                prefix_cache=prefix_cache > 0, weights=gguf_weights,
                                merge=merge, slots=slots, n_ctx=context)
        except (LlamaCppUnavailableError, LoraConversionError) as exc:
            if backend == "llama.cpp":
                raise
            log.warning("llama.cpp backend unavailable (%s); using torch", exc)
    if loaded is None:
        loaded = _load_torch(workspace, base, adapters, dtype, threads, prefix_cache, merge)
    log.info("engine: %s", loaded.engine)
    engine = Engine(loaded, max_queue=max_queue, jump_forward=jump_forward, warm_up=True)
    engine.start()
    return engine


def _load_torch(workspace: Path, base: str, adapters: dict[str, Path], dtype: str,
                threads: int | None, prefix_cache: int, merge: bool) -> LoadedModel:
    import torch

    from train.base_models import ensure_converted
    from train.serving.torch_backend import load_torch

    if threads:
        torch.set_num_threads(threads)
    model_dir = ensure_converted(workspace, base)
    return load_torch(model_dir, base_name=base, adapters=adapters, dtype=dtype, merge=merge,
                      prefix_cache=prefix_cache)


def context_window(loaded: LoadedModel) -> int | None:
    """Positions the backend can hold for prompt plus completion (``None``: unknown backend).

    llama.cpp: the context it was opened with; torch: the model's trained maximum."""
    from train.serving.llama_backend import LlamaCppBackend
    from train.serving.torch_backend import TorchBackend

    backend = loaded.backend
    if isinstance(backend, LlamaCppBackend):
        return backend.context_window()
    if isinstance(backend, TorchBackend):
        config = backend.model.config
        config = getattr(config, "text_config", None) or config
        limit = getattr(config, "max_position_embeddings", None)
        return int(limit) if limit else None
    return None
