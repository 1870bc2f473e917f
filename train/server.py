"""The embedded OpenAI-compatible HTTP server (FastAPI) over :class:`train.engine.Engine`.

Why our own thin layer: ``transformers serve`` refuses ``response_format`` and ``tool_choice``,
has no PEFT adapters, and parses tool calls only for the model families it knows; the
llama-cpp-python server takes only GBNF grammars (not vLLM's EBNF fields the assistant sends) and
does no jump-forward. So llama.cpp is used below this layer, as the engine's forward-pass backend
(:mod:`train.llama_backend`). This module maps the OpenAI wire format onto the engine and nothing
else.

Run as a process: ``python -m train.server --workspace data --port 8000`` (what ``ptool serve``
and :mod:`train.embedded` do). Its protections (API key, body limit, deadline, cancel on
disconnect, parent watchdog) live in :mod:`train.server_guards`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from train.chat_format import TOOL_CALL_OPEN, parse_tool_calls, render_prompt
from train.constrained import Constraint, GrammarError, GrammarUnavailableError
from train.engine import Engine, Finished, GenerationJob, LoadedModel, QueueFullError
from train.protocol import ChatRequest, NamedToolChoice, error_body
from train.server_guards import (
    API_KEY_ENV,
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    Stopped,
    guard_job,
    watch_parent,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 256
PROJECT_MODEL = "ptool"


@dataclass(frozen=True)
class ServerOptions:
    """Per-server limits (``python -m train.server --help`` documents each)."""

    api_key: str | None = None
    """When set, every path but ``/health`` needs ``Authorization: Bearer <api_key>``."""
    request_timeout: float | None = 120.0
    """Seconds from arrival (queue time included) after which a request is stopped: 504, or an
    error event on a stream. ``None``: no deadline."""
    max_body_bytes: int = 1 << 20
    """Larger request bodies get 413."""


@dataclass(frozen=True)
class ServedModel:
    """A name clients may ask for: the base alone or the base plus one adapter."""

    id: str
    adapter: str | None
    note: str = ""


def project_adapter(base_name: str, adapters: dict[str, Path]) -> str | None:
    """Which adapter model ``ptool`` means for this base: ``ptool``, ``ptool-<base>`` or
    ``ptool-<family>`` (``train/adapters/ptool-smollm2`` for ``smollm2-135m``), first found."""
    family = base_name.split("-")[0]
    for name in (PROJECT_MODEL, f"{PROJECT_MODEL}-{base_name}", f"{PROJECT_MODEL}-{family}"):
        if name in adapters:
            return name
    return None


def served_models(base_name: str, adapters: dict[str, Path]) -> dict[str, ServedModel]:
    """The model list: the base, every adapter by name, and ``ptool``.

    ``ptool`` falls back to the bare base model (with a logged warning and a note in
    ``/v1/models``) when no project adapter is installed yet, so ``ptool chat`` works before the
    first training run; the response's ``system_fingerprint`` always says what really answered.
    """
    models = {base_name: ServedModel(base_name, None, "base model, no adapter")}
    for name, path in adapters.items():
        models[name] = ServedModel(name, name, f"{base_name} + LoRA adapter {path}")
    chosen = project_adapter(base_name, adapters)
    if chosen is not None:
        models[PROJECT_MODEL] = ServedModel(
            PROJECT_MODEL, chosen, f"{base_name} + project LoRA adapter {adapters[chosen]}"
        )
    else:
        log.warning("no project adapter found: model %r serves bare %s", PROJECT_MODEL, base_name)
        models[PROJECT_MODEL] = ServedModel(
            PROJECT_MODEL, None, f"FALLBACK: no trained adapter installed; this is bare {base_name}"
        )
    return models


def _error(status: int, message: str, *, type_: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(message, type_=type_, code=code))


class _Refused(Exception):
    """A request the server will not run, with the HTTP answer to give instead."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type_, self.code = status, message, type_, code

    def response(self) -> JSONResponse:
        return _error(self.status, self.message, type_=self.type_, code=self.code)


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


