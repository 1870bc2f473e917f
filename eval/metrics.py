"""PTBench metrics and error analysis, as pure functions over typed predictions.

The definitions are those of ``docs/ptbench.md`` (the paper's), and the per-sample procedure
mirrors the reference harness (hyfshadow/PTBench ``src/test_acc.py`` / ``src/test_error.py``) so
the numbers are comparable with the paper:

* each predicted function is matched to the *first* answer function of the same name and vice
  versa; tool name / tool param / tool value failures are checked in both directions;
* a correct query (profile) parameter value is counted once per predicted call that has it, over
  all query (profile) parameters annotated in the file (unparsable samples add to the total only).

Value acceptance (:func:`accepts`) follows ``docs/ptbench.md``. Where the reference code crashed
on a type mismatch -- which it then silently counted as a *format* error -- a mismatch here is
just a wrong value; and the 0.01 tolerance applies to every number (the reference applied it to
ints only and compared floats by exact membership). A number accepted as a numeric string
(``["5"]``) is compared numerically.

Error analysis keeps the reference's six CSV columns *and their meaning*, which is named from the
answer's point of view (see :class:`ErrorCategory`): "missing" counts predicted functions or
parameters that the answer lacks, "excessive" counts answer items that the prediction lacks.
Every sample falls in at most one category; a sample with both kinds of parameter error (the
reference counted it twice) goes to ``param_missing_error`` and is also counted in
``AggregateMetrics.param_both``. A repeated predicted function whose *later* call has a wrong
value fails tool value in both harnesses; here it is also categorised (``value_error``), where
the reference left that sample in no category.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from eval.dataset import Answer, BenchSample
from eval.parsing import ParsedOutput

NUMBER_TOLERANCE = 0.01


# ---------------------------------------------------------------------------------------------
# value acceptance


def _lower(x: Any) -> Any:
    if isinstance(x, str):
        return x.lower()
    if isinstance(x, dict | list):  # unhashable: compare by canonical text
        return json.dumps(x, sort_keys=True, default=str)
    return x


def _as_number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None


def accepts(value: Any, accepted: Sequence[Any]) -> bool:
    """Is ``value`` one of the ``accepted`` values under PTBench's rules?

    * the strings ``"true"``/``"false"``: their boolean is among the accepted values;
    * a bool: it is among the accepted values;
    * a string: lower-cased, it equals an accepted string lower-cased;
    * a list: its elements lower-cased, as a set, equal one accepted list as a set;
    * a number: within 0.01 of the *first* accepted value;
    * anything else (None, dict): plain membership.
    """
    if not accepted:
        return False
    if value in ("true", "false") and isinstance(value, str):
        return (value == "true") in accepted
    if isinstance(value, bool):
        return value in accepted
    if isinstance(value, str):
        return value.lower() in {a.lower() for a in accepted if isinstance(a, str)}
    if isinstance(value, list):
        mine = {_lower(v) for v in value}
        return any(isinstance(a, list) and mine == {_lower(v) for v in a} for a in accepted)
    if isinstance(value, int | float):
        first = _as_number(accepted[0])
        return first is not None and math.isfinite(value) and abs(value - first) <= (
            NUMBER_TOLERANCE + 1e-12
        )
    try:
        return value in accepted
    except TypeError:
        return False


# ---------------------------------------------------------------------------------------------
# per-sample scoring


class ErrorCategory(StrEnum):
    """The six error categories, named as the reference harness's CSV columns.

    The reference names them from the answer's point of view; what each counts:
    """

    FUNC_WRONG = "func_wrong_error"
    """Both a predicted function absent from the answer and an answer function not predicted."""
    FUNC_MISSING = "func_missing_error"
    """Only: a predicted function that the answer does not have."""
    FUNC_EXCESSIVE = "func_excessive_error"
    """Only: an answer function that was not predicted."""
    PARAM_MISSING = "param_missing_error"
    """Functions right; a predicted parameter that the answer does not have."""
    PARAM_EXCESSIVE = "param_excessive_error"
    """Functions right; an answer parameter that was not predicted."""
    VALUE = "value_error"
    """Functions and parameter names right; some value not accepted."""


ERROR_COLUMNS: tuple[str, ...] = tuple(c.value for c in ErrorCategory)


class SampleScore(BaseModel):
    """Everything the metrics need about one sample."""

    split: str
    id: str
    parsed: bool
    platform: bool = False
    tool_name: bool = False
    tool_param: bool = False
    tool_value: bool = False
    overall: bool = False
    query_correct: int = 0
    profile_correct: int = 0
    query_total: int = 0
    profile_total: int = 0
    extra_function: bool = False
    absent_function: bool = False
    extra_param: bool = False
    absent_param: bool = False
    wrong_value: bool = False
    query_value_error: bool = False
    profile_value_error: bool = False
    error: ErrorCategory | None = None


def _first_by_name(calls: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, params in calls:
        out.setdefault(name, params)
    return out


def _categorise(s: SampleScore) -> ErrorCategory | None:
    if s.extra_function and s.absent_function:
        return ErrorCategory.FUNC_WRONG
    if s.extra_function:
        return ErrorCategory.FUNC_MISSING
    if s.absent_function:
        return ErrorCategory.FUNC_EXCESSIVE
    if s.extra_param:
        return ErrorCategory.PARAM_MISSING
    if s.absent_param:
        return ErrorCategory.PARAM_EXCESSIVE
    if s.wrong_value:
        return ErrorCategory.VALUE
    return None


def score_prediction(
    answer: Answer,
    query_params: Sequence[str],
    profile_params: Sequence[str],
    prediction: ParsedOutput | None,
    *,
    split: str = "",
    sample_id: str = "",
) -> SampleScore:
    """Score one prediction (``None`` = unparsable) against the answer."""
    totals = {"query_total": len(query_params), "profile_total": len(profile_params)}
    if prediction is None:
        return SampleScore(split=split, id=sample_id, parsed=False, **totals)

    real = [(c.name, dict(c.params)) for c in answer.calls]
    pred = [(c.name, c.arguments) for c in prediction.calls]
    real_by_name, pred_by_name = _first_by_name(real), _first_by_name(pred)
    query_set, profile_set = set(query_params), set(profile_params)

    extra_function = absent_function = extra_param = absent_param = wrong_value = False
    query_err = profile_err = False
    query_ok = profile_ok = 0

    # predicted -> answer
    for name, args in pred:
        if name not in real_by_name:
            extra_function = True
            continue
        expected = real_by_name[name]
        for pname, value in args.items():
            if pname not in expected:
                extra_param = True
                if pname in query_set:
                    query_err = True
                elif pname in profile_set:
                    profile_err = True
            elif accepts(value, expected[pname]):
                if pname in query_set:
                    query_ok += 1
                elif pname in profile_set:
                    profile_ok += 1
            else:
                wrong_value = True

    # answer -> predicted
    for name, expected in real:
        if name not in pred_by_name:
            absent_function = True
            continue
        args = pred_by_name[name]
        for pname, accepted in expected.items():
            if pname not in args:
                absent_param = True
            elif not accepts(args[pname], accepted):
                wrong_value = True
                if pname in query_set:
                    query_err = True
                elif pname in profile_set:
                    profile_err = True

    platform_ok = prediction.platform == answer.platform
    tool_name = not (extra_function or absent_function)
    tool_param = tool_name and not (extra_param or absent_param)
    tool_value = tool_param and not wrong_value
    score = SampleScore(
        split=split,
        id=sample_id,
        parsed=True,
        platform=platform_ok,
        tool_name=tool_name,
        tool_param=tool_param,
        tool_value=tool_value,
        overall=platform_ok and tool_value,
        query_correct=query_ok,
        profile_correct=profile_ok,
        extra_function=extra_function,
        absent_function=absent_function,
        extra_param=extra_param,
        absent_param=absent_param,
        wrong_value=wrong_value,
        query_value_error=query_err,
        profile_value_error=profile_err,
        **totals,
    )
    score.error = _categorise(score)
    return score


def score_sample(sample: BenchSample, prediction: ParsedOutput | None) -> SampleScore:
    """:func:`score_prediction` for a loaded sample."""
    return score_prediction(
        sample.answer,
        sample.query_params,
        sample.profile_params,
        prediction,
        split=sample.split,
        sample_id=sample.id,
    )


# ---------------------------------------------------------------------------------------------
# metric registry


@dataclass(frozen=True)
class Metric:
    """A named benchmark metric: its CSV column, its label in the paper, how to compute it."""

    name: str
    column: str
    paper_label: str
    description: str
    compute: Callable[[Sequence[SampleScore]], float | None]


METRICS: dict[str, Metric] = {}
"""Registry, in the reference CSV's column order."""


class UnknownMetricError(KeyError):
    """A metric name that is not registered; the message suggests the closest names."""

    def __str__(self) -> str:
        return str(self.args[0])


def register_metric(metric: Metric) -> Metric:
    """Add a metric to the registry (names are unique)."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is already registered")
    METRICS[metric.name] = metric
    return metric


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


for _m in (
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
):
    register_metric(_m)


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
    """Every registered metric plus the error-category counts over ``scores``."""
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
