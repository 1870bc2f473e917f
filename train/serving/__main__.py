"""Run the embedded OpenAI-compatible model server: ``python -m train.serving --workspace data``.

Serves the base model, every PEFT adapter under ``--adapter-dir`` or given with ``--adapter``,
and ``ptool`` (the project's adapter, or the bare base until one is trained) on
``http://HOST:PORT/v1``. ``ptool serve`` and the embedded launcher
(:mod:`train.serving.embedded`) run this with explicit flags.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from train.base_models import DEFAULT_BASE_MODEL, BaseModelError
from train.serving.app import ServerOptions, create_app
from train.serving.backends import BACKENDS, DEFAULT_SLOTS, build_engine
from train.serving.guards import API_KEY_ENV, watch_parent
from train.serving.models import (
    GGUF_WEIGHTS,
    PROJECT_MODEL,
    discover_adapters,
    parse_adapter_args,
    project_adapter,
    served_models,
)

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _parser() -> argparse.ArgumentParser:
    """Every flag of the server process."""
    parser = argparse.ArgumentParser(prog="python -m train.serving", description=__doc__)
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
    parser.add_argument("--gguf-weights", default="bf16", choices=GGUF_WEIGHTS,
                        help="llama.cpp backend: re-encoding of the shipped GGUF weights (and "
                        "of each merged adapter)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument(
        "--parallel", type=int, default=DEFAULT_SLOTS, metavar="N",
        help="llama.cpp backend: requests decoded together in one forward pass (they share the "
        "model's weights; 1 = one request at a time)",
    )
    parser.add_argument(
        "--context", type=int, default=0, metavar="TOKENS",
        help="llama.cpp backend: positions per request, prompt plus answer (default: the "
        "model's 8,192 with --parallel 1, else 4,096)",
    )
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
    return parser


def _add_guard_args(parser: argparse.ArgumentParser) -> None:
    """The server's protections (see :class:`~train.serving.app.ServerOptions` and
    :mod:`train.serving.guards`)."""
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

    from train.serving.gguf_lora import LoraConversionError
    from train.serving.llama_backend import LlamaCppUnavailableError

    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.parent_pid is not None:
        watch_parent(args.parent_pid)  # before the model loads: that can take a while
    options = ServerOptions(
        api_key=args.api_key or None,
        request_timeout=args.request_timeout or None,
        max_body_bytes=args.max_body_bytes,
    )
    if options.api_key is None and args.host not in LOCAL_HOSTS:
        log.warning("listening on %s without an API key: anyone who reaches the port can use "
                    "the model; set %s", args.host, API_KEY_ENV)

    adapters = discover_adapters(args.adapter_dir)
    adapters.update(parse_adapter_args(args.adapter))
    if args.require_adapter and project_adapter(args.base, adapters) is None:
        raise SystemExit(f"no {PROJECT_MODEL!r} adapter in {args.adapter_dir}; train one first")
    try:
        engine = build_engine(
            workspace=args.workspace, base=args.base, adapters=adapters, backend=args.backend,
            dtype=args.dtype, gguf_weights=args.gguf_weights, threads=args.threads,
            max_queue=args.max_queue, prefix_cache=args.prefix_cache, slots=args.parallel,
            context=args.context,
            jump_forward=not args.no_jump_forward, merge=not args.no_merge,
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
