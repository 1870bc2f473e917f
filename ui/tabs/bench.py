"""Benchmark tab: browse run folders under ``<workspace>/bench`` and start a small run.

Runs go through ``eval.bench.run_bench`` (what ``ptool bench`` calls) in runtime mode with the
app's own chat model, so the tab measures the assistant users chat with. The runner's tqdm bar
becomes the browser's progress bar (``gr.Progress(track_tqdm=True)``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.context import DEFAULT_HISTORY_K, DEFAULT_TOOLS_PER_PLATFORM
from ui.chat_adapter import ChatService
from ui.render import md_code, md_text
from ui.wiring import Workspace

RUNS_DIR = "bench"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "eval" / "data" / "ptbench_synth"
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A run name is one plain folder name: it is joined to the runs folder."""


class BadRunName(ValueError):
    """A run name that could reach outside the runs folder (``/tmp/x``, ``../..``) or is odd."""


def runs_dir(workspace: Workspace) -> Path:
    """Where the app's benchmark runs live -- the only folder the app serves files from."""
    return workspace.settings.workspace / RUNS_DIR


def runs_root(svc: ChatService) -> Path:
    return runs_dir(svc.workspace)


def run_folder_name(name: str, now: datetime | None = None) -> str:
    """The folder name a run writes to: ``name``, or a time stamp when it is blank.

    Raises :class:`BadRunName` unless ``name`` matches :data:`RUN_NAME` (letters, digits, ``.``,
    ``_``, ``-``; at most 64; no leading dot), so no name can write outside the runs folder."""
    text = name.strip()
    if not text:
        return (now or datetime.now(UTC)).strftime("ui-%Y%m%d-%H%M%S")
    if not RUN_NAME.fullmatch(text):
        raise BadRunName(
            f"run name {text!r} is not allowed: use up to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (or leave it blank for a time stamp)")
    return text


def list_runs(root: Path) -> list[str]:
    """Run folders (relative to ``root``) that have a report, newest first."""
    if not root.is_dir():
        return []
    reports = sorted(root.rglob("report.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p.parent.relative_to(root)) for p in reports]


def metrics_table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per split plus overall, metrics in percent (as report.md shows them)."""
    rows = [*report.get("splits", {}).items(), ("overall", report.get("overall", {}))]
    names = list(report.get("overall", {}).get("metrics", {}))
    data = []
    for split, part in rows:
        values = part.get("metrics", {})
        data.append([split, part.get("n", 0),
                     *[None if values.get(n) is None else round(100 * values[n], 2)
                       for n in names]])
    return pd.DataFrame(data, columns=["split", "n", *names])


def show_run(root: Path, name: str | None) -> tuple[pd.DataFrame, list[str], str]:
    """(metrics table, plot image paths, summary markdown) of one run folder."""
    if not name:
        return pd.DataFrame(), [], "No run selected."
    folder = (root / name).resolve()
    if root.resolve() not in folder.parents or not (folder / "report.json").is_file():
        return pd.DataFrame(), [], f"No report in {name}."
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    cfg = report.get("config", {})
    summary = (f"**{md_text(name)}** — data {md_code(cfg.get('data'))}, mode "
               f"{md_code(cfg.get('mode'))}, model {md_code(cfg.get('model'))}, limit "
               f"{md_text(cfg.get('limit'))}. Metrics in percent.")
    if report.get("missing_predictions"):
        summary += f" **{md_text(report['missing_predictions'])} samples have no prediction yet.**"
    plots = [str(p) for p in sorted(folder.glob("*.png"))]
    return metrics_table(report), plots, summary


def start_run(svc: ChatService, data: str, limit: int, name: str) -> str:
    """A small runtime-mode run into a new folder; returns the folder name.

    Raises :class:`BadRunName` before anything runs when ``name`` is not a plain folder name."""
    folder = run_folder_name(name)
    from assistant.benchmark import run_benchmark_sample
    from assistant.errors import ModelUnavailable
    from eval.bench import run_bench
    from eval.predictor import ModeConfig
    from eval.runtime_predictor import RuntimePredictor, runtime_options

    cfg = ModeConfig(model=svc.workspace.settings.model_name, history_k=DEFAULT_HISTORY_K,
                     tools_per_platform=DEFAULT_TOOLS_PER_PLATFORM)
    predictor = RuntimePredictor(
        run_benchmark_sample, svc.chat_model_factory(), options=runtime_options(cfg),
        unavailable=(ModelUnavailable,), endpoint="the app's chat model")
    run_bench(Path(data), runs_root(svc) / folder, mode="runtime", mode_config=cfg,
              limit=int(limit), predictor=predictor, progress=True, strict=False)
    return folder


@dataclass
class BenchTab:
    reload: Callable[[], gr.Dropdown]
    """Lists the run folders; the app calls it on page load."""
    run: gr.Dropdown


def build(svc: ChatService) -> BenchTab:
    """Lay out the tab and wire its events."""
    root = runs_root(svc)
    with gr.Row():
        run = gr.Dropdown(choices=[], label="Run folder", scale=4, elem_id="bench-run")
        reload = gr.Button("Refresh list", scale=1, elem_id="bench-refresh")
    summary = gr.Markdown(elem_id="bench-summary")
    table = gr.Dataframe(label="Metrics (percent)", interactive=False, elem_id="bench-table")
    gallery = gr.Gallery(label="Plots", columns=2, height="auto", object_fit="contain",
                         elem_id="bench-plots")
    with gr.Accordion("Start a small run (runtime mode, the app's model)", open=False):
        with gr.Row():
            data = gr.Textbox(value=str(DEFAULT_DATA), label="PTBench data folder", scale=3)
            limit = gr.Slider(1, 30, value=3, step=1, label="Samples per split", scale=1)
            name = gr.Textbox(label="Run name (blank: time stamp)", scale=1)
        start = gr.Button("Start run", variant="primary", elem_id="bench-start")
        status = gr.Markdown(elem_id="bench-status")

    def on_reload() -> gr.Dropdown:
        runs = list_runs(root)
        return gr.Dropdown(choices=runs, value=runs[0] if runs else None)

    def on_show(name_: str | None) -> tuple[pd.DataFrame, list[str], str]:
        return show_run(root, name_)

    def on_start(data_: str, limit_: float, name_: str,
                 progress: gr.Progress = gr.Progress(track_tqdm=True)
                 ) -> tuple[str, gr.Dropdown]:
        progress(0, desc="loading the benchmark")
        try:
            folder = start_run(svc, data_, int(limit_), name_)
        except BadRunName as exc:
            return f"⚠️ {md_text(exc)}", gr.Dropdown()
        except Exception as exc:  # shown to the user: eval's errors say what to do next
            return f"⚠️ {md_text(f'{type(exc).__name__}: {exc}')}", gr.Dropdown()
        return f"Finished **{md_text(folder)}**.", gr.Dropdown(choices=list_runs(root),
                                                                value=folder)

    reload.click(on_reload, None, run)
    run.change(on_show, run, [table, gallery, summary])
    start.click(on_start, [data, limit, name], [status, run], concurrency_limit=1,
                concurrency_id="bench")
    return BenchTab(reload=on_reload, run=run)
