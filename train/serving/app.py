"""The embedded OpenAI-compatible HTTP server (FastAPI) over :class:`train.serving.engine.Engine`.

Why our own thin layer: ``transformers serve`` refuses ``response_format`` and ``tool_choice``,
has no PEFT adapters, and parses tool calls only for the model families it knows; the
llama-cpp-python server takes only GBNF grammars (not vLLM's EBNF fields the assistant sends) and
does no jump-forward. So llama.cpp is used below this layer, as the engine's forward-pass backend
(:mod:`train.serving.llama_backend`). This module maps the OpenAI wire format onto the engine and
nothing else: requests are prepared by :mod:`train.serving.prepare`, answers rendered by
:mod:`train.serving.responses`.

Run as a process: ``python -m train.serving --workspace data --port 8000`` (what ``ptool serve``
and :mod:`train.serving.embedded` do). Its protections (API key, body limit, deadline, cancel on
disconnect, parent watchdog) live in :mod:`train.serving.guards`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from train.serving.backends import context_window
from train.serving.engine import Engine, Finished, GenerationJob, QueueFullError
from train.serving.guards import ApiKeyMiddleware, BodyLimitMiddleware, Stopped, guard_job
from train.serving.models import ServedModel
from train.serving.prepare import Prepared, Refused, prepare
from train.serving.protocol import ChatRequest
from train.serving.responses import (
    Meta,
    completion,
    error_response,
    stopped_response,
    stream,
)

DEFAULT_MAX_TOKENS = 256


@dataclass(frozen=True)
class ServerOptions:
    """Per-server limits (``python -m train.serving --help`` documents each)."""

    api_key: str | None = None
    """When set, every path but ``/health`` needs ``Authorization: Bearer <api_key>``."""
    request_timeout: float | None = 120.0
    """Seconds from arrival (queue time included) after which a request is stopped: 504, or an
    error event on a stream. ``None``: no deadline."""
    max_body_bytes: int = 1 << 20
    """Larger request bodies get 413."""


@dataclass
class _Traffic:
    """Counters for ``/health`` showing that stopped requests really free the model.

    Mutated on the event loop only (the engine's thread posts its updates there)."""

    in_flight: int = 0
    """Requests submitted to the engine and not yet answered, stopped or abandoned."""
    stopped: dict[str, int] = field(default_factory=lambda: {"disconnected": 0, "deadline": 0})
    max_tokens_after_cancel: int = 0
    """The most text pieces (about one per token) any job produced after its stop was asked
    for: how quickly a disconnect or deadline frees the model."""

    def note_late(self, count: int) -> None:
        self.max_tokens_after_cancel = max(self.max_tokens_after_cancel, count)

    def begin(self, task: asyncio.Task[Stopped]) -> None:
        """Count a request from submission until its guard task ends (finished or stopped)."""
        self.in_flight += 1
        task.add_done_callback(self._end)

    def _end(self, task: asyncio.Task[Stopped]) -> None:
        self.in_flight -= 1
        if not task.cancelled() and task.exception() is None:
            self.stopped[task.result().reason] += 1


class _JobEvents:
    """Carries one job's engine events (text deltas, then :class:`Finished`) from the worker
    thread to the request's event loop, counting deltas produced after the job was cancelled."""

    def __init__(self, loop: asyncio.AbstractEventLoop, traffic: _Traffic,
                 cancelled: threading.Event) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._loop, self._traffic, self._cancelled = loop, traffic, cancelled
        self._late = 0

    def emit(self, ev: object) -> None:
        """Called on the engine's worker thread."""
        if isinstance(ev, Finished):
            self._loop.call_soon_threadsafe(self._traffic.note_late, self._late)
        elif self._cancelled.is_set():
            self._late += 1
        self._loop.call_soon_threadsafe(self.queue.put_nowait, ev)


def create_app(
    engine: Engine, models: dict[str, ServedModel], options: ServerOptions | None = None
) -> FastAPI:
    """Build the app around a loaded engine (no work at import time; tests build their own)."""
    options = options or ServerOptions()
    app = FastAPI(title="ptool embedded model server")
    loaded = engine.loaded
    window = context_window(loaded)
    traffic = _Traffic()
    # One thread: preparation runs serially (the grammar cache is not thread-safe), only off
    # the event loop.
    prepare_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ptool-prepare")
    app.add_middleware(BodyLimitMiddleware, max_bytes=options.max_body_bytes)
    if options.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=options.api_key)  # outermost: runs first

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg')}")
        return error_response(400, "; ".join(problems), type_="invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), type_="invalid_request_error")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "base_model": loaded.base_name,
            "engine": loaded.engine,
            "context_window": window,
            "queued": engine.waiting,
            "in_flight": traffic.in_flight,
            "stopped": dict(traffic.stopped),
            "max_tokens_after_cancel": traffic.max_tokens_after_cancel,
            **engine.stats,
        }

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": m.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": "ptool",
                    "root": loaded.base_name,
                    "adapter": str(loaded.adapters[m.adapter]) if m.adapter else None,
                    "note": m.note,
                }
                for m in models.values()
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(body: ChatRequest, request: Request) -> Any:
        loop = asyncio.get_running_loop()
        timeout = options.request_timeout
        deadline = loop.time() + timeout if timeout else None
        served = models.get(body.model)
        if served is None:
            return error_response(
                404,
                f"The model {body.model!r} does not exist; served: {', '.join(models)}",
                type_="invalid_request_error",
                code="model_not_found",
            )
        max_tokens = body.token_limit or DEFAULT_MAX_TOKENS
        try:
            prepared = await loop.run_in_executor(
                prepare_pool, partial(prepare, body, engine, window, max_tokens)
            )
        except Refused as exc:
            return exc.response()
        cancelled = threading.Event()
        events = _JobEvents(loop, traffic, cancelled)
        job = _job(body, served, prepared, max_tokens, events.emit, cancelled)
        try:
            engine.submit(job)
        except QueueFullError as exc:
            return error_response(503, str(exc), type_="server_overloaded", code="queue_full")
        guard = asyncio.create_task(guard_job(request.receive, cancelled, events.queue, deadline))
        traffic.begin(guard)
        meta = Meta(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=body.model,
            fingerprint=f"{loaded.base_name}+{served.adapter or 'base'}",
        )
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                stream(events.queue, _Ending(job, guard).close, meta, prepared.tools_active,
                       include_usage, timeout),
                media_type="text/event-stream",
            )
        try:
            outcome = await _drain(events.queue)
        finally:
            _Ending(job, guard).close()
        if isinstance(outcome, Stopped):
            return stopped_response(outcome, timeout)
        if outcome.error:
            return error_response(500, f"generation failed: {outcome.error}", type_="server_error")
        return completion(meta, outcome, prepared.tools_active)

    return app


def _job(body: ChatRequest, served: ServedModel, prepared: Prepared, max_tokens: int,
         emit: Callable[[object], None], cancelled: threading.Event) -> GenerationJob:
    return GenerationJob(
        prompt_ids=prepared.prompt_ids,
        emit=emit,
        adapter=served.adapter,
        max_tokens=max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=body.stop_list,
        constraint=prepared.constraint,
        ignore_eos=body.ignore_eos and prepared.constraint is None,
        cancelled=cancelled,
    )


@dataclass(frozen=True)
class _Ending:
    """What a finished, failed or abandoned request must release: its job and its guard."""

    job: GenerationJob
    guard: asyncio.Task[Stopped]

    def close(self) -> None:
        """Stop the guard and the job (a no-op for a job that finished)."""
        self.guard.cancel()
        self.job.cancelled.set()


async def _drain(events: asyncio.Queue[object]) -> Finished | Stopped:
    """Wait for the job's end: its :class:`Finished`, or the guard's :class:`Stopped`."""
    while True:
        ev = await events.get()
        if isinstance(ev, Finished | Stopped):
            return ev