@dataclass(frozen=True)
class _Prepared:
    """What the engine needs for a request, built off the event loop by :func:`_prepare`."""

    prompt_ids: list[int]
    constraint: Constraint | None
    tools_active: bool


def context_window(loaded: LoadedModel) -> int | None:
    """Positions the backend can hold for prompt plus completion (``None``: unknown backend).

    llama.cpp: the context it was opened with; torch: the model's trained maximum."""
    from train.llama_backend import LlamaCppBackend
    from train.torch_backend import TorchBackend

    backend = loaded.backend
    if isinstance(backend, LlamaCppBackend):
        return int(backend.contexts[None].n_ctx())
    if isinstance(backend, TorchBackend):
        config = backend.model.config
        config = getattr(config, "text_config", None) or config
        limit = getattr(config, "max_position_embeddings", None)
        return int(limit) if limit else None
    return None


def _prepare(body: ChatRequest, engine: Engine, window: int | None, max_tokens: int) -> _Prepared:
    """Grammar compilation, chat-template rendering and tokenisation: the request's CPU work.

    Runs on the server's preparation thread so one large request does not stall every other
    connection's I/O on the event loop. Raises :class:`_Refused` for requests it cannot run."""
    try:
        constraint, tools_active = _constraint_for(body, engine)
    except GrammarUnavailableError as exc:
        raise _Refused(501, str(exc), type_="server_error") from None
    except GrammarError as exc:
        raise _Refused(400, f"cannot build a grammar: {exc}") from None
    messages = [m.model_dump(exclude_none=True) for m in body.messages]
    tools = (
        [t.model_dump() for t in body.tools]
        if body.tools and body.tool_choice != "none"
        else None
    )
    tokenizer = engine.loaded.tokenizer
    try:
        text = render_prompt(tokenizer, messages, tools)
    except Exception as exc:  # jinja raises for role orders a template forbids
        raise _Refused(400, f"cannot render messages: {exc}") from None
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if window is not None and len(ids) + max_tokens > window:
        raise _Refused(
            400,
            f"this model's context window is {window} tokens, but the prompt has {len(ids)} "
            f"and max_tokens asks for {max_tokens} more ({len(ids) + max_tokens}); "
            "shorten the messages or lower max_tokens",
            code="context_length_exceeded",
        )
    return _Prepared(ids, constraint, tools_active)


def _deadline_error(timeout: float | None) -> dict[str, Any]:
    return error_body(
        f"request exceeded the server's {timeout or 0:g} s deadline; ask for fewer max_tokens "
        "or retry when the server is less busy",
        type_="server_error",
        code="deadline_exceeded",
    )


def _stopped_response(stop: Stopped, timeout: float | None) -> JSONResponse:
    """504 for a passed deadline; 499 (nginx's "client closed request") for a gone client,
    which nobody reads but the access log."""
    if stop.reason == "deadline":
        return JSONResponse(status_code=504, content=_deadline_error(timeout))
    return _error(499, "client closed the request", type_="invalid_request_error")


def create_app(
    engine: Engine, models: dict[str, ServedModel], options: ServerOptions | None = None
) -> FastAPI:
    """Build the app around a loaded engine (no work at import time; tests build their own)."""
    options = options or ServerOptions()
    app = FastAPI(title="ptool embedded model server")
    loaded = engine.loaded
    window = context_window(loaded)
    traffic = _Traffic()
    # One thread: preparation stays serial as before (the grammar cache is not thread-safe),
    # only off the event loop.
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
        return _error(400, "; ".join(problems), type_="invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), type_="invalid_request_error")

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
            return _error(
                404,
                f"The model {body.model!r} does not exist; served: {', '.join(models)}",
                type_="invalid_request_error",
                code="model_not_found",
            )
        max_tokens = body.token_limit or DEFAULT_MAX_TOKENS
        try:
            prepared = await loop.run_in_executor(
                prepare_pool, partial(_prepare, body, engine, window, max_tokens)
            )
        except _Refused as exc:
            return exc.response()
        cancelled = threading.Event()
        events = _JobEvents(loop, traffic, cancelled)
        job = _job(body, served, prepared, max_tokens, events.emit, cancelled)
        try:
            engine.submit(job)
        except QueueFullError as exc:
            return _error(503, str(exc), type_="server_overloaded", code="queue_full")
        guard = asyncio.create_task(guard_job(request.receive, cancelled, events.queue, deadline))
        traffic.begin(guard)
        meta = _Meta(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=body.model,
            fingerprint=f"{loaded.base_name}+{served.adapter or 'base'}",
        )
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                _stream(events.queue, _Ending(job, guard), meta, prepared.tools_active,
                        include_usage, timeout),
                media_type="text/event-stream",
            )
        try:
            outcome = await _drain(events.queue)
        finally:
            _Ending(job, guard).close()
        if isinstance(outcome, Stopped):
            return _stopped_response(outcome, timeout)
        if outcome.error:
            return _error(500, f"generation failed: {outcome.error}", type_="server_error")
        return _completion(meta, outcome, prepared.tools_active)

    return app


