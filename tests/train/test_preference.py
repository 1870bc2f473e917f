"""Training the preference model on a toy world: two scenarios, a bag-of-words embedder.

The toy checks what training must produce, not quality (quality is measured on synthesized
users with MiniLM, ``ptool train preference`` and ``bench/scenario_transfer.py``): a platform
layer with one weight per feature, choices among the candidates only, and ``predictions``
agreeing with the dev accuracy the fit reports.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import numpy as np

from assistant.preference import COLD_FEATURES, PLATFORM_FEATURES
from assistant.state import Event, PlatformInfo
from train.preference import Example, TextLabel, cold_examples, fit, fit_cold, predictions

_DIM = 64
WORLD = {
    "cellar": {"wine": ("merlot", "riesling", "prosecco"), "cheese": ("brie", "gouda", "feta")},
    "cinema": {"film": ("western", "thriller", "comedy"), "music": ("opera", "jazz", "techno")},
    "garden": {"tools": ("rake", "shovel", "shears"), "plants": ("tulip", "fern", "orchid")},
}


def bag_of_words(texts: Sequence[str]) -> list[list[float]]:
    """A deterministic embedder: hashed words, unit length."""
    out = []
    for text in texts:
        v = np.zeros(_DIM)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % _DIM] += 1.0
        out.append(list(v / max(float(np.linalg.norm(v)), 1e-6)))
    return out


def _examples(seed: int) -> tuple[list[Example], dict[str, TextLabel]]:
    rng = random.Random(seed)
    labels: dict[str, TextLabel] = {}
    out = []
    for user in range(12):
        for scenario, kinds in WORLD.items():
            platforms: list[PlatformInfo] = [{"name": f"{scenario}-{p}", "profile": {"kind": p}}
                                            for p in ("a", "b")]
            usual = {kind: rng.choice(platforms)["name"] for kind in kinds}
            events: list[Event] = []
            for n in range(8):
                kind = rng.choice(sorted(kinds))
                text = f"got {rng.choice(kinds[kind])} {n}"
                labels[text] = TextLabel(kind=f"{scenario}/{kind}", traits=(n % 3 == 0, 0, 0))
                events.append({"id": f"e{n}", "scenario": scenario, "platform": usual[kind],
                               "action": text, "timestamp": ""})
            for n in range(4):
                kind = rng.choice(sorted(kinds))
                request = f"find me {rng.choice(kinds[kind])} please {user} {n}"
                labels[request] = TextLabel(kind=f"{scenario}/{kind}", traits=(0, 0, 0))
                out.append(Example(user_id=f"u{user}", request=request, events=events,
                                   platforms=platforms, basic_features={},
                                   gold=usual[kind], scenario=scenario))
    return out, labels


def _split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    dev_users = {"u0", "u1"}
    return ([ex for ex in examples if ex.user_id not in dev_users],
            [ex for ex in examples if ex.user_id in dev_users])


def test_fit_gives_one_weight_per_feature_and_chooses_among_the_candidates() -> None:
    examples, labels = _examples(0)
    train, dev = _split(examples)
    report = fit(train, dev, bag_of_words, labels, platform_cs=(1.0,))
    assert report.weights.platform_coef.shape == (len(PLATFORM_FEATURES),)
    chosen = predictions(report.weights, dev, bag_of_words)
    assert all(c in {p["name"] for p in ex.platforms} for c, ex in zip(chosen, dev, strict=True))
    hits = [c == ex.gold for c, ex in zip(chosen, dev, strict=True)]
    assert sum(hits) / len(hits) == report.dev_accuracy > 0.5  # two platforms; kinds decide


def _cold_world(seed: int) -> list[Example]:
    """Users without history: each platform's description names the kinds of item it serves,
    and the gold platform is the one that names the requested kind."""
    rng = random.Random(seed)
    out = []
    for user in range(12):
        for scenario, kinds in WORLD.items():
            order = rng.sample(sorted(kinds), len(kinds))
            platforms: list[PlatformInfo] = [{"name": f"{scenario}-{i}",
                                              "profile": {"range": f"{kind} and more"}}
                                             for i, kind in enumerate(order)]
            for n in range(4):
                kind = rng.choice(order)
                out.append(Example(user_id=f"u{user}", request=f"find me some {kind} {n}",
                                   events=[], platforms=platforms, basic_features={},
                                   gold=platforms[order.index(kind)]["name"],
                                   scenario=scenario))
    return out


def test_the_cold_start_layer_learns_from_the_platforms_descriptions() -> None:
    examples, labels = _examples(0)
    train, dev = _split(examples)
    report = fit(train, dev, bag_of_words, labels, platform_cs=(1.0,), cold_cs=(1.0,))
    assert report.weights.cold_coef.shape == (len(COLD_FEATURES),)
    cold_train, cold_dev = _split(_cold_world(1))
    cold = fit_cold(report.weights, cold_examples(cold_train, {}, 0), cold_dev, bag_of_words,
                    cs=(1.0,))
    assert cold.coef[COLD_FEATURES.index("desc_fit")] > 0
    chosen = predictions(report.weights.with_cold_layer(cold.coef), cold_dev, bag_of_words)
    hits = [c == ex.gold for c, ex in zip(chosen, cold_dev, strict=True)]
    assert sum(hits) / len(hits) == cold.dev_accuracy > 0.9
