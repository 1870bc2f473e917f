"""Training the intent scorer (``assistant/intent.py``) on synthesized training records.

Each record gives a request, its platform and the API the answer calls; the pairs are the
request with every API of that platform (one positive, the rest negatives). A share of the
requests lose a random content word, so the scorer does not hang on one phrase of the
generator. Every API of the catalog is also a request of its own (:func:`api_examples`), since
the generator asks for a few intents per platform only. The regularisation strength and the
narrowing threshold are chosen on hand-written phrasings (``train/data/intent_phrasings.json``;
requests of a world of another seed only break ties), because on synthesized requests the scorer
is right ~99 % of the time at any setting, which says nothing about other people's words. The
frozen benchmark is never read here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from assistant.intent import (
    HASH_DIM,
    IntentWeights,
    PairFeatures,
    pair_features,
    tool_name_and_description,
    words,
)
from toolcatalog.retrieval import Embedder, api_text


@dataclass(frozen=True)
class IntentExample:
    """A request, the tools of its platform, the platform names and the answer's API."""

    request: str
    tools: list[dict[str, Any]]
    platforms: list[str]
    gold: str


PHRASINGS = Path(__file__).parent / "data" / "intent_phrasings.json"
"""Hand-written requests ``[scenario, platform, request, API suffix]`` in phrasings the
generator does not use: where the narrowing threshold is chosen."""


@dataclass(frozen=True)
class IntentReport:
    """How the fitted scorer did on the dev users, next to raw embedding similarity."""

    weights: IntentWeights
    dev_top1: float
    dev_cosine_top1: float
    phrasings_top1: float
    phrasings_cosine_top1: float
    coverage: float
    precision: float
    c: float
    n_train: int
    n_dev: int


def api_examples(tools: Sequence[dict[str, Any]], platforms: Sequence[str],
                 copies: int = 10) -> list[IntentExample]:
    """Every API as a request of its own: its description and its name's words ("check
    stock"). Why: synthesized requests ask for a few intents per platform only, and a scorer
    trained on them alone learns that the other APIs are never meant -- exactly the requests
    other people's phrasings bring."""
    out: list[IntentExample] = []
    for tool in tools:
        name, description = tool_name_and_description(tool)
        for platform in platforms:
            description = description.replace(f"({platform})", "")
        name_words = " ".join(w for w in words(name) if w not in {p.lower() for p in platforms})
        for text in (description.strip(), name_words):
            out.extend(IntentExample(text, list(tools), list(platforms), name)
                       for _ in range(copies))
    return out


def drop_a_word(request: str, rng: random.Random) -> str:
    """The request with one random word of three or more letters removed."""
    parts = request.split()
    long = [i for i, w in enumerate(parts) if len(w.strip(",.!?")) >= 3]
    if len(long) < 3:
        return request
    del parts[rng.choice(long)]
    return " ".join(parts)


def _matrix(pairs: Sequence[PairFeatures]) -> sparse.csr_matrix:
    rows = np.concatenate([np.full(len(p.buckets), i) for i, p in enumerate(pairs)])
    cols = np.concatenate([p.buckets for p in pairs])
    cross = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                              shape=(len(pairs), HASH_DIM))
    cross.sum_duplicates()
    dense = np.array([np.concatenate([p.overlap, p.product]) for p in pairs], dtype=np.float32)
    return sparse.hstack([cross, sparse.csr_matrix(dense)]).tocsr()


def _pairs(examples: Sequence[IntentExample], embed: Embedder, negatives: int | None = None,
           seed: int = 0) -> tuple[list[PairFeatures], list[int], list[int]]:
    """Pair features of every example with its platform's tools (or the gold one and a random
    ``negatives`` of the others, which bounds the training matrix)."""
    rng = random.Random(seed)
    pairs: list[PairFeatures] = []
    labels: list[int] = []
    groups: list[int] = []
    for n, ex in enumerate(examples):
        tools = ex.tools
        if negatives is not None:
            others = [t for t in tools if t["function"]["name"] != ex.gold]
            gold = [t for t in tools if t["function"]["name"] == ex.gold]
            tools = gold + rng.sample(others, min(negatives, len(others)))
        found = pair_features(ex.request, tools, ex.platforms, embed)
        pairs.extend(found)
        labels.extend(int(t["function"]["name"] == ex.gold) for t in tools)
        groups.extend([n] * len(found))
    return pairs, labels, groups


def _weights(model: LogisticRegression, n_overlap: int, threshold: float) -> IntentWeights:
    coef = model.coef_[0]
    return IntentWeights(cross=coef[:HASH_DIM].astype(np.float32),
                         overlap=coef[HASH_DIM:HASH_DIM + n_overlap],
                         product=coef[HASH_DIM + n_overlap:],
                         bias=float(model.intercept_[0]), threshold=threshold)


def _threshold(tops: Sequence[tuple[float, bool]], target: float) -> tuple[float, float, float]:
    """The lowest top-probability cut whose picks are right at least ``target`` of the time:
    (threshold, coverage, precision)."""
    ranked = sorted(tops, key=lambda t: -t[0])
    best = (1.0, 0.0, 1.0)
    hits = 0
    for n, (p, ok) in enumerate(ranked, 1):
        hits += ok
        if hits / n >= target:
            best = (p, n / len(ranked), hits / n)
    return best


