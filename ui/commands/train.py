"""``ptool train``: LoRA fine-tuning on synthesized data (the work is :func:`train.sft.train`).

Only option parsing and printing live here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ui.errors import fail

console = Console()


train_app = typer.Typer(no_args_is_help=False)


def register(app: typer.Typer) -> None:
    """Add ``ptool train`` (run), ``ptool train card``, ``ptool train preference``,
    ``ptool train router`` and ``ptool train intent`` to the app."""
    from ui.commands.train_decisions import (
        intent_command,
        preference_command,
        router_command,
        spans_command,
    )

    train_app.command("preference")(preference_command)
    train_app.command("router")(router_command)
    train_app.command("intent")(intent_command)
    train_app.command("spans")(spans_command)
    app.add_typer(train_app, name="train")


@train_app.callback(invoke_without_command=True)
def train_command(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Training records from `ptool synth train --out FILE` (or pre-rendered "
        "{id, messages} chat lines).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Adapter folder, e.g. train/adapters/NAME (checkpoints go in "
        "NAME/checkpoints).")] = None,
    base: Annotated[str | None, typer.Option(
        "--base", help="Bundled base model (smollm2-135m, gemma3-270m) or a local folder of "
        "weights (GPU preset: Qwen2.5-7B-Instruct). Default: the preset's.")] = None,
    preset: Annotated[str, typer.Option(
        "--preset", help="cpu (2 cores, 135M, data subset) or gpu (7B, bf16, all data).")] = "cpu",
    max_examples: Annotated[int | None, typer.Option(
        "--max-examples", min=1, help="Train on a subset of N examples (default: preset's).")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", min=1, help="Stop after N optimizer steps (default: one epoch).")] = None,
    save_steps: Annotated[int | None, typer.Option(
        "--save-steps", min=1, help="Checkpoint every N optimizer steps (default: preset's).")
    ] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue from the latest checkpoint under OUT/checkpoints.")] = False,
    init_adapter: Annotated[Path | None, typer.Option(
        "--init-adapter", help="Continue from this adapter's weights (a second stage on other "
        "examples, e.g. --seed 1) instead of a fresh LoRA.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Subset, variety and shuffle seed.")] = 0,
    variety: Annotated[bool, typer.Option(
        "--variety/--no-variety", help="Renamed fields, shuffled tools, paraphrases.")] = True,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="torch CPU threads (default: torch's choice).")] = None,
    workspace: Annotated[Path, typer.Option(
        "--workspace", help="Where the converted base model is cached.")] = Path("data"),
) -> None:
    """Fine-tune a LoRA adapter (paper recipe: r=8, alpha=16, lr 1e-4 -- 4e-4 in the short
    cpu preset --, cosine, warm-up 0.1, 1 epoch, all linear modules; loss on the answer tokens
    only), then write its training card (OUT/README.md, OUT/loss.png).

    Example: `ptool synth train --out data/train_records.jsonl` then
    `ptool train --data data/train_records.jsonl --out train/adapters/mine --max-examples 200`.
    Interrupted? Run the same command again with `--resume`.
    """
    if ctx.invoked_subcommand is not None:
        return
    if data is None or out is None:
        console.print(ctx.get_help())
        raise fail("--data and --out are required to train.", code=2)
    from train.base_models import BaseModelError
    from train.card import write_card
    from train.presets import get_preset
    from train.sft import TrainRequest, train

    try:
        chosen = get_preset(preset)
        request = TrainRequest(data=data, out=out, preset=chosen, base=base,
                               max_examples=max_examples, max_steps=max_steps,
                               save_steps=save_steps, resume=resume, seed=seed, variety=variety,
                               workspace=workspace, threads=threads,
                               init_adapter=init_adapter)
        result = train(request)
    except (ValueError, FileNotFoundError, BaseModelError) as exc:
        raise fail(str(exc)) from None
    write_card(result.adapter_dir)
    loss = f"{result.train_loss:.4f}" if result.train_loss is not None else "n/a"
    console.print(
        f"adapter saved to [bold]{result.adapter_dir}[/]: {result.examples} examples "
        f"(max_length {result.max_length}, {result.dropped_too_long} longer dropped), "
        f"{result.steps} steps, {result.wall_seconds / 60:.1f} min, mean loss {loss}. "
        f"Serve it: `ptool serve --adapter {result.adapter_dir}`."
    )


@train_app.command("card")
def card_command(
    out: Annotated[Path, typer.Argument(help="Adapter folder written by `ptool train`.")],
    run: Annotated[list[str] | None, typer.Option(
        "--run", help="LABEL=DIR of a finished `ptool bench` run to quote in the card's "
        "evaluation table (repeat for base, adapter, ablations).")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help="A line printed under the evaluation table (how it was run).")] = None,
) -> None:
    """(Re)write an adapter's training card from its saved run files and benchmark runs."""
    from eval.compare import markdown_runs
    from train.card import write_card

    runs: dict[str, Path] = {}
    for item in run or []:
        label, sep, folder = item.partition("=")
        if not sep or not label or not folder:
            raise fail(f"--run {item!r}: expected LABEL=DIR, e.g. base=data/bench/base", code=2)
        runs[label] = Path(folder)
    try:
        evaluation = markdown_runs(runs) if runs else None
        if evaluation and note:
            evaluation += "\n\n" + note
        path = write_card(out, evaluation=evaluation)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    console.print(f"card written: {escape(str(path))}")
