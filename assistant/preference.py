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
   how well the platform's own description fits the request and the user's stated preferences
   (what a cold-start user is judged by); a second logistic layer scores them and a softmax over
   the candidates gives the probabilities.

The features never see platform names or the order of candidates, so the model transfers to
platforms, users and scenarios it was not trained on. Weights are a small ``.npz`` shipped in
``assistant/data/`` (trained by ``train/preference.py``) and loaded lazily.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np

from assistant.state import Event, PlatformInfo
from toolcatalog.retrieval import Embedder

MODEL_FILE = "preference.npz"
PLATFORM_FEATURES = (
    "rel_share", "rel_max", "top_share", "event_share", "sim_vote", "desc_fit", "pref_fit",
    "cold_desc_fit", "cold_pref_fit", "no_events",
)
"""The per-platform features, in the order of the second layer's weights."""

_TOP_EVENTS = 3
_SIM_TEMPERATURE = 0.05
_PREFERENCE_KEYS = ("prefer", "like", "value", "interest", "style", "taste", "note", "about",
                    "bio", "habit", "priorit")
"""Profile keys that hold stated preferences (matched as substrings of the lower-cased key)."""


class PreferenceModelMissing(RuntimeError):
    """The weights file is missing or unreadable; the message says how to get it back."""


class Reason(TypedDict):
    """One thing that drove a platform's score (shown in the UI and ``--json``)."""

    kind: Literal["event", "profile", "platform"]
    platform: str
    text: str
    event_id: str | None
    weight: float


class PlatformScore(TypedDict):
    platform: str
    probability: float


class Preference(TypedDict):
    """The model's view of one request: probabilities (best first) and its reasons."""

    scores: list[PlatformScore]
    reasons: list[Reason]
    history_events: int


@dataclass(frozen=True)
class PreferenceWeights:
    """The trained weights: event-relevance layer and platform layer."""

    pair_coef: np.ndarray
    pair_bias: float
    platform_coef: np.ndarray
    platform_bias: float

    def save(self, path: Path) -> None:
        np.savez(path, pair_coef=self.pair_coef, pair_bias=np.array([self.pair_bias]),
                 platform_coef=self.platform_coef, platform_bias=np.array([self.platform_bias]),
                 platform_features=np.array(PLATFORM_FEATURES))

    @classmethod
    def load(cls, path: Path) -> PreferenceWeights:
        try:
            with np.load(path, allow_pickle=False) as data:
                names = tuple(str(n) for n in data["platform_features"])
                if names != PLATFORM_FEATURES:
                    raise PreferenceModelMissing(
                        f"{path} was trained with features {names}, this code reads "
                        f"{PLATFORM_FEATURES}; retrain with `ptool train preference`")
                return cls(pair_coef=data["pair_coef"], pair_bias=float(data["pair_bias"][0]),
                           platform_coef=data["platform_coef"],
                           platform_bias=float(data["platform_bias"][0]))
        except (OSError, KeyError, ValueError) as exc:
            raise PreferenceModelMissing(
                f"cannot read the preference model {path} ({exc}); reinstall ptool or retrain "
                "it with `ptool train preference`") from exc


def shipped_model_path() -> Path:
    return Path(str(resources.files("assistant") / "data" / MODEL_FILE))


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
    events: np.ndarray  # (n_events, dim)
    descriptions: np.ndarray  # (n_platforms, dim)
    preferences: np.ndarray | None


def encode(embed: Embedder, request: str, events: Sequence[Event],
           platforms: Sequence[PlatformInfo], basic_features: Mapping[str, Any]) -> Encoded:
    """Embed everything the model reads in one call to ``embed``."""
    stated = stated_preferences(basic_features)
    texts = [request, *(e["action"] for e in events), *(platform_text(p) for p in platforms)]
    if stated:
        texts.append(stated)
    vectors = np.asarray(embed(texts), dtype=np.float32)
    n = len(events)
    return Encoded(request=vectors[0], events=vectors[1:1 + n].reshape(n, -1),
                   descriptions=vectors[1 + n:1 + n + len(platforms)],
                   preferences=vectors[-1] if stated else None)


