"""The span ranker: word classes, features, the offering rule, the weights file, the shipped
model on plain requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.request_values import span_candidates
from assistant.span_ranker import (
    HASH_DIM,
    SpanModelMissing,
    SpanWeights,
    feature_buckets,
    offered_spans,
    shipped_spans,
    span_features,
    word_class,
)

NO_WORDS: frozenset[str] = frozenset()


def _weights(feature: str, weight: float, *, threshold: float, top_k: int = 3) -> SpanWeights:
    coef = np.zeros(HASH_DIM, dtype=np.float32)
    coef[feature_buckets([feature])] = weight
    return SpanWeights(coef=coef, threshold=threshold, top_k=top_k)


def test_words_become_grammar_or_shapes_never_domain_vocabulary() -> None:
    def cls(word: str, first: bool = False) -> str:
        return word_class(word, api_words=frozenset({"order", "food"}),
                          param_words=frozenset({"dish"}), clause_first=first)

    assert cls("to") == "to" and cls("with") == "with"
    assert cls("3") == "<num>" and cls("two") == "<num>"
    assert cls("7:30am") == "<time>" and cls("Friday") == "<time>" and cls("tonight") == "<time>"
    assert cls("ORD-12345") == "<id>"
    assert cls("ordering") == "<api>" and cls("Dish") == "<param>"
    assert cls("Vandelay") == "<Cap>" and cls("Please", first=True) != "<Cap>"
    assert cls("lasagna") == "<w>" and cls("burrito") == "<w>"


def test_features_say_where_the_span_sits_and_whether_it_is_quoted() -> None:
    spans = {s.text: s for s in span_candidates("put 'the onboarding guide' on my list")}
    quoted = span_features(spans["the onboarding guide"], api_words=NO_WORDS,
                           param_words=frozenset({"title"}))
    assert "quoted=True" in quoted and "prev=<w>" in quoted and "next=on" in quoted
    assert "title|quoted=True" in quoted  # crossed with the parameter's name words
    other = span_features(spans["onboarding guide"], api_words=NO_WORDS, param_words=NO_WORDS)
    assert "quoted=False" in other and "prev=the" in other
    assert not any("|quoted" in f for f in other)


def test_a_sure_ranker_offers_one_span_with_its_singular_else_its_top_few() -> None:
    spans = span_candidates("order 'sushi sets' and two lemon tarts for me")
    sure = _weights("quoted=True", 20.0, threshold=0.9)
    assert [s.text for s in offered_spans(spans, param="dish", api="orderFood",
                                          weights=sure)] == ["sushi sets", "sushi set"]
    unsure = _weights("quoted=True", 20.0, threshold=1.01, top_k=3)
    offered = offered_spans(spans, param="dish", api="orderFood", weights=unsure)
    assert offered[:2] == offered_spans(spans, param="dish", api="orderFood", weights=sure)
    assert len([s for s in offered if not s.singular]) == 3


def test_weights_round_trip_and_a_missing_file_names_the_command(tmp_path: Path) -> None:
    weights = _weights("len=2", 1.5, threshold=0.7, top_k=4)
    weights.save(tmp_path / "spans.npz")
    back = SpanWeights.load(tmp_path / "spans.npz")
    assert back.threshold == 0.7 and back.top_k == 4
    assert np.array_equal(back.coef, weights.coef)
    with pytest.raises(SpanModelMissing, match="ptool train spans"):
        SpanWeights.load(tmp_path / "absent.npz")
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(SpanModelMissing, match="reinstall ptool"):
        SpanWeights.load(tmp_path / "broken.npz")


@pytest.mark.parametrize(("request_text", "param", "api", "value"), [
    ("I want two chicken pot pies to my work address, right now thanks", "dish the dish",
     "orderFood Order food for delivery", "chicken pot pies"),
    ("book me a flight to Lisbon next Friday", "destination city", "bookFlight Book a flight",
     "Lisbon"),
    ("add a task: renew the car insurance before Monday", "title of the task",
     "createTask Create a task", "renew the car insurance"),
])
def test_the_shipped_ranker_puts_the_answer_first(request_text: str, param: str, api: str,
                                                  value: str) -> None:
    offered = offered_spans(span_candidates(request_text), param=param, api=api,
                            weights=shipped_spans())
    assert offered[0].text == value
