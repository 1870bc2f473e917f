"""Which platform this user would pick: a small trained model that reads the user's history.

Why a separate model and not the language model: the preference is a function of the whole
history in the scenario (a user's urgent orders may all go to the fastest platform, while their
wine goes to the premium one), and a 135M generator fine-tuned on CPU does not learn to read it
(its platform accuracy sits at the "most frequent platform" baseline). This model is two
logistic layers over sentence embeddings, so it is fast, small and explainable:

1. **Event relevance** -- for the request ``q`` and each event ``e`` of the user's history in the
   scenario, ``r(q, e) = w · [q ⊙ e, cos(q, e)] + b`` scores how likely ``e``'s platform is the
   one this request goes to. The element-wise product lets the model learn *which* meanings must
   agree (urgency, price tier, kind of item), not only overall similarity.
2. **Platform choice** -- per candidate platform, a handful of aggregates of those relevances
   (share of the relevance mass, best event, share of the top events, share of all events) plus
   how well the platform's own description fits the request and the user's stated preferences;
   a second logistic layer scores them and a softmax over the candidates gives the
   probabilities.
3. **Cold start** -- a user with no history in the scenario has nothing for layers 1-2 to read,
   so a layer of its own judges the platforms' descriptions against the request and the
   profile's stated preferences: by meaning (cosine) and by trait ("hunts for the lowest price"
   and "a cheap one" against a characteristic like "price level: budget", read with the same
   trait probes that read the history).

The features never see platform names or the order of candidates, so the model transfers to
platforms, users and scenarios it was not trained on. Weights are a small ``.npz`` shipped in
``assistant/data/`` (trained by ``train/preference.py``) and loaded lazily.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from assistant.sources import DataSource
from assistant.state import Event, PlatformInfo, PreferenceReason, PreferenceView, ScoredPlatform
from assistant.weights import WeightsFile
from toolcatalog.retrieval import Embedder

MODEL_FILE = "preference.npz"
MAX_PREFERENCE_EVENTS = 80
"""The most recent events of the scenario the model reads (bounds its cost per turn)."""
ATTRIBUTES = ("urgent", "budget", "premium")
"""Request traits that override a user's usual platform (probed from the embeddings)."""
PLATFORM_FEATURES = (
    "rel_share", "rel_max", "top_share", "event_share", "sim_vote", "kind_vote",
    *(f"{a}_share" for a in ATTRIBUTES), *(f"{a}_override" for a in ATTRIBUTES),
    "desc_fit", "pref_fit",
)
"""The per-platform features, in the order of the second layer's weights."""
COLD_FEATURES = ("desc_fit", "pref_fit", "trait_fit", "ask_fit")
"""The cold-start layer's per-platform features (:func:`cold_features`)."""

_TOP_EVENTS = 3
_SIM_TEMPERATURE = 0.05
_KIND_TEMPERATURE = 0.1
_CLAUSE = re.compile(r"[,.!?;:()]| - | and | but ")
_PREFERENCE_KEYS = ("prefer", "like", "value", "interest", "style", "taste", "note", "about",
                    "bio", "habit", "priorit", "favo", "hobb", "lifestyle", "personality",
                    "budget", "goal")
"""Profile keys that hold stated preferences (matched as substrings of the lower-cased key)."""


class PreferenceModelMissing(RuntimeError):
    """The weights file is missing or unreadable; the message says how to get it back."""


_FILE = WeightsFile(model="preference model", command="ptool train preference",
                    missing=PreferenceModelMissing,
                    features={"platform_features": PLATFORM_FEATURES,
                              "cold_features": COLD_FEATURES})


