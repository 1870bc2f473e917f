"""The chat-model client both modes use: ``ChatOpenAI`` for an OpenAI-compatible endpoint.

Why one place: prompt and runtime mode must decode identically (temperature 0 by default, the
same token limit and timeout) so their numbers compare.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from eval.predictor import EndpointUnavailable, ModeConfig


def make_chat_model(config: ModeConfig) -> BaseChatModel:
    """A client for ``config.base_url``; no request is made until the first prediction."""
    from langchain_openai import ChatOpenAI

    if not config.base_url:
        raise EndpointUnavailable(
            "this mode needs an OpenAI-compatible endpoint: pass --base-url "
            "(e.g. http://localhost:8000/v1) or set PTOOL_MODEL_BASE_URL"
        )
    return ChatOpenAI(
        base_url=config.base_url,
        model=config.model,
        api_key=SecretStr(config.api_key),
        temperature=config.temperature,
        max_completion_tokens=config.max_tokens,
        timeout=config.timeout_s,
        max_retries=1,
    )
