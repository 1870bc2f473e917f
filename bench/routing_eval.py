"""Scenario routing on held-back synthesized chat requests: the trained router vs the tool vote.

Requests come from a synthesized world of a seed the router never saw (training uses seeds 1
and 2, model selection seed 3; ``ptool train router``), every split and every one of the
catalog's scenarios. The router's accuracy is reported overall and on its confident routes
(below the threshold chat asks which kind of service is meant), next to the tool index's
score-weighted vote that routes when the router does not know the catalog.

Run: ``python bench/routing_eval.py [--seed 4] [--limit N]`` (the tool vote embeds each request on
its own: about 20 ms each).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from datetime import date

from assistant.routing import route
from profiles.embeddings import embed_texts
from synth.decisions import scenario_requests
from synth.world import WorldConfig, build_world
from toolcatalog.loader import load_catalog
from toolcatalog.retrieval import ToolIndex

HAND_WRITTEN = (
    ("buy me a pack of AA batteries", "shopping"),
    ("help me with banking, payments, investing and bills", "finance"),
    ("order me a bottle of red wine", "shopping"),
    ("book me a flight to Lisbon next Friday", "travel"),
    ("schedule a meeting with my team tomorrow at 10am", "work"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None,
                        help="a seeded random sample of N requests")
    args = parser.parse_args()
    requests = scenario_requests(build_world(WorldConfig(seed=args.seed))[0])
    if args.limit is not None and args.limit < len(requests):
        requests = random.Random(0).sample(requests, args.limit)
    catalog = load_catalog()
    names = list(catalog.scenarios)
    index = ToolIndex(catalog, embed_texts)
    vectors = embed_texts([text for text, _ in requests])
    routed = [route(v, names) for v in vectors]
    right = [r is not None and r.scenario == gold for r, (_, gold) in zip(routed, requests,
                                                                           strict=True)]
    sure = [r is not None and r.confident for r in routed]
    vote = [index.best_scenario(text) == gold for text, gold in requests]
    confident_right = [ok for ok, s in zip(right, sure, strict=True) if s]
    n = len(requests)
    print(f"`python bench/routing_eval.py --seed {args.seed}"
          + (f" --limit {args.limit}" if args.limit else "") + f"` ({date.today()}), {n} requests "
          f"over {len(Counter(g for _, g in requests))} scenarios\n")
    print("| router | accuracy | asks instead | accuracy when it acts |\n|---|---|---|---|")
    print(f"| tool index vote | {100 * sum(vote) / n:.1f} | 0.0 | {100 * sum(vote) / n:.1f} |")
    print(f"| trained router | {100 * sum(right) / n:.1f} | {100 * (1 - sum(sure) / n):.1f} | "
          f"{100 * sum(confident_right) / max(1, len(confident_right)):.1f} |")
    print("\n| hand-written request | expected | router (p) | tool vote |\n|---|---|---|---|")
    for text, gold in HAND_WRITTEN:
        r = route(embed_texts([text])[0], names)
        said = f"{r.scenario} ({r.probability:.2f})" if r else "n/a"
        print(f"| {text} | {gold} | {said} | {index.best_scenario(text)} |")


if __name__ == "__main__":
    main()
