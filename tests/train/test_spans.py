"""Training the span ranker: labels, the variety added to requests, and a fit that learns."""

from __future__ import annotations

import random

from train.spans import SpanExample, fit, labelled_spans, vary

DISHES = ["chicken pot pie", "miso soup", "poke bowl", "lemon tart", "veggie burger",
          "pad thai", "green curry", "fish tacos", "caesar salad", "mushroom risotto"]
PLACES = ["to my flat", "to the office", "to work", "to home"]
FRAMES = ["order {n} {dish} {place}", "hey, i want {n} {dish} {place} please",
          "can you get me {n} {dish} {place}", "{n} {dish} {place}, quick"]


def _examples(seed: int, n: int) -> list[SpanExample]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        dish = rng.choice(DISHES)
        request = rng.choice(FRAMES).format(n=rng.choice(["two", "3", "one"]), dish=dish,
                                            place=rng.choice(PLACES))
        out.append(SpanExample(request=request, platforms=("FastFood",), param="dish",
                               api="orderFood Order food", accepted=(dish,)))
    return out


def test_a_span_whose_singular_is_accepted_is_a_positive_and_variants_keep_it() -> None:
    example = SpanExample(request="order two sushi sets", platforms=(), param="dish",
                          api="orderFood", accepted=("sushi set",))
    spans, gold = labelled_spans(example)
    assert [s.text for s, g in zip(spans, gold, strict=True) if g] == ["sushi sets"]
    assert not any(s.singular for s in spans)
    rng = random.Random(0)
    for _ in range(20):
        varied = vary(example.request, rng, share=1.0)
        assert "sushi sets" in varied.lower()
        assert any(labelled_spans(example, varied)[1])


def test_fit_learns_the_extent_of_a_value_and_chooses_its_offer() -> None:
    report = fit(_examples(0, 300), _examples(1, 100), cs=(1.0,), progress=lambda _: None)
    assert report.longest_top1 < 0.2  # the longest span is almost never the dish
    assert report.dev_top1 > 0.9
    assert 1 <= report.weights.top_k <= 5 and report.recall_k >= 0.99
    assert 0.3 <= report.weights.threshold <= 1.0
