"""The paper's metrics over scored samples: their table (name, CSV column, paper label), one
split's aggregate, and the reference's sample-weighted ``overall``.

Per-sample scoring (what each metric counts) is :mod:`eval.metrics`; this module only turns a
list of :class:`~eval.metrics.SampleScore` into rates and error counts.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from eval.metrics import ERROR_COLUMNS, SampleScore


@dataclass(frozen=True)
class Metric:
    """A named benchmark metric: its CSV column, its label in the paper, how to compute it."""

    name: str
    column: str
    paper_label: str
    description: str
    compute: Callable[[Sequence[SampleScore]], float | None]




class UnknownMetricError(KeyError):
    """A metric name that is not registered; the message suggests the closest names."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_metric(name: str) -> Metric:
    """Look a metric up by name or CSV column; unknown names fail with a "did you mean"."""
    if name in METRICS:
        return METRICS[name]
    for m in METRICS.values():
        if m.column == name:
            return m
    names = list(METRICS) + [m.column for m in METRICS.values()]
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownMetricError(f"unknown metric {name!r}{hint} (known: {', '.join(METRICS)})")


def _rate(field: str) -> Callable[[Sequence[SampleScore]], float | None]:
    def compute(scores: Sequence[SampleScore]) -> float | None:
        if not scores:
            return None
        return sum(bool(getattr(s, field)) for s in scores) / len(scores)

    return compute


def _param_rate(kind: str) -> Callable[[Sequence[SampleScore]], float | None]:
    def compute(scores: Sequence[SampleScore]) -> float | None:
        total = sum(getattr(s, f"{kind}_total") for s in scores)
        return sum(getattr(s, f"{kind}_correct") for s in scores) / total if total else None

    return compute


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("format", "format", "format", "parsable outputs / samples", _rate("parsed")),
    Metric("platform", "platforms", "platform", "right platform / samples", _rate("platform")),
    Metric("tool_name", "tool_names", "tool name",
           "predicted function set equals the answer's / samples", _rate("tool_name")),
    Metric("tool_param", "tool_param_names", "tool param",
           "functions and parameter names right / samples", _rate("tool_param")),
    Metric("tool_value", "tool_param_values", "tool value",
           "functions, parameter names and values right / samples", _rate("tool_value")),
    Metric("query_value", "query_params", "query val",
           "correct query-parameter values / annotated query parameters", _param_rate("query")),
    Metric("profile_value", "profile_params", "profile val",
           "correct profile-parameter values / annotated profile parameters",
           _param_rate("profile")),
    Metric("overall", "overall", "overall",
           "right platform and every function, name and value / samples", _rate("overall")),
)}
"""The paper's metrics, in the reference CSV's column order."""


ACC_COLUMNS: tuple[str, ...] = tuple(m.column for m in METRICS.values())
"""``acc_results.csv`` header, exactly as the reference harness writes it."""


# ---------------------------------------------------------------------------------------------
# aggregation


class AggregateMetrics(BaseModel):
    """Metrics of one split (or the sample-weighted overall): rates and error counts."""

    n: int
    values: dict[str, float | None]
    errors: dict[str, int]
    platform_errors: int = 0
    query_value_errors: int = 0
    profile_value_errors: int = 0
    param_both: int = 0


def aggregate(scores: Sequence[SampleScore]) -> AggregateMetrics:
    """Every metric of :data:`METRICS` plus the error-category counts over ``scores``."""
    errors = dict.fromkeys(ERROR_COLUMNS, 0)
    for s in scores:
        if s.error is not None:
            errors[s.error.value] += 1
    parsed = [s for s in scores if s.parsed]
    return AggregateMetrics(
        n=len(scores),
        values={name: m.compute(scores) for name, m in METRICS.items()},
        errors=errors,
        platform_errors=sum(not s.platform for s in parsed),
        query_value_errors=sum(s.query_value_error for s in parsed),
        profile_value_errors=sum(s.profile_value_error for s in parsed),
        param_both=sum(
            s.extra_param and s.absent_param and not (s.extra_function or s.absent_function)
            for s in parsed
        ),
    )


def combine(parts: Sequence[AggregateMetrics]) -> AggregateMetrics:
    """The reference's ``overall``: each rate is the sample-weighted mean of the split rates
    (so query/profile values are weighted by samples, not by parameters); counts are summed."""
    n = sum(p.n for p in parts)
    values: dict[str, float | None] = {}
    for name in METRICS:
        known = [(p.values[name], p.n) for p in parts if p.values.get(name) is not None]
        weight = sum(w for _, w in known)
        total = sum(float(v) * w for v, w in known if v is not None)
        values[name] = total / weight if weight else None
    return AggregateMetrics(
        n=n,
        values=values,
        errors={c: sum(p.errors.get(c, 0) for p in parts) for c in ERROR_COLUMNS},
        platform_errors=sum(p.platform_errors for p in parts),
        query_value_errors=sum(p.query_value_errors for p in parts),
        profile_value_errors=sum(p.profile_value_errors for p in parts),
        param_both=sum(p.param_both for p in parts),
    )