def pair_features(request: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Layer-1 inputs for every (request, event) pair: ``[q ⊙ e, cos(q, e)]``."""
    if len(events) == 0:
        return np.zeros((0, request.shape[0] + 1), dtype=np.float32)
    cos = events @ request
    return np.hstack([events * request, cos[:, None]]).astype(np.float32)


def platform_features(encoded: Encoded, event_platforms: Sequence[str],
                      names: Sequence[str], relevance: np.ndarray) -> np.ndarray:
    """Layer-2 inputs, one row per candidate platform (:data:`PLATFORM_FEATURES`)."""
    n = len(event_platforms)
    owner = np.array([[p == name for p in event_platforms] for name in names],
                     dtype=np.float32).reshape(len(names), n)
    rows = np.zeros((len(names), len(PLATFORM_FEATURES)), dtype=np.float32)
    desc = encoded.descriptions @ encoded.request
    desc_fit = desc - desc.mean()
    pref_fit = np.zeros(len(names), dtype=np.float32)
    if encoded.preferences is not None:
        pref = encoded.descriptions @ encoded.preferences
        pref_fit = pref - pref.mean()
    cold = 1.0 if n == 0 else 0.0
    rows[:, 5], rows[:, 6] = desc_fit, pref_fit
    rows[:, 7], rows[:, 8], rows[:, 9] = cold * desc_fit, cold * pref_fit, cold
    if n == 0:
        return rows
    prob = 1.0 / (1.0 + np.exp(-relevance))
    rows[:, 0] = owner @ prob / max(float(prob.sum()), 1e-6)
    floor = float(relevance.min()) - 1.0
    rows[:, 1] = [float(relevance[o > 0].max()) - floor if o.any() else 0.0 for o in owner]
    top = np.argsort(-relevance)[:_TOP_EVENTS]
    rows[:, 2] = owner[:, top].sum(axis=1) / len(top)
    rows[:, 3] = owner.sum(axis=1) / n
    sims = encoded.events @ encoded.request
    vote = np.exp((sims - sims.max()) / _SIM_TEMPERATURE)
    rows[:, 4] = owner @ vote / float(vote.sum())
    return rows


def relevance(weights: PreferenceWeights, encoded: Encoded) -> np.ndarray:
    feats = pair_features(encoded.request, encoded.events)
    return feats @ weights.pair_coef + weights.pair_bias


def probabilities(weights: PreferenceWeights, rows: np.ndarray) -> np.ndarray:
    logits = rows @ weights.platform_coef + weights.platform_bias
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def score_platforms(
    *, request: str, events: Sequence[Event], platforms: Sequence[PlatformInfo],
    basic_features: Mapping[str, Any], embed: Embedder,
    weights: PreferenceWeights | None = None, max_reasons: int = 3,
) -> Preference:
    """Probabilities over ``platforms`` for ``request`` from this user's ``events`` (their
    history in the scenario) and profile, with the reasons behind the top platform."""
    weights = weights or shipped_weights()
    names = [p["name"] for p in platforms]
    if not names:
        return {"scores": [], "reasons": [], "history_events": len(events)}
    encoded = encode(embed, request, events, platforms, basic_features)
    rel = relevance(weights, encoded)
    rows = platform_features(encoded, [e["platform"] for e in events], names, rel)
    probs = probabilities(weights, rows)
    order = np.argsort(-probs, kind="stable")
    scores: list[PlatformScore] = [{"platform": names[i], "probability": round(float(probs[i]), 4)}
                                   for i in order]
    best = names[int(order[0])]
    reasons = _reasons(best, events, rel, platforms, encoded, basic_features, max_reasons)
    return {"scores": scores, "reasons": reasons, "history_events": len(events)}


def _reasons(best: str, events: Sequence[Event], rel: np.ndarray,
             platforms: Sequence[PlatformInfo], encoded: Encoded,
             basic_features: Mapping[str, Any], limit: int) -> list[Reason]:
    """The best platform's most relevant events; for a user without history in the scenario,
    the stated preferences and the platform description the choice rests on."""
    ranked = [i for i in np.argsort(-rel) if events[int(i)]["platform"] == best][:limit]
    reasons: list[Reason] = [{"kind": "event", "platform": best, "text": events[int(i)]["action"],
                              "event_id": events[int(i)]["id"],
                              "weight": round(float(rel[int(i)]), 3)} for i in ranked]
    if not events:
        stated = stated_preferences(basic_features)
        if stated:
            reasons.append({"kind": "profile", "platform": best, "text": stated,
                            "event_id": None, "weight": 1.0})
        platform = next(p for p in platforms if p["name"] == best)
        reasons.append({"kind": "platform", "platform": best, "text": platform_text(platform),
                        "event_id": None, "weight": 1.0})
    return reasons
