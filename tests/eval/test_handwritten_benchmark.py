"""The hand-written set (``tests/data/handwritten``) run as a benchmark with the real model.

Thirty-two requests written by hand over three invented scenarios whose profiles this project's
generator never produces: camelCase and nested fields (``contact.mobile``, ``name.full``,
``addresses.work``), a login next to a display name, an address and record ids that exist only
in history text, relative dates ("next Friday", resolved against a fixed clock). The numbers
are reported in ``bench/RESULTS.md`` (grounded values); this test checks that the run completes
and writes its report, not a quality level.

Reproduce the numbers: ``ptool bench --data tests/data/handwritten/data.json --out X
--now 2026-12-01T09:00``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench import run_bench
from eval.predictor import ModeConfig

pytestmark = pytest.mark.model

DATA = Path(__file__).resolve().parents[1] / "data" / "handwritten" / "data.json"


def test_handwritten_set_runs_on_the_runtime_with_the_real_model(tmp_path: Path) -> None:
    client = pytest.importorskip("train.serving.client")
    workspace = Path("/tmp/ptool-bench-assistant")  # shares the converted base model cache
    workspace.mkdir(parents=True, exist_ok=True)
    with client.endpoint(None, workspace=workspace) as url:
        config = ModeConfig(model="ptool", base_url=url, history_k=12, tools_per_platform=3,
                            workspace=tmp_path / "ws", now="2026-12-01T09:00")
        run_bench(DATA, tmp_path / "run", mode="runtime", mode_config=config, workers=2,
                  progress=False, plots=False)
    report = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    metrics = report["overall"]["metrics"]
    print(json.dumps(metrics, indent=1))  # shown with -s; the numbers live in RESULTS.md
    assert report["overall"]["n"] == 32
    assert metrics["format"] == 1.0
