"""Start the embedded model server as a child process on a free port, and stop it again.

Why a child process rather than a thread: the model's memory and threads stay out of the
caller (the Gradio app, the CLI), a crash cannot take the caller down, and stopping is a plain
terminate. The caller gets a base URL as if the server were remote. The child watches its
parent (``--parent-pid``) and exits by itself when the caller dies without stopping it, and it
gets the caller's API key, when one is configured, through its environment (not its argv,
which other local users can read).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.base_models import DEFAULT_BASE_MODEL
from train.serving.guards import API_KEY_ENV

NO_API_KEY = "not-needed"
"""The client's placeholder key for servers that check none (the settings' default)."""


def configured_api_key(api_key: str | None) -> str | None:
    """The key a server should require: ``None`` for no key or the :data:`NO_API_KEY`
    placeholder, so an unconfigured setup keeps working without one."""
    return None if not api_key or api_key == NO_API_KEY else api_key


class EmbeddedServerError(RuntimeError):
    """The child server exited or never became healthy; the message carries its log tail."""


def default_adapter_dir() -> Path:
    """Where the project's trained adapters live (``train/adapters/<name>/``), shipped with it."""
    return Path(__file__).resolve().parents[1] / "adapters"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 15) -> None:
    """Stop a child: SIGTERM, and SIGKILL when it has not exited within ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_command(
    *,
    workspace: Path,
    port: int,
    host: str = "127.0.0.1",
    base: str = DEFAULT_BASE_MODEL,
    adapter_dir: Path | None = None,
    adapters: dict[str, Path] | None = None,
    parent_pid: int | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """The argv that runs the server (``python -m train.serving``) with this interpreter.

    ``parent_pid``: the server exits once that process is gone (for servers started as a
    child; ``ptool serve`` replaces its own process and passes none)."""
    cmd = [
        sys.executable,
        "-m",
        "train.serving",
        "--workspace",
        str(workspace),
        "--host",
        host,
        "--port",
        str(port),
        "--base",
        base,
    ]
    if adapter_dir is not None:
        cmd += ["--adapter-dir", str(adapter_dir)]
    for name, path in (adapters or {}).items():
        cmd += ["--adapter", f"{name}={path}"]
    if parent_pid is not None:
        cmd += ["--parent-pid", str(parent_pid)]
    return cmd + list(extra or [])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def server_env(backend: str = "auto", api_key: str | None = None) -> dict[str, str]:
    """The child's environment: importable project root, API key, and the OpenMP wait policy.

    The key is set from ``api_key`` (see :func:`configured_api_key`) and removed otherwise, so a
    server never picks up a key its caller does not send.

    torch backend: measured here with other processes busy on the 2 cores, torch's OpenMP
    threads spin-wait by default and one decode step took 0.75-2.1 s instead of 0.15 s;
    ``OMP_WAIT_POLICY=PASSIVE`` removes that collapse. llama.cpp backend: the opposite -- it
    opens a parallel region per operation, and sleeping threads cut decode from ~110 to ~40
    tokens/s (measured), so the default policy stays. It must be set before the OpenMP runtime
    loads, hence in the child's environment.
    """
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    key = configured_api_key(api_key)
    if key is None:
        env.pop(API_KEY_ENV, None)
    else:
        env[API_KEY_ENV] = key
    if backend == "torch" or importlib.util.find_spec("llama_cpp") is None:
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


class _Startup:
    """Waits, once, for a started child to answer /health; remembers a failure."""

    def __init__(self, proc: subprocess.Popen[Any], log: Any, url: str, timeout: float) -> None:
        self._proc, self._log, self._url = proc, log, url
        self._deadline = time.monotonic() + timeout
        self._lock = threading.Lock()
        self._outcome: EmbeddedServerError | bool = False

    def wait(self) -> None:
        with self._lock:
            if self._outcome is False:
                self._outcome = self._poll()
            if isinstance(self._outcome, EmbeddedServerError):
                raise self._outcome

    def _poll(self) -> EmbeddedServerError | bool:
        while not _healthy(self._url):
            if self._proc.poll() is not None or time.monotonic() > self._deadline:
                self._log.seek(0)
                tail = self._log.read().decode(errors="replace")[-3000:]
                why = (f"exited with {self._proc.returncode}" if self._proc.poll() is not None
                       else "timed out")
                return EmbeddedServerError(f"embedded model server {why}:\n{tail}")
            time.sleep(0.2)
        return True


@dataclass(frozen=True)
class RunningServer:
    """A started server: its OpenAI base URL (``.../v1``), process id (for RSS readings) and
    ``ready``, which blocks until it answers (raising :class:`EmbeddedServerError` if it
    never does; at once when it already has)."""

    url: str
    pid: int
    ready: Callable[[], None]


@contextmanager
def running_server(
    cmd: list[str], *, port: int, startup_timeout: float = 180.0, api_key: str | None = None,
    wait: bool = True,
) -> Iterator[RunningServer]:
    """Run ``cmd`` (a server listening on ``port``) until the block ends. With ``wait`` the
    block starts once /health (which needs no key) answers; without, at once, and the caller
    calls ``ready()`` before its first request -- so its own start-up runs while the model
    loads (a one-shot ``ptool chat`` spends seconds on imports and retrieval first)."""
    backend = cmd[cmd.index("--backend") + 1] if "--backend" in cmd else "auto"
    env = server_env(backend, api_key)
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+b") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            startup = _Startup(proc, log, url, startup_timeout)
            if wait:
                startup.wait()
            yield RunningServer(f"{url}/v1", proc.pid, startup.wait)
        finally:
            stop_process(proc)


@contextmanager
def embedded_server(
    *,
    workspace: Path,
    base: str = DEFAULT_BASE_MODEL,
    adapter_dir: Path | None = None,
    adapters: dict[str, Path] | None = None,
    extra: list[str] | None = None,
    startup_timeout: float = 180.0,
    api_key: str | None = None,
    wait: bool = True,
) -> Iterator[RunningServer]:
    """Run the model server on a free port for the ``with`` block (``wait``: see
    :func:`running_server`).

    ``adapter_dir`` defaults to the project's ``train/adapters``: model ``ptool`` is then the
    trained adapter when there is one, else the bare base model (see :mod:`train.serving.models`).
    ``api_key``: the key the server requires, the one the caller's clients send (none for the
    :data:`NO_API_KEY` placeholder). The server exits by itself if this process dies.

    The first start converts the base model (~20 s); later starts take a few seconds.
    """
    port = free_port()
    cmd = server_command(
        workspace=workspace,
        port=port,
        base=base,
        adapter_dir=adapter_dir if adapter_dir is not None else default_adapter_dir(),
        adapters=adapters,
        parent_pid=os.getpid(),
        extra=extra,
    )
    with running_server(
        cmd, port=port, startup_timeout=startup_timeout, api_key=api_key, wait=wait
    ) as server:
        yield server
