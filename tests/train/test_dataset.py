"""Training examples from synthesized records: tool names resolve to specs, the prompt is the
runtime's and the target is the gold answer in schema order."""

from __future__ import annotations

from profiles.embeddings import embed_texts
from synth.world import WorldConfig, build_world
from synth.writers import SampleRenderer
from toolcatalog.models import Catalog
from train.dataset import build_examples, resolve_tools, select_records
from train.presets import RenderSettings


def test_a_synthesized_record_resolves_its_tools_and_renders_its_gold_answer() -> None:
    world, scenarios = build_world(WorldConfig(seed=0, with_train=False))
    catalog = Catalog(scenarios=scenarios)
    sample = world.samples[0]
    record = SampleRenderer(world, scenarios).train_record(sample)
    assert all(isinstance(t, str) for t in record.tools)
    full = resolve_tools(record, catalog)
    assert all("function" in t for t in full.tool_specs())
    example, = build_examples([record], render=RenderSettings(), embed=embed_texts,
                              variety=False, catalog=catalog)
    assert example.id == sample.id
    assert example.answer.startswith(f"{sample.platform}:[{sample.calls[0].name}(")
    assert sample.query in example.prompt[-1]["content"]


def test_a_subset_keeps_every_group_when_it_can() -> None:
    rows = [("a", n) for n in range(6)] + [("b", n) for n in range(2)]
    chosen = select_records(rows, 4, seed=1, group=lambda r: r[0])
    assert len(chosen) == 4 and {g for g, _ in chosen} == {"a", "b"}
    assert sorted(select_records(rows, None, seed=1)) == sorted(rows)
