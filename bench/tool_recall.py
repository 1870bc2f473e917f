"""How often tool retrieval keeps the gold APIs among the candidates the model is shown.

The runtime shows the model the best ``k`` APIs of every platform (``tools_per_platform``, 3 by
default), and only those can be called. When retrieval drops a gold API, the sample is lost
whatever the model does, so this recall caps the "tool name" and "overall" metrics.

Two paths are measured, each with the runtime's API text (``toolcatalog.retrieval.api_text``:
name words and description) and with a richer text for comparison (the same plus the parameter
names; for the catalog also the scenario and platform description):

* inline: ``assistant.retrieval.inline_candidates`` on benchmark-format samples: training records
  (``ptool synth train`` output, the data the text was chosen on) and the frozen benchmark's splits
  (reported, not tuned on);
* store: ``ToolIndex`` over the catalog, as ``ptool chat`` uses it: scenario routing accuracy and
  recall within the gold scenario, on the training records.

Run: ``python bench/tool_recall.py`` (~5 minutes on 2 cores; embeddings are cached per text).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import assistant.retrieval as inline_retrieval
import toolcatalog.retrieval as store_retrieval
from assistant.benchmark import sample_to_inline
from eval.dataset import load_benchmark
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import Embedder, ToolIndex
from train.dataset import _InlineTools

KS = (2, 3, 4, 5)


def _old_inline_text(tool: Mapping[str, Any]) -> str:
    """The session-5 inline text: name words, description and parameter names."""
    function = tool.get("function", tool)
    params = ", ".join(function.get("parameters", {}).get("properties", {}))
    text = inline_retrieval.api_text(str(function.get("name", "")),  # never patched
                                     str(function.get("description", "")))
    return f"{text} Parameters: {params}"


@contextmanager
def old_texts(enabled: bool) -> Iterator[None]:
    """Swap in the earlier ranking texts (this script's comparison row only)."""
    if not enabled:
        yield
        return
    catalog = load_catalog()
    documents = {a.name: store_retrieval.api_document(s, p, a) for s, p, a in catalog.iter_apis()}

    def document_text(name: str, description: str) -> str:  # rank by the routing document
        return documents[name]

    saved = inline_retrieval._tool_text, store_retrieval.api_text
    inline_retrieval._tool_text = _old_inline_text
    store_retrieval.api_text = document_text
    try:
        yield
    finally:
        inline_retrieval._tool_text, store_retrieval.api_text = saved


def inline_recall(samples: Sequence[Mapping[str, Any]], embed: Embedder) -> dict[int, float]:
    """Share of samples whose gold APIs are all among the candidates, per ``k``."""
    hits: Counter[int] = Counter()
    for sample in samples:
        inline = sample_to_inline(sample)
        for k in KS:
            found = inline_retrieval.inline_candidates(inline, str(sample["query"]), embed, k)
            names = {c["tool"]["function"]["name"] for c in found["candidates"]}
            hits[k] += set(sample["gold"]) <= names
    return {k: 100 * hits[k] / max(len(samples), 1) for k in KS}


def store_recall(records: Sequence[Mapping[str, Any]], embed: Embedder) -> dict[str, float]:
    """Scenario routing accuracy and recall at 3 per platform within the gold scenario."""
    index = ToolIndex(load_catalog(), embed)
    routed = kept = 0
    for record in records:
        query = str(record["query"])
        routed += index.best_scenario(query) == record["scenario"]
        counts: Counter[str] = Counter()
        names: set[str] = set()
        for hit in index.search(query, k=10_000, scenario=record["scenario"]):
            if counts[hit.platform] < 3:
                counts[hit.platform] += 1
                names.add(hit.api.name)
        kept += set(record["gold"]) <= names
    n = max(len(records), 1)
    return {"scenario": 100 * routed / n, "recall@3": 100 * kept / n}


def training_samples(path: Path, n: int, seed: int) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    random.Random(seed).shuffle(records)
    resolve = _InlineTools(None)
    out = []
    for record in records[:n]:
        full = resolve(record)
        out.append({"user_profile": full["profile"], "platforms": full["platforms"],
                    "tools": full["tools"], "query": full["query"], "scenario": full["scenario"],
                    "gold": [c["name"] for c in full["gold"]["calls"]]})
    return out


def benchmark_samples(path: Path) -> dict[str, list[dict[str, Any]]]:
    by_split: dict[str, list[dict[str, Any]]] = {}
    for sample in load_benchmark(path).samples():
        data = sample.model_dump()
        data["gold"] = [c.name for c in sample.answer.calls]
        by_split.setdefault(sample.split, []).append(data)
    return by_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=Path, default=Path("data/train_records.jsonl"))
    parser.add_argument("--n", type=int, default=1000, help="training records to sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bench", type=Path, default=Path("eval/data/ptbench_synth"))
    args = parser.parse_args()

    from profiles.embeddings import CachedEmbedder, embed_texts

    embed = CachedEmbedder(embed_texts)
    train = training_samples(args.records, args.n, args.seed)
    sources: list[tuple[str, list[dict[str, Any]]]] = [(f"training records ({len(train)})", train)]
    sources += [(f"{split} ({len(s)})", s) for split, s in benchmark_samples(args.bench).items()]
    print(f"Command: python bench/tool_recall.py --n {args.n} --seed {args.seed}\n")
    print("Inline candidates: gold APIs all kept, % (k = APIs kept per platform)\n")
    print("| samples | API text | " + " | ".join(f"k={k}" for k in KS) + " |")
    print("|---|---|" + "---|" * len(KS))
    for label, samples in sources:
        for old in (True, False):
            with old_texts(old):
                recall = inline_recall(samples, embed)
            name = "with parameters (before)" if old else "name + description (now)"
            print(f"| {label} | {name} | " + " | ".join(f"{recall[k]:.1f}" for k in KS) + " |")
    print("\nCatalog (ptool chat), training records: scenario routing and recall at k=3, %\n")
    print("| API ranking text | scenario routed | gold APIs kept |\n|---|---|---|")
    for old in (True, False):
        with old_texts(old):
            result = store_recall(train, embed)
        name = "routing document (before)" if old else "name + description (now)"
        print(f"| {name} | {result['scenario']:.1f} | {result['recall@3']:.1f} |")


if __name__ == "__main__":
    main()
