"""Which kind of service a chat request is for (the scenario), before any platform is scored.

Why a trained router: the catalog's tool texts alone send about a quarter of requests to the
wrong scenario ("buy me a pack of AA batteries" reached a fitness platform), and everything
after routing -- platforms, history, the call -- inherits the mistake. The router is a
multinomial logistic layer over the request's sentence embedding, trained on synthesized
requests of every catalog scenario (``train/routing.py``), shipped as a small ``.npz``.

It only knows the scenarios it was trained on: for a catalog with other scenarios (tests,
``PTOOL_CATALOG_DIR``) :func:`route` returns ``None`` and the caller falls back to the tool
index's vote. A route whose probability is below the shipped threshold (chosen on a dev split)
is *uncertain*: chat then asks which kind of service is meant instead of acting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant.weights import WeightsFile

MODEL_FILE = "router.npz"


class RouterMissing(RuntimeError):
    """The router's weights are missing or unreadable; the message says what to do."""


_FILE = WeightsFile(model="scenario router", command="ptool train router",
                    missing=RouterMissing)


@dataclass(frozen=True)
class RouterWeights:
    scenarios: tuple[str, ...]
    coef: np.ndarray  # (n_scenarios, dim)
    bias: np.ndarray  # (n_scenarios,)
    threshold: float

    def save(self, path: Path) -> None:
        _FILE.write(path, {"scenarios": np.array(self.scenarios), "coef": self.coef,
                           "bias": self.bias, "threshold": np.array([self.threshold])})

    @classmethod
    def load(cls, path: Path) -> RouterWeights:
        with _FILE.read(path) as data:
            return cls(scenarios=tuple(str(s) for s in data["scenarios"]),
                       coef=data["coef"], bias=data["bias"],
                       threshold=float(data["threshold"][0]))

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        logits = self.coef @ vector + self.bias
        exp = np.exp(logits - logits.max())
        return np.asarray(exp / exp.sum())


def shipped_router_path() -> Path:
    return Path(__file__).parent / "data" / MODEL_FILE


@cache
def shipped_router() -> RouterWeights:
    return RouterWeights.load(shipped_router_path())


@dataclass(frozen=True)
class Route:
    """The scenario, its probability, and whether it clears the confidence threshold."""

    scenario: str
    probability: float
    confident: bool
    runner_up: str | None


def route(vector: np.ndarray, scenarios: Sequence[str],
          weights: RouterWeights | None = None) -> Route | None:
    """The scenario for a request's embedding among the catalog's ``scenarios``; ``None`` when
    the router was trained on other scenarios than the catalog has."""
    weights = weights or shipped_router()
    if set(weights.scenarios) != set(scenarios):
        return None
    probs = weights.probabilities(vector)
    order = np.argsort(-probs)
    best = int(order[0])
    second = weights.scenarios[int(order[1])] if len(order) > 1 else None
    return Route(scenario=weights.scenarios[best], probability=float(probs[best]),
                 confident=bool(probs[best] >= weights.threshold), runner_up=second)
