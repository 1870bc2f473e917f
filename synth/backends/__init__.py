"""Synthesis backends: ``procedural`` (offline, deterministic: the shipped data) and ``llm``
(the paper's LLM-driven pipeline against an endpoint); ``ptool synth world --backend`` picks one.

A backend turns a configuration into a :class:`~synth.models.World` and its catalog; everything
downstream (verification, writers, stats) is shared.
"""

from __future__ import annotations

from typing import Protocol

from synth.models import World
from toolcatalog.models import Scenario


class SynthBackend(Protocol):
    name: str

    def build_catalog(self) -> dict[str, Scenario]: ...

    def build(self) -> tuple[World, dict[str, Scenario]]: ...
