"""The procedural backend: the offline default, deterministic by seed (no model involved)."""

from __future__ import annotations

from synth.models import World
from synth.world import Progress, WorldConfig, build_world
from toolcatalog.models import Scenario


class ProceduralBackend:
    """Builds the full-size world from the specs in :mod:`synth.procedural`."""

    name = "procedural"

    def __init__(self, config: WorldConfig | None = None, progress: Progress | None = None) -> None:
        self.config = config or WorldConfig()
        self.progress = progress

    def build_catalog(self) -> dict[str, Scenario]:
        from synth.world import build_catalog

        return build_catalog()

    def build(self) -> tuple[World, dict[str, Scenario]]:
        return build_world(self.config, progress=self.progress)
