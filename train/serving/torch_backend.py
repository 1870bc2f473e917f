"""Forward passes with transformers + peft (``--backend torch``): any base, any peft adapter.

The reference engine: it runs the de-quantized weights the adapter was trained on, so the
llama.cpp engine is tested against it. A prefix cache keeps the KV caches of recent sequences
so the assistant's shared system prompt + tool list is pre-filled once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from train.serving.engine import LoadedModel, common_prefix, eos_ids


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
            n = common_prefix(entry.tokens, tokens)
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


class _TorchSession:
    """One generation: feeds token ids, returns the last position's logits."""

    def __init__(self, model: Any, cache: Any, fed: list[int]) -> None:
        self.model, self.cache, self.fed = model, cache, fed
        self._reused = len(fed)

    @property
    def reused(self) -> int:
        return self._reused

    @torch.inference_mode()
    def step(self, ids: list[int]) -> torch.Tensor:
        # logits_to_keep=1: only the last position's logits (saves ~0.12 s of a 700-token
        # pre-fill, measured: the 49k-wide head over every prompt token).
        out = self.model(input_ids=torch.tensor([ids]), past_key_values=self.cache,
                         use_cache=True, logits_to_keep=1)
        self.cache = out.past_key_values
        self.fed.extend(ids)
        return out.logits[:, -1, :].float()


class TorchBackend:
    """A base model, optionally wrapped by peft with named adapters.

    ``merged`` holds, per adapter name, a copy of the base with that adapter merged into its
    weights (when loaded with ``merge=True``); requests for that adapter run on the copy."""

    def __init__(self, model: Any, merged: dict[str, Any], *, prefix_cache: int = 8,
                 switching: bool = False) -> None:
        self.model = model
        self.merged = merged
        self.switching = switching
        """True when ``model`` is a peft model whose active adapter is set per request."""
        self.prefix_cache = PrefixCache(size=prefix_cache)

    def model_for(self, adapter: str | None) -> Any:
        """The module that serves ``adapter`` (``None``: the base)."""
        return self.merged.get(adapter, self.model) if adapter else self.model

    def _adapter_context(self, adapter: str | None) -> Any:
        if not self.switching:
            return nullcontext()
        if adapter is None:
            return self.model.disable_adapter()
        self.model.set_adapter(adapter)
        return nullcontext()

    slots = 1
    """One request at a time: transformers here has no batched decode with per-request caches."""

    @contextmanager
    def session(self, prompt: list[int], adapter: str | None,
                reserve: int = 0) -> Iterator[_TorchSession]:
        cache, reused = self.prefix_cache.lookup(prompt, adapter)
        run = _TorchSession(self.model_for(adapter), cache, list(prompt[:reused]))
        with self._adapter_context(adapter):
            yield run
        if run.cache is not None:
            self.prefix_cache.store(run.fed, adapter, run.cache)

    def step_many(self, feeds: Sequence[tuple[Any, list[int]]]) -> list[torch.Tensor]:
        return [session.step(ids) for session, ids in feeds]


def load_torch(
    model_dir: Path,
    *,
    base_name: str,
    adapters: dict[str, Path] | None = None,
    dtype: str = "bfloat16",
    merge: bool = True,
    prefix_cache: int = 8,
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
    merged: dict[str, Any] = {}
    if adapters:
        from peft import PeftModel

        if merge:
            merged = {
                name: PeftModel.from_pretrained(copy.deepcopy(model), str(path))
                .merge_and_unload()
                .eval()
                for name, path in adapters.items()
            }
        else:
            items = list(adapters.items())
            model = PeftModel.from_pretrained(model, str(items[0][1]), adapter_name=items[0][0])
            for name, path in items[1:]:
                model.load_adapter(str(path), adapter_name=name)
            model.eval()
    eos = eos_ids(tokenizer, model.generation_config.eos_token_id)
    return LoadedModel(
        tokenizer=tokenizer,
        base_name=base_name,
        adapters=adapters,
        eos_ids=eos,
        vocab_size=int(model.config.vocab_size),
        backend=TorchBackend(model, merged, prefix_cache=prefix_cache,
                             switching=bool(adapters) and not merge),
        engine="torch",
    )
