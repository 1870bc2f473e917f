"""The runtime-mode adapter over the assistant's benchmark entry point (entry point faked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.benchmark import BenchmarkPrediction
from eval.metrics import score_sample
from eval.predictor import EndpointUnavailable
from eval.runtime_predictor import RuntimePredictor
from ptbench.answers import parse_text
from ptbench.samples import BenchSample, load_benchmark


def _prediction(**fields: Any) -> BenchmarkPrediction:
    """A complete answer of ``run_benchmark_sample`` (the fields not given: no call)."""
    empty: BenchmarkPrediction = {
        "platform": None, "calls": [], "raw": "", "prompt_tokens": 0, "token_count_method": "",
        "model_calls": 1, "valid": True, "errors": [], "preference": None, "offered_apis": []}
    return cast(BenchmarkPrediction, {**empty, **fields})


class Down(RuntimeError):
    """Stands in for assistant.errors.ModelUnavailable."""


def _sample(golden_dir: Path) -> BenchSample:
    return load_benchmark(golden_dir / "ptbench").splits["test_trained_user"][0]


def test_structured_calls_become_a_scored_prediction(golden_dir: Path) -> None:
    seen: dict[str, Any] = {}

    def run_sample(sample: Any, chat_model: Any, **options: Any) -> BenchmarkPrediction:
        seen.update(options, query=sample.query)
        return _prediction(platform="FoodFast", raw='{"tool_calls": [...]}', prompt_tokens=321,
                           calls=[{"name": "FoodFast_orderFood", "arguments": {
                               "item": "hamburger", "address": "12 Elm St", "quantity": 1}}])

    sample = _sample(golden_dir)
    predictor = RuntimePredictor(run_sample, FakeListChatModel(responses=[]),
                                 options={"history_k": 5})
    pred = predictor.predict(sample)
    assert seen == {"history_k": 5, "query": sample.query}
    assert pred.parsed and pred.prompt_tokens == 321 and pred.raw == '{"tool_calls": [...]}'
    parsed = pred.as_parsed()
    assert parsed is not None and score_sample(sample, parsed).overall
    # the paper-format rendering of the same calls scores the same
    assert parse_text("FoodFast:[FoodFast_orderFood(item='hamburger', address='12 Elm St', "
                      "quantity=1)]") == parsed


def test_no_call_counts_as_a_format_failure(golden_dir: Path) -> None:
    def run_sample(sample: Any, chat_model: Any, **options: Any) -> BenchmarkPrediction:
        return _prediction(raw="Which address?", valid=False, errors=["no call"])

    pred = RuntimePredictor(run_sample, FakeListChatModel(responses=[])).predict(
        _sample(golden_dir))
    assert not pred.parsed and pred.as_parsed() is None and pred.parse_error == "no call"


def test_model_unavailable_stops_the_run(golden_dir: Path) -> None:
    def run_sample(sample: Any, chat_model: Any, **options: Any) -> dict[str, Any]:
        raise Down("connection refused")

    predictor = RuntimePredictor(run_sample, FakeListChatModel(responses=[]),
                                 unavailable=(Down,), endpoint="http://h:1/v1")
    with pytest.raises(EndpointUnavailable, match="cannot use http://h:1/v1: connection refused"):
        predictor.predict(_sample(golden_dir))
