"""Tool retrieval: the top-k candidate APIs for a request, so prompts stay short on a CPU.

The embedding function is injected (the catalog does not own a model); API texts are embedded
once per index and kept in memory -- a full catalog is a few hundred vectors -- and the
composition root can hand in a persistent cache for them (``profiles.embeddings.StoredVectors``).

Two texts per API, because the two questions differ. *Which scenario* is the request about is
answered with :func:`api_document` (the API plus what its scenario and platform are about).
*Which APIs of that scenario* is answered with :func:`api_text`, what the API does and nothing
else: parameter names (``product_name, note, ...``) are shared by most APIs and the scenario and
platform words are constant within a scenario, so both only dilute the match. Measured by
``bench/tool_recall.py`` on 1,000 training records (``ptool synth train`` output, not the
benchmark): the gold API is among the 3 kept per platform for 58.5 % of requests when ranked by
the document, 73.0 % by the API text. Routing is better with the document (on 300 records:
75.3 % of requests reach the right scenario, 71.0 % with the API text).
"""

from __future__ import annotations

import re
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


def api_text(name: str, description: str) -> str:
    """What an API does, for ranking APIs against a request: its name split into words
    (``Shop_orderFood`` -> ``order food``) and its description."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.split("_", 1)[-1]).replace("_", " ")
    return f"{words.lower()}: {description}"


def api_document(scenario: Scenario, platform: Platform, api: ApiSpec) -> str:
    """What is embedded to route a request to a scenario: what an API does, its parameters, and
    what its platform and scenario are about (so "pepperoni pizza" lands on takeout APIs, not
    shopping ones)."""
    words = api.name.split("_", 1)[-1]
    params = ", ".join(api.function.parameters.get("properties", {}))
    traits = "; ".join(platform.profile.values())
    return (
        f"{words}: {api.function.description} Parameters: {params}. "
        f"{scenario.name}: {scenario.description} {platform.name}: {traits}."
    )


class ToolIndex:
    """In-memory cosine index over the catalog's APIs (a routing and a ranking vector each).

    ``embed`` embeds requests; ``catalog_embed`` (default: ``embed``) embeds the API texts, so
    a caller can give it a persistent cache without ever persisting a request."""

    def __init__(self, catalog: Catalog, embed: Embedder,
                 catalog_embed: Embedder | None = None) -> None:
        self._entries = catalog.iter_apis()
        self._embed = embed
        self._catalog_embed = catalog_embed or embed
        self._route: np.ndarray | None = None
        self._rank: np.ndarray | None = None
        self._last: tuple[str, np.ndarray] | None = None

    @property
    def embed(self) -> Embedder:
        """The embedder this index uses (the runtime's other models share it)."""
        return self._embed

    @property
    def catalog_embed(self) -> Embedder:
        """The embedder of the API texts (a persistent cache in chat processes)."""
        return self._catalog_embed

    def vector(self, request: str) -> np.ndarray:
        """The request's unit vector (cached for the last request)."""
        return self._query(request)

    def _query(self, request: str) -> np.ndarray:
        """The request's vector; a chat turn routes and then ranks the same text, so the last
        one is kept rather than embedded twice."""
        last = self._last
        if last is None or last[0] != request:
            last = (request, self._embed([request])[0])
            self._last = last
        return last[1]

    def _scores(self, request: str, *, route: bool) -> np.ndarray:
        if self._route is None or self._rank is None:
            self._route = self._catalog_embed([api_document(s, p, a)
                                               for s, p, a in self._entries])
            self._rank = self._catalog_embed([api_text(a.name, a.function.description)
                                              for _, _, a in self._entries])
        matrix = self._route if route else self._rank
        return matrix @ self._query(request)

    def search(self, request: str, *, k: int = 6, scenario: str | None = None,
               route: bool = False) -> list[ToolHit]:
        """Top-``k`` APIs across platforms (restricted to ``scenario`` when given), scored by
        :func:`api_text`, or by :func:`api_document` with ``route``."""
        scores = self._scores(request, route=route)
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
        """The scenario of the best-matching API among the top ``k`` (a sum of votes would
        favour scenarios with more APIs, whatever the request says)."""
        votes: dict[str, float] = {}
        for hit in self.search(request, k=k, route=True):
            votes[hit.scenario] = max(votes.get(hit.scenario, 0.0), hit.score)
        return max(votes, key=lambda s: votes[s])