def _job(body: ChatRequest, served: ServedModel, prepared: _Prepared, max_tokens: int,
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


@dataclass(frozen=True)
class _Meta:
    id: str
    created: int
    model: str
    fingerprint: str


def _constraint_for(body: ChatRequest, engine: Engine) -> tuple[Constraint | None, bool]:
    """Which grammar (if any) the request needs, and whether tool-call parsing applies."""
    grammars = engine.loaded.grammars
    tools = [t.model_dump() for t in body.tools or []]
    if tools and body.tool_choice != "none":
        if isinstance(body.tool_choice, NamedToolChoice):
            chosen = [
                t for t in tools if t["function"]["name"] == body.tool_choice.function["name"]
            ]
            return grammars.tool_calls(chosen, required=True), True
        if body.tool_choice == "required":
            return grammars.tool_calls(tools, required=True), True
        # "auto": free text, but a started <tool_call> must follow the tool's schema.
        return grammars.tool_calls(tools, required=False), True
    grammar = body.grammar
    if grammar is not None:
        return grammars.ebnf(grammar), False
    fmt = body.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.json_schema is not None:
        return grammars.json_schema(fmt.json_schema.schema_), False
    if fmt is not None and fmt.type == "json_object":
        return grammars.json_object(), False
    return None, False


async def _drain(events: asyncio.Queue[object]) -> Finished | Stopped:
    """Wait for the job's end: its :class:`Finished`, or the guard's :class:`Stopped`."""
    while True:
        ev = await events.get()
        if isinstance(ev, Finished | Stopped):
            return ev


def _usage(done: Finished) -> dict[str, Any]:
    return {
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": done.prompt_tokens + done.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": done.cached_tokens},
        # our extension: tokens of grammar-forced text, fed without a decode step each
        "completion_tokens_details": {"forced_tokens": done.forced_tokens},
    }


def _completion(meta: _Meta, done: Finished, tools_active: bool) -> dict[str, Any]:
    content, calls = parse_tool_calls(done.text) if tools_active else (done.text, [])
    message: dict[str, Any] = {"role": "assistant", "content": content or (None if calls else "")}
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    finish = "tool_calls" if calls else done.finish_reason
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.fingerprint,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(done),
    }


