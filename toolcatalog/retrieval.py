"""Tool retrieval: the top-k candidate APIs for a request, so prompts stay short on a CPU.

The embedding function is injected (the catalog does not own a model); API texts are embedded
once per index and kept in memory -- a full catalog is a few hundred vectors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from toolcatalog.models import ApiSpec, Catalog, Platform, Scenario

Embedder = Callable[[list[str]], np.ndarray]
"""Maps texts to unit-normalised vectors, shape (n, dim)."""


class ToolHit(BaseModel):
    scenario: str
    platform: str
    api: ApiSpec
    score: float


def api_document(scenario: Scenario, platform: Platform, api: ApiSpec) -> str:
    """What is embedded for an API: what it does, its parameters, and what its platform and
    scenario are about (so "pepperoni pizza" lands on takeout APIs, not shopping ones)."""
    words = api.name.split("_", 1)[-1]
    params = ", ".join(api.function.parameters.get("properties", {}))
    traits = "; ".join(platform.profile.values())
    return (
        f"{words}: {api.function.description} Parameters: {params}. "
        f"{scenario.name}: {scenario.description} {platform.name}: {traits}."
    )


class ToolIndex:
    """In-memory cosine index over the catalog's APIs."""

    def __init__(self, catalog: Catalog, embed: Embedder) -> None:
        self._entries = catalog.iter_apis()
        self._embed = embed
        self._matrix: np.ndarray | None = None

    def _vectors(self) -> np.ndarray:
        if self._matrix is None:
            docs = [api_document(s, p, a) for s, p, a in self._entries]
            self._matrix = self._embed(docs)
        return self._matrix

    def search(self, request: str, *, k: int = 6, scenario: str | None = None) -> list[ToolHit]:
        """Top-``k`` APIs across platforms (restricted to ``scenario`` when given)."""
        matrix = self._vectors()
        query = self._embed([request])[0]
        scores = matrix @ query
        order = np.argsort(-scores)
        hits: list[ToolHit] = []
        for idx in order:
            s, p, a = self._entries[int(idx)]
            if scenario and s.name != scenario:
                continue
            hits.append(ToolHit(scenario=s.name, platform=p.name, api=a, score=float(scores[idx])))
            if len(hits) >= k:
                break
        return hits

    def best_scenario(self, request: str, *, k: int = 8) -> str:
        """The scenario most of the top-``k`` APIs belong to (score-weighted vote)."""
        votes: dict[str, float] = {}
        for hit in self.search(request, k=k):
            votes[hit.scenario] = votes.get(hit.scenario, 0.0) + max(hit.score, 0.0)
        return max(votes, key=lambda s: votes[s])
