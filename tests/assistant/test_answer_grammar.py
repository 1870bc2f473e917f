"""The answer grammar: every gold answer of the frozen benchmark fits it, malformed ones do not,
and the decide node sends it (or not) as the caller asked."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.answer_grammar import answer_grammar, in_schema_order
from assistant.graph import AssistantGraph
from assistant.turns import run_turn
from ptbench.answers import Call, ParsedOutput, render_text
from tests.assistant.conftest import World, fake, order_call

xgr = pytest.importorskip("xgrammar")
from xgrammar.testing import _is_grammar_accept_string  # noqa: E402  (after the importorskip)

BENCH = Path(__file__).resolve().parents[2] / "eval" / "data" / "ptbench_synth"

SHOP_TOOLS: list[tuple[str | None, dict[str, Any]]] = [
    ("Shop", {"type": "function", "function": {
        "name": "Shop_order", "description": "Order an item.",
        "parameters": {"type": "object", "properties": {
            "item": {"type": "string"},
            "quantity": {"type": "integer"},
            "speed": {"type": "string", "enum": ["standard", "express"]},
            "gift": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        }, "required": ["item", "quantity"]}}}),
    ("Mall", {"type": "function", "function": {
        "name": "Mall_search", "description": "Search.",
        "parameters": {"type": "object", "properties": {"keyword": {"type": "string"}},
                       "required": ["keyword"]}}}),
]


def accepts(grammar: str, text: str) -> bool:
    return bool(_is_grammar_accept_string(xgr.Grammar.from_ebnf(grammar), text))


@pytest.mark.parametrize("answer", [
    "Shop:[Shop_order(item='tea', quantity=2)]",
    "Shop:[Shop_order(item='tea', quantity=-2, speed='express', gift=True, tags=['a', 'b'])]",
    "Shop:[Shop_order(item=\"Bruno's tea\", quantity=1, gift=False)]",
    "Mall:[Mall_search(keyword='tea')]",
    "Shop:[Shop_order(item='tea', quantity=1), Shop_order(item='cake', quantity=3)]",
])
def test_well_formed_answers_are_accepted(answer: str) -> None:
    assert accepts(answer_grammar(["Shop", "Mall"], SHOP_TOOLS) or "", answer)


@pytest.mark.parametrize("answer", [
    "I would order tea on Shop.",                            # prose
    "Bazaar:[Shop_order(item='tea', quantity=2)]",           # unlisted platform
    "Mall:[Shop_order(item='tea', quantity=2)]",             # another platform's API
    "Shop:[Shop_order(item='tea')]",                         # required parameter missing
    "Shop:[Shop_order(item='tea', quantity='2')]",           # wrong type
    "Shop:[Shop_order(item='tea', quantity=2, speed='now')]",  # not in the enum
    "Shop:[Shop_order(item='tea', quantity=2, colour='red')]",  # unknown parameter
    "Shop:[Shop_deleteAccount()]",                           # not a candidate
    "Shop:[]",                                               # no call
    "Shop:[Shop_order(item='" + "x" * 200 + "', quantity=1)]",  # unbounded string
])
def test_malformed_answers_are_rejected(answer: str) -> None:
    assert not accepts(answer_grammar(["Shop", "Mall"], SHOP_TOOLS) or "", answer)


def test_platform_without_candidates_is_left_out_and_nothing_callable_gives_none() -> None:
    grammar = answer_grammar(["Shop", "Mall", "Empty"], SHOP_TOOLS) or ""
    assert not accepts(grammar, "Empty:[Mall_search(keyword='x')]")
    assert answer_grammar(["Shop"], []) is None


def test_shared_tools_are_callable_on_every_platform() -> None:
    shared = [(None, tool) for _, tool in SHOP_TOOLS[1:]]
    grammar = answer_grammar(["Shop", "Mall"], shared) or ""
    assert accepts(grammar, "Shop:[Mall_search(keyword='x')]")
    assert accepts(grammar, "Mall:[Mall_search(keyword='x')]")


def test_in_schema_order_sorts_arguments_and_keeps_unknown_ones_last() -> None:
    tools = [t for _, t in SHOP_TOOLS]
    calls = [{"name": "Shop_order", "arguments": {"zzz": 1, "gift": True, "item": "tea"}}]
    assert list(in_schema_order(calls, tools)[0]["arguments"]) == ["item", "gift", "zzz"]


def _owner(tool: dict[str, Any], platforms: list[str]) -> str | None:
    name = tool["function"]["name"]
    return next((p for p in platforms if name.startswith(p + "_")), None)


@pytest.mark.parametrize("split", ["test_trained_user", "test_untrained_user",
                                   "test_unseen_scenario"])
def test_every_gold_answer_of_the_frozen_benchmark_fits_its_grammar(split: str) -> None:
    samples = json.loads((BENCH / split / "data.json").read_text(encoding="utf-8"))
    for sample in samples[::10]:
        platforms = [p["name"] for p in sample["platforms"]]
        platform, gold = sample["answer"]
        calls = [{"name": name, "arguments": {k: v[0] for k, v in args.items()}}
                 for call in gold for name, args in call.items()]
        tools = sample["tools"]
        grammar = answer_grammar(platforms, [(_owner(t, platforms), t) for t in tools]) or ""
        answer = render_text(ParsedOutput(platform=platform, calls=[
            Call.model_validate(c) for c in in_schema_order(calls, tools)]))
        assert accepts(grammar, answer), (sample["id"], answer)


def test_decide_sends_the_grammar_unless_switched_off(world: World,
                                                     graph: AssistantGraph) -> None:
    model = fake(order_call("FastFood"))
    run_turn(graph, context=world.context(model), user="alice", request="order me a hamburger")
    grammar = model.options[0]["extra_body"]["structured_outputs"]["grammar"]
    assert accepts(grammar, order_call("FastFood"))
    assert not accepts(grammar, "FastFood:[SkyJet_bookFlight(destination='Lisbon')]")

    plain = fake(order_call("FastFood"))
    run_turn(graph, context=world.context(plain, answer_grammar=False), user="alice",
             request="order me a hamburger")
    assert "extra_body" not in plain.options[0]


def test_grounded_numbers_are_bare_and_grounded_text_is_an_exact_span() -> None:
    from assistant.grounding import ground_call

    tool = SHOP_TOOLS[0][1]
    options = ground_call(tool, request="order two bottles of red wine", basic_features={},
                          history=[], turns=[], now=datetime(2026, 12, 1))
    grammar = answer_grammar(["Shop"], SHOP_TOOLS[:1], options={"Shop_order": options}) or ""
    assert accepts(grammar, "Shop:[Shop_order(item='red wine', quantity=2)]")
    assert not accepts(grammar, "Shop:[Shop_order(item='red wine', quantity=3)]")
    assert not accepts(grammar, "Shop:[Shop_order(item='rose wine', quantity=2)]")
