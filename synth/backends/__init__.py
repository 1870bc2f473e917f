"""Synthesis backends, registered by name ("procedural", "llm").

A backend turns a configuration into a :class:`~synth.models.World` and its catalog; everything
downstream (verification, writers, stats) is shared. Unknown names fail with a did-you-mean.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Protocol

from synth.models import World
from toolcatalog.models import Scenario


class SynthBackend(Protocol):
    name: str

    def build_catalog(self) -> dict[str, Scenario]: ...

    def build(self) -> tuple[World, dict[str, Scenario]]: ...


Factory = Callable[..., SynthBackend]
_REGISTRY: dict[str, Factory] = {}


def register_backend(name: str, factory: Factory) -> None:
    _REGISTRY[name] = factory


def _defaults() -> None:
    if _REGISTRY:
        return
    from synth.backends.llm import LLMBackend
    from synth.backends.procedural import ProceduralBackend

    register_backend("procedural", ProceduralBackend)
    register_backend("llm", LLMBackend)


def backend_names() -> list[str]:
    _defaults()
    return sorted(_REGISTRY)


def get_backend(name: str, **kwargs: Any) -> SynthBackend:
    """Instantiate a registered backend; kwargs go to its constructor."""
    _defaults()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"unknown synth backend {name!r}{hint} (known: {', '.join(sorted(_REGISTRY))})"
        )
    return _REGISTRY[name](**kwargs)