@dataclass(frozen=True)
class PreferenceWeights:
    """The trained parts: trait probes, the kind-of-item projection, event relevance, the
    platform layer and the cold-start layer. ``threshold``: the top probability above which
    ``constrain`` narrows the answer to one platform (chosen on the dev users)."""

    attribute_hidden: np.ndarray  # (dim, hidden): the trait probe's hidden layer
    attribute_hidden_bias: np.ndarray  # (hidden,)
    attribute_coef: np.ndarray  # (hidden, len(ATTRIBUTES))
    attribute_bias: np.ndarray  # (len(ATTRIBUTES),)
    kind_mean: np.ndarray  # (dim,)
    kind_projection: np.ndarray  # (dim, n_kind)
    pair_coef: np.ndarray
    pair_bias: float
    platform_coef: np.ndarray
    platform_bias: float
    cold_coef: np.ndarray  # (len(COLD_FEATURES),): no bias, the softmax would cancel it
    threshold: float = 1.0

    _ARRAYS = ("attribute_hidden", "attribute_hidden_bias", "attribute_coef", "attribute_bias",
               "kind_mean", "kind_projection", "pair_coef", "platform_coef", "cold_coef")

    def save(self, path: Path) -> None:
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        _FILE.write(path, {**arrays, "pair_bias": np.array([self.pair_bias]),
                           "platform_bias": np.array([self.platform_bias]),
                           "threshold": np.array([self.threshold])})

    @classmethod
    def load(cls, path: Path) -> PreferenceWeights:
        with _FILE.read(path) as data:
            arrays = {name: np.asarray(data[name], dtype=np.float32) for name in cls._ARRAYS}
            return cls(**arrays, pair_bias=float(data["pair_bias"][0]),
                       platform_bias=float(data["platform_bias"][0]),
                       threshold=float(data["threshold"][0]))

    def with_platform_layer(self, coef: np.ndarray, bias: float,
                            threshold: float = 1.0) -> PreferenceWeights:
        return replace(self, platform_coef=coef, platform_bias=bias, threshold=threshold)

    def with_cold_layer(self, coef: np.ndarray) -> PreferenceWeights:
        return replace(self, cold_coef=coef)

    def attributes(self, vectors: np.ndarray) -> np.ndarray:
        """Probability of each :data:`ATTRIBUTES` trait per text, ``(n, len(ATTRIBUTES))``."""
        x = vectors.reshape(-1, self.attribute_hidden.shape[0])
        hidden = np.maximum(x @ self.attribute_hidden + self.attribute_hidden_bias, 0.0)
        logits = hidden @ self.attribute_coef + self.attribute_bias
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))

    def kinds(self, vectors: np.ndarray) -> np.ndarray:
        """Unit vectors in the kind-of-item space (what is asked for, not how it is said)."""
        z = (vectors.reshape(-1, self.kind_mean.shape[0]) - self.kind_mean) @ self.kind_projection
        return np.asarray(z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-6))


def shipped_model_path() -> Path:
    return Path(__file__).parent / "data" / MODEL_FILE


@cache
def shipped_weights() -> PreferenceWeights:
    """The shipped weights, read once per process on first use."""
    return PreferenceWeights.load(shipped_model_path())


def platform_text(platform: PlatformInfo) -> str:
    """A platform's description as one line (its characteristics)."""
    profile = platform.get("profile") or {}
    if isinstance(profile, Mapping):
        traits = "; ".join(f"{k}: {v}" for k, v in profile.items())
    else:
        traits = str(profile)
    return f"{platform['name']}: {traits}"


def platform_characteristics(platform: PlatformInfo) -> list[str]:
    """Each characteristic of a platform as its own text ("price level: budget"): a trait is
    read more reliably from one characteristic than from the whole description."""
    profile = platform.get("profile") or {}
    if isinstance(profile, Mapping) and profile:
        return [f"{k}: {v}" for k, v in profile.items()]
    return [platform_text(platform)]


def stated_preferences(basic_features: Mapping[str, Any]) -> str:
    """Free-text preference statements in a profile ("values brand reputation..."), or ``""``.

    Nested profiles are searched too; only keys that name a preference count, so an address or
    a name never reads as a taste."""
    found: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and any(p in key.lower() for p in _PREFERENCE_KEYS):
            found.append(value.strip())

    walk(basic_features, "")
    return "; ".join(f for f in found if f)


@dataclass(frozen=True)
class Encoded:
    """The embedded inputs of one request (unit vectors)."""

    request: np.ndarray
    request_parts: np.ndarray  # (n_parts, dim): the request's clauses (traits are read per part)
    events: np.ndarray  # (n_events, dim)
    descriptions: np.ndarray  # (n_platforms, dim)
    preferences: np.ndarray | None
    characteristics: tuple[np.ndarray, ...] = ()  # per platform (n_chars, dim); cold start only


