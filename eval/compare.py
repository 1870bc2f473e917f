"""Compare two benchmark runs metric by metric (``ptool bench compare DIR_A DIR_B``).

Why from report.json: it is the one complete, versioned summary of a run, so comparing never
re-scores (and never needs the data files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eval.aggregate import METRICS
from eval.metrics import ERROR_COLUMNS


class CompareRow(BaseModel):
    """One metric (or error count) of one split in both runs; values in percent for metrics."""

    scope: str
    metric: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


def load_report(run_dir: Path) -> dict[str, Any]:
    """report.json of a run folder, with a clear message when it is missing."""
    path = Path(run_dir) / "report.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: is {run_dir} a finished `ptool bench` output folder?"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _scopes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {**report.get("splits", {}), "overall": report.get("overall", {})}


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> list[CompareRow]:
    """Rows for every split present in either run: the metrics (percent), then error counts."""
    sa, sb = _scopes(a), _scopes(b)
    order = list(dict.fromkeys([*sa, *sb]))
    rows: list[CompareRow] = []
    for scope in order:
        ma, mb = sa.get(scope, {}), sb.get(scope, {})
        for name in METRICS:
            va = ma.get("metrics", {}).get(name)
            vb = mb.get("metrics", {}).get(name)
            rows.append(CompareRow(scope=scope, metric=name,
                                   a=None if va is None else 100 * va,
                                   b=None if vb is None else 100 * vb))
        for col in ERROR_COLUMNS:
            rows.append(CompareRow(scope=scope, metric=col,
                                   a=ma.get("errors", {}).get(col),
                                   b=mb.get("errors", {}).get(col)))
    return rows


def compare_dirs(dir_a: Path, dir_b: Path) -> list[CompareRow]:
    return compare_reports(load_report(dir_a), load_report(dir_b))


def format_rows(rows: list[CompareRow], label_a: str = "A", label_b: str = "B") -> str:
    """Plain-text side-by-side table (the CLI prints a rich table instead)."""
    def show(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    out = [f"{'scope':<22}{'metric':<24}{label_a:>10}{label_b:>10}{'delta':>10}"]
    for r in rows:
        d = r.delta
        out.append(f"{r.scope:<22}{r.metric:<24}{show(r.a):>10}{show(r.b):>10}"
                   f"{'n/a' if d is None else f'{d:+.2f}':>10}")
    return "\n".join(out)


def markdown_runs(runs: dict[str, Path]) -> str:
    """A Markdown table of several runs (one row per run and split, metrics in percent, plus
    the mean seconds per sample): what a training card or a results page quotes.

    Why one row per split: base vs adapter and the ablations are read split by split (trained
    users, untrained users, unseen scenarios), as in the paper's Tables 1, 2 and 4."""
    header = ["run", "split", "n", *(m.paper_label for m in METRICS.values()), "s/sample"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, run_dir in runs.items():
        report = load_report(run_dir)
        seconds = report.get("timing", {}).get("mean_latency_s")
        for scope, body in _scopes(report).items():
            if not body:
                continue
            cells = ["n/a" if body["metrics"].get(n) is None else f"{100 * body['metrics'][n]:.1f}"
                     for n in METRICS]
            per = f"{seconds:.1f}" if seconds is not None and scope == "overall" else ""
            lines.append("| " + " | ".join([label, scope, str(body.get("n", "")), *cells, per])
                         + " |")
    return "\n".join(lines)
