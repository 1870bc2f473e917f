"""Golden-file tests of the value-acceptance rules, per-sample scoring and error categories."""

from __future__ import annotations

from typing import Any

import pytest
from _eval_helpers import load_golden, to_answer

from eval.aggregate import (
    ACC_COLUMNS,
    AggregateMetrics,
    UnknownMetricError,
    aggregate,
    combine,
    get_metric,
)
from eval.metrics import ERROR_COLUMNS, ErrorCategory, accepts, score_prediction
from ptbench.answers import ParseError, parse_text

VALUE_CASES: list[dict[str, Any]] = load_golden("value_cases.json")
SCORING_CASES: list[dict[str, Any]] = load_golden("scoring_cases.json")


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c["rule"] for c in VALUE_CASES])
def test_value_acceptance(case: dict[str, Any]) -> None:
    assert accepts(case["value"], case["accepted"]) is case["expected"]


def test_value_rules_cover_every_branch() -> None:
    prefixes = {c["rule"].split(":")[0] for c in VALUE_CASES}
    assert prefixes == {"string", "true/false string", "bool", "list", "number", "other"}


def score_case(case: dict[str, Any]) -> Any:
    try:
        parsed = parse_text(case["output"])
    except ParseError:
        parsed = None
    return score_prediction(to_answer(case["answer"]), case["query_params"],
                            case["profile_params"], parsed)


@pytest.mark.parametrize("case", SCORING_CASES, ids=[c["name"] for c in SCORING_CASES])
def test_sample_scoring(case: dict[str, Any]) -> None:
    score = score_case(case)
    got = score.model_dump(include=set(case["expected"]))
    got["error"] = score.error.value if score.error else None
    assert got == case["expected"]


def test_every_error_category_has_a_golden_case() -> None:
    seen = {c["expected"]["error"] for c in SCORING_CASES}
    assert {c.value for c in ErrorCategory} <= seen


def test_each_sample_falls_in_at_most_one_category() -> None:
    scores = [score_case(c) for c in SCORING_CASES]
    agg = aggregate(scores)
    assert sum(agg.errors.values()) == sum(s.error is not None for s in scores)
    assert agg.param_both == 1


def test_totals_count_unparsable_samples() -> None:
    answer = to_answer(["P", [{"f": {"a": [1]}}]])
    bad = score_prediction(answer, ["a"], ["b", "c"], None)
    good = score_prediction(answer, ["a"], [], parse_text("P:[f(a=1)]"))
    agg = aggregate([bad, good])
    assert agg.values["query_value"] == 0.5
    assert agg.values["profile_value"] == 0.0
    assert agg.values["format"] == 0.5


def test_no_annotated_parameters_gives_no_value() -> None:
    answer = to_answer(["P", [{"f": {}}]])
    agg = aggregate([score_prediction(answer, [], [], parse_text("P:[f()]"))])
    assert agg.values["query_value"] is None and agg.values["overall"] == 1.0


def test_combine_is_sample_weighted_like_the_reference() -> None:
    a = AggregateMetrics(n=474, values=dict.fromkeys(get_names(), 1.0),
                         errors=dict.fromkeys(ERROR_COLUMNS, 1))
    b = AggregateMetrics(n=609, values=dict.fromkeys(get_names(), 0.0),
                         errors=dict.fromkeys(ERROR_COLUMNS, 2))
    out = combine([a, b])
    assert out.n == 1083
    assert out.values["overall"] == pytest.approx(474 / 1083)
    assert out.errors == dict.fromkeys(ERROR_COLUMNS, 3)


def get_names() -> list[str]:
    from eval.aggregate import METRICS

    return list(METRICS)


def test_registry_columns_match_the_reference_csv() -> None:
    assert ACC_COLUMNS == ("format", "platforms", "tool_names", "tool_param_names",
                           "tool_param_values", "query_params", "profile_params", "overall")
    assert ERROR_COLUMNS == ("func_wrong_error", "func_missing_error", "func_excessive_error",
                             "param_missing_error", "param_excessive_error", "value_error")


def test_registry_lookup_and_did_you_mean() -> None:
    assert get_metric("platforms").name == "platform"
    with pytest.raises(UnknownMetricError, match="did you mean 'platform'"):
        get_metric("platfrom")
