"""Prompt mode: the paper's single prompt with the whole scenario catalog, sent to an endpoint.

Why: this is the paper's own setting (Table 1), the baseline the runtime is compared with. The
chat model is injected (any LangChain ``BaseChatModel``); :meth:`PromptPredictor.from_config`
builds a ``ChatOpenAI`` for an OpenAI-compatible server with deterministic decoding.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.prompts import render_paper_system
from eval.predictor import EndpointUnavailable, ModeConfig, Prediction
from ptbench.answers import OutputFormat, ParseError, parse_output
from ptbench.samples import BenchSample


def build_messages(
    sample: BenchSample, output_format: Literal["text", "json"] = "text"
) -> list[BaseMessage]:
    """System prompt as in the reference harness, the query as the user message.

    The profile is shown exactly as the file gave it when it was a string (the reference
    formats the raw field), else as the dict's ``str``."""
    profile: dict[str, Any] | str = (
        sample.profile_text if sample.profile_text is not None else sample.user_profile
    )
    platforms = [p.model_dump() for p in sample.platforms]
    system = render_paper_system(profile, platforms, sample.tools, output_format)
    return [SystemMessage(content=system), HumanMessage(content=sample.query)]


def _prompt_tokens(message: BaseMessage) -> int | None:
    usage = getattr(message, "usage_metadata", None)
    if usage and usage.get("input_tokens") is not None:
        return int(usage["input_tokens"])
    token_usage = (getattr(message, "response_metadata", None) or {}).get("token_usage") or {}
    value = token_usage.get("prompt_tokens")
    return int(value) if value is not None else None


class PromptPredictor:
    """Sends the paper's prompt for each sample and parses the reply."""

    def __init__(
        self, chat_model: BaseChatModel, *, output_format: OutputFormat = "text",
        endpoint: str = "the model endpoint",
    ) -> None:
        self.chat_model = chat_model
        self.output_format: OutputFormat = output_format
        self.endpoint = endpoint

    @classmethod
    def from_config(cls, config: ModeConfig) -> PromptPredictor:
        """A ``ChatOpenAI`` client for ``config.base_url`` (temperature 0 by default)."""
        from eval.endpoint import make_chat_model

        fmt: OutputFormat = "json" if config.output_format == "json" else "text"
        return cls(make_chat_model(config), output_format=fmt, endpoint=str(config.base_url))

    def predict(self, sample: BenchSample) -> Prediction:
        import openai

        prompt_format: Literal["text", "json"] = "json" if self.output_format == "json" else "text"
        messages = build_messages(sample, prompt_format)
        start = time.perf_counter()
        try:
            reply = self.chat_model.invoke(messages)
        except openai.BadRequestError as exc:  # e.g. prompt longer than the context window
            return Prediction(
                raw="", parse_error=f"endpoint rejected the request: {exc}",
                latency_s=time.perf_counter() - start,
            )
        except (openai.APIConnectionError, openai.APIStatusError) as exc:
            raise EndpointUnavailable(f"cannot use {self.endpoint}: {exc}") from exc
        latency = time.perf_counter() - start
        raw = reply.content if isinstance(reply.content, str) else str(reply.content)
        tokens = _prompt_tokens(reply)
        try:
            parsed = parse_output(raw, self.output_format)
        except ParseError as exc:
            return Prediction(raw=raw, parse_error=str(exc), latency_s=latency,
                              prompt_tokens=tokens)
        return Prediction(
            platform=parsed.platform, calls=parsed.calls, raw=raw, parsed=True,
            latency_s=latency, prompt_tokens=tokens,
        )
