"""``ptool bench``: run PTBench (``ptool bench --data ... --out ...``) and compare runs.

Only option parsing and printing live here; the work is :func:`eval.bench.run_bench`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.context import DEFAULT_HISTORY_K, DEFAULT_PREFERENCE, DEFAULT_TOOLS_PER_PLATFORM

bench_app = typer.Typer(
    help=(
        "Run PTBench against the assistant runtime or an endpoint with the paper's prompt.\n\n"
        "Example: `ptool bench --data eval/data/ptbench_synth --out data/bench/run1 --limit 20` "
        "(the chat runtime's settings and the embedded server); `--mode prompt --base-url "
        "http://localhost:8000/v1` sends the paper's prompt to an endpoint; then "
        "`ptool bench compare data/bench/run1 data/bench/run2`."
    ),
    no_args_is_help=False,
)


class Mode(StrEnum):
    runtime = "runtime"
    prompt = "prompt"


class Ablation(StrEnum):
    basic = "basic"
    history = "history"
    both = "both"


def _runtime_option(default: Any, flags: str, text: str, **limits: Any) -> Any:
    """An option that only the runtime mode reads; its help says so first."""
    return typer.Option(default, flags, help=f"Runtime mode: {text}", **limits)


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None, "--data", help="A PTBench data.json, or a folder with test_trained_user/ and "
        "test_untrained_user/ (and optional unseen-scenario sets)."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (predictions.jsonl, CSVs, report.md, plots). "
        "Re-running with the same folder resumes."),
    mode: Mode = typer.Option(Mode.runtime, "--mode", help="runtime: the assistant graph; "
                              "prompt: the paper's single prompt sent to --base-url."),
    limit: int | None = typer.Option(None, "--limit", min=1,
                                     help="Only the first N samples of each split."),
    ablate: Ablation | None = typer.Option(
        None, "--ablate", help="Remove basic features, history, or both from every profile."),
    model: str | None = typer.Option(None, "--model", help="Model name sent to the endpoint "
                                     "(default: PTOOL_MODEL_NAME)."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint "
                                        "(default: PTOOL_MODEL_BASE_URL)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel requests (the embedded "
                                "server decodes up to 4 together; on 2 cores 1 was fastest)."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Generation limit."),
    output_format: str = typer.Option("text", "--format",
                                      help="Answer format asked for: text (paper) or json."),
    lenient: bool = typer.Option(False, "--lenient", help="Score samples whose answer platform "
                                 "is not among their platforms instead of refusing the data."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the PNG plots."),
    history_k: int | None = _runtime_option(
        None, "--history-k", "retrieve this many history events per request (default: the chat "
        "runtime's).", min=1),
    tools_per_platform: int | None = _runtime_option(
        None, "--tools-per-platform", "retrieve this many APIs per platform (default: the chat "
        "runtime's).", min=1),
    paper_setting: bool = _runtime_option(
        False, "--paper-setting", "every tool and the whole history in the prompt (the paper's "
        "setting; 5,000+ prompt tokens a sample on a CPU)."),
    preference: str = _runtime_option(
        DEFAULT_PREFERENCE, "--preference", "the preference model's role: off (the LLM alone), "
        "hint (scores in the prompt) or constrain (also narrows the answer to a confident top "
        "platform)."),
    grounding: bool = _runtime_option(
        True, "--grounding/--no-grounding", "offer the model only the API the intent scorer is "
        "sure of and the values code found for each parameter."),
    now: str | None = _runtime_option(
        None, "--now", "the time relative dates (\"next Friday\") are resolved against, ISO "
        "format, e.g. 2026-12-01T09:00 (default: the clock)."),
    grammar: bool | None = _runtime_option(
        None, "--grammar/--no-grammar", "constrain answers to the candidates' grammar (default: "
        "PTOOL_ANSWER_GRAMMAR, on)."),
) -> None:
    """Run the benchmark (or a sub-command such as `compare`)."""
    if ctx.invoked_subcommand is not None:
        return
    console = Console(stderr=True)
    if data is None or out is None:
        console.print(ctx.get_help())
        console.print("\n[red]--data and --out are required to run the benchmark.[/red]")
        raise typer.Exit(2)
    if preference not in ("off", "hint", "constrain"):
        console.print(f"[red]--preference must be off, hint or constrain, not {preference!r}"
                      "[/red]")
        raise typer.Exit(2)
    if now is not None:
        try:
            datetime.fromisoformat(now)
        except ValueError:
            console.print(f"[red]--now {escape(now)!r}: expected an ISO time such as "
                          "2026-12-01T09:00[/red]")
            raise typer.Exit(2) from None
    if output_format not in ("text", "json"):
        console.print(f"[red]--format must be text or json, not {output_format!r}[/red]")
        raise typer.Exit(2)

    from eval.bench import run_bench
    from eval.predictor import EndpointUnavailable, ModeConfig, ModeUnavailable
    from eval.runner import RunAborted, RunConfigMismatch
    from ptbench.samples import DatasetFormatError
    from train.serving.client import endpoint
    from ui.settings import Settings

    settings = Settings()
    try:
        # No endpoint configured: the embedded CPU server starts for this run and stops after it.
        with endpoint(base_url or settings.model_base_url, workspace=settings.workspace,
                      api_key=settings.model_api_key) as url:
            cfg = ModeConfig(
                model=model or settings.model_name,
                base_url=url,
                api_key=settings.model_api_key,
                max_tokens=max_tokens,
                output_format=output_format,
                workspace=settings.workspace / "bench-runtime",
                ablate=ablate.value if ablate else None,
                history_k=None if paper_setting else history_k or DEFAULT_HISTORY_K,
                tools_per_platform=None if paper_setting
                else tools_per_platform or DEFAULT_TOOLS_PER_PLATFORM,
                preference=preference,
                grounding=grounding,
                now=now,
                answer_grammar=settings.answer_grammar if grammar is None else grammar,
            )
            result = run_bench(data, out, mode=mode.value, mode_config=cfg, limit=limit,
                               workers=workers, strict=not lenient, plots=not no_plots)
    except (DatasetFormatError, ModeUnavailable, EndpointUnavailable, RunConfigMismatch,
            RunAborted) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None

    report = result.report
    table = Table(title=f"PTBench ({mode.value} mode, {cfg.model})")
    table.add_column("split")
    from eval.aggregate import METRICS

    for m in METRICS.values():
        table.add_column(m.paper_label, justify="right")
    for split, body in [*report["splits"].items(), ("overall", report["overall"])]:
        table.add_row(f"{split} ({body['n']})", *[
            "n/a" if body["metrics"][n] is None else f"{100 * body['metrics'][n]:.2f}"
            for n in METRICS
        ])
    Console().print(table)
    rate = report["timing"].get("samples_per_minute")
    console.print(
        f"{result.outcome.new} new, {result.outcome.already_done} resumed; "
        + (f"{rate:.1f} samples/min; " if rate else "")
        + f"report: {out / 'report.md'}"
    )


@bench_app.command("compare")
def compare(
    dir_a: Path = typer.Argument(..., help="First run folder (has report.json)."),
    dir_b: Path = typer.Argument(..., help="Second run folder."),
) -> None:
    """Print two runs side by side, metric by metric (percent; errors as counts)."""
    from eval.compare import compare_dirs

    try:
        rows = compare_dirs(dir_a, dir_b)
    except FileNotFoundError as exc:
        Console(stderr=True).print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    table = Table(title="PTBench comparison")
    for col, justify in (("split", "left"), ("metric", "left"), (str(dir_a), "right"),
                         (str(dir_b), "right"), ("delta", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        d = r.delta
        table.add_row(r.scope, r.metric,
                      "n/a" if r.a is None else f"{r.a:.2f}",
                      "n/a" if r.b is None else f"{r.b:.2f}",
                      "n/a" if d is None else f"{d:+.2f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``ptool bench`` (run) and ``ptool bench compare`` to the root app."""
    app.add_typer(bench_app, name="bench")
