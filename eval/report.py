"""Write a run's results: reference-format CSVs, report.json, report.md and plots.

Why these files: ``DIR/<split>/acc_results.csv`` / ``error_results.csv`` and ``DIR/overall/``
have exactly the reference harness's names, header and order, so existing tooling (and the
PTBench leaderboard) reads them; ``DIR/<split>/generation.jsonl`` is the reference harness's
prediction file, so its own scripts can re-score our run as a cross-check. report.json is the
machine-readable whole; report.md puts our numbers beside the paper's Table 1.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.aggregate import ACC_COLUMNS, METRICS, AggregateMetrics
from eval.metrics import ERROR_COLUMNS
from eval.runner import PredictionRecord, RunScores
from ptbench.answers import RenderError, render_text
from ptbench.samples import Benchmark

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

OVERALL = "overall"

PAPER_TABLE_ORDER: tuple[str, ...] = (
    "format", "platform", "query_value", "profile_value",
    "tool_name", "tool_param", "tool_value", "overall",
)
"""Column order of the paper's Table 1 (names in ``eval.aggregate.METRICS``)."""

PAPER_TABLE1: dict[str, dict[str, float]] = {
    "Qwen2.5-7B-Instruct + PTool LoRA (paper's)": dict(zip(
        PAPER_TABLE_ORDER, (95.75, 73.74, 79.33, 73.41, 92.42, 82.90, 34.17, 26.78), strict=True)),
    "GPT-4-turbo": dict(zip(
        PAPER_TABLE_ORDER, (97.78, 54.84, 81.23, 68.32, 91.78, 77.09, 35.18, 18.47), strict=True)),
    "Qwen2.5-7B-Instruct (no fine-tune)": dict(zip(
        PAPER_TABLE_ORDER, (78.58, 37.95, 61.32, 41.65, 68.33, 54.30, 18.37, 7.38), strict=True)),
}
"""The paper's Table 1 (percent, overall = trained + untrained users), from ``docs/ptbench.md``."""

ERROR_LABELS: dict[str, str] = {
    "func_wrong_error": "wrong tools (extra and absent functions)",
    "func_missing_error": "predicted function not in the answer",
    "func_excessive_error": "answer function not predicted",
    "param_missing_error": "predicted parameter not in the answer",
    "param_excessive_error": "answer parameter not predicted",
    "value_error": "wrong value",
}
"""What each reference error column counts (the reference names them from the answer's side)."""


def _csv_value(v: float | None) -> str:
    return "nan" if v is None else repr(float(v))


def write_split_csvs(folder: Path, metrics: AggregateMetrics) -> None:
    """``acc_results.csv`` and ``error_results.csv`` with the reference header and order."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "acc_results.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ACC_COLUMNS)
        writer.writerow([_csv_value(metrics.values[name]) for name in METRICS])
    with (folder / "error_results.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ERROR_COLUMNS)
        writer.writerow([metrics.errors[c] for c in ERROR_COLUMNS])


def _predict(record: PredictionRecord) -> str:
    """The paper-format text the reference parser reads: the parsed calls re-rendered (same
    score, by the round-trip property; covers JSON-form and runtime answers), else the raw text."""
    parsed = record.as_parsed()
    if parsed is None:
        return record.raw
    try:
        return render_text(parsed)
    except RenderError:
        return record.raw


def write_generations(out_dir: Path, benchmark: Benchmark,
                      records: dict[tuple[str, str], PredictionRecord]) -> None:
    """The reference harness's ``<split>/generation.jsonl`` (query, label, predict), in file
    order, for the samples that have a prediction (complete runs only are re-scorable there)."""
    for split, samples in benchmark.splits.items():
        lines = []
        for s in samples:
            rec = records.get(s.key)
            if rec is None:
                continue
            label = [s.answer.platform, [{c.name: c.params} for c in s.answer.calls]]
            lines.append(json.dumps({"query": s.query, "label": label, "predict": _predict(rec)},
                                    ensure_ascii=False))
        if lines:
            (out_dir / split).mkdir(parents=True, exist_ok=True)
            (out_dir / split / "generation.jsonl").write_text("\n".join(lines) + "\n",
                                                              encoding="utf-8")


def _metrics_json(m: AggregateMetrics) -> dict[str, Any]:
    return {
        "n": m.n,
        "metrics": m.values,
        "errors": m.errors,
        "extra": {
            "platform_errors": m.platform_errors,
            "query_value_errors": m.query_value_errors,
            "profile_value_errors": m.profile_value_errors,
            "param_both_kinds": m.param_both,
        },
    }


def build_report(scores: RunScores, *, config: dict[str, Any], timing: dict[str, Any],
                 issues: list[str]) -> dict[str, Any]:
    """The content of report.json."""
    return {
        "config": config,
        "splits": {name: _metrics_json(m) for name, m in scores.splits.items()},
        "overall": {**_metrics_json(scores.overall), "combines": scores.overall_splits},
        "missing_predictions": scores.missing,
        "timing": timing,
        "issues": issues,
        "metric_definitions": {n: m.description for n, m in METRICS.items()},
        "error_definitions": ERROR_LABELS,
        "paper_table1_percent": PAPER_TABLE1,
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: our rows beside the paper's Table 1, per split, errors, timing."""
    cfg = report["config"]
    head = "| model | " + " | ".join(METRICS[n].paper_label for n in PAPER_TABLE_ORDER) + " |"
    sep = "|---" * (len(PAPER_TABLE_ORDER) + 1) + "|"
    ours = f"**ours: {cfg.get('model')} ({cfg.get('mode')} mode"
    ours += f", ablate {cfg['ablate']})**" if cfg.get("ablate") else ")**"
    lines = [
        "# PTBench report", "",
        f"Data: `{cfg.get('data')}`; mode `{cfg.get('mode')}`; model `{cfg.get('model')}`; "
        f"overall combines {', '.join(report['overall']['combines'])} (sample-weighted).", "",
        "## Table 1 (percent)", "", head, sep,
        f"| {ours} | "
        + " | ".join(_pct(report["overall"]["metrics"][n]) for n in PAPER_TABLE_ORDER) + " |",
    ]
    for label, row in PAPER_TABLE1.items():
        lines.append(f"| paper: {label} | "
                     + " | ".join(f"{row[n]:.2f}" for n in PAPER_TABLE_ORDER) + " |")
    lines += ["", "## Per split (percent)", "", head.replace("| model |", "| split (n) |"), sep]
    for split, data in [*report["splits"].items(), (OVERALL, report["overall"])]:
        lines.append(f"| {split} ({data['n']}) | "
                     + " | ".join(_pct(data["metrics"][n]) for n in PAPER_TABLE_ORDER) + " |")
    lines += ["", "## Error analysis (samples; each in at most one category)", "",
              "| category | meaning | " + " | ".join(report["splits"]) + " | overall |",
              "|---|---|" + "---|" * (len(report["splits"]) + 1)]
    for col, meaning in ERROR_LABELS.items():
        counts = [str(d["errors"][col]) for d in report["splits"].values()]
        lines.append(f"| {col} | {meaning} | " + " | ".join(counts)
                     + f" | {report['overall']['errors'][col]} |")
    t = report["timing"]
    lines += ["", "## Timing", ""]
    for key, value in t.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"- {key.replace('_', ' ')}: {shown}")
    if report["missing_predictions"]:
        lines += ["", f"**{report['missing_predictions']} samples have no prediction yet.**"]
    if report["issues"]:
        lines += ["", "## Data issues", ""] + [f"- {i}" for i in report["issues"]]
    return "\n".join(lines) + "\n"


