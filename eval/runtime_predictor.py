"""Runtime mode: every sample goes through the live assistant graph in benchmark mode.

Why an adapter here and not in ``assistant/``: eval may import assistant, never the other way
round, so the conversion between eval's typed sample/prediction and the assistant's
``assistant.benchmark.run_benchmark_sample`` lives on this side. The assistant is imported only
when the mode is used; if it is missing, the mode says so (:class:`ModeUnavailable`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from eval.predictor import EndpointUnavailable, ModeConfig, ModeUnavailable, Prediction
from ptbench.answers import Call
from ptbench.samples import BenchSample

if TYPE_CHECKING:
    from assistant.benchmark import BenchmarkPrediction

RunSample = Callable[..., "BenchmarkPrediction"]
"""``assistant.benchmark.run_benchmark_sample(sample, chat_model, **options)``."""


def runtime_options(config: ModeConfig) -> dict[str, Any]:
    """The keyword arguments ``run_benchmark_sample`` gets for this run's settings."""
    options: dict[str, Any] = {
        "history_k": config.history_k,
        "tools_per_platform": config.tools_per_platform,
        "answer_grammar": config.answer_grammar,
        "preference": config.preference,
        "grounding": config.grounding,
        "now": datetime.fromisoformat(config.now) if config.now else None,
    }
    if config.history_k is not None or config.tools_per_platform is not None:
        from profiles.embeddings import CachedEmbedder, embed_texts

        # Samples of a user/scenario share their tools and history: embed each text once.
        options["embed"] = CachedEmbedder(embed_texts)
    return options


class RuntimePredictor:
    """Calls the assistant's benchmark entry point and converts its answer to a Prediction."""

    def __init__(
        self,
        run_sample: RunSample,
        chat_model: BaseChatModel,
        *,
        options: Mapping[str, Any] | None = None,
        unavailable: tuple[type[BaseException], ...] = (),
        endpoint: str = "the model endpoint",
    ) -> None:
        self.run_sample = run_sample
        self.chat_model = chat_model
        self.options = dict(options or {})
        self.unavailable = unavailable
        self.endpoint = endpoint

    @classmethod
    def from_config(cls, config: ModeConfig) -> RuntimePredictor:
        """Bind ``assistant.benchmark.run_benchmark_sample`` to a ``ChatOpenAI`` client."""
        try:
            from assistant.benchmark import run_benchmark_sample
            from assistant.errors import ModelUnavailable
        except ImportError as exc:
            raise ModeUnavailable(
                "runtime mode is not available yet: the assistant package does not provide "
                f"assistant.benchmark.run_benchmark_sample ({exc}). Use --mode prompt for now."
            ) from exc
        from eval.endpoint import make_chat_model

        return cls(run_benchmark_sample, make_chat_model(config), options=runtime_options(config),
                   unavailable=(ModelUnavailable,), endpoint=str(config.base_url))

    def predict(self, sample: BenchSample) -> Prediction:
        import openai

        down: tuple[type[BaseException], ...] = (*self.unavailable, openai.APIConnectionError)
        start = time.perf_counter()
        try:
            out = self.run_sample(sample, self.chat_model, **self.options)
        except down as exc:
            raise EndpointUnavailable(f"cannot use {self.endpoint}: {exc}") from exc
        latency = time.perf_counter() - start
        raw = out["raw"]
        prompt_tokens = out["prompt_tokens"] or None
        platform = out["platform"]
        if not platform:
            return Prediction(raw=raw, latency_s=latency, prompt_tokens=prompt_tokens,
                              parse_error="; ".join(out["errors"]) or "the runtime made no call")
        calls = [Call(name=c["name"], arguments=dict(c.get("arguments") or {}))
                 for c in out["calls"]]
        return Prediction(platform=platform, calls=calls, raw=raw, parsed=True,
                          latency_s=latency, prompt_tokens=prompt_tokens)
