"""The benchmark tab's handlers: a real (tiny) runtime-mode run through eval, then its view."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.conftest import ProfileEchoModel
from ui.chat_adapter import ChatService
from ui.tabs import bench
from ui.wiring import Workspace


def test_small_run_is_listed_with_metrics_and_plots(workspace: Workspace) -> None:
    svc = ChatService(workspace, ProfileEchoModel)
    folder = bench.start_run(svc, str(bench.DEFAULT_DATA), 1, "tiny")
    root = bench.runs_root(svc)
    assert folder == "tiny" and bench.list_runs(root) == ["tiny"]
    table, plots, summary = bench.show_run(root, "tiny")
    report = json.loads((root / "tiny" / "report.json").read_text())
    assert list(table["split"]) == [*report["splits"], "overall"]
    assert "runtime" in summary and plots and all(Path(p).suffix == ".png" for p in plots)


def test_run_folders_outside_the_workspace_are_refused(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    table, plots, summary = bench.show_run(tmp_path / "runs", "../../etc")
    assert table.empty and plots == [] and "No report" in summary
