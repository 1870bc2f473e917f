"""The benchmark's prediction modes by name: ``prompt`` (the paper's single prompt sent to an
endpoint, :mod:`eval.prompt_predictor`) and ``runtime`` (the live assistant graph,
:mod:`eval.runtime_predictor`). Each turns a :class:`~eval.predictor.ModeConfig` into a
:class:`~eval.predictor.Predictor`; the predictors are imported when a mode is used, so loading
the runner does not load langchain or the assistant."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from eval.predictor import ModeConfig, ModeUnavailable, Predictor
from ptbench.samples import Benchmark


def _runtime(config: ModeConfig, benchmark: Benchmark) -> Predictor:
    from eval.runtime_predictor import RuntimePredictor

    return RuntimePredictor.from_config(config)


def _prompt(config: ModeConfig, benchmark: Benchmark) -> Predictor:
    from eval.prompt_predictor import PromptPredictor

    return PromptPredictor.from_config(config)


MODES: dict[str, Callable[[ModeConfig, Benchmark], Predictor]] = {
    "prompt": _prompt, "runtime": _runtime}


def get_mode(name: str) -> Callable[[ModeConfig, Benchmark], Predictor]:
    """The factory for ``name``; unknown names fail with a "did you mean"."""
    if name not in MODES:
        close = difflib.get_close_matches(name, list(MODES), n=2)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ModeUnavailable(f"unknown mode {name!r}{hint} (known: {', '.join(sorted(MODES))})")
    return MODES[name]
