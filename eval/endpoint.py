"""The chat-model client both modes use: ``ChatOpenAI`` for an OpenAI-compatible endpoint.

Why one place: prompt and runtime mode must decode identically (temperature 0 by default, the
same token limit and timeout) so their numbers compare. The client itself comes from
:func:`train.serving.client.make_chat_model`, the project's one chat-model factory; this module
only maps a :class:`~eval.predictor.ModeConfig` onto it and says what to do without an endpoint.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from eval.predictor import EndpointUnavailable, ModeConfig


def make_chat_model(config: ModeConfig) -> BaseChatModel:
    """A client for ``config.base_url``; no request is made until the first prediction.

    The factory is imported here, not at module level, so importing ``eval`` never pulls in
    ``train``. ``max_retries=1``: a transient error costs one retry, a dead endpoint at most
    two timeouts per request."""
    from train.serving.client import make_chat_model as client_for

    if not config.base_url:
        raise EndpointUnavailable(
            "this mode needs an OpenAI-compatible endpoint: pass --base-url "
            "(e.g. http://localhost:8000/v1) or set PTOOL_MODEL_BASE_URL"
        )
    return client_for(
        config.base_url,
        config.model,
        config.api_key,
        temperature=config.temperature,
        max_completion_tokens=config.max_tokens,
        timeout=config.timeout_s,
        max_retries=1,
    )
