"""Training the span ranker (``assistant/span_ranker.py``) on synthesized requests.

Each example is one text parameter of a gold call whose value is a span of the request: every
candidate span of the request is a row, the answer's span (or spans: "a door mat" and "door
mat" are both accepted) the positives. The generator's requests are varied, since other people
write differently: a share is lower-cased (names lose their capitals), and a share gets a
carrier phrase before or after it (:data:`PREFIXES`, :data:`SUFFIXES`: pronouns, particles, a
time, a clause), so that spans running into such words are seen as wrong. A share of the rows
is computed without the parameter's name, so the features not crossed with it carry the ranking
on parameters named otherwise than the generator's. The threshold and the number of spans
offered below it are chosen on requests of another world seed; the frozen benchmark is never
read here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from assistant.request_values import Span, span_candidates
from assistant.span_ranker import (
    HASH_DIM,
    SpanWeights,
    name_words,
    span_buckets,
    span_probabilities,
)

PREFIXES = ("they said ", "I think ", "do they have ", "is it possible to ", "ok so they want ",
            "if you can, ", "my friend asked: ", "it is for them - ", "when you can ")
SUFFIXES = (" brought over", " at 7:30am", " if it is there", " for them", " over there",
            " before noon", " as usual", ", it was too slow", " I found it elsewhere",
            " for the two of us", " tomorrow", " tonight", " today",
            " right now", " sent to me")
"""Carrier phrases of plain English added around a share of the requests (see above)."""


def vary(request: str, rng: random.Random, share: float) -> str:
    """The request lower-cased, with a prefix, a suffix, or as it is (each with ``share``)."""
    if rng.random() < share:
        request = request.lower()
    if rng.random() < share:
        request = rng.choice(PREFIXES) + request[:1].lower() + request[1:]
    if rng.random() < share:
        request = request.rstrip(".!?") + rng.choice(SUFFIXES)
    return request


@dataclass(frozen=True)
class SpanExample:
    """One text parameter of a gold call: the request, who it is for, what is accepted."""

    request: str
    platforms: tuple[str, ...]
    param: str
    """The parameter's name and description."""
    api: str
    """The API's name and description."""
    accepted: tuple[str, ...]


@dataclass(frozen=True)
class SpanReport:
    """How the fitted ranker did on the dev requests."""

    weights: SpanWeights
    c: float
    n_train: int
    n_dev: int
    dev_top1: float
    longest_top1: float
    """The baseline: the longest span (what the grammar's first alternative is)."""
    coverage: float
    """Share of dev parameters whose top span clears the threshold."""
    precision: float
    """Top-1 accuracy on those."""
    recall_k: float
    """Share of dev parameters whose answer is among the top ``top_k`` spans."""


def labelled_spans(example: SpanExample,
                   request: str | None = None) -> tuple[list[Span], list[bool]]:
    """The candidate spans of the example's request (or of a variant of it), singular variants
    left out, and which of them are accepted (as they are or in the singular: the ranker
    chooses a span's extent, see ``offered_spans``)."""
    spans = span_candidates(example.request if request is None else request, example.platforms)
    accepted = {a.lower() for a in example.accepted}
    singular = {s.where: s.text.lower() for s in spans if s.singular}
    plain = [s for s in spans if not s.singular]
    return plain, [s.text.lower() in accepted
                   or singular.get(s.where) in accepted for s in plain]


def _rows(examples: Iterable[SpanExample], vary_share: float,
          seed: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    rng = random.Random(seed)
    indptr, indices, labels = [0], [], []
    for ex in examples:
        spans, gold = labelled_spans(ex, vary(ex.request, rng, vary_share))
        if not any(gold):
            continue
        api_words, param_words = name_words(ex.api), name_words(ex.param)
        if rng.random() < vary_share:  # as for a parameter name never seen
            param_words = frozenset()
        for span, label in zip(spans, gold, strict=True):
            buckets = span_buckets(span, api_words=api_words, param_words=param_words)
            indices.extend(buckets.tolist())
            indptr.append(len(indices))
            labels.append(label)
    data = np.ones(len(indices), dtype=np.float32)
    matrix = sparse.csr_matrix((data, np.array(indices), np.array(indptr)),
                               shape=(len(labels), HASH_DIM))
    return matrix, np.array(labels, dtype=bool)


def _ranked(ex: SpanExample, weights: SpanWeights) -> tuple[list[bool], np.ndarray]:
    spans, gold = labelled_spans(ex)
    return gold, span_probabilities(spans, param=ex.param, api=ex.api, weights=weights)


def fit(train: Sequence[SpanExample], dev: Sequence[SpanExample], *,
        cs: Sequence[float] = (0.1, 0.3, 1.0), target_precision: float = 0.97,
        target_recall: float = 0.99, vary_share: float = 0.3, seed: int = 0,
        progress: Callable[[str], None] = print) -> SpanReport:
    """Fit the layer for each C, keep the best dev top-1, then choose the threshold (the lowest
    whose dev precision reaches ``target_precision``) and ``top_k`` (the fewest spans holding
    ``target_recall`` of the dev answers)."""
    x, y = _rows(train, vary_share, seed)
    progress(f"{len(train)} training parameters, {x.shape[0]} spans")
    dev = [ex for ex in dev if any(labelled_spans(ex)[1])]
    best: tuple[float, float, SpanWeights] | None = None
    for c in cs:
        layer = LogisticRegression(C=c, max_iter=2000, solver="liblinear")
        layer.fit(x, y)
        coef = layer.coef_[0].astype(np.float32)  # the bias is the "bias" feature's weight
        weights = SpanWeights(coef=coef, threshold=1.0, top_k=3)
        top1 = float(np.mean([gold[int(np.argmax(p))] for gold, p in
                              (_ranked(ex, weights) for ex in dev)]))
        progress(f"  C={c}: dev top-1 {top1:.3f}")
        if best is None or top1 > best[0]:
            best = (top1, c, weights)
    assert best is not None
    top1, c, weights = best
    ranked = [_ranked(ex, weights) for ex in dev]
    tops = np.array([float(p.max()) for _, p in ranked])
    right = np.array([gold[int(np.argmax(p))] for gold, p in ranked])
    threshold = _threshold(tops, right, target_precision)
    ranks = np.array([min(r for r, i in enumerate(np.argsort(-p, kind="stable")) if gold[i])
                      for gold, p in ranked])
    top_k = next(k for k in range(1, 97) if np.mean(ranks < k) >= target_recall)
    sure = tops >= threshold
    longest = float(np.mean([gold[0] for gold, _ in ranked]))
    return SpanReport(weights=SpanWeights(coef=weights.coef, threshold=threshold, top_k=top_k),
                      c=c, n_train=len(train), n_dev=len(dev), dev_top1=top1,
                      longest_top1=longest, coverage=float(sure.mean()),
                      precision=float(right[sure].mean()) if sure.any() else 0.0,
                      recall_k=float(np.mean(ranks < top_k)))


def _threshold(tops: np.ndarray, right: np.ndarray, target: float) -> float:
    """The lowest top probability above which dev accuracy reaches ``target`` (1.0: never)."""
    for t in np.round(np.arange(0.3, 1.0, 0.02), 2):
        sure = tops >= t
        if sure.any() and right[sure].mean() >= target:
            return float(t)
    return 1.0
