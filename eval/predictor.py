"""What the benchmark runner needs from whatever produces predictions.

Why a Protocol: the runner, scoring and reports do not care whether a prediction comes from the
paper's single prompt sent to an endpoint (``prompt`` mode) or from the live assistant graph
(``runtime`` mode). The modes themselves are in :mod:`eval.modes`, which imports both predictors;
this module imports neither, so there is no import circle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from ptbench.answers import Call, ParsedOutput
from ptbench.samples import AblateMode, BenchSample


class Prediction(BaseModel):
    """One model answer for one sample, as stored in ``predictions.jsonl``.

    ``parsed`` is False when the output was not in the expected format; ``platform`` is then None
    and ``calls`` empty. ``raw`` is the model's text (for runtime mode: its last answer, or the
    assistant's reply when it made no call). Scoring reads ``platform`` and ``calls``.
    """

    platform: str | None = None
    calls: list[Call] = Field(default_factory=list)
    raw: str = ""
    parsed: bool = False
    parse_error: str | None = None
    latency_s: float = 0.0
    prompt_tokens: int | None = None

    def as_parsed(self) -> ParsedOutput | None:
        """The scoring view: None when the output was unparsable."""
        if not self.parsed or self.platform is None:
            return None
        return ParsedOutput(platform=self.platform, calls=self.calls)


@runtime_checkable
class Predictor(Protocol):
    """Produces one prediction per sample. Must be safe to call from several threads at once.

    Raise :class:`EndpointUnavailable` when the model server cannot be reached: the runner stops,
    keeps every finished prediction, and a re-run resumes. Problems with the model's *output*
    are not exceptions: return a Prediction with ``parsed=False``.
    """

    def predict(self, sample: BenchSample) -> Prediction: ...


class EndpointUnavailable(RuntimeError):
    """The model endpoint cannot be reached (connection refused, DNS, timeout)."""


class ModeUnavailable(RuntimeError):
    """A registered mode cannot run in this installation (e.g. the runtime is not built yet)."""


class RuntimeSettings(BaseModel):
    """The runtime mode's retrieval and answer settings. A run's saved settings carry them as
    well as the predictor's, since they change the predictions."""

    history_k: int | None = None
    """Runtime mode: history events retrieved per request (None = the whole history)."""
    tools_per_platform: int | None = None
    """Runtime mode: APIs retrieved per platform (None = every tool, the paper's setting)."""
    answer_grammar: bool = True
    """Runtime mode: constrain answers to the candidates' grammar (assistant.answer_grammar)."""
    preference: str = "constrain"
    """Runtime mode: the preference model's role (off, hint, constrain)."""
    grounding: bool = True
    """Runtime mode: narrow to the intent scorer's API and offer code-found values only."""
    now: str | None = None
    """Runtime mode: the ISO time relative dates are resolved against (None: the clock)."""


class ModeConfig(RuntimeSettings):
    """Per-run settings a predictor factory may use; the CLI fills it from options/settings."""

    model: str = "ptool"
    base_url: str | None = None
    api_key: str = "not-needed"
    temperature: float = 0.0
    max_tokens: int | None = 512
    timeout_s: float = 120.0
    output_format: str = "text"
    workspace: Path | None = None
    ablate: AblateMode | None = None
