"""``ptool serve``: the model endpoint — the embedded CPU server, or vLLM on a GPU host.

Composition only: settings give the workspace; ``train.serving`` / ``train.serving.vllm`` do
the work.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ui.errors import fail
from ui.settings import Settings

console = Console()


class EngineName(StrEnum):
    embedded = "embedded"
    vllm = "vllm"


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``ptool`` app."""
    app.command("serve")(serve)


def serve(
    engine: Annotated[
        EngineName, typer.Option(help="embedded: CPU server in this process; vllm: GPU host.")
    ] = EngineName.embedded,
    base: Annotated[
        str | None,
        typer.Option(
            help="Base model. embedded: smollm2-135m (default) or gemma3-270m; "
            "vllm: a model id or path, e.g. Qwen/Qwen2.5-7B-Instruct."
        ),
    ] = None,
    adapter: Annotated[
        list[str] | None,
        typer.Option(
            help="LoRA adapter folder, served under its folder name or NAME=PATH; repeatable. "
            "Default: every adapter under train/adapters/ (model 'ptool' = the project's)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; clients use http://HOST:PORT/v1.")] = 8000,
    backend: Annotated[
        str,
        typer.Option(
            help="embedded: forward passes with llama.cpp (GGUF; LoRA converted once) or torch "
            "(transformers + peft); auto = llama.cpp when llama-cpp-python is installed."
        ),
    ] = "auto",
    dtype: Annotated[str, typer.Option(help="embedded, torch: bfloat16 or float32.")] = "bfloat16",
    gguf_weights: Annotated[
        str, typer.Option(help="embedded, llama.cpp: weight type, bf16 (default), f32, q8_0 or "
                          "q4_0 (re-quantized base and merged adapter; see bench/RESULTS.md).")
    ] = "bf16",
    threads: Annotated[int | None, typer.Option(help="embedded: CPU threads.")] = None,
    max_queue: Annotated[int, typer.Option(help="embedded: waiting requests before 503.")] = 16,
    prefix_cache: Annotated[
        int, typer.Option(help="embedded: KV caches kept for prompt-prefix reuse (0 = off).")
    ] = 8,
    parallel: Annotated[
        int, typer.Option(min=1, help="embedded, llama.cpp: requests decoded together in one "
                          "forward pass (1 = one at a time).")
    ] = 4,
    require_adapter: Annotated[
        bool, typer.Option(help="embedded: fail if no 'ptool' adapter instead of serving the base.")
    ] = False,
    request_timeout: Annotated[
        float,
        typer.Option(help="embedded: seconds a request may take, queue included (0 = no limit)."),
    ] = 120.0,
    max_body_bytes: Annotated[
        int, typer.Option(help="embedded: larger request bodies get 413.")
    ] = 1 << 20,
    dry_run: Annotated[bool, typer.Option(help="Print the command instead of running it.")] = False,
) -> None:
    """Serve the model over an OpenAI-compatible API (/v1/models, /v1/chat/completions).

    Then point the assistant at it: PTOOL_MODEL_BASE_URL=http://HOST:PORT/v1. Without that
    variable, `ptool chat` and `ptool ui` start the embedded server themselves. With
    PTOOL_MODEL_API_KEY set, both engines require it as `Authorization: Bearer <key>`.
    """
    from train.serving.embedded import configured_api_key
    from train.serving.models import GGUF_WEIGHTS

    if gguf_weights not in GGUF_WEIGHTS:
        raise fail(f"--gguf-weights must be one of {', '.join(GGUF_WEIGHTS)}")
    settings = Settings()
    api_key = configured_api_key(settings.model_api_key)
    adapters = list(adapter or [])
    if engine is EngineName.vllm:
        _serve_vllm(base, adapters, host, port, api_key, dry_run)
        return
    from train.serving.embedded import default_adapter_dir, server_command

    cmd = server_command(
        workspace=settings.workspace,
        port=port,
        host=host,
        base=base or "smollm2-135m",
        adapter_dir=default_adapter_dir(),
        extra=[
            "--backend",
            backend,
            "--dtype",
            dtype,
            "--gguf-weights",
            gguf_weights,
            "--max-queue",
            str(max_queue),
            "--prefix-cache",
            str(prefix_cache),
            "--parallel",
            str(parallel),
            "--request-timeout",
            str(request_timeout),
            "--max-body-bytes",
            str(max_body_bytes),
            *(["--threads", str(threads)] if threads else []),
            *(["--require-adapter"] if require_adapter else []),
            *[arg for a in adapters for arg in ("--adapter", a)],
        ],
    )
    if dry_run:
        console.print(shlex.join(cmd), highlight=False, soft_wrap=True)
        return
    console.print(
        f"serving on http://{host}:{port}/v1 (workspace {settings.workspace}); Ctrl+C stops"
    )
    if api_key:
        console.print("requests need 'Authorization: Bearer $PTOOL_MODEL_API_KEY'")
    from train.serving.embedded import server_env

    sys.stdout.flush()
    # A fresh process, so the OpenMP settings of server_env() apply before torch loads; the
    # key travels in its environment, not its argv.
    os.execve(cmd[0], cmd, server_env(backend, api_key))


def _printable(cmd: list[str]) -> str:
    """``cmd`` as a shell line with the API key shown as the variable it came from."""
    parts = [shlex.quote(arg) for arg in cmd]
    for i, arg in enumerate(cmd[:-1]):
        if arg == "--api-key":
            parts[i + 1] = '"$PTOOL_MODEL_API_KEY"'
    return " ".join(parts)


def _serve_vllm(base: str | None, adapters: list[str], host: str, port: int,
                api_key: str | None, dry_run: bool) -> None:
    from train.serving.vllm import vllm_command

    if not base:
        raise fail("--engine vllm needs --base, e.g. --base Qwen/Qwen2.5-7B-Instruct")
    if len(adapters) > 1:
        raise fail("--engine vllm takes one --adapter (served as model 'ptool')")
    name, path = "ptool", None
    if adapters:
        left, sep, right = adapters[0].partition("=")
        name, path = (left, Path(right)) if sep else ("ptool", Path(left))
    try:
        cmd = vllm_command(base=base, adapter=path, adapter_name=name, host=host, port=port,
                           api_key=api_key)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    if dry_run:
        console.print(_printable(cmd), highlight=False, soft_wrap=True)
        return
    if shutil.which("vllm") is None:
        raise fail(
            escape(
                "vllm is not installed (GPU hosts only): pip install '.[gpu]'. "
                f"The command would be: {_printable(cmd)}"
            )
        )
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)
