"""The paper's text format and the JSON form: parsing rules, bad output, render round trip."""

from __future__ import annotations

from typing import Any

import pytest
from _eval_helpers import load_golden, to_answer

from eval.metrics import score_prediction
from ptbench.answers import (
    Call,
    ParsedOutput,
    ParseError,
    RenderError,
    parse_json,
    parse_output,
    parse_text,
    render_json,
    render_text,
)


@pytest.mark.parametrize(
    ("text", "platform", "calls"),
    [
        ("Shop:[buy(item='a', n=2)]", "Shop", [("buy", {"item": "a", "n": 2})]),
        ("'Shop':buy(item='a')", "Shop", [("buy", {"item": "a"})]),
        ("Shop:(buy(), sell())", "Shop", [("buy", {}), ("sell", {})]),
        ("Shop:[]", "Shop", []),
        ("Shop:[api.v1.buy(x=1)]", "Shop", [("api.v1.buy", {"x": 1})]),
        ("Shop:[buy('ignored', item=city)]", "Shop", [("buy", {"item": "city"})]),
        ("Shop:[buy(n=-3, f=+1.5, t=True, z=None, e=...)]", "Shop",
         [("buy", {"n": -3, "f": 1.5, "t": True, "z": None, "e": "..."})]),
        ("Shop:[buy(l=[1, 'a'], t=(1, 2), d={'k': [True]})]", "Shop",
         [("buy", {"l": [1, "a"], "t": [1, 2], "d": {"k": [True]}})]),
        ("Shop:[buy(n=2*3, s='a'+'b', p=2**99)]", "Shop",
         [("buy", {"n": 6, "s": "ab", "p": "2 ** 99"})]),
        ("Shop:[buy(when=now(), where=geo(lat=1))]", "Shop",
         [("buy", {"when": "now()", "where": {"geo": {"lat": 1}}})]),
        ("Shop:[buy(x=__import__('os').system('echo hi'))]", "Shop",
         [("buy", {"x": "__import__('os').system('echo hi')"})]),
        ("Shop:[buy(a=1, a=2)]", "Shop", [("buy", {"a": 2})]),
        (" Shop : [buy(item='a')] \n", "Shop", [("buy", {"item": "a"})]),
        ("Shop:[buy(**{'from': 'x', 'max-price': 3})]", "Shop",
         [("buy", {"from": "x", "max-price": 3})]),
    ],
)
def test_text_format_rules(
    text: str, platform: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    out = parse_text(text)
    assert out.platform == platform
    assert [(c.name, c.arguments) for c in out.calls] == calls


@pytest.mark.parametrize(
    "text",
    [
        "I will order a burger for you.",
        "```\nShop:[buy(item='a')]\n```",
        "Shop: 5",
        "Shop:[buy(), 3]",
        "[buy()]",
        "Shop:[buy(x={1, 2})]",
        "Shop:[buy(x=f'{y}')]",
        "Shop:[buy(x={[1]: 2})]",
        "",
    ],
)
def test_malformed_text_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_text(text)


def test_json_form() -> None:
    good = '{"platform": "Shop", "functions": [{"name": "buy", "parameters": {"q": "it\'s"}}]}'
    assert parse_json(good).calls[0].arguments == {"q": "it's"}
    single = "{'platform': 'Shop', 'functions': [{'name': 'buy', 'parameters': {'ok': True}}]}"
    assert parse_json(single).calls[0].arguments == {"ok": True}
    for bad in ("nope", '{"platform": "Shop"}', '{"platform": "S", "functions": [{"name": 1}]}'):
        with pytest.raises(ParseError):
            parse_json(bad)


def test_auto_format_falls_back_to_json() -> None:
    text = '{"platform": "Shop", "functions": []}'
    assert parse_output(text, "auto").platform == "Shop"
    assert parse_output("Shop:[buy()]", "auto").calls[0].name == "buy"
    with pytest.raises(ParseError, match="braces"):
        parse_output("hello there", "auto")


ROUND_TRIP = [
    ParsedOutput(platform="Shop", calls=[Call(name="buy", arguments={
        "s": "it's \"quoted\"\n", "n": -2, "f": 0.1, "b": False, "z": None,
        "l": ["a", 1, [True]], "d": {"k": {"x": 1.5}, "2": "two"}})]),
    ParsedOutput(platform="My Shop", calls=[Call(name="a.b", arguments={"from": 1, "x-y": "z"}),
                                            Call(name="c", arguments={})]),
    ParsedOutput(platform="Shop", calls=[]),
]


@pytest.mark.parametrize("pred", ROUND_TRIP)
def test_render_then_parse_round_trips(pred: ParsedOutput) -> None:
    assert parse_text(render_text(pred)) == pred
    assert parse_json(render_json(pred)) == pred


SCORING_CASES: list[dict[str, Any]] = [
    c for c in load_golden("scoring_cases.json") if c["expected"]["parsed"]
]


@pytest.mark.parametrize("case", SCORING_CASES, ids=[c["name"] for c in SCORING_CASES])
def test_round_trip_scores_identically(case: dict[str, Any]) -> None:
    answer = to_answer(case["answer"])
    parsed = parse_text(case["output"])
    args = (answer, case["query_params"], case["profile_params"])
    direct = score_prediction(*args, parsed)
    via_text = score_prediction(*args, parse_text(render_text(parsed)))
    via_json = score_prediction(*args, parse_json(render_json(parsed)))
    assert direct == via_text == via_json


def test_unrenderable_function_name() -> None:
    with pytest.raises(RenderError):
        render_text(ParsedOutput(platform="S", calls=[Call(name="get-weather")]))


def test_string_repetition_is_bounded_by_its_result() -> None:
    """26 characters must not allocate a gigabyte: the folded string's length is capped."""
    chained = parse_text("P:[f(a='x'*1000*1000*1000)]").calls[0].arguments["a"]
    assert chained == "'x' * 1000 * 1000 * 1000"  # left as its source text
    assert parse_text("P:[f(a='ab'*3)]").calls[0].arguments["a"] == "ababab"