def _chunk(meta: _Meta, delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.fingerprint,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _safe_prefix(text: str) -> int:
    """How much of ``text`` can be streamed as content without splitting a tool-call tag."""
    start = text.find(TOOL_CALL_OPEN)
    if start >= 0:
        return start
    for k in range(min(len(TOOL_CALL_OPEN) - 1, len(text)), 0, -1):
        if TOOL_CALL_OPEN.startswith(text[-k:]):
            return len(text) - k
    return len(text)


async def _stream(
    events: asyncio.Queue[object],
    ending: _Ending,
    meta: _Meta,
    tools_active: bool,
    include_usage: bool,
    timeout: float | None,
) -> AsyncIterator[str]:
    """SSE chunks. Tool calls are sent whole at the end, once parsed; text streams as it comes.

    A client that disconnects is noticed by the request's guard (or Starlette cancels this
    generator); either way the job stops at the next token. A passed deadline ends the stream
    with an error event, since the 200 status is already sent."""
    try:
        yield _chunk(meta, {"role": "assistant", "content": ""})
        text, sent = "", 0
        while True:
            ev = await events.get()
            if isinstance(ev, Finished | Stopped):
                break
            text += str(ev)
            upto = _safe_prefix(text) if tools_active else len(text)
            if upto > sent:
                yield _chunk(meta, {"content": text[sent:upto]})
                sent = upto
        if isinstance(ev, Stopped):
            if ev.reason == "deadline":
                yield f"data: {json.dumps(_deadline_error(timeout))}\n\n"
            return
        if ev.error:
            yield f"data: {json.dumps(error_body(ev.error, type_='server_error'))}\n\n"
            return
        for part in _final_chunks(meta, ev, text, sent, tools_active, include_usage):
            yield part
    finally:
        ending.close()


def _final_chunks(
    meta: _Meta, done: Finished, text: str, sent: int, tools_active: bool, include_usage: bool
) -> list[str]:
    """The stream's tail once generation finished: held-back text, tool calls, finish, usage."""
    out: list[str] = []
    finish = done.finish_reason
    if tools_active:
        content, calls = parse_tool_calls(done.text)
        rest = content[sent:] if content.startswith(text[:sent]) else ""
        if rest:
            out.append(_chunk(meta, {"content": rest}))
        if calls:
            finish = "tool_calls"
            out.append(_chunk(
                meta,
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for i, c in enumerate(calls)
                    ]
                },
            ))
    out.append(_chunk(meta, {}, finish))
    if include_usage:
        usage_chunk = {
            "id": meta.id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
            "choices": [],
            "usage": _usage(done),
        }
        out.append(f"data: {json.dumps(usage_chunk)}\n\n")
    out.append("data: [DONE]\n\n")
    return out


BACKENDS = ("auto", "llama.cpp", "torch")


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
) -> Engine:
    """Resolve the base model (converting it once), load adapters, and return a started engine.

    ``backend="auto"``: llama.cpp when llama-cpp-python is installed and every adapter converts
    to GGUF, else torch (with a warning naming the reason). ``dtype`` and a prefix cache of more
    than one sequence apply to torch only, ``gguf_weights`` to llama.cpp only."""
    from train.gguf_lora import LoraConversionError
    from train.llama_backend import LlamaCppUnavailableError, load_llama

    loaded = None
    if backend in ("auto", "llama.cpp"):
        try:
            loaded = load_llama(workspace, base_name=base, adapters=adapters, threads=threads,
                                prefix_cache=prefix_cache > 0, weights=gguf_weights,
                                merge=merge)
        except (LlamaCppUnavailableError, LoraConversionError) as exc:
            if backend == "llama.cpp":
                raise
            log.warning("llama.cpp backend unavailable (%s); using torch", exc)
    if loaded is None:
        loaded = _load_torch(workspace, base, adapters, dtype, threads, prefix_cache, merge)
    log.info("engine: %s", loaded.engine)
    engine = Engine(loaded, max_queue=max_queue, jump_forward=jump_forward)
    engine.start()
    return engine


def _load_torch(workspace: Path, base: str, adapters: dict[str, Path], dtype: str,
                threads: int | None, prefix_cache: int, merge: bool) -> LoadedModel:
    import torch

    from train.base_models import ensure_converted
    from train.torch_backend import load_torch

    if threads:
        torch.set_num_threads(threads)
    model_dir = ensure_converted(workspace, base)
    return load_torch(model_dir, base_name=base, adapters=adapters, dtype=dtype, merge=merge,
                      prefix_cache=prefix_cache)


def discover_adapters(directory: Path | None) -> dict[str, Path]:
    """Every ``<directory>/<name>/adapter_config.json`` becomes an adapter served as ``name``."""
    if directory is None or not directory.is_dir():
        return {}
    return {p.parent.name: p.parent for p in sorted(directory.glob("*/adapter_config.json"))}


