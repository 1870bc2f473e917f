"""Protections around the model server: who may call it, how much of a body it reads, how long
one request may hold the model, and that it does not outlive the process that started it.

Why a module of its own: these are transport concerns (ASGI messages, threads, process ids)
that know nothing of the OpenAI wire format or the engine; :mod:`train.serving.app` wires them in.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Literal

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from train.serving.protocol import error_body

log = logging.getLogger(__name__)

API_KEY_ENV = "PTOOL_MODEL_API_KEY"
"""Environment variable the server reads its key from (the client side reads the same one)."""

OPEN_PATHS = frozenset({"/health"})
"""Paths served without the key, so launchers and probes can wait for readiness."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, *,
    type_: str, code: str, headers: dict[str, str] | None = None,
) -> None:
    response = JSONResponse(
        status_code=status, content=error_body(message, type_=type_, code=code), headers=headers
    )
    await response(scope, receive, send)


class ApiKeyMiddleware:
    """Answers 401 unless the request carries ``Authorization: Bearer <key>``.

    Why in front of everything: a refused caller must not get as far as buffering a body,
    compiling a grammar or queueing a job. The comparison is constant-time."""

    def __init__(self, app: ASGIApp, *, api_key: str) -> None:
        self.app = app
        self._expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"authorization") or "").encode("latin-1")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        why = "wrong API key" if given else "missing API key"
        await _refuse(
            scope, receive, send, 401,
            f"{why}: send 'Authorization: Bearer <key>' with the key the server was started with "
            f"(clients read {API_KEY_ENV})",
            type_="invalid_request_error", code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


class BodyLimitMiddleware:
    """Reads the request body up front and answers 413 when it exceeds ``max_bytes``.

    Why buffer here: chat requests are small JSON the handler reads whole anyway, so reading it
    first costs nothing, refuses a declared ``Content-Length`` before a byte is read, and stops
    an endless chunked body at the limit instead of after pydantic has parsed it. The app then
    receives the buffered body, followed by the connection's own events (the disconnect)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody left to answer
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _refuse(
            scope, receive, send, 413,
            f"request body exceeds {self.max_bytes} bytes; send fewer or shorter messages "
            "(or start the server with a larger --max-body-bytes)",
            type_="invalid_request_error", code="request_too_large",
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then the connection's later events."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


@dataclass(frozen=True)
class Stopped:
    """Put in a request's event queue when its job was stopped before finishing, and why."""

    reason: Literal["disconnected", "deadline"]


async def _until_disconnected(receive: Receive) -> None:
    """Return when the client goes away. The body has been read, so the next ASGI event of
    this request is its ``http.disconnect`` -- awaited, not polled, so no token goes to waste."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def guard_job(
    receive: Receive,
    cancelled: threading.Event,
    events: asyncio.Queue[object],
    deadline: float | None,
) -> Stopped:
    """Stop a job when its client disconnects or ``deadline`` (event-loop time) passes.

    Sets ``cancelled`` (the engine checks it before every token, and skips a job still queued)
    and tells the request's reader why with a :class:`Stopped` event. The reader cancels this
    task when the answer is complete, so it only ever fires for an unfinished job."""
    try:
        async with asyncio.timeout_at(deadline):
            await _until_disconnected(receive)
        stop = Stopped("disconnected")
    except TimeoutError:
        stop = Stopped("deadline")
    cancelled.set()
    events.put_nowait(stop)
    return stop


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def watch_parent(parent_pid: int, *, interval: float = 1.0, grace: float = 3.0) -> threading.Thread:
    """Exit this process within ``interval + grace`` seconds of ``parent_pid`` dying.

    Why polling: a launcher killed with SIGKILL cannot terminate its child, and the kernel's
    parent-death signal (``PR_SET_PDEATHSIG``) is Linux-only and fires when the parent *thread*
    exits, which for a launcher started from a worker thread is too early. When ``parent_pid``
    is our parent, a changed ``os.getppid()`` (re-parented) means it died; otherwise its pid
    must still exist. The exit is a SIGTERM (uvicorn shuts down cleanly), then a hard exit
    after ``grace`` seconds in case an open connection holds the shutdown."""
    is_parent = os.getppid() == parent_pid

    def gone() -> bool:
        return os.getppid() != parent_pid if is_parent else not _process_exists(parent_pid)

    def watch() -> None:
        while not gone():
            time.sleep(interval)
        log.warning("parent process %d is gone; shutting down", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        os._exit(1)

    thread = threading.Thread(target=watch, name="ptool-parent-watch", daemon=True)
    thread.start()
    return thread