def write_plots(out_dir: Path, report: dict[str, Any]) -> list[Path]:
    """metrics.png (per-metric bars per split, paper's fine-tuned model for reference) and
    errors.png (error categories per split)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**{k: v for k, v in report["splits"].items()}, OVERALL: report["overall"]}
    paths: list[Path] = []

    fig, ax = plt.subplots(figsize=(13, 4.5))
    width = 0.8 / (len(groups) + 1)
    xs = range(len(PAPER_TABLE_ORDER))
    for i, (name, data) in enumerate(groups.items()):
        vals = [100 * (data["metrics"][m] or 0.0) for m in PAPER_TABLE_ORDER]
        ax.bar([x + i * width for x in xs], vals, width, label=name)
    paper_label, paper_row = next(iter(PAPER_TABLE1.items()))
    ax.bar([x + len(groups) * width for x in xs], [paper_row[m] for m in PAPER_TABLE_ORDER],
           width, label=f"paper: {paper_label}", color="lightgray", edgecolor="gray")
    ax.set_xticks([x + width * len(groups) / 2 for x in xs])
    ax.set_xticklabels([METRICS[m].paper_label for m in PAPER_TABLE_ORDER])
    ax.set_ylim(0, 100)
    paths.append(_save_bars(fig, ax, out_dir / "metrics.png", "PTBench metrics", "percent"))

    fig, ax = plt.subplots(figsize=(13, 4.5))
    width = 0.8 / len(groups)
    xs = range(len(ERROR_COLUMNS))
    for i, (name, data) in enumerate(groups.items()):
        ax.bar([x + i * width for x in xs], [data["errors"][c] for c in ERROR_COLUMNS], width,
               label=name)
    ax.set_xticks([x + width * (len(groups) - 1) / 2 for x in xs])
    ax.set_xticklabels([c.removesuffix("_error") for c in ERROR_COLUMNS], fontsize=8)
    paths.append(_save_bars(fig, ax, out_dir / "errors.png", "Error analysis", "samples"))
    return paths


def _save_bars(fig: Figure, ax: Axes, path: Path, title: str, ylabel: str) -> Path:
    """Finish a grouped bar chart the same way for every plot: title, axis label, the split
    legend outside the bars; then save it and close it (pyplot keeps open figures alive)."""
    import matplotlib.pyplot as plt

    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(
    out_dir: Path,
    benchmark: Benchmark,
    scores: RunScores,
    records: dict[tuple[str, str], PredictionRecord],
    *,
    config: dict[str, Any],
    timing: dict[str, Any],
    plots: bool = True,
) -> dict[str, Any]:
    """Write every report file under ``out_dir``; returns the report dict."""
    for split, metrics in scores.splits.items():
        write_split_csvs(out_dir / split, metrics)
    write_split_csvs(out_dir / OVERALL, scores.overall)
    write_generations(out_dir, benchmark, records)
    report = build_report(scores, config=config, timing=timing, issues=benchmark.issues)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    if plots:
        write_plots(out_dir, report)
    return report
