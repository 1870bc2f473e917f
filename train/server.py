"""The embedded OpenAI-compatible HTTP server (FastAPI) over :class:`train.engine.Engine`.

Why our own thin layer: ``transformers serve`` refuses ``response_format`` and ``tool_choice``,
has no PEFT adapters, and parses tool calls only for the model families it knows; the
llama-cpp-python server takes only GBNF grammars (not vLLM's EBNF fields the assistant sends) and
does no jump-forward. So llama.cpp is used below this layer, as the engine's forward-pass backend
(:mod:`train.llama_backend`). This module maps the OpenAI wire format onto the engine and nothing
else.

Run as a process: ``python -m train.server --workspace data --port 8000`` (what ``ptool serve``
and :mod:`train.embedded` do).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
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

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 256
PROJECT_MODEL = "ptool"


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


def create_app(engine: Engine, models: dict[str, ServedModel]) -> FastAPI:
    """Build the app around a loaded engine (no work at import time; tests build their own)."""
    app = FastAPI(title="ptool embedded model server")
    loaded = engine.loaded

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
            "queued": engine.waiting,
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
        served = models.get(body.model)
        if served is None:
            return _error(
                404,
                f"The model {body.model!r} does not exist; served: {', '.join(models)}",
                type_="invalid_request_error",
                code="model_not_found",
            )
        try:
            constraint, tools_active = _constraint_for(body, engine)
        except GrammarUnavailableError as exc:
            return _error(501, str(exc), type_="server_error")
        except GrammarError as exc:
            return _error(400, f"cannot build a grammar: {exc}", type_="invalid_request_error")
        messages = [m.model_dump(exclude_none=True) for m in body.messages]
        tools = (
            [t.model_dump() for t in body.tools]
            if body.tools and body.tool_choice != "none"
            else None
        )
        try:
            text = render_prompt(loaded.tokenizer, messages, tools)
        except Exception as exc:  # jinja raises for role orders a template forbids
            return _error(400, f"cannot render messages: {exc}", type_="invalid_request_error")
        ids = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
        events: asyncio.Queue[object] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        job = GenerationJob(
            prompt_ids=list(ids),
            emit=lambda ev: _post(loop, events, ev),
            adapter=served.adapter,
            max_tokens=body.token_limit or DEFAULT_MAX_TOKENS,
            temperature=body.temperature,
            top_p=body.top_p,
            seed=body.seed,
            stop=body.stop_list,
            constraint=constraint,
            ignore_eos=body.ignore_eos and constraint is None,
        )
        try:
            engine.submit(job)
        except QueueFullError as exc:
            return _error(503, str(exc), type_="server_overloaded", code="queue_full")
        meta = _Meta(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=body.model,
            fingerprint=f"{loaded.base_name}+{served.adapter or 'base'}",
        )
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                _stream(events, job, meta, tools_active, include_usage),
                media_type="text/event-stream",
            )
        try:
            done = await _drain(events)
        finally:
            job.cancelled.set()  # no-op when finished; stops work if the client went away
        if done.error:
            return _error(500, f"generation failed: {done.error}", type_="server_error")
        return _completion(meta, done, tools_active)

    return app


def _post(loop: asyncio.AbstractEventLoop, events: asyncio.Queue[object], ev: object) -> None:
    """Hand an engine event (from the worker thread) to the request's event loop."""
    loop.call_soon_threadsafe(events.put_nowait, ev)


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


async def _drain(events: asyncio.Queue[object]) -> Finished:
    while True:
        ev = await events.get()
        if isinstance(ev, Finished):
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
    job: GenerationJob,
    meta: _Meta,
    tools_active: bool,
    include_usage: bool,
) -> AsyncIterator[str]:
    """SSE chunks. Tool calls are sent whole at the end, once parsed; text streams as it comes.

    If the client disconnects, Starlette cancels this generator; ``finally`` tells the worker to
    stop at the next token so a dropped stream does not hold the model.
    """
    try:
        yield _chunk(meta, {"role": "assistant", "content": ""})
        text, sent = "", 0
        while True:
            ev = await events.get()
            if isinstance(ev, Finished):
                break
            text += str(ev)
            upto = _safe_prefix(text) if tools_active else len(text)
            if upto > sent:
                yield _chunk(meta, {"content": text[sent:upto]})
                sent = upto
        if ev.error:
            yield f"data: {json.dumps(error_body(ev.error, type_='server_error'))}\n\n"
            return
        finish = ev.finish_reason
        if tools_active:
            content, calls = parse_tool_calls(ev.text)
            rest = content[sent:] if content.startswith(text[:sent]) else ""
            if rest:
                yield _chunk(meta, {"content": rest})
            if calls:
                finish = "tool_calls"
                yield _chunk(
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
                )
        yield _chunk(meta, {}, finish)
        if include_usage:
            usage_chunk = {
                "id": meta.id,
                "object": "chat.completion.chunk",
                "created": meta.created,
                "model": meta.model,
                "choices": [],
                "usage": _usage(ev),
            }
            yield f"data: {json.dumps(usage_chunk)}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        job.cancelled.set()


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

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
    app = create_app(engine, served_models(args.base, adapters))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
