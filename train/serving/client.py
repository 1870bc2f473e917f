"""The one place that turns an endpoint into a LangChain chat model.

Why: the assistant and synth only ever see a ``ChatOpenAI``; whether vLLM, a remote endpoint or
the embedded CPU server answers is decided here, by the composition root's arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from langchain_openai import ChatOpenAI

from train.base_models import DEFAULT_BASE_MODEL
from train.serving.embedded import NO_API_KEY, EmbeddedServerError


def make_chat_model(
    base_url: str, model: str, api_key: str = NO_API_KEY, **kw: Any
) -> ChatOpenAI:
    """A chat model for an OpenAI-compatible endpoint; temperature 0 unless ``kw`` says else."""
    if not base_url:
        raise ValueError("base_url is empty; pass e.g. http://localhost:8000/v1")
    kw.setdefault("temperature", 0.0)
    return ChatOpenAI(base_url=base_url, model=model, api_key=api_key, **kw)


@contextmanager
def endpoint(
    base_url: str | None,
    *,
    workspace: Path,
    base: str = DEFAULT_BASE_MODEL,
    adapter_dir: Path | None = None,
    api_key: str | None = None,
) -> Iterator[str]:
    """Yield ``base_url`` as is, or start the embedded server when none is configured.

    ``api_key`` is the key the caller's clients send; the embedded server then requires it
    (unless it is the :data:`~train.serving.embedded.NO_API_KEY` placeholder)."""
    if base_url:
        yield base_url
        return
    from train.serving.embedded import embedded_server

    with embedded_server(
        workspace=workspace, base=base, adapter_dir=adapter_dir, api_key=api_key
    ) as server:
        yield server.url


class _AfterReady(httpx.HTTPTransport):
    """Sends a request only once the embedded server answers; a server that never does fails
    the request as a connection error (the model call's usual failure, reported as such)."""

    def __init__(self, ready: Callable[[], None]) -> None:
        super().__init__()
        self._ready = ready

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self._ready()
        except EmbeddedServerError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        return super().handle_request(request)


@contextmanager
def chat_model(
    base_url: str | None,
    model: str,
    *,
    workspace: Path,
    api_key: str = NO_API_KEY,
    base: str = DEFAULT_BASE_MODEL,
    adapter_dir: Path | None = None,
    **kw: Any,
) -> Iterator[ChatOpenAI]:
    """A chat model for the configured endpoint, backed by the embedded server if there is none.

    The embedded server is started but not waited for: the block begins at once and the first
    model call waits for it, so the caller's own start-up (imports, retrieval, the decision
    models; about 7 s of a one-shot ``ptool chat``) overlaps the model's loading."""
    if base_url:
        yield make_chat_model(base_url, model, api_key, **kw)
        return
    from train.serving.embedded import embedded_server

    with embedded_server(workspace=workspace, base=base, adapter_dir=adapter_dir,
                         api_key=api_key, wait=False) as server:
        client = httpx.Client(transport=_AfterReady(server.ready))
        try:
            yield make_chat_model(server.url, model, api_key, http_client=client, **kw)
        finally:
            client.close()
