"""Training records render into chat examples with any renderer; tools resolve from the catalog."""

from __future__ import annotations

from typing import Any

from synth.models import World
from synth.training import format_answer, to_chat_example
from synth.writers import SampleRenderer
from toolcatalog.models import Catalog, Scenario


def test_record_to_chat_example(small_world: tuple[World, dict[str, Scenario]]) -> None:
    world, catalog = small_world
    sample = world.samples[0]
    record = SampleRenderer(world, catalog).train_record(sample)
    assert all(isinstance(t, str) for t in record["tools"])
    seen: dict[str, Any] = {}

    def render(rec: dict[str, Any]) -> list[dict[str, str]]:
        seen.update(rec)
        return [{"role": "system", "content": "sys"}, {"role": "user", "content": rec["query"]}]

    example = to_chat_example(record, render, catalog=Catalog(scenarios=catalog))
    assert isinstance(seen["tools"][0], dict) and "function" in seen["tools"][0]
    assert example["messages"][-1]["role"] == "assistant"
    assert example["messages"][-1]["content"].startswith(
        sample.platform + ":[" + sample.calls[0].name + "("
    )


def test_format_answer() -> None:
    out = format_answer(
        "MegaMart", [{"name": "MegaMart_placeOrder", "arguments": {"quantity": 2, "x": "a"}}]
    )
    assert out == "MegaMart:[MegaMart_placeOrder(quantity=2, x='a')]"
