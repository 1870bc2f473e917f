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

import json
import math
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from ptbench.answers import ParsedOutput
from ptbench.samples import Answer, BenchSample

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
    """Everything the metrics need about one sample.

    In three groups: whether each rate metric counts the sample; its error category and the
    failures that decide it (checked in both directions, see the module docstring); and its
    parameter values for the query and profile value metrics."""

    split: str
    id: str
    parsed: bool
    platform: bool = False
    tool_name: bool = False
    tool_param: bool = False
    tool_value: bool = False
    overall: bool = False

    error: ErrorCategory | None = None
    """The one category the sample falls in (:func:`_categorise`), None when it has none."""
    extra_function: bool = False
    """A predicted function the answer does not have."""
    absent_function: bool = False
    """An answer function that was not predicted."""
    extra_param: bool = False
    """A predicted parameter that its answer function does not have."""
    absent_param: bool = False
    """An answer parameter that was not predicted."""
    wrong_value: bool = False
    query_value_error: bool = False
    """A query parameter's value was wrong, or the parameter was not expected."""
    profile_value_error: bool = False
    """The same for a profile parameter."""

    query_correct: int = 0
    """Accepted query-parameter values, once per predicted call that has them."""
    query_total: int = 0
    """The query parameters annotated in the sample."""
    profile_correct: int = 0
    profile_total: int = 0


def _first_by_name(calls: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, params in calls:
        out.setdefault(name, params)
    return out


def _pair_up(
    calls: Sequence[tuple[str, dict[str, Any]]], others: dict[str, dict[str, Any]]
) -> tuple[bool, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Match each call to its namesake in ``others`` (the first call of each name): whether
    some call has none, and ``(its arguments, the namesake's)`` for each call that has one."""
    pairs = [(args, others[name]) for name, args in calls if name in others]
    return len(pairs) < len(calls), pairs


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
    # The annotated kind a parameter counts for (a name annotated as both counts as query);
    # unannotated parameters count for None, which no score reads.
    kind = {**dict.fromkeys(profile_params, "profile"), **dict.fromkeys(query_params, "query")}

    extra_function, predicted_pairs = _pair_up(pred, real_by_name)
    absent_function, answer_pairs = _pair_up(real, pred_by_name)
    extra_param = absent_param = wrong_value = False
    value_errors: set[str | None] = set()  # kinds with a wrong or unexpected value
    correct: Counter[str | None] = Counter()  # accepted values per kind

    # predicted -> answer
    for args, expected in predicted_pairs:
        for pname, value in args.items():
            if pname not in expected:
                extra_param = True
                value_errors.add(kind.get(pname))
            elif accepts(value, expected[pname]):
                correct[kind.get(pname)] += 1
            else:
                wrong_value = True

    # answer -> predicted
    for expected, args in answer_pairs:
        for pname, accepted in expected.items():
            if pname not in args:
                absent_param = True
            elif not accepts(args[pname], accepted):
                wrong_value = True
                value_errors.add(kind.get(pname))

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
        query_correct=correct["query"],
        profile_correct=correct["profile"],
        extra_function=extra_function,
        absent_function=absent_function,
        extra_param=extra_param,
        absent_param=absent_param,
        wrong_value=wrong_value,
        query_value_error="query" in value_errors,
        profile_value_error="profile" in value_errors,
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
