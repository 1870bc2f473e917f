"""The training card of an adapter: loss curve and the facts of the run, from saved files.

Why generated from files: the card must state what happened (data size, steps, wall time, loss),
not what was planned, and a run that is resumed in a later session must be able to rewrite it.
Everything comes from ``run_config.json`` (written by ``train/sft.py``) and the trainer's
``trainer_state.json`` / ``log_history.json``. Evaluation numbers are only printed when given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load_log_history(out: Path) -> list[dict[str, Any]]:
    """The trainer's log history: the final one, or the latest checkpoint's while running."""
    final = out / "log_history.json"
    if final.is_file():
        return list(json.loads(final.read_text()))
    states = sorted((out / "checkpoints").glob("checkpoint-*/trainer_state.json"),
                    key=lambda p: int(p.parent.name.split("-")[-1]))
    return list(json.loads(states[-1].read_text())["log_history"]) if states else []


def loss_points(history: Sequence[dict[str, Any]]) -> list[tuple[int, float]]:
    return [(int(h["step"]), float(h["loss"])) for h in history if "loss" in h and "step" in h]


def plot_loss(history: Sequence[dict[str, Any]], path: Path, title: str) -> Path | None:
    """A PNG of training loss per optimizer step (with a moving average); None if no points."""
    points = loss_points(history)
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = zip(*points, strict=True)
    window = max(1, len(losses) // 10)
    spans = [losses[max(0, i - window + 1): i + 1] for i in range(len(losses))]
    smooth = [sum(span) / len(span) for span in spans]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, alpha=0.35, label="loss")
    ax.plot(steps, smooth, label=f"moving mean ({window})")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("answer-token loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt_duration(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def write_card(out: Path, *, notes: str = "", evaluation: str | None = None,
               status: str | None = None) -> Path:
    """(Re)write ``<out>/README.md`` and ``<out>/loss.png`` from the run's saved files.

    ``notes`` is the human part (why these sizes; kept in ``card_notes.md`` so a later rewrite
    keeps it); ``evaluation`` a Markdown table of measured
    benchmark numbers, or None for "not yet measured"; ``status`` overrides the derived one."""
    notes_file = out / "card_notes.md"
    if notes:
        notes_file.write_text(notes.strip() + "\n")
    elif notes_file.is_file():
        notes = notes_file.read_text()  # a resumed run keeps the human-written part
    config = json.loads((out / "run_config.json").read_text())
    history = load_log_history(out)
    points = loss_points(history)
    plot = plot_loss(history, out / "loss.png", f"{out.name}: training loss")
    final = next((h for h in reversed(history) if "train_runtime" in h), None)
    step = max((p[0] for p in points), default=0)
    if status is None:
        status = ("finished" if final else f"in progress (latest logged optimizer step {step})")
    rows = [
        ("base model", str(config["base"])),
        ("preset", str(config["preset"])),
        ("training data", f"{config['examples']} examples from `{config['data']}` "
                          f"({config['dropped_too_long']} longer than max_length dropped)"),
        ("sequence length", f"{config['max_length']} tokens (from the data; see notes)"),
        ("LoRA", ", ".join(f"{k}={v}" for k, v in config["lora"].items())),
        ("batch", f"{config['batch_size']} x {config['grad_accum']} accumulation"),
        ("started from", f"`{config['init_adapter']}`" if config.get("init_adapter")
         else "a fresh LoRA"),
        ("prompt rendering", f"runtime renderer, retrieval={config.get('retrieve', True)}, "
                             f"render={config['render']}, variety={config['variety']}"),
        ("status", status),
    ]
    if final:
        rows.append(("wall time", _fmt_duration(float(final["train_runtime"]))))
    if points:
        first = points[0][1]
        tail = [p[1] for p in points[-10:]]
        mean = sum(tail) / len(tail)
        rows.append(("loss", f"{first:.3f} at step {points[0][0]} -> mean {mean:.3f} over the "
                             f"last {len(tail)} logged steps (step {step})"))
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    body = [f"# Training card: `{out.name}`", "", "| | |", "|---|---|", table, ""]
    if plot:
        body += ["![training loss](loss.png)", ""]
    body += ["## Evaluation", "", evaluation or "Not yet measured.", ""]
    if notes:
        body += ["## Notes", "", notes.strip(), ""]
    path = out / "README.md"
    path.write_text("\n".join(body))
    return path
