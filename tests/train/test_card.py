"""`ptool train card`: the training card is rewritten from the run's saved files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


def _finished_run(out: Path) -> None:
    out.mkdir(parents=True)
    config = {"base": "smollm2-135m", "preset": "cpu", "data": "train.jsonl", "examples": 8,
              "dropped_too_long": 0, "max_length": 512, "seed": 0, "variety": True,
              "lora": {"rank": 8, "alpha": 16}, "batch_size": 1, "grad_accum": 4,
              "render": {"history_k": [5], "tools_per_platform": [3]}}
    (out / "run_config.json").write_text(json.dumps(config))
    history = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5},
               {"step": 2, "train_runtime": 90.0, "train_loss": 1.75}]
    (out / "log_history.json").write_text(json.dumps(history))
    (out / "card_notes.md").write_text("Human notes survive a rewrite.\n")


def test_card_has_facts_loss_plot_notes_and_no_invented_evaluation(tmp_path: Path) -> None:
    out = tmp_path / "ptool-x"
    _finished_run(out)
    result = runner.invoke(app, ["train", "card", str(out)])
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text()
    assert "| status | finished |" in card and "2.000 at step 1" in card
    assert "Not yet measured." in card and "Human notes survive a rewrite." in card
    assert (out / "loss.png").stat().st_size > 0


def test_card_run_option_needs_label_and_existing_report(tmp_path: Path) -> None:
    out = tmp_path / "ptool-x"
    _finished_run(out)
    bad = runner.invoke(app, ["train", "card", str(out), "--run", "nolabel"])
    assert bad.exit_code == 2 and "LABEL=DIR" in bad.output
    missing = runner.invoke(app, ["train", "card", str(out), "--run", f"base={tmp_path}"])
    assert missing.exit_code == 1 and "report.json" in missing.output