def encode(embed: Embedder, request: str, events: Sequence[Event],
           platforms: Sequence[PlatformInfo], basic_features: Mapping[str, Any]) -> Encoded:
    """Embed everything the model reads in one call to ``embed`` (the platforms'
    characteristics one by one only for a user without events: only the cold-start layer
    reads them)."""
    stated = stated_preferences(basic_features)
    parts = request_parts(request)
    chars = [] if events else [platform_characteristics(p) for p in platforms]
    texts = [request, *parts, *(e["action"] for e in events),
             *(platform_text(p) for p in platforms), *(t for c in chars for t in c)]
    if stated:
        texts.append(stated)
    vectors = np.asarray(embed(texts), dtype=np.float32)
    m, n, k = len(parts), len(events), len(platforms)
    ends = np.cumsum([1 + m + n + k, *(len(c) for c in chars)])
    return Encoded(request=vectors[0], request_parts=vectors[1:1 + m],
                   events=vectors[1 + m:1 + m + n].reshape(n, vectors.shape[1]),
                   descriptions=vectors[1 + m + n:1 + m + n + k],
                   preferences=vectors[-1] if stated else None,
                   characteristics=tuple(vectors[a:b] for a, b in pairwise(ends)))


def request_parts(request: str) -> list[str]:
    """The request's clauses ("get me a Barolo", "asap"), when it has more than one: a short
    cue is easier to read alone than inside the whole sentence's embedding."""
    parts = [p.strip() for p in _CLAUSE.split(request) if p and p.strip()]
    return parts if len(parts) > 1 else []


@dataclass(frozen=True)
class Derived:
    """What layer 2 reads besides the raw vectors: traits and kinds of request and events."""

    asked: np.ndarray  # (A,) traits of the request
    traits: np.ndarray  # (n, A) traits of the events
    kind_sim: np.ndarray  # (n,) request-event similarity in the kind space
    kind_pairs: np.ndarray  # (n, n) event-event similarity in the kind space


def derive(weights: PreferenceWeights, encoded: Encoded) -> Derived:
    kinds_q = weights.kinds(encoded.request)[0]
    kinds_e = weights.kinds(encoded.events) if len(encoded.events) else np.zeros((0, 1))
    whole = np.vstack([encoded.request[None, :], encoded.request_parts])
    return Derived(asked=weights.attributes(whole).max(axis=0),
                   traits=weights.attributes(encoded.events) if len(encoded.events)
                   else np.zeros((0, len(ATTRIBUTES))),
                   kind_sim=kinds_e @ kinds_q if len(encoded.events) else np.zeros(0),
                   kind_pairs=kinds_e @ kinds_e.T)


def pair_features(encoded: Encoded, derived: Derived) -> np.ndarray:
    """Layer-1 inputs for every (request, event) pair:
    ``[q ⊙ e, cos(q, e), kind similarity, request traits ⊙ event traits]``."""
    events, request = encoded.events, encoded.request
    if len(events) == 0:
        return np.zeros((0, request.shape[0] + 2 + len(ATTRIBUTES)), dtype=np.float32)
    cos = events @ request
    return np.hstack([events * request, cos[:, None], derived.kind_sim[:, None],
                      derived.traits * derived.asked]).astype(np.float32)