def parse_adapter_args(values: list[str]) -> dict[str, Path]:
    """``NAME=PATH`` pairs (or a bare PATH, named after its folder) -> {name: path}."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        p = Path(path if sep else name)
        if not sep:
            name = p.name
        if not (p / "adapter_config.json").is_file():
            raise SystemExit(
                f"--adapter {value!r}: {p} has no adapter_config.json (a PEFT adapter folder)"
            )
        out[name] = p
    return out


def _add_guard_args(parser: argparse.ArgumentParser) -> None:
    """The server's protections (see :class:`ServerOptions` and :mod:`train.server_guards`)."""
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"require 'Authorization: Bearer KEY' on every path but /health (default: "
        f"${API_KEY_ENV}; prefer the variable, a flag shows in the process list)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=ServerOptions.request_timeout,
        metavar="SECONDS",
        help="stop a request this long after it arrived, queue time included: 504, or an "
        "error event on a stream (0 = no deadline)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=ServerOptions.max_body_bytes,
        help="larger request bodies get 413",
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit within a few seconds once this process is gone (set by the embedded "
        "launcher, so a killed caller leaves no server behind)",
    )


def main(argv: list[str] | None = None) -> None:
    """Process entry point; ``ptool serve`` and the embedded launcher pass explicit flags."""
    import uvicorn

    from train.base_models import DEFAULT_BASE_MODEL, BaseModelError
    from train.gguf_lora import LoraConversionError
    from train.llama_backend import LlamaCppUnavailableError

    parser = argparse.ArgumentParser(prog="python -m train.server", description=__doc__)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--base", default=DEFAULT_BASE_MODEL)
    parser.add_argument("--adapter", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--adapter-dir", type=Path, default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="forward passes: llama.cpp (GGUF, fast) or torch (transformers + peft); "
        "auto = llama.cpp when installed",
    )
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"],
                        help="torch backend: weight type")
    parser.add_argument("--gguf-weights", default="bf16", choices=["bf16", "f32"],
                        help="llama.cpp backend: re-encoding of the shipped GGUF weights")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--prefix-cache", type=int, default=8)
    parser.add_argument(
        "--no-merge",
        action="store_true",
        help="keep LoRA adapters unmerged (one weight copy; slower decode per adapter request)",
    )
    parser.add_argument(
        "--no-jump-forward",
        action="store_true",
        help="decode grammar-forced text token by token (for comparison benchmarks)",
    )
    parser.add_argument(
        "--require-adapter",
        action="store_true",
        help="fail instead of serving 'ptool' as the bare base model",
    )
    _add_guard_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.parent_pid is not None:
        watch_parent(args.parent_pid)  # before the model loads: that can take a while
    options = ServerOptions(
        api_key=args.api_key or None,
        request_timeout=args.request_timeout or None,
        max_body_bytes=args.max_body_bytes,
    )
    if options.api_key is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s without an API key: anyone who reaches the port can use "
                    "the model; set %s", args.host, API_KEY_ENV)

    adapters = discover_adapters(args.adapter_dir)
    adapters.update(parse_adapter_args(args.adapter))
    if args.require_adapter and project_adapter(args.base, adapters) is None:
        raise SystemExit(f"no {PROJECT_MODEL!r} adapter in {args.adapter_dir}; train one first")
    try:
        engine = build_engine(
            workspace=args.workspace,
            base=args.base,
            adapters=adapters,
            backend=args.backend,
            dtype=args.dtype,
            gguf_weights=args.gguf_weights,
            threads=args.threads,
            max_queue=args.max_queue,
            prefix_cache=args.prefix_cache,
            jump_forward=not args.no_jump_forward,
            merge=not args.no_merge,
        )
    except (BaseModelError, LlamaCppUnavailableError, LoraConversionError) as exc:
        raise SystemExit(str(exc)) from None
    app = create_app(engine, served_models(args.base, adapters), options)
    try:
        # A bounded graceful shutdown: an open stream must not keep a stopped server alive.
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                    timeout_graceful_shutdown=5)
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
