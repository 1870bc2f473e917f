"""The benchmark loop: golden end-to-end metrics, resumability, clean stop, reports, compare."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from _eval_helpers import ScriptedPredictor, load_golden

from eval.bench import run_bench
from eval.compare import compare_dirs, format_rows, markdown_runs
from eval.predictor import ModeConfig
from eval.runner import (
    PREDICTIONS_FILE,
    RunAborted,
    RunConfigMismatch,
    load_predictions,
)
from ptbench.samples import load_benchmark

SPLIT_ORDER = ["test_trained_user", "test_untrained_user", "unseen_scenarios"]


def _run(golden_dir: Path, out: Path, predictor: ScriptedPredictor, **kw: Any) -> Any:
    return run_bench(golden_dir / "ptbench", out, predictor=predictor, progress=False,
                     plots=kw.pop("plots", False), **kw)


def test_golden_metrics_end_to_end(golden_dir: Path, tmp_path: Path,
                                   model_outputs: dict[str, dict[str, str]]) -> None:
    result = _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs), workers=3)
    expected = load_golden("expected_metrics.json")
    report = result.report
    for split in SPLIT_ORDER:
        got, want = report["splits"][split], expected[split]
        assert got["n"] == want["n"]
        assert got["metrics"] == pytest.approx(want["metrics"]), split
        assert got["errors"] == want["errors"], split
    assert report["overall"]["combines"] == expected["overall"]["combines"]
    assert report["overall"]["metrics"] == pytest.approx(expected["overall"]["metrics"])
    assert report["overall"]["errors"] == expected["overall"]["errors"]


def test_reference_csv_files(golden_dir: Path, tmp_path: Path,
                             model_outputs: dict[str, dict[str, str]]) -> None:
    _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs), plots=True)
    for folder in [*SPLIT_ORDER, "overall"]:
        with (tmp_path / folder / "acc_results.csv").open() as fh:
            header, row = list(csv.reader(fh))
        assert header == ["format", "platforms", "tool_names", "tool_param_names",
                          "tool_param_values", "query_params", "profile_params", "overall"]
        assert len(row) == 8 and all(0.0 <= float(v) <= 1.0 for v in row)
        with (tmp_path / folder / "error_results.csv").open() as fh:
            header, row = list(csv.reader(fh))
        assert header == ["func_wrong_error", "func_missing_error", "func_excessive_error",
                          "param_missing_error", "param_excessive_error", "value_error"]
    with (tmp_path / "overall" / "acc_results.csv").open() as fh:
        assert [float(v) for v in list(csv.reader(fh))[1]] == pytest.approx(
            [0.8, 0.6, 0.6, 0.4, 0.2, 0.7, 0.7, 0.2])
    gen = (tmp_path / "test_trained_user" / "generation.jsonl").read_text().splitlines()
    assert set(json.loads(gen[0])) == {"query", "label", "predict"}
    md = (tmp_path / "report.md").read_text()
    assert "GPT-4-turbo" in md and "| 80.00 | 60.00 | 70.00 | 70.00 |" in md
    assert (tmp_path / "metrics.png").stat().st_size > 0
    assert (tmp_path / "errors.png").stat().st_size > 0


def test_predictions_jsonl_schema(golden_dir: Path, tmp_path: Path,
                                  model_outputs: dict[str, dict[str, str]]) -> None:
    _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs))
    lines = [json.loads(x) for x in (tmp_path / PREDICTIONS_FILE).read_text().splitlines()]
    assert len(lines) == 6
    first = next(x for x in lines if x["id"] == "101")
    assert {"id", "split", "platform", "calls", "raw", "latency_s", "prompt_tokens"} <= set(first)
    assert first["calls"] == [{"name": "FoodFast_orderFood", "arguments": {
        "item": "Hamburger", "address": "12 elm st", "quantity": 1}}]
    bad = next(x for x in lines if x["id"] == "103")
    assert bad["platform"] is None and bad["parsed"] is False


def test_rerun_skips_finished_samples(golden_dir: Path, tmp_path: Path,
                                      model_outputs: dict[str, dict[str, str]]) -> None:
    _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs))
    again = ScriptedPredictor(model_outputs)
    result = _run(golden_dir, tmp_path, again)
    assert again.calls == []
    assert result.outcome.already_done == 6 and result.outcome.new == 0


def test_unreachable_endpoint_mid_run_keeps_finished_and_resumes(
    golden_dir: Path, tmp_path: Path, model_outputs: dict[str, dict[str, str]]
) -> None:
    with pytest.raises(RunAborted, match=r"endpoint unreachable .*Connection refused\n"
                       r"2 of 6 predictions are kept in .*re-run the same command"):
        _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs, fail_after=2))
    assert len(load_predictions(tmp_path / PREDICTIONS_FILE)) == 2
    assert not (tmp_path / "report.json").exists()
    resumed = ScriptedPredictor(model_outputs)
    result = _run(golden_dir, tmp_path, resumed, workers=2)
    assert len(resumed.calls) == 4
    assert result.report["overall"]["metrics"]["format"] == pytest.approx(0.8)


def test_torn_last_line_is_predicted_again(golden_dir: Path, tmp_path: Path,
                                           model_outputs: dict[str, dict[str, str]]) -> None:
    _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs))
    path = tmp_path / PREDICTIONS_FILE
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # crash in the middle of the last write
    again = ScriptedPredictor(model_outputs)
    _run(golden_dir, tmp_path, again)
    assert len(again.calls) == 1
    assert len(load_predictions(path)) == 6


def test_resuming_with_other_settings_is_refused(golden_dir: Path, tmp_path: Path,
                                                 model_outputs: dict[str, dict[str, str]]) -> None:
    _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs))
    with pytest.raises(RunConfigMismatch, match="use another --out folder"):
        _run(golden_dir, tmp_path, ScriptedPredictor(model_outputs),
             mode_config=ModeConfig(ablate="basic"))


def test_limit_takes_the_first_samples_of_each_split(
    golden_dir: Path, tmp_path: Path, model_outputs: dict[str, dict[str, str]]
) -> None:
    pred = ScriptedPredictor(model_outputs)
    result = _run(golden_dir, tmp_path, pred, limit=1)
    assert sorted(pred.calls) == sorted([("test_trained_user", "101"),
                                         ("test_untrained_user", "u-1"),
                                         ("unseen_scenarios", "9001")])
    assert result.report["splits"]["test_trained_user"]["n"] == 1
    assert result.report["missing_predictions"] == 0


def test_ablation_reaches_the_predictor(golden_dir: Path, tmp_path: Path,
                                        model_outputs: dict[str, dict[str, str]]) -> None:
    seen: list[set[str]] = []

    class Spy(ScriptedPredictor):
        def predict(self, sample: Any) -> Any:
            seen.append(set(sample.user_profile))
            return super().predict(sample)

    _run(golden_dir, tmp_path, Spy(model_outputs), mode_config=ModeConfig(ablate="history"))
    assert seen and all(keys == {"basic_features"} for keys in seen)


def test_compare_two_runs(golden_dir: Path, tmp_path: Path,
                          model_outputs: dict[str, dict[str, str]]) -> None:
    perfect: dict[str, dict[str, str]] = {split: {} for split in model_outputs}
    for s in load_benchmark(golden_dir / "ptbench").samples():
        calls = ", ".join(
            f"{c.name}(" + ", ".join(f"{k}={v[0]!r}" for k, v in c.params.items()) + ")"
            for c in s.answer.calls)
        perfect[s.split][s.id] = f"{s.answer.platform}:[{calls}]"
    _run(golden_dir, tmp_path / "a", ScriptedPredictor(model_outputs))
    _run(golden_dir, tmp_path / "b", ScriptedPredictor(perfect))
    rows = compare_dirs(tmp_path / "a", tmp_path / "b")
    overall = {r.metric: r for r in rows if r.scope == "overall"}
    assert overall["overall"].a == pytest.approx(20.0)
    assert overall["overall"].b == pytest.approx(100.0)
    assert overall["overall"].delta == pytest.approx(80.0)
    assert overall["value_error"].delta == -1
    assert "overall" in format_rows(rows)
    with pytest.raises(FileNotFoundError, match="ptool bench"):
        compare_dirs(tmp_path / "a", tmp_path / "missing")
    table = markdown_runs({"scripted": tmp_path / "a", "perfect": tmp_path / "b"}).splitlines()
    perfect_overall = next(line for line in table if line.startswith("| perfect | overall |"))
    assert perfect_overall.split(" | ")[-2] == "100.0"  # the overall metric column