def _softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def platform_features(encoded: Encoded, derived: Derived, event_platforms: Sequence[str],
                      names: Sequence[str], relevance: np.ndarray) -> np.ndarray:
    """Layer-2 inputs, one row per candidate platform (:data:`PLATFORM_FEATURES`).

    The history is read jointly, the way a person infers a rule from it:

    * ``kind_vote`` -- where the user's *plain* events (no urgency, no price cue) for this kind
      of item went: their usual choice;
    * ``<trait>_override`` -- for a request carrying a trait (urgent, budget, premium): how much
      better "the trait's events go to this platform" explains those events than their usual
      choice does. An override only counts when the user's events agree on it.
    * ``<trait>_share`` -- the share of the trait's events on the platform (request-weighted);
    * ``rel_*`` -- layer 1's event relevance, aggregated;
    * ``desc_fit`` / ``pref_fit`` -- the platform's description against the request and the
      profile's stated preferences.

    A user without events gets these two columns only; :func:`cold_features` is what scores
    them.
    """
    n = len(event_platforms)
    owner = np.array([[p == name for p in event_platforms] for name in names],
                     dtype=np.float32).reshape(len(names), n)
    rows = np.zeros((len(names), len(PLATFORM_FEATURES)), dtype=np.float32)
    col = {name: i for i, name in enumerate(PLATFORM_FEATURES)}
    desc = encoded.descriptions @ encoded.request
    rows[:, col["desc_fit"]] = desc - desc.mean()
    if encoded.preferences is not None:
        pref = encoded.descriptions @ encoded.preferences
        rows[:, col["pref_fit"]] = pref - pref.mean()
    if n == 0:
        return rows
    prob = 1.0 / (1.0 + np.exp(-relevance))
    rows[:, col["rel_share"]] = owner @ prob / max(float(prob.sum()), 1e-6)
    floor = float(relevance.min()) - 1.0
    rows[:, col["rel_max"]] = [float(relevance[o > 0].max()) - floor if o.any() else 0.0
                               for o in owner]
    top = np.argsort(-relevance)[:_TOP_EVENTS]
    rows[:, col["top_share"]] = owner[:, top].sum(axis=1) / len(top)
    rows[:, col["event_share"]] = owner.sum(axis=1) / n
    sims = encoded.events @ encoded.request
    rows[:, col["sim_vote"]] = owner @ _softmax_rows(sims / _SIM_TEMPERATURE)
    plain = np.clip(1.0 - derived.traits.max(axis=1), 0.02, 1.0)
    kind_w = _softmax_rows(derived.kind_sim / _KIND_TEMPERATURE) * plain
    rows[:, col["kind_vote"]] = owner @ kind_w / float(kind_w.sum())
    # each event's usual platform, read from the other plain events of its kind
    pair_w = np.exp((derived.kind_pairs - 1.0) / _KIND_TEMPERATURE) * plain[None, :]
    np.fill_diagonal(pair_w, 0.0)
    usual = pair_w @ owner.T / np.maximum(pair_w.sum(axis=1, keepdims=True), 1e-6)  # (n, P)
    for k, attribute in enumerate(ATTRIBUTES):
        g = derived.traits[:, k]
        total = float(g.sum())
        if total < 1e-3:
            continue
        share = owner @ g / total
        explained = float(g @ usual[np.arange(n), owner.argmax(axis=0)]) / total
        rows[:, col[f"{attribute}_share"]] = derived.asked[k] * share
        rows[:, col[f"{attribute}_override"]] = derived.asked[k] * np.maximum(
            share - explained, 0.0) * min(total, 2.0) / 2.0
    return rows


def cold_features(weights: PreferenceWeights, encoded: Encoded) -> np.ndarray:
    """The cold-start layer's inputs, one row per platform (:data:`COLD_FEATURES`), each
    centred over the candidates:

    * ``desc_fit`` / ``pref_fit`` -- cosine of the platform's description with the request and
      with the stated preferences;
    * ``trait_fit`` -- the traits the stated preferences express (budget, premium, urgent)
      against the traits the platform's characteristics express;
    * ``ask_fit`` -- the same for the traits the request asks for ("a cheap one", "asap").
    """
    platform_traits = np.stack([weights.attributes(c).max(axis=0)
                                for c in encoded.characteristics])
    whole = np.vstack([encoded.request[None, :], encoded.request_parts])
    rows = np.zeros((len(encoded.descriptions), len(COLD_FEATURES)), dtype=np.float32)
    rows[:, 0] = encoded.descriptions @ encoded.request
    rows[:, 3] = platform_traits @ weights.attributes(whole).max(axis=0)
    if encoded.preferences is not None:
        rows[:, 1] = encoded.descriptions @ encoded.preferences
        rows[:, 2] = platform_traits @ weights.attributes(encoded.preferences)[0]
    return np.asarray(rows - rows.mean(axis=0))


