"""``ptool train``: LoRA fine-tuning on synthesized data (the work is :func:`train.sft.train`).

Only option parsing and printing live here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ui.errors import fail

console = Console()


def register(app: typer.Typer) -> None:
    """Add ``ptool train`` to the app."""
    app.command("train")(train_command)


def train_command(
    data: Annotated[Path, typer.Option(
        "--data", help="Training records from `ptool synth train --out FILE` (or pre-rendered "
        "{id, messages} chat lines).")],
    out: Annotated[Path, typer.Option(
        "--out", help="Adapter folder, e.g. train/adapters/NAME (checkpoints go in "
        "NAME/checkpoints).")],
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
    seed: Annotated[int, typer.Option("--seed", help="Subset, variety and shuffle seed.")] = 0,
    variety: Annotated[bool, typer.Option(
        "--variety/--no-variety", help="Renamed fields, shuffled tools, paraphrases.")] = True,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="torch CPU threads (default: torch's choice).")] = None,
    workspace: Annotated[Path, typer.Option(
        "--workspace", help="Where the converted base model is cached.")] = Path("data"),
) -> None:
    """Fine-tune a LoRA adapter (paper recipe: r=8, alpha=16, lr 1e-4, cosine, warm-up 0.1,
    1 epoch, all linear modules; loss on the answer tokens only).

    Example: `ptool synth train --out data/train_records.jsonl` then
    `ptool train --data data/train_records.jsonl --out train/adapters/mine --max-examples 200`.
    Interrupted? Run the same command again with `--resume`.
    """
    from train.base_models import BaseModelError
    from train.presets import get_preset
    from train.sft import TrainRequest, train

    try:
        chosen = get_preset(preset)
        request = TrainRequest(data=data, out=out, preset=chosen, base=base,
                               max_examples=max_examples, max_steps=max_steps,
                               save_steps=save_steps, resume=resume, seed=seed, variety=variety,
                               workspace=workspace, threads=threads)
        result = train(request)
    except (ValueError, FileNotFoundError, BaseModelError) as exc:
        raise fail(str(exc)) from None
    loss = f"{result.train_loss:.4f}" if result.train_loss is not None else "n/a"
    console.print(
        f"adapter saved to [bold]{result.adapter_dir}[/]: {result.examples} examples "
        f"(max_length {result.max_length}, {result.dropped_too_long} longer dropped), "
        f"{result.steps} steps, {result.wall_seconds / 60:.1f} min, mean loss {loss}. "
        f"Serve it: `ptool serve --adapter {result.adapter_dir}`."
    )
