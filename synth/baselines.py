"""Non-model baselines on PTBench-format files, next to an oracle that knows the latent rules.

The benchmark is only useful if the gold platform takes inference: these baselines measure how
far trivial rules get. "first" always picks the first listed platform; "frequent" the platform
the user used most in this scenario; "similar" the platform of the history event most similar to
the request (TF-IDF cosine over words). Calls are filled naively (best name/description word
overlap on the chosen platform, required profile fields from the basic features) so "overall"
measures what such a rule achieves end to end. The oracle reads the world's latent rules.

Between them sits the *history reader*: it knows each history event's and the request's true
category, price tier and urgency (what a perfect reader of the wording would extract) and the
precedence the rules follow, but not the rules themselves -- it infers them from the history by
majority vote. It measures how much of the gold platform the history makes inferable, i.e. the
ceiling for a model that reads history well (the gap to the oracle is noise and unseen slots).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from synth.models import Condition, Event, Sample, ScenarioRule, World
from synth.procedural.params import PROFILE_PARAMS

Prediction = tuple[str, list[dict[str, dict[str, Any]]]]
_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return _WORD.findall(spaced.lower().replace("_", " "))


def scenario_history(sample: dict[str, Any]) -> list[dict[str, str]]:
    """History events of the sample's scenario (the one whose platforms the sample lists)."""
    names = {p["name"] for p in sample["platforms"]}
    profile = sample["user_profile"]
    for events in profile["user_history"].values():
        if events and events[0]["platform"] in names:
            return list(events)
    return []


class Tfidf:
    """Minimal TF-IDF (no third-party dependency) fitted on one file's texts."""

    def __init__(self, documents: Sequence[str]) -> None:
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(tokens(doc)))
        n = len(documents)
        self.idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}

    def vector(self, text: str) -> dict[str, float]:
        tf = Counter(tokens(text))
        vec = {w: c * self.idf.get(w, 1.0) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}

    def similarity(self, a: str, b: str) -> float:
        va, vb = self.vector(a), self.vector(b)
        return sum(v * vb.get(w, 0.0) for w, v in va.items())


def first_platform(sample: dict[str, Any], _: Tfidf) -> str:
    return str(sample["platforms"][0]["name"])


def most_frequent(sample: dict[str, Any], _: Tfidf) -> str:
    counts = Counter(e["platform"] for e in scenario_history(sample))
    return counts.most_common(1)[0][0] if counts else first_platform(sample, _)


def most_similar(sample: dict[str, Any], tfidf: Tfidf) -> str:
    events = scenario_history(sample)
    if not events:
        return first_platform(sample, tfidf)
    best = max(events, key=lambda e: tfidf.similarity(sample["query"], e["action"]))
    return best["platform"]


BASELINES: dict[str, Callable[[dict[str, Any], Tfidf], str]] = {
    "first platform": first_platform,
    "most frequent in history": most_frequent,
    "most similar history event (TF-IDF)": most_similar,
}


def naive_calls(sample: dict[str, Any], platform: str) -> list[dict[str, dict[str, Any]]]:
    """One call: the platform's API whose name/description overlaps the query most."""
    query = set(tokens(sample["query"]))
    apis = [
        t["function"] for t in sample["tools"] if t["function"]["name"].startswith(platform + "_")
    ]
    if not apis:
        return []
    fn = max(apis, key=lambda f: len(query & set(tokens(f["name"] + " " + f["description"]))))
    features = sample["user_profile"]["basic_features"]
    args = {}
    for name in fn["parameters"].get("required", []):
        feature = PROFILE_PARAMS.get(name, (None,))[0]
        if feature and feature in features:
            args[name] = features[feature]
    return [{fn["name"]: args}]


def value_ok(value: Any, accepted: list[Any]) -> bool:
    """PTBench acceptance: strings case-insensitive, lists as sets, numbers within 0.01."""
    if isinstance(value, bool) or str(value).lower() in ("true", "false"):
        return str(value).lower() in {str(a).lower() for a in accepted}
    if isinstance(value, int | float) and accepted and isinstance(accepted[0], int | float):
        return abs(float(value) - float(accepted[0])) <= 0.01
    if isinstance(value, list):
        return any(
            isinstance(a, list) and {str(x).lower() for x in value} == {str(x).lower() for x in a}
            for a in accepted
        )
    return str(value).lower() in {str(a).lower() for a in accepted}


def calls_ok(
    pred: list[dict[str, dict[str, Any]]], answer: list[dict[str, dict[str, Any]]]
) -> bool:
    gold = {k: v for call in answer for k, v in call.items()}
    got = {k: v for call in pred for k, v in call.items()}
    if set(gold) != set(got):
        return False
    for name, params in gold.items():
        if set(params) != set(got[name]):
            return False
        if not all(value_ok(got[name][p], params[p]) for p in params):
            return False
    return True