def relevance(weights: PreferenceWeights, encoded: Encoded, derived: Derived) -> np.ndarray:
    return np.asarray(pair_features(encoded, derived) @ weights.pair_coef + weights.pair_bias)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max())
    return np.asarray(exp / exp.sum())


def probabilities(weights: PreferenceWeights, rows: np.ndarray) -> np.ndarray:
    """The platform layer's probabilities over the candidates (users with events)."""
    return _softmax(rows @ weights.platform_coef + weights.platform_bias)


def cold_probabilities(weights: PreferenceWeights, rows: np.ndarray) -> np.ndarray:
    """The cold-start layer's probabilities over the candidates (users without events)."""
    return _softmax(rows @ weights.cold_coef)


def choose(weights: PreferenceWeights, encoded: Encoded,
           event_platforms: Sequence[str], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities over ``names`` and each event's relevance: the platform layer when the
    user has events in the scenario, the cold-start layer otherwise."""
    if not event_platforms:
        return cold_probabilities(weights, cold_features(weights, encoded)), np.zeros(0)
    derived = derive(weights, encoded)
    rel = relevance(weights, encoded, derived)
    rows = platform_features(encoded, derived, event_platforms, names, rel)
    return probabilities(weights, rows), rel


def score_platforms(
    *, request: str, events: Sequence[Event], platforms: Sequence[PlatformInfo],
    basic_features: Mapping[str, Any], embed: Embedder,
    weights: PreferenceWeights | None = None, max_reasons: int = 3,
) -> PreferenceView:
    """Probabilities over ``platforms`` for ``request`` from this user's ``events`` (their
    history in the scenario) and profile, with the reasons behind the top platform."""
    weights = weights or shipped_weights()
    names = [p["name"] for p in platforms]
    if not names:
        return {"scores": [], "reasons": [], "history_events": len(events)}
    encoded = encode(embed, request, events, platforms, basic_features)
    probs, rel = choose(weights, encoded, [e["platform"] for e in events], names)
    order = np.argsort(-probs, kind="stable")
    scores: list[ScoredPlatform] = [{"platform": names[i], "probability": round(float(probs[i]), 4)}
                                   for i in order]
    best = names[int(order[0])]
    reasons = _reasons(best, events, rel, platforms, encoded, basic_features, max_reasons)
    return {"scores": scores, "reasons": reasons, "history_events": len(events)}


def platform_preference(
    source: DataSource, *, user_id: str, scenario: str | None, request: str,
    platforms: list[PlatformInfo], basic_features: dict[str, Any],
    weights: PreferenceWeights,
) -> PreferenceView:
    """The model on this user's recent history of the candidate platforms, as ``source`` serves
    it: the one entry point of the graph's ``score_platforms``, the training-data renderer and
    ``bench/preference_eval.py``."""
    names = [p["name"] for p in platforms]
    events = [e for e in source.scenario_history(user_id, scenario, names)
              if e["platform"] in names]
    return score_platforms(
        request=request, events=events[-MAX_PREFERENCE_EVENTS:], platforms=platforms,
        basic_features=basic_features, embed=source.embedder(), weights=weights)


def _reasons(best: str, events: Sequence[Event], rel: np.ndarray,
             platforms: Sequence[PlatformInfo], encoded: Encoded,
             basic_features: Mapping[str, Any], limit: int) -> list[PreferenceReason]:
    """The best platform's most relevant events; for a user without history in the scenario,
    the stated preferences and the platform description the choice rests on."""
    ranked = [i for i in np.argsort(-rel) if events[int(i)]["platform"] == best][:limit]
    reasons: list[PreferenceReason] = [
        {"kind": "event", "platform": best, "text": events[int(i)]["action"],
         "event_id": events[int(i)]["id"], "weight": round(float(rel[int(i)]), 3)}
        for i in ranked]
    if not events:
        stated = stated_preferences(basic_features)
        if stated:
            reasons.append({"kind": "profile", "platform": best, "text": stated,
                            "event_id": None, "weight": 1.0})
        platform = next(p for p in platforms if p["name"] == best)
        reasons.append({"kind": "platform", "platform": best, "text": platform_text(platform),
                        "event_id": None, "weight": 1.0})
    return reasons
