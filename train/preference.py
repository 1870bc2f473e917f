"""Training the preference model (``assistant/preference.py``) on synthesized training records.

Why small linear parts fitted with scikit-learn: the decision is small (a few platforms, twenty-
odd events), the data is thousands of requests, and the model must run in milliseconds on a CPU
and explain itself. Four parts, in order:

1. **trait probes** (urgent / budget / premium) -- logistic layers over sentence embeddings,
   labelled with the generator's own bookkeeping of each text's condition;
2. **kind-of-item projection** -- linear discriminant analysis over the same embeddings,
   labelled with each text's category, so that "a case of Cava" and "three Barolo" land
   together whatever the wording around them (raw embeddings match the same kind of item only
   about half of the time);
3. **event relevance** -- a logistic layer over (request, event) pairs;
4. **platform layer** -- a logistic layer over per-platform aggregates, fitted on relevances
   computed *out of fold* (layer 3 fitted on the other half of the users), so it learns how much
   to trust relevance on users layer 3 has not seen -- the situation at inference;
5. **cold-start layer** -- a logistic layer over the platforms' fit to the request and to the
   stated preferences, fitted on every training request with its history dropped
   (:func:`cold_examples`; it reads only the trait probes, so :func:`fit_cold` can refit it
   alone).

The labels of parts 1 and 2 are the synthesizer's hidden bookkeeping, used here only: at
inference the model reads text, never the latent attributes.

Variety, so that the model reads a history instead of learning one generator's words: request
and event cue phrases are swapped for phrasings the generator never uses in a share of examples
(:data:`CUE_PARAPHRASES`); cold-start examples state the user's preferences in words, under
varied keys and wordings, for a share of users (:func:`stated_preference`); platform names and
candidate order cannot matter, since no feature reads them. Model selection and the
``constrain`` threshold use a dev split of *users*; the frozen benchmark is never read here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.benchmark import sample_to_inline
from assistant.preference import (
    ATTRIBUTES,
    COLD_FEATURES,
    PLATFORM_FEATURES,
    Encoded,
    PreferenceWeights,
    choose,
    cold_features,
    derive,
    encode,
    pair_features,
    platform_characteristics,
    platform_features,
    platform_text,
    probabilities,
    relevance,
    request_parts,
    stated_preferences,
)
from assistant.retrieval import scope_events
from assistant.state import Event, PlatformInfo
from ptbench.records import TrainingRecord
from toolcatalog.retrieval import Embedder

CUE_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "urgent": ("urgently", "need it by tonight", "express please", "super quick",
               "no time to lose", "same-day if you can", "rushed", "by this evening",
               "fast shipping"),
    "budget": ("a cheap one", "bargain", "save money", "lowest price", "economical",
               "not too pricey", "cost-effective", "discounted", "thrifty pick"),
    "premium": ("luxury", "the premium one", "the finest", "high quality", "splurge",
                "exclusive", "deluxe", "top-tier", "best available"),
}
"""Cue phrasings used for variety only (never produced by the procedural generator)."""

_PREFERENCE_KEYS = ("preferences", "likes", "shopping_style", "notes", "about_me",
                    "stated_preferences", "values")
_STATEMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("budget", "frugal"): ("always hunts for the lowest price",
                           "on a tight budget, loves bargains and second-hand finds"),
    ("budget", "moderate"): ("likes good value for money", "careful with money but not stingy"),
    ("budget", "comfortable"): ("will pay a bit more for a better experience",
                                "prefers reliable mid-to-upper range options"),
    ("budget", "affluent"): ("pays more for quality", "values premium brands and service"),
    ("taste", "quality"): ("values brand reputation", "cares about craftsmanship"),
    ("taste", "niche"): ("likes unusual, independent and vintage things",
                         "prefers indie and niche offerings"),
    ("taste", "mainstream"): ("likes popular, well-known choices",
                              "goes with what most people buy"),
    ("urgency", "impatient"): ("hates waiting, wants things fast", "needs quick delivery"),
    ("urgency", "relaxed"): ("does not mind waiting a few days", "in no hurry usually"),
}


@dataclass(frozen=True)
class TextLabel:
    """The generator's bookkeeping for one text: its kind of item and its traits."""

    kind: str
    traits: tuple[int, ...]  # one 0/1 per ATTRIBUTES


