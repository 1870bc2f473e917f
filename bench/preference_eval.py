"""The preference model alone on PTBench files: platform accuracy per split, ablations, latency.

What the runtime does before the language model is asked, without the language model: a
request that names its platform (or a record id of this user's) is pinned
(``assistant.pinning``); otherwise the preference model's top platform is the choice. The
sample's data goes through ``assistant.sources.SampleSource`` like a benchmark turn.

Ablations follow the paper's Table 2 (``ptbench.samples.ablate``): without basic features, without
history, without both. Latency is the model's own cost per request (embedding the request, its
clauses, the scenario's events and the platform texts with the bundled MiniLM, no cache, plus
the two layers), which is what it adds to a chat turn.

Run: ``python bench/preference_eval.py --data eval/data/ptbench_synth [--limit N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from assistant.benchmark import sample_to_inline
from assistant.pinning import find_pin
from assistant.preference import platform_preference, platform_text, shipped_weights
from assistant.sources import SampleSource
from profiles.embeddings import CachedEmbedder, embed_texts
from ptbench.samples import BenchSample, ablate, load_benchmark
from toolcatalog.retrieval import Embedder


def choose(sample: BenchSample, embed: Embedder) -> str | None:
    """Pin, else the preference model's top platform (what ``constrain`` starts from)."""
    data = sample.model_dump()
    source = SampleSource(sample_to_inline(data), embed)
    platforms = source.sample["platforms"]
    names = [p["name"] for p in platforms]
    events = source.scenario_history("", None, names)
    pin = find_pin(str(data["query"]), names, events)
    if pin:
        return pin["platform"]
    view = platform_preference(source, user_id="", scenario=None, request=str(data["query"]),
                               platforms=platforms,
                               basic_features=source.sample["basic_features"],
                               weights=shipped_weights())
    return view["scores"][0]["platform"] if view["scores"] else None


def accuracy(samples: list[BenchSample], embed: Embedder) -> float:
    hits = [choose(s, embed) == s.answer.platform for s in samples]
    return 100.0 * sum(hits) / len(hits) if hits else float("nan")


def latency(samples: list[BenchSample], n: int, *, warm_events: bool) -> tuple[float, float]:
    """p50 / p95 milliseconds of scoring one request: with no embedding cache (a user's first
    turn in a process), or with the user's event and platform vectors already cached (a later
    turn: chat keeps them in ``CachedEmbedder``) while the request itself is new."""
    embed_texts(["warm-up"])
    times = []
    for s in samples[:n]:
        embed: Embedder = embed_texts
        if warm_events:
            inline = sample_to_inline(s.model_dump())
            cached = CachedEmbedder(embed_texts)
            cached([e["action"] for e in inline["history"]]
                   + [platform_text(p) for p in inline["platforms"]])
            embed = cached
        start = time.perf_counter()
        choose(s, embed)
        times.append(1000.0 * (time.perf_counter() - start))
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("eval/data/ptbench_synth"))
    parser.add_argument("--limit", type=int, default=None, help="first N samples per split")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--latency-only", action="store_true")
    args = parser.parse_args()
    bench = load_benchmark(args.data)
    embed = CachedEmbedder(embed_texts)
    if args.latency_only:
        bench.splits = dict(list(bench.splits.items())[:1])
    print(f"`python bench/preference_eval.py --data {args.data}"
          + (f" --limit {args.limit}" if args.limit else "") + f"` ({date.today()})\n")
    print("| split | samples | full | without basic features | without history | without "
          "both |\n|---|---|---|---|---|---|")
    for split, samples in ([] if args.latency_only else bench.splits.items()):
        chosen = samples[: args.limit] if args.limit else samples
        row = [accuracy([ablate(s, mode) for s in chosen], embed)
               for mode in (None, "basic", "history", "both")]
        print(f"| {split} | {len(chosen)} | " + " | ".join(f"{v:.1f}" for v in row) + " |")
    first = next(iter(bench.splits.values()))
    n = min(len(first), args.latency_samples)
    print(f"\n| latency per request ({n} requests) | p50 ms | p95 ms |\n|---|---|---|")
    for label, warm in (("first turn: nothing cached", False),
                        ("later turn: the user's event vectors cached", True)):
        p50, p95 = latency(first, args.latency_samples, warm_events=warm)
        print(f"| {label} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
