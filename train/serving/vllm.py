"""The ``vllm serve`` command for GPU hosts: base model + the project's LoRA + Hermes tool calls.

Why only a command: vLLM has no CPU wheels and is an optional extra (``pip install .[gpu]``); the
project's job is to build the right flags from the adapter folder (its rank, its name) so the
same client code talks to it as to the embedded server.
"""

from __future__ import annotations

import json
from pathlib import Path

VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
"""vLLM accepts only these ``--max-lora-rank`` values."""


def adapter_rank(adapter: Path) -> int:
    """The LoRA rank ``r`` from a PEFT adapter folder's ``adapter_config.json``."""
    config = Path(adapter) / "adapter_config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"{adapter}: no adapter_config.json; is this a PEFT adapter folder?"
        )
    data = json.loads(config.read_text())
    ranks = [int(data.get("r", 8)), *(int(v) for v in (data.get("rank_pattern") or {}).values())]
    return max(ranks)


def max_lora_rank(rank: int) -> int:
    """Smallest rank vLLM accepts that holds ``rank``."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise ValueError(f"LoRA rank {rank} exceeds vLLM's maximum {VLLM_LORA_RANKS[-1]}")


def vllm_command(
    *,
    base: str,
    adapter: Path | None = None,
    adapter_name: str = "ptool",
    host: str = "0.0.0.0",
    port: int = 8000,
    api_key: str | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """argv for ``vllm serve``; with an adapter, requests for ``adapter_name`` use the LoRA.

    ``api_key``: vLLM then requires ``Authorization: Bearer <api_key>`` on its ``/v1`` routes,
    as the embedded server does."""
    if not base:
        raise ValueError("base model is empty; e.g. Qwen/Qwen2.5-7B-Instruct")
    cmd = [
        "vllm",
        "serve",
        base,
        "--host",
        host,
        "--port",
        str(port),
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
    ]
    if adapter is not None:
        path = Path(adapter).resolve()
        cmd += [
            "--enable-lora",
            "--lora-modules",
            f"{adapter_name}={path}",
            "--max-lora-rank",
            str(max_lora_rank(adapter_rank(path))),
        ]
    if api_key:
        cmd += ["--api-key", api_key]
    return cmd + list(extra or [])