@dataclass(frozen=True)
class Example:
    """One request as the model sees it, with the gold platform."""

    user_id: str
    request: str
    events: list[Event]
    platforms: list[PlatformInfo]
    basic_features: dict[str, Any]
    gold: str
    scenario: str = ""


@dataclass
class Augment:
    """Variety settings (shares of examples) and the generator's cue phrases to swap."""

    cues: Mapping[str, Sequence[str]] = field(default_factory=dict)
    cue_swap: float = 0.3


STATED_SHARE = 0.6
"""Share of cold-start examples whose profile states the user's preferences in words."""


def stated_preference(traits: Mapping[str, str], rng: random.Random) -> dict[str, str]:
    """A profile field stating the user's preferences in words (key and wording varied)."""
    parts = [rng.choice(_STATEMENTS[(k, v)]) for k, v in traits.items() if (k, v) in _STATEMENTS]
    rng.shuffle(parts)
    return {rng.choice(_PREFERENCE_KEYS): ", ".join(parts)} if parts else {}


def _swap_cues(text: str, cues: Mapping[str, Sequence[str]], rng: random.Random) -> str:
    for kind, phrases in cues.items():
        for phrase in sorted(phrases, key=len, reverse=True):
            if phrase in text:
                return text.replace(phrase, rng.choice(CUE_PARAPHRASES[kind]), 1)
    return text


def examples_from_records(
    records: Iterable[TrainingRecord], labels: dict[str, TextLabel], *,
    augment: Augment | None = None, seed: int = 0,
) -> list[Example]:
    """Training records (``ptool synth train``) -> examples, with variety when ``augment``.

    ``labels`` maps texts to their bookkeeping; a swapped text inherits its original's label
    (added to ``labels``). Requests that name their platform are skipped: the runtime pins those
    without the model."""
    rng = random.Random(seed)
    out: list[Example] = []

    def swapped(text: str) -> str:
        new = _swap_cues(text, augment.cues, rng) if augment else text
        if new != text and text in labels:
            labels.setdefault(new, labels[text])
        return new

    for record in records:
        if record.annotations.explicit_platform:
            continue
        inline = sample_to_inline({"user_profile": record.profile,
                                   "platforms": record.platforms, "tools": [],
                                   "query": record.query})
        names = [p["name"] for p in inline["platforms"]]
        events = scope_events(inline["history"], names)
        features = dict(inline["basic_features"])
        request = record.query
        if augment is not None and rng.random() < augment.cue_swap:
            request = swapped(request)
            events = [{**e, "action": swapped(e["action"])} if rng.random() < 0.5 else e
                      for e in events]
        out.append(Example(user_id=record.user_id, request=request, events=events,
                           platforms=list(inline["platforms"]), basic_features=features,
                           gold=record.gold.platform, scenario=record.scenario))
    return out


@dataclass
class Synthesized:
    """Training records of one or more synthesized worlds, with the bookkeeping the trait probes
    and the kind projection learn from (``labels``) and each user's hidden traits (``traits``,
    for stated-preference variety only)."""

    records: list[TrainingRecord]
    labels: dict[str, TextLabel]
    traits: dict[str, Mapping[str, str]]


