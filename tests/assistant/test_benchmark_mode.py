"""Benchmark mode: one inline PTBench sample through the same graph (no stores, no execution)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage

from assistant.benchmark import run_benchmark_sample, sample_to_inline
from assistant.prompts import render_paper_messages
from profiles.embeddings import embed_texts
from tests.assistant.conftest import _takeout_apis, fake


def _sample(profile_as_string: bool = True) -> dict[str, Any]:
    profile = {"basic_features": {"name": "Ann Lee", "home_address": "3 Bay St",
                                  "phone": "555-0111"},
               "user_history": {"takeout": [{"platform": "FineDine",
                                             "action": "ordered a sushi platter"}]}}
    tools = [{"type": "function", "function": a["function"]}
             for p in ("FastFood", "FineDine") for a in _takeout_apis(p)]
    return {
        "user_profile": str(profile) if profile_as_string else profile,
        "platforms": [{"name": "FastFood", "profile": {"price": "cheap"}},
                      {"name": "FineDine", "profile": {"price": "premium"}}],
        "tools": tools,
        "query": "Order two sushi sets for me.",
        "answer": ["FineDine", [{"FineDine_orderFood": {"dish": ["sushi set"]}}]],
    }


GOOD = ("FineDine:[FineDine_orderFood(dish='sushi set', quantity=2, "
        "delivery_address='3 Bay St', phone='555-0111')]")


def test_inline_sample_gives_platform_and_calls() -> None:
    model = fake(GOOD)
    pred = run_benchmark_sample(_sample(), model)
    assert pred["platform"] == "FineDine" and pred["valid"] and pred["model_calls"] == 1
    assert pred["calls"] == [{"name": "FineDine_orderFood", "arguments": {
        "dish": "sushi set", "quantity": 2, "delivery_address": "3 Bay St",
        "phone": "555-0111"}}]
    assert pred["raw"] == GOOD and pred["prompt_tokens"] > 0
    prompt = model.prompt_text(0)
    assert "ordered a sushi platter" in prompt and "3 Bay St" in prompt
    # the prompt lists what the answer may call: the narrowed platform's chosen API
    assert "FineDine_orderFood(" in prompt and "FastFood_deleteAccount(" not in prompt


def test_a_narrowed_answer_keeps_the_history_of_its_platform() -> None:
    sample = _sample(False)
    sample["user_profile"]["user_history"]["takeout"] = [
        {"platform": "FineDine", "action": f"ordered sushi set number {n}"} for n in range(4)
    ] + [{"platform": "FastFood", "action": "ordered a burger meal"}]
    model = fake(GOOD)
    pred = run_benchmark_sample(sample, model, embed=embed_texts, tools_per_platform=1,
                                history_k=5)
    assert pred["platform"] == "FineDine"
    history = model.prompt_text(0).split("<history>\n")[1].split("</history>")[0]
    assert "sushi set number 0" in history and "burger meal" not in history

    model = fake(GOOD)
    run_benchmark_sample(sample, model, embed=embed_texts, tools_per_platform=1, history_k=5,
                         preference="hint")  # nothing narrowed: every retrieved event stays
    assert "burger meal" in model.prompt_text(0)


def test_paper_setting_lists_every_tool_when_nothing_narrows() -> None:
    model = fake(GOOD)
    run_benchmark_sample(_sample(), model, preference="off", grounding=False)
    assert "FastFood_deleteAccount(" in model.prompt_text(0)


def test_benchmark_mode_repairs_then_returns_the_last_answer() -> None:
    wrong = "FineDine:[FineDine_orderFood(dish='sushi set')]"
    pred = run_benchmark_sample(_sample(False), fake(wrong, wrong))
    assert not pred["valid"] and pred["model_calls"] == 2
    assert pred["platform"] == "FineDine" and pred["calls"][0]["name"] == "FineDine_orderFood"
    assert any("missing required parameter 'quantity'" in e for e in pred["errors"])


def test_openai_tool_calls_are_accepted() -> None:
    reply = AIMessage(content="", tool_calls=[{"name": "FineDine_orderFood", "id": "1", "args": {
        "dish": "sushi set", "quantity": 2, "delivery_address": "3 Bay St",
        "phone": "555-0111"}}])
    pred = run_benchmark_sample(_sample(), fake(reply))
    assert pred["platform"] == "FineDine" and pred["valid"]


def test_compact_setting_keeps_every_platform() -> None:
    model = fake(GOOD)
    run_benchmark_sample(_sample(), model, embed=embed_texts, tools_per_platform=1, history_k=1,
                         preference="off")  # the model chooses the platform: all are listed
    tools_part = model.prompt_text(0).split("<platforms>\n")[1]
    assert tools_part.count("_orderFood(") == 2  # the best API of each platform
    assert "deleteAccount" not in tools_part


def test_compact_prompt_is_much_shorter_than_the_paper_prompt() -> None:
    sample = _sample()
    model = fake(GOOD)
    run_benchmark_sample(sample, model, embed=embed_texts, tools_per_platform=1, history_k=5)
    paper = render_paper_messages(profile=sample["user_profile"], platforms=sample["platforms"],
                                  tools=sample["tools"], query=sample["query"])
    assert len(model.prompt_text(0)) * 2 < sum(len(m["content"]) for m in paper)


def test_sample_conversion_reads_string_profiles() -> None:
    inline = sample_to_inline(_sample())
    assert inline["basic_features"]["name"] == "Ann Lee"
    assert inline["history"][0]["platform"] == "FineDine"


def test_ranked_history_stays_in_the_platforms_scenario() -> None:
    """Other scenarios' events never take the places of this one's, however close their text."""
    sample = _sample(False)
    sample["user_profile"]["user_history"] = {
        "takeout": [{"platform": "FastFood", "action": "ordered fries"},
                    {"platform": "FineDine", "action": "ordered a sushi platter"}],
        "music": [{"platform": "IndieWave", "action": "played the album Two Sushi Sets"},
                  {"platform": "IndieWave", "action": "played a playlist to order sushi to"}],
    }
    model = fake(GOOD)
    # hint: every platform stays open, so the prompt shows all the retrieved events
    run_benchmark_sample(sample, model, embed=embed_texts, tools_per_platform=1, history_k=2,
                         preference="hint")
    history = model.prompt_text(0).split("<history>\n")[1].split("</history>")[0]
    assert "ordered fries" in history and "sushi platter" in history
    assert "IndieWave" not in history
