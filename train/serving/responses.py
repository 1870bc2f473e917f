"""The OpenAI wire format of the server's answers: completions, SSE chunks, errors.

Why apart from the routes: rendering an engine result into ``chat.completion`` /
``chat.completion.chunk`` bodies (tool calls parsed, usage counted) is pure and testable without
a model or an HTTP server; :mod:`train.serving.app` only decides which answer a request gets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from train.serving.chat_format import TOOL_CALL_OPEN, parse_tool_calls
from train.serving.engine import Finished
from train.serving.guards import Stopped
from train.serving.protocol import error_body


@dataclass(frozen=True)
class Meta:
    """What every chunk and completion of one request repeats."""

    id: str
    created: int
    model: str
    fingerprint: str


def error_response(
    status: int, message: str, *, type_: str, code: str | None = None
) -> JSONResponse:
    """An OpenAI-style error body with its HTTP status."""
    return JSONResponse(status_code=status, content=error_body(message, type_=type_, code=code))


def deadline_error(timeout: float | None) -> dict[str, Any]:
    """The error body for a request stopped by the server's deadline."""
    return error_body(
        f"request exceeded the server's {timeout or 0:g} s deadline; ask for fewer max_tokens "
        "or retry when the server is less busy",
        type_="server_error",
        code="deadline_exceeded",
    )


def stopped_response(stop: Stopped, timeout: float | None) -> JSONResponse:
    """504 for a passed deadline; 499 (nginx's "client closed request") for a gone client,
    which nobody reads but the access log."""
    if stop.reason == "deadline":
        return JSONResponse(status_code=504, content=deadline_error(timeout))
    return error_response(499, "client closed the request", type_="invalid_request_error")


def usage(done: Finished) -> dict[str, Any]:
    """The ``usage`` object, with cached prompt tokens and grammar-forced completion tokens."""
    return {
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": done.prompt_tokens + done.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": done.cached_tokens},
        # our extension: tokens of grammar-forced text, fed without a decode step each
        "completion_tokens_details": {"forced_tokens": done.forced_tokens},
    }


def completion(meta: Meta, done: Finished, tools_active: bool) -> dict[str, Any]:
    """A whole ``chat.completion`` body; tool calls parsed out of the text when tools apply."""
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
        "usage": usage(done),
    }


def chunk(meta: Meta, delta: dict[str, Any], finish: str | None = None) -> str:
    """One SSE event carrying a ``chat.completion.chunk``."""
    body = {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": meta.fingerprint,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def safe_prefix(text: str) -> int:
    """How much of ``text`` can be streamed as content without splitting a tool-call tag."""
    start = text.find(TOOL_CALL_OPEN)
    if start >= 0:
        return start
    for k in range(min(len(TOOL_CALL_OPEN) - 1, len(text)), 0, -1):
        if TOOL_CALL_OPEN.startswith(text[-k:]):
            return len(text) - k
    return len(text)


async def stream(
    events: asyncio.Queue[object],
    close: Callable[[], None],
    meta: Meta,
    tools_active: bool,
    include_usage: bool,
    timeout: float | None,
) -> AsyncIterator[str]:
    """SSE chunks. Tool calls are sent whole at the end, once parsed; text streams as it comes.

    A client that disconnects is noticed by the request's guard (or Starlette cancels this
    generator); either way the job stops at the next token. A passed deadline ends the stream
    with an error event, since the 200 status is already sent. ``close`` releases the request's
    job and guard however the stream ends."""
    try:
        yield chunk(meta, {"role": "assistant", "content": ""})
        text, sent = "", 0
        while True:
            ev = await events.get()
            if isinstance(ev, Finished | Stopped):
                break
            text += str(ev)
            upto = safe_prefix(text) if tools_active else len(text)
            if upto > sent:
                yield chunk(meta, {"content": text[sent:upto]})
                sent = upto
        if isinstance(ev, Stopped):
            if ev.reason == "deadline":
                yield f"data: {json.dumps(deadline_error(timeout))}\n\n"
            return
        if ev.error:
            yield f"data: {json.dumps(error_body(ev.error, type_='server_error'))}\n\n"
            return
        for part in final_chunks(meta, ev, text, sent, tools_active, include_usage):
            yield part
    finally:
        close()


def final_chunks(
    meta: Meta, done: Finished, text: str, sent: int, tools_active: bool, include_usage: bool
) -> list[str]:
    """The stream's tail once generation finished: held-back text, tool calls, finish, usage."""
    out: list[str] = []
    finish = done.finish_reason
    if tools_active:
        content, calls = parse_tool_calls(done.text)
        rest = content[sent:] if content.startswith(text[:sent]) else ""
        if rest:
            out.append(chunk(meta, {"content": rest}))
        if calls:
            finish = "tool_calls"
            out.append(chunk(
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
    out.append(chunk(meta, {}, finish))
    if include_usage:
        usage_chunk = {
            "id": meta.id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
            "choices": [],
            "usage": usage(done),
        }
        out.append(f"data: {json.dumps(usage_chunk)}\n\n")
    out.append("data: [DONE]\n\n")
    return out
