"""Training the scenario router (``assistant/routing.py``).

Texts labelled with their scenario: synthesized requests of every scenario (the caller passes
them, e.g. from ``synth`` worlds of other seeds than the frozen benchmark's) plus the catalog's
own API texts and platform descriptions, so that a request unlike the generator's phrasing
still lands near the APIs that serve it. A multinomial logistic layer is fitted on their
sentence embeddings; the confidence threshold is the one that keeps the dev error of
*confident* routes under ``max_confident_error`` while asking as rarely as possible (and
never acts on less than even odds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.routing import RouterWeights
from toolcatalog.models import Catalog
from toolcatalog.retrieval import Embedder, api_text


@dataclass(frozen=True)
class RouterReport:
    weights: RouterWeights
    dev_accuracy: float
    dev_confident_share: float
    dev_confident_accuracy: float
    n_train: int
    n_dev: int


def catalog_texts(catalog: Catalog) -> list[tuple[str, str]]:
    """(text, scenario) for every API and platform description of the catalog."""
    rows: list[tuple[str, str]] = []
    for scenario in catalog.scenarios.values():
        for platform in scenario.platforms:
            traits = "; ".join(f"{k}: {v}" for k, v in platform.profile.items())
            rows.append((f"{scenario.name}: {traits}", scenario.name))
            rows.extend((api_text(a.name, a.function.description), scenario.name)
                        for a in platform.apis)
    return rows


def fit_router(
    train: Sequence[tuple[str, str]], dev: Sequence[tuple[str, str]], embed: Embedder, *,
    cs: Sequence[float] = (1.0, 10.0), max_confident_error: float = 0.02,
    progress: Callable[[str], None] = lambda _: None,
) -> RouterReport:
    """Fit on ``train`` (text, scenario) pairs, choose C and the threshold on ``dev``."""
    from sklearn.linear_model import LogisticRegression

    scenarios = tuple(sorted({s for _, s in train}))
    progress(f"embedding {len(train) + len(dev)} texts")
    x = np.asarray(embed([t for t, _ in train]), dtype=np.float32)
    xd = np.asarray(embed([t for t, _ in dev]), dtype=np.float32)
    y = np.array([scenarios.index(s) for _, s in train])
    yd = np.array([scenarios.index(s) for _, s in dev])
    best: RouterReport | None = None
    for c in cs:
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(x, y)
        coef = model.coef_.astype(np.float32)
        bias = model.intercept_.astype(np.float32)
        logits = xd @ coef.T + bias
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        top, conf = probs.argmax(axis=1), probs.max(axis=1)
        right = top == yd
        threshold = _threshold(conf, right, max_confident_error)
        sure = conf >= threshold
        report = RouterReport(
            weights=RouterWeights(scenarios=scenarios, coef=coef, bias=bias,
                                  threshold=threshold),
            dev_accuracy=float(right.mean()), dev_confident_share=float(sure.mean()),
            dev_confident_accuracy=float(right[sure].mean()) if sure.any() else float("nan"),
            n_train=len(train), n_dev=len(dev))
        progress(f"  C={c}: dev accuracy {report.dev_accuracy:.3f}, confident "
                 f"{report.dev_confident_share:.3f} at threshold {threshold:.2f}")
        if best is None or report.dev_accuracy > best.dev_accuracy:
            best = report
    assert best is not None
    return best


def _threshold(conf: np.ndarray, right: np.ndarray, max_error: float) -> float:
    """The lowest threshold whose confident routes err at most ``max_error`` of the time, and
    never below even odds: synthesized dev requests are clearer than what people type, so a
    route the router itself gives less than 50 % is asked about."""
    for t in np.arange(0.5, 0.96, 0.05):
        sure = conf >= t
        if sure.any() and 1.0 - float(right[sure].mean()) <= max_error:
            return float(round(t, 2))
    return 0.95
