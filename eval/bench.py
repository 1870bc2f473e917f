"""One benchmark run end to end: load data, build the predictor, predict, score, report.

Why here and not in the CLI: ``ui/`` only parses options and prints; this function is what the
CLI, the Gradio benchmark view and scripts all call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eval.modes import get_mode
from eval.predictor import ModeConfig, Predictor
from eval.report import write_report
from eval.runner import (
    PREDICTIONS_FILE,
    RunConfig,
    RunOutcome,
    load_predictions,
    prepare_run_dir,
    run_predictions,
    score_run,
    select_samples,
    timing_summary,
)
from ptbench.samples import Benchmark, load_benchmark


class BenchResult(BaseModel):
    """What a finished run produced."""

    out_dir: Path
    outcome: RunOutcome
    report: dict[str, Any]


def run_bench(
    data: Path,
    out_dir: Path,
    *,
    mode: str = "prompt",
    mode_config: ModeConfig | None = None,
    limit: int | None = None,
    workers: int = 1,
    strict: bool = True,
    progress: bool = True,
    plots: bool = True,
    predictor: Predictor | None = None,
    benchmark: Benchmark | None = None,
) -> BenchResult:
    """Run (or resume) a benchmark into ``out_dir`` and write every report file.

    ``predictor`` overrides the mode's factory (tests, notebooks). Raises
    :class:`~ptbench.samples.DatasetFormatError`, :class:`~eval.predictor.ModeUnavailable`,
    :class:`~eval.runner.RunConfigMismatch` or :class:`~eval.runner.RunAborted` with messages
    meant for the user."""
    cfg = mode_config or ModeConfig()
    bench = benchmark or load_benchmark(data, strict=strict)
    run_config = RunConfig(
        data=str(data), mode=mode, model=cfg.model, base_url=cfg.base_url, ablate=cfg.ablate,
        output_format=cfg.output_format, limit=limit, history_k=cfg.history_k,
        tools_per_platform=cfg.tools_per_platform,
        answer_grammar=cfg.answer_grammar if mode == "runtime" else False,
        preference=cfg.preference if mode == "runtime" else "off",
        grounding=cfg.grounding if mode == "runtime" else False,
        now=cfg.now if mode == "runtime" else None,
    )
    samples = select_samples(bench, limit)
    if predictor is None:
        predictor = get_mode(mode)(cfg, bench)
    prepare_run_dir(out_dir, run_config)
    outcome = run_predictions(samples, predictor, out_dir, workers=workers,
                              ablate_mode=cfg.ablate, progress=progress)
    records = load_predictions(out_dir / PREDICTIONS_FILE)
    scores = score_run(bench, records, samples)
    chosen = [records[s.key] for s in samples if s.key in records]
    report = write_report(
        out_dir, bench, scores, records,
        config=run_config.model_dump(), timing=timing_summary(chosen, outcome), plots=plots,
    )
    return BenchResult(out_dir=out_dir, outcome=outcome, report=report)