def refers_to_record(sample: Sample) -> bool:
    """The request refers to a record (``*_id`` argument) whose home platform the history shows."""
    return any(n.endswith("_id") for c in sample.calls for n in c.arguments)


def request_fixes_platform(sample: Sample) -> bool:
    """The request names the platform or refers to a record: no preference to infer."""
    return sample.explicit_platform or refers_to_record(sample)


def oracle_platforms(world: World) -> dict[str, str]:
    """What an oracle that knows every latent rule (and reads the request perfectly) picks."""
    from synth.preferences import decide

    personas = {p.id: p for p in world.personas}
    out = {}
    for s in world.samples:
        if request_fixes_platform(s):
            out[s.id] = s.platform  # named in the request / the record's home in the history
        else:
            out[s.id] = decide(personas[s.user_id].latent[s.scenario], s.condition)[0]
    return out


def _majority(platforms: Sequence[str]) -> str | None:
    """The most common platform (ties: alphabetical, so results are deterministic)."""
    counts = Counter(platforms)
    return min(counts, key=lambda p: (-counts[p], p)) if counts else None


def infer_rule(events: Sequence[Event], categories: Sequence[str]) -> ScenarioRule:
    """A user's rule read off their history: base platform per category from plain events, then
    each override kept only when it explains the events it would govern better than the rule
    below it (price overrides first, urgency last: the reverse of the precedence)."""
    from synth.preferences import decide

    def cond(e: Event) -> Condition:
        assert e.condition is not None
        return e.condition

    plain = [e for e in events if cond(e).price == "normal" and cond(e).urgency == "normal"]
    fallback = _majority([e.platform for e in events]) or ""
    base = {}
    for c in categories:
        base[c] = (_majority([e.platform for e in plain if cond(e).category == c])
                   or _majority([e.platform for e in events if cond(e).category == c])
                   or fallback)
    rule = ScenarioRule(base=base)
    slots = (
        ("on_budget", lambda x: x.price == "budget" and x.urgency == "normal"),
        ("on_premium", lambda x: x.price == "premium" and x.urgency == "normal"),
        ("on_urgent", lambda x: x.urgency == "urgent"),
    )
    for slot, governs in slots:
        governed = [e for e in events if governs(cond(e))]
        without = sum(decide(rule, cond(e))[0] == e.platform for e in governed)
        best = _majority([e.platform for e in governed])
        if best and sum(e.platform == best for e in governed) > without:
            rule = rule.model_copy(update={slot: best})
    return rule


Visible = Callable[[Sample, list[Event]], list[Event]]
"""Which of a user's events the reader gets to see for a sample (default: all of them)."""


def reader_platforms(world: World, visible: Visible | None = None) -> dict[str, str]:
    """What the history reader (module docstring) picks for every sample of ``world``.

    ``visible`` restricts the evidence, e.g. to the ``k`` events the runtime's retrieval shows
    the model (``bench/history_ceiling.py``)."""
    from synth.preferences import decide
    from synth.procedural import scenario_specs

    specs = scenario_specs()
    history: dict[tuple[str, str], list[Event]] = {}
    for e in world.events:
        history.setdefault((e.user_id, e.scenario), []).append(e)
    out = {}
    for s in world.samples:
        if request_fixes_platform(s):
            out[s.id] = s.platform  # named in the request / the record's home in the history
        else:
            events = history.get((s.user_id, s.scenario), [])
            if visible is not None:
                events = visible(s, events)
            rule = infer_rule(events, list(specs[s.scenario].categories))
            out[s.id] = decide(rule, s.condition)[0]
    return out


def _bind(
    fn: Callable[[dict[str, Any], Tfidf], str], tfidf: Tfidf
) -> Callable[[dict[str, Any]], str]:
    return lambda sample: fn(sample, tfidf)


def evaluate(
    samples: list[dict[str, Any]],
    oracle: dict[str, str] | None = None,
    reader: dict[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """{baseline: {"platform": acc, "overall": acc}} over one file's samples."""
    tfidf = Tfidf(
        [s["query"] for s in samples] + [e["action"] for s in samples for e in scenario_history(s)]
    )
    pickers: dict[str, Callable[[dict[str, Any]], str]] = {
        name: _bind(fn, tfidf) for name, fn in BASELINES.items()
    }
    if reader is not None:
        pickers["history reader (true conditions, majority rules)"] = lambda s: reader[s["id"]]
    if oracle is not None:
        pickers["oracle (latent rules)"] = lambda s: oracle[s["id"]]
    results = {}
    for name, pick in pickers.items():
        plat = overall = 0
        for s in samples:
            platform = pick(s)
            right = platform == s["answer"][0]
            plat += right
            overall += right and calls_ok(naive_calls(s, platform), s["answer"][1])
        n = max(len(samples), 1)
        results[name] = {"platform": plat / n, "overall": overall / n}
    return results
