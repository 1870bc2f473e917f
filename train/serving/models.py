"""Which model names the server answers to: the base, each LoRA adapter, and ``ptool``.

Why a module of its own: what a name means (and that ``ptool`` falls back to the bare base
until the first training run) is decided once here, before any weights load, and is what
``GET /v1/models`` reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_MODEL = "ptool"
GGUF_WEIGHTS = ("bf16", "f32", "q8_0", "q4_0")
"""Weight types the llama.cpp backend re-encodes a served model's GGUF into. ``bf16`` (default)
keeps the de-quantized values the adapter was trained on; ``f32`` is exact and slow; ``q8_0``
and ``q4_0`` re-quantize the base and each merged adapter (smaller and faster per token; see
``bench/RESULTS.md``). Here, not with the backends, so that ``ptool serve`` can check the flag
without importing torch."""


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
