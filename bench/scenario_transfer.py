"""How the preference model does on a scenario it was never trained on: leave one scenario out.

The frozen benchmark's unseen-scenario split measures transfer to new scenarios once; this is
the dev-side stand-in used to choose the model for it. For each training scenario in turn, the
model is fitted (``train.preference.fit``, its usual dev users for C and threshold) on the
other scenarios' training users and scored on every request of the held-out one, except those
the runtime pins without the model (a request naming its platform or one of the user's record
ids, ``assistant.pinning``). Only the synthesized training split of the given world seeds is
read.

Run: ``python bench/scenario_transfer.py [--seeds 0] [--scenario shopping]``
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping
from datetime import date

from assistant.pinning import find_pin
from assistant.preference import ATTRIBUTES
from profiles.embeddings import CachedEmbedder, embed_texts
from synth.world import WorldConfig, build_world
from train.preference import (
    TextLabel,
    examples_from_records,
    fit,
    predictions,
    split_users,
    synthesized,
    train_and_dev,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0", help="world seeds (comma-separated)")
    parser.add_argument("--scenario", action="append", help="held-out scenario(s); default all")
    parser.add_argument("--dev-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    data = synthesized(seeds, lambda s: build_world(WorldConfig(seed=s))[0])
    dev_users = split_users([r.user_id for r in data.records], args.dev_share, args.seed)
    embed = CachedEmbedder(embed_texts)
    scenarios = args.scenario or sorted({r.scenario for r in data.records})
    print(f"`python bench/scenario_transfer.py --seeds {args.seeds}` ({date.today()})\n")
    print("| held-out scenario | requests | platform (held out) | dev users, other scenarios "
          "| urgent / budget / premium / plain |\n|---|---|---|---|---|")
    total = Counter[str]()
    for held in scenarios:
        rest = [r for r in data.records if r.scenario != held]
        train, dev = train_and_dev(data, rest, dev_users, args.seed)
        report = fit(train, dev, embed, data.labels, seed=args.seed)
        held_records = [r for r in data.records if r.scenario == held]
        tests = examples_from_records(held_records, data.labels)
        tests = [ex for ex in tests
                 if not find_pin(ex.request, [p["name"] for p in ex.platforms], ex.events)]
        chosen = predictions(report.weights, tests, embed)
        hits = [c == ex.gold for c, ex in zip(chosen, tests, strict=True)]
        by_trait = Counter[str]()
        seen = Counter[str]()
        for ex, hit in zip(tests, hits, strict=True):
            trait = _trait(ex.request, data.labels)
            seen[trait] += 1
            by_trait[trait] += hit
        cells = " / ".join(f"{100 * by_trait[t] / max(seen[t], 1):.0f}"
                           for t in ("urgent", "budget", "premium", "plain"))
        print(f"| {held} | {len(tests)} | {100 * sum(hits) / len(hits):.1f} | "
              f"{100 * report.dev_accuracy:.1f} | {cells} |", flush=True)
        total["hits"] += sum(hits)
        total["n"] += len(hits)
        total["dev"] += report.dev_accuracy
    print(f"| **all** | {total['n']} | **{100 * total['hits'] / total['n']:.1f}** | "
          f"{100 * total['dev'] / len(scenarios):.1f} (mean) | |")


def _trait(request: str, labels: Mapping[str, TextLabel]) -> str:
    """The request's first trait (urgency before price, as the latent rule reads them)."""
    label = labels.get(request)
    if label is None:
        return "plain"
    for name, flag in zip(ATTRIBUTES, label.traits, strict=True):
        if flag:
            return name
    return "plain"


if __name__ == "__main__":
    main()