def synthesized(seeds: Sequence[int], world_of: Callable[[int], Any]) -> Synthesized:
    """The ``train`` split of each seed's world (``world_of(seed)`` builds it); user ids get
    the seed as a prefix so that users of two worlds never merge."""
    from synth.decisions import text_conditions
    from synth.world import build_catalog
    from synth.writers import SampleRenderer

    catalog = build_catalog()
    out = Synthesized(records=[], labels={}, traits={})
    for world_seed in seeds:
        world = world_of(world_seed)
        renderer = SampleRenderer(world, catalog)
        for sample in world.samples:
            if sample.split == "train":
                record = renderer.train_record(sample)
                out.records.append(record.model_copy(
                    update={"user_id": f"s{world_seed}-{record.user_id}"}))
        out.labels.update({t: TextLabel(kind=k, traits=v)
                           for t, (k, v) in text_conditions(world).items()})
        out.traits.update({f"s{world_seed}-{p.id}": p.traits for p in world.personas})
    return out


def generator_cues() -> dict[str, tuple[str, ...]]:
    """The generator's own cue phrases per trait (what :data:`CUE_PARAPHRASES` replaces)."""
    from synth.phrasing import HISTORY_CUES, QUERY_CUES

    return {a: (*HISTORY_CUES.get(a, ()), *QUERY_CUES.get(a, ())) for a in ATTRIBUTES}


def train_and_dev(data: Synthesized, records: Sequence[TrainingRecord], dev_users: set[str],
                  seed: int) -> tuple[list[Example], list[Example]]:
    """``records`` as training and dev examples (dev users held out), both with the variety of
    :class:`Augment` over the generator's cue phrases (the dev side with its own draw)."""
    augment = Augment(cues=generator_cues())
    train = examples_from_records([r for r in records if r.user_id not in dev_users],
                                  data.labels, augment=augment, seed=seed)
    dev = examples_from_records([r for r in records if r.user_id in dev_users], data.labels,
                                augment=augment, seed=seed + 1)
    return train, dev


def cold_examples(examples: Sequence[Example], traits: Mapping[str, Mapping[str, str]],
                  seed: int, stated_share: float = STATED_SHARE) -> list[Example]:
    """Every example as a user without history in its scenario would send it; for
    ``stated_share`` of them the profile states the user's preferences in words."""
    rng = random.Random(seed)
    out = []
    for ex in examples:
        features = dict(ex.basic_features)
        user_traits = traits.get(ex.user_id)
        if user_traits and rng.random() < stated_share:
            features.update(stated_preference(user_traits, rng))
        out.append(replace(ex, events=[], basic_features=features))
    return out


class _Vectors:
    """Every text embedded once, in one batch (requests, events, platform texts and
    characteristics, statements); :meth:`encode` is the runtime's ``encode`` reading them."""

    def __init__(self, embed: Embedder, examples: Sequence[Example],
                 progress: Callable[[str], None]) -> None:
        texts: dict[str, None] = {}
        for ex in examples:
            texts[ex.request] = None
            texts.update((part, None) for part in request_parts(ex.request))
            texts.update((e["action"], None) for e in ex.events)
            texts.update((platform_text(p), None) for p in ex.platforms)
            if not ex.events:
                texts.update((t, None) for p in ex.platforms for t in platform_characteristics(p))
            stated = stated_preferences(ex.basic_features)
            if stated:
                texts[stated] = None
        ordered = list(texts)
        progress(f"embedding {len(ordered)} texts")
        self._matrix = np.asarray(embed(ordered), dtype=np.float32)
        self._row = {t: i for i, t in enumerate(ordered)}

    def rows(self, items: Sequence[str]) -> np.ndarray:
        return self._matrix[[self._row[t] for t in items]].reshape(
            len(items), self._matrix.shape[1])

    def encode(self, ex: Example) -> Encoded:
        return encode(self.rows, ex.request, ex.events, ex.platforms, ex.basic_features)


def _labelled_texts(examples: Sequence[Example], labels: Mapping[str, TextLabel]) -> list[str]:
    texts = dict.fromkeys([*(ex.request for ex in examples),
                           *(e["action"] for ex in examples for e in ex.events)])
    return [t for t in texts if t in labels]


