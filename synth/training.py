"""Training records -> chat examples, with whatever prompt renderer the runtime owns.

The intermediate record (written by :func:`synth.writers.write_train`, one JSON object a line)
is stable on purpose: the runtime's prompt renderer lives in ``assistant/prompts.py`` and may
change, and the training set must be re-rendered with exactly that function (one source of
truth for prompts). Records reference tools by name unless written with ``--inline-tools``
(8,000 x 72 full specs would be ~200 MB); :func:`to_chat_example` resolves them from the catalog.

Record fields: ``record_version, id, user_id, scenario, profile{basic_features, user_history},
platforms[{name, profile}], tools[name | spec], query, gold{platform, calls[{name, arguments}]},
annotations{query_params, profile_params, sources, accepted, intent, explicit_platform}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.answer_grammar import in_schema_order
from toolcatalog.models import Catalog

Messages = list[dict[str, str]]
Render = Callable[[dict[str, Any]], Messages]


def format_answer(platform: str, calls: list[dict[str, Any]]) -> str:
    """The paper's output format: ``platform:[func(param='v', n=2), ...]``."""
    rendered = []
    for call in calls:
        args = ", ".join(f"{k}={v!r}" for k, v in call["arguments"].items())
        rendered.append(f"{call['name']}({args})")
    return f"{platform}:[{', '.join(rendered)}]"


def resolve_tools(record: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """A copy of ``record`` whose ``tools`` are full OpenAI specs (loads the shipped catalog
    when names need resolving and no catalog is given)."""
    tools = record["tools"]
    if not tools or isinstance(tools[0], dict):
        return record
    if catalog is None:
        from toolcatalog.loader import load_catalog

        catalog = load_catalog()
    specs = {a.name: a.openai_tool() for _, _, a in catalog.iter_apis(record["scenario"])}
    missing = [t for t in tools if t not in specs]
    if missing:
        raise KeyError(
            f"record {record['id']}: tools not in the catalog: {', '.join(missing[:5])}; "
            "regenerate the catalog with `ptool synth tools`"
        )
    return {**record, "tools": [specs[t] for t in tools]}


def to_chat_example(
    record: dict[str, Any],
    render: Render,
    *,
    catalog: Catalog | None = None,
    target: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """``{"id", "messages": render(record) + [assistant target]}`` -- one train.jsonl line.

    ``render`` gets the record with full tool specs and returns the prompt messages (system,
    user); ``target`` renders the gold answer (default: the paper's format).
    """
    full = resolve_tools(record, catalog)
    gold = full["gold"]
    calls = in_schema_order(gold["calls"], full["tools"])  # the order the answer grammar allows
    answer = target(full) if target else format_answer(gold["platform"], calls)
    return {"id": full["id"], "messages": [*render(full), {"role": "assistant", "content": answer}]}


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