def _top_picks(model: LogisticRegression, x: sparse.csr_matrix, pairs: Sequence[PairFeatures],
               labels: Sequence[int], groups: Sequence[int], n: int
               ) -> tuple[list[tuple[float, bool]], list[bool]]:
    """Per request: (top probability, whether the top API is right), and whether the most
    similar API by embedding alone is right."""
    probs = model.predict_proba(x)[:, 1]
    cosine = np.array([p.overlap[-1] for p in pairs])
    starts = np.searchsorted(np.asarray(groups), np.arange(n + 1))
    tops: list[tuple[float, bool]] = []
    cos_hits: list[bool] = []
    for group in range(n):
        idx = range(int(starts[group]), int(starts[group + 1]))
        top = max(idx, key=lambda i: probs[i])
        tops.append((float(probs[top]), bool(labels[top])))
        cos_hits.append(bool(labels[max(idx, key=lambda i: cosine[i])]))
    return tops, cos_hits


def load_phrasings(tools_of: Callable[[str, str], tuple[list[dict[str, Any]], list[str]]],
                   path: Path = PHRASINGS) -> list[IntentExample]:
    """The hand-written phrasings as examples (``tools_of(scenario, platform)`` gives the
    platform's tools and the scenario's platform names)."""
    out: list[IntentExample] = []
    for scenario, platform, request, suffix in json.loads(path.read_text(encoding="utf-8")):
        tools, platforms = tools_of(scenario, platform)
        gold = next(t["function"]["name"] for t in tools
                    if t["function"]["name"].endswith(f"_{suffix}"))
        out.append(IntentExample(request, tools, platforms, gold))
    return out


def fit(train: Sequence[IntentExample], dev: Sequence[IntentExample], embed: Embedder,
        *, seed: int = 0, dropout_share: float = 0.3, target_precision: float = 0.95,
        negatives: int = 10, max_train: int = 9000, extra: Sequence[IntentExample] = (),
        phrasings: Sequence[IntentExample] = (),
        progress: Callable[[str], None] = print) -> IntentReport:
    """Fit on ``train`` (at most ``max_train`` requests plus word-dropped copies, plus
    ``extra``); choose C and the threshold on ``phrasings`` (ties and the no-phrasings case on
    ``dev``)."""
    rng = random.Random(seed)
    if len(train) > max_train:
        train = rng.sample(list(train), max_train)
    train = [*train, *extra]
    augmented = [*train, *(IntentExample(drop_a_word(ex.request, rng), ex.tools, ex.platforms,
                                         ex.gold)
                           for ex in train if rng.random() < dropout_share)]
    progress(f"featurizing {len(augmented)} training and {len(dev)} dev requests...")
    texts = {ex.request for ex in [*augmented, *dev]}
    texts |= {api_text(*tool_name_and_description(t)) for ex in [*train, *dev] for t in ex.tools}
    ordered = sorted(texts)
    for start in range(0, len(ordered), 1024):  # one batched pass fills the embedder's cache
        embed(ordered[start:start + 1024])
        progress(f"  embedded {min(start + 1024, len(ordered))}/{len(ordered)} texts")
    train_pairs, labels, _ = _pairs(augmented, embed, negatives, seed)
    dev_pairs, dev_labels, dev_groups = _pairs(dev, embed)
    x_train, x_dev = _matrix(train_pairs), _matrix(dev_pairs)
    n_overlap = len(train_pairs[0].overlap)
    phrase_pairs, phrase_labels, phrase_groups = _pairs(phrasings, embed)
    best: IntentReport | None = None
    for c in (0.1, 0.3, 1.0):
        model = LogisticRegression(C=c, solver="liblinear", max_iter=3000)
        model.fit(x_train, labels)
        tops, cos_hits = _top_picks(model, x_dev, dev_pairs, dev_labels, dev_groups, len(dev))
        phrase_tops, phrase_cos = (_top_picks(model, _matrix(phrase_pairs), phrase_pairs,
                                              phrase_labels, phrase_groups, len(phrasings))
                                   if phrasings else (tops, cos_hits))
        top1 = float(np.mean([ok for _, ok in tops]))
        phrase_top1 = float(np.mean([ok for _, ok in phrase_tops]))
        progress(f"  C={c}: dev top-1 {top1:.3f}, phrasings top-1 {phrase_top1:.3f}")
        if best is None or (phrase_top1, top1) > (best.phrasings_top1, best.dev_top1):
            threshold, coverage, precision = _threshold(phrase_tops, target_precision)
            best = IntentReport(weights=_weights(model, n_overlap, threshold), dev_top1=top1,
                                dev_cosine_top1=float(np.mean(cos_hits)),
                                phrasings_top1=phrase_top1,
                                phrasings_cosine_top1=float(np.mean(phrase_cos)),
                                coverage=coverage, precision=precision, c=c,
                                n_train=len(augmented), n_dev=len(dev))
    assert best is not None
    return best