def _fit_probes(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """The trait probe: one hidden layer over the embeddings, one output per trait (a linear
    probe misreads about one request in eight; the hidden layer halves that on dev users)."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(128,), max_iter=200, early_stopping=True,
                          random_state=seed).fit(x, y)
    (w1, w2), (b1, b2) = model.coefs_, model.intercepts_
    return tuple(np.asarray(a, dtype=np.float32) for a in (w1, b1, w2, b2))


def _fit_kinds(x: np.ndarray, kinds: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Linear discriminant projection that separates kinds of items (mean, projection)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    n = min(x.shape[1], len(set(kinds)) - 1)
    lda = LinearDiscriminantAnalysis(n_components=n).fit(x, list(kinds))
    return lda.xbar_.astype(np.float32), lda.scalings_[:, :n].astype(np.float32)


def _platform_rows(enc: Encoded, ex: Example, weights: PreferenceWeights) -> np.ndarray:
    derived = derive(weights, enc)
    rel = relevance(weights, enc, derived)
    return platform_features(enc, derived, [e["platform"] for e in ex.events],
                             [p["name"] for p in ex.platforms], rel)


def _fit_pairs(weights: PreferenceWeights, encoded: Sequence[Encoded],
               examples: Sequence[Example], c: float) -> PreferenceWeights:
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for enc, ex in zip(encoded, examples, strict=True):
        if ex.events:
            xs.append(pair_features(enc, derive(weights, enc)))
            ys.append(np.array([e["platform"] == ex.gold for e in ex.events], dtype=np.int8))
    model = LogisticRegression(C=c, max_iter=500).fit(np.vstack(xs), np.concatenate(ys))
    return PreferenceWeights(**{**weights.__dict__, "pair_coef": model.coef_[0].astype(
        np.float32), "pair_bias": float(model.intercept_[0])})


@dataclass(frozen=True)
class FitReport:
    """What was fitted and how it did on the dev users: their requests as sent (with history)
    and the same requests as users without history would send them (cold start)."""

    weights: PreferenceWeights
    dev_accuracy: float
    dev_accuracy_cold: float
    dev_accuracy_cold_stated: float
    baselines: dict[str, float]
    threshold_coverage: float
    threshold_accuracy: float
    pair_c: float
    platform_c: float
    cold_c: float
    n_train: int
    n_dev: int


@dataclass(frozen=True)
class ColdReport:
    """The cold-start layer and its dev accuracy (all, and profiles stating preferences)."""

    coef: np.ndarray
    c: float
    dev_accuracy: float
    dev_accuracy_stated: float


def fit(
    train: Sequence[Example], dev: Sequence[Example], embed: Embedder,
    labels: Mapping[str, TextLabel], *, traits: Mapping[str, Mapping[str, str]] | None = None,
    pair_cs: Sequence[float] = (1.0,), platform_cs: Sequence[float] = (0.1, 1.0, 10.0),
    cold_cs: Sequence[float] = (0.1, 1.0, 10.0), target_precision: float = 0.9,
    seed: int = 0, progress: Callable[[str], None] = lambda _: None,
) -> FitReport:
    """Fit every part on ``train`` (choosing C and the threshold on ``dev``). Examples without
    history train the cold-start layer only, as do the cold copies of every example
    (:func:`cold_examples`, stated preferences drawn from ``traits``)."""
    from sklearn.linear_model import LogisticRegression

    cold_train = cold_examples(train, traits or {}, seed)
    cold_dev = cold_examples(dev, traits or {}, seed + 1)
    train = [ex for ex in train if ex.events]
    dev = [ex for ex in dev if ex.events]
    vectors = _Vectors(embed, [*train, *dev, *cold_train, *cold_dev], progress)
    enc_train = [vectors.encode(ex) for ex in train]
    enc_dev = [vectors.encode(ex) for ex in dev]
    texts = _labelled_texts(train, labels)
    x = vectors.rows(texts)
    progress(f"trait probes and kind projection on {len(texts)} labelled texts")
    hidden, hidden_bias, attr_coef, attr_bias = _fit_probes(
        x, np.array([labels[t].traits for t in texts]), seed)
    kind_mean, kind_proj = _fit_kinds(x, [labels[t].kind for t in texts])
    dim = x.shape[1]
    base = PreferenceWeights(
        attribute_hidden=hidden, attribute_hidden_bias=hidden_bias, attribute_coef=attr_coef,
        attribute_bias=attr_bias, kind_mean=kind_mean, kind_projection=kind_proj,
        pair_coef=np.zeros(dim + 2 + len(ATTRIBUTES), np.float32),
        pair_bias=0.0, platform_coef=np.zeros(len(PLATFORM_FEATURES), np.float32),
        platform_bias=0.0, cold_coef=np.zeros(len(COLD_FEATURES), np.float32))
    users = sorted({ex.user_id for ex in train})
    random.Random(seed).shuffle(users)
    half = set(users[: len(users) // 2])
    folds = [[i for i, ex in enumerate(train) if (ex.user_id in half) == side]
             for side in (True, False)]
    y = np.concatenate([[p["name"] == ex.gold for p in ex.platforms] for ex in train])
    best: FitReport | None = None
    cold = fit_cold(base, cold_train, cold_dev, vectors, cs=cold_cs, progress=progress)
    for pc in pair_cs:
        progress(f"event relevance, C={pc}: two folds and the full fit")
        oof: list[np.ndarray] = [np.zeros(0)] * len(train)
        for fold, other in ((folds[0], folds[1]), (folds[1], folds[0])):
            partial = _fit_pairs(base, [enc_train[i] for i in other],
                                 [train[i] for i in other], pc)
            for i in fold:
                oof[i] = _platform_rows(enc_train[i], train[i], partial)
        layer = _fit_pairs(base, enc_train, train, pc)
        dev_rows = [_platform_rows(e, ex, layer) for e, ex in zip(enc_dev, dev, strict=True)]
        for qc in platform_cs:
            model = LogisticRegression(C=qc, max_iter=2000).fit(np.vstack(oof), y.astype(np.int8))
            weights = layer.with_platform_layer(model.coef_[0].astype(np.float32),
                                                float(model.intercept_[0]))
            report = _report(weights.with_cold_layer(cold.coef), dev_rows, dev, cold, pc, qc,
                             target_precision, len(train))
            progress(f"  C1={pc} C2={qc}: dev accuracy {report.dev_accuracy:.3f}")
            if best is None or report.dev_accuracy > best.dev_accuracy:
                best = report
    assert best is not None
    return best


def fit_cold(
    weights: PreferenceWeights, train: Sequence[Example], dev: Sequence[Example],
    vectors: _Vectors | Embedder, *, cs: Sequence[float] = (0.1, 1.0, 10.0),
    progress: Callable[[str], None] = lambda _: None,
) -> ColdReport:
    """The cold-start layer on examples without history (C chosen on ``dev``). It reads only
    the trait probes of ``weights``, so it can be refitted on shipped weights alone."""
    from sklearn.linear_model import LogisticRegression

    if not isinstance(vectors, _Vectors):
        vectors = _Vectors(vectors, [*train, *dev], progress)
    rows = [cold_features(weights, vectors.encode(ex)) for ex in train]
    y = np.concatenate([[p["name"] == ex.gold for p in ex.platforms] for ex in train])
    dev_rows = [cold_features(weights, vectors.encode(ex)) for ex in dev]
    stated = np.array([bool(stated_preferences(ex.basic_features)) for ex in dev])
    best: ColdReport | None = None
    for c in cs:
        # no intercept: rows are centred over the candidates, and the softmax cancels a bias
        model = LogisticRegression(C=c, max_iter=1000, fit_intercept=False).fit(
            np.vstack(rows), y.astype(np.int8))
        coef = model.coef_[0].astype(np.float32)
        hits = np.array([ex.platforms[int(np.argmax(r @ coef))]["name"] == ex.gold
                         for r, ex in zip(dev_rows, dev, strict=True)])
        report = ColdReport(coef=coef, c=c, dev_accuracy=float(hits.mean()),
                            dev_accuracy_stated=float(hits[stated].mean()) if stated.any()
                            else float("nan"))
        progress(f"  cold start, C={c}: dev accuracy {report.dev_accuracy:.3f} "
                 f"(stated preferences {report.dev_accuracy_stated:.3f})")
        if best is None or report.dev_accuracy > best.dev_accuracy:
            best = report
    assert best is not None
    return best


def _report(weights: PreferenceWeights, dev_rows: Sequence[np.ndarray],
            dev: Sequence[Example], cold: ColdReport, pc: float, qc: float,
            target_precision: float, n_train: int) -> FitReport:
    probs = [probabilities(weights, rows) for rows in dev_rows]
    hits = np.array([ex.platforms[int(np.argmax(p))]["name"] == ex.gold
                     for p, ex in zip(probs, dev, strict=True)])
    tops = np.array([float(p.max()) for p in probs])
    threshold = _threshold(tops, hits, target_precision)
    sure = tops >= threshold
    col = PLATFORM_FEATURES.index
    baselines = {
        "most frequent platform": _baseline(dev, dev_rows, col("event_share")),
        "most similar events (vote)": _baseline(dev, dev_rows, col("sim_vote")),
        "usual platform for the kind of item": _baseline(dev, dev_rows, col("kind_vote")),
        "event relevance alone": _baseline(dev, dev_rows, col("rel_share")),
    }
    return FitReport(
        weights=weights.with_platform_layer(weights.platform_coef, weights.platform_bias,
                                            threshold),
        dev_accuracy=float(hits.mean()), dev_accuracy_cold=cold.dev_accuracy,
        dev_accuracy_cold_stated=cold.dev_accuracy_stated,
        baselines=baselines, threshold_coverage=float(sure.mean()),
        threshold_accuracy=float(hits[sure].mean()) if sure.any() else float("nan"),
        pair_c=pc, platform_c=qc, cold_c=cold.c, n_train=n_train, n_dev=len(dev))


def _threshold(tops: np.ndarray, hits: np.ndarray, precision: float) -> float:
    """The lowest top probability whose confident choices are right ``precision`` of the time
    on the dev users (``constrain`` narrows the grammar above it)."""
    for t in np.arange(0.3, 0.99, 0.02):
        sure = tops >= t
        if sure.any() and float(hits[sure].mean()) >= precision:
            return float(round(t, 2))
    return 0.99


def _baseline(dev: Sequence[Example], rows: Sequence[np.ndarray], column: int) -> float:
    """Accuracy (users with history) of picking the platform with the largest feature value."""
    hits = [ex.platforms[int(np.argmax(r[:, column]))]["name"] == ex.gold
            for r, ex in zip(rows, dev, strict=True) if ex.events]
    return sum(hits) / len(hits) if hits else float("nan")


def split_users(user_ids: Iterable[str], dev_share: float, seed: int) -> set[str]:
    """The dev users: a seeded share of the training users."""
    users = sorted(set(user_ids))
    random.Random(seed).shuffle(users)
    return set(users[: max(1, round(len(users) * dev_share))])


def predictions(weights: PreferenceWeights, examples: Sequence[Example],
                embed: Embedder) -> list[str]:
    """The top platform for each example (what ``constrain`` narrows to)."""
    vectors = _Vectors(embed, examples, lambda _: None)
    out = []
    for ex in examples:
        names = [p["name"] for p in ex.platforms]
        probs, _ = choose(weights, vectors.encode(ex), [e["platform"] for e in ex.events], names)
        out.append(names[int(np.argmax(probs))])
    return out
