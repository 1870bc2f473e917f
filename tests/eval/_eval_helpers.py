"""Helpers for the eval tests: golden files, a scripted predictor, answer building."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from eval.predictor import EndpointUnavailable, Prediction
from ptbench.answers import ParseError, parse_text
from ptbench.samples import Answer, BenchSample, ExpectedCall

GOLDEN = Path(__file__).parent / "golden"


def load_golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


class ScriptedPredictor:
    """Answers each sample with a fixed model output (parsed like prompt mode); counts calls and
    can simulate the endpoint going away after ``fail_after`` predictions."""

    def __init__(self, outputs: dict[str, dict[str, str]], fail_after: int | None = None) -> None:
        self.outputs = outputs
        self.fail_after = fail_after
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def predict(self, sample: BenchSample) -> Prediction:
        with self._lock:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise EndpointUnavailable("cannot use http://127.0.0.1:9/v1: Connection refused")
            self.calls.append(sample.key)
        raw = self.outputs[sample.split][sample.id]
        try:
            parsed = parse_text(raw)
        except ParseError as exc:
            return Prediction(raw=raw, parse_error=str(exc), latency_s=0.01, prompt_tokens=100)
        return Prediction(platform=parsed.platform, calls=parsed.calls, raw=raw, parsed=True,
                          latency_s=0.01, prompt_tokens=100)


def to_answer(raw: list[Any]) -> Answer:
    """An Answer from the on-disk ``[platform, [{function: {param: [values]}}]]`` form."""
    platform, funcs = raw
    calls = [ExpectedCall(name=n, params=p) for f in funcs for n, p in f.items()]
    return Answer(platform=platform, calls=calls)
