"""How often tool retrieval keeps the gold APIs among the candidates the model is shown.

The runtime shows the model the best ``k`` APIs of every platform (``tools_per_platform``, 3 by
default), and only those can be called. When retrieval drops a gold API, the sample is lost
whatever the model does, so this recall caps the "tool name" and "overall" metrics.

Two rankings are compared: the runtime's (the intent scorer, ``assistant.intent``) and plain
embedding similarity of the request to each API's name and description, on

* inline candidates (``assistant.retrieval.inline_candidates``) of benchmark-format samples:
  training records (``ptool synth train`` output) and the frozen benchmark's splits (reported,
  not tuned on);
* the catalog as ``ptool chat`` uses it: recall within the gold scenario, on training records.

Run: ``python bench/tool_recall.py`` (~5 minutes on 2 cores; embeddings are cached per text).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import assistant.retrieval as inline_retrieval
from assistant.benchmark import sample_to_inline
from assistant.intent import tool_name_and_description
from ptbench.samples import load_benchmark
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import Embedder, ToolIndex, api_text
from train.dataset import _InlineTools

KS = (2, 3, 4, 5)


def _by_similarity(sample: Mapping[str, Any], embed: Embedder, k: int) -> set[str]:
    """The gold-free baseline: the ``k`` APIs per platform most similar to the request."""
    inline = sample_to_inline(sample)
    names = [p["name"] for p in inline["platforms"]]
    tools = inline["tools"]
    vectors = embed([str(sample["query"]),
                     *(api_text(*tool_name_and_description(t)) for t in tools)])
    order = np.argsort(-(vectors[1:] @ vectors[0]))
    owners = [inline_retrieval.tool_owner(tools[i], names) for i in order]
    keep = inline_retrieval.best_per_platform(owners, k)
    return {tools[order[j]]["function"]["name"] for j in keep}


def inline_recall(samples: Sequence[Mapping[str, Any]], embed: Embedder,
                  scorer: bool) -> dict[int, float]:
    """Share of samples whose gold APIs are all among the candidates, per ``k``."""
    hits: Counter[int] = Counter()
    for sample in samples:
        inline = sample_to_inline(sample)
        for k in KS:
            if scorer:
                found = inline_retrieval.inline_candidates(inline, str(sample["query"]), embed, k)
                names = {c["tool"]["function"]["name"] for c in found["candidates"]}
            else:
                names = _by_similarity(sample, embed, k)
            hits[k] += set(sample["gold"]) <= names
    return {k: 100 * hits[k] / max(len(samples), 1) for k in KS}


def store_recall(records: Sequence[Mapping[str, Any]], embed: Embedder) -> float:
    """Recall at 3 per platform within the gold scenario, as ``ptool chat`` ranks the catalog."""
    catalog = load_catalog()
    index = ToolIndex(catalog, embed)
    kept = 0
    for record in records:
        found = inline_retrieval.store_candidates(catalog, index, str(record["query"]), 3, None,
                                                  str(record["scenario"]))
        kept += set(record["gold"]) <= {c["tool"]["function"]["name"]
                                        for c in found["candidates"]}
    return 100 * kept / max(len(records), 1)


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
    print("| samples | ranking | " + " | ".join(f"k={k}" for k in KS) + " |")
    print("|---|---|" + "---|" * len(KS))
    for label, samples in sources:
        for scorer in (False, True):
            recall = inline_recall(samples, embed, scorer)
            name = "intent scorer (runtime)" if scorer else "embedding similarity"
            print(f"| {label} | {name} | " + " | ".join(f"{recall[k]:.1f}" for k in KS) + " |")
    print("\nCatalog (ptool chat), training records: gold APIs kept at k=3, "
          f"{store_recall(train, embed):.1f} %")


if __name__ == "__main__":
    main()
