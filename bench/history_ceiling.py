"""How much of the gold platform the *retrieved* history makes inferable, by retrieval depth.

The history reader (``synth.baselines``) knows every event's and request's true category, price
tier and urgency and the rules' precedence, and infers a user's rule by majority vote. Given the
whole history it gets ~97 % of the frozen benchmark's platforms right; here it only sees the
``k`` events the runtime's history retrieval (``assistant.retrieval.rank_events``, the bundled
MiniLM embedder) shows the model for the request, ranked within the request's scenario as the
runtime does (``assistant.retrieval.scope_events`` for benchmark samples). The result bounds
what any model reading the prompt at that ``history_k`` can reach, and so says how deep
retrieval must go before the model, not the evidence, is the limit.

Run: ``python bench/history_ceiling.py`` (deterministic; ~2 minutes on 2 cores, embeddings
cached per text). Prints a markdown table and writes it as JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.retrieval import rank_events
from assistant.state import Event as Shown
from synth.baselines import Visible, reader_platforms
from synth.models import Event, Sample
from synth.world import WorldConfig, build_world
from toolcatalog.retrieval import Embedder

SPLITS = ("test_trained_user", "test_untrained_user", "test_unseen_scenario")


def retrieved_events(embed: Embedder, k: int | None) -> Visible:
    """The reader's view: the events ``rank_events`` keeps for the request (all when k is None)."""
    def visible(sample: Sample, events: list[Event]) -> list[Event]:
        inline = [Shown(id=str(i), scenario=e.scenario, platform=e.platform, action=e.action,
                        timestamp=e.timestamp) for i, e in enumerate(events)]
        return [events[int(x["id"])] for x in rank_events(inline, sample.query, embed, k)]
    return visible


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=[3, 5, 8, 12, 20])
    parser.add_argument("--seed", type=int, default=0, help="world seed (the frozen one is 0)")
    parser.add_argument("--out", type=Path, default=None, help="write the table as JSON here")
    args = parser.parse_args()

    from profiles.embeddings import CachedEmbedder, embed_texts

    embed = CachedEmbedder(embed_texts)
    world, _ = build_world(WorldConfig(seed=args.seed, with_train=False))
    rows: list[dict[str, object]] = []
    for k in [*args.k, None]:
        picks = reader_platforms(world, retrieved_events(embed, k))
        for split in SPLITS:
            samples = [s for s in world.samples if s.split == split]
            right = sum(picks[s.id] == s.platform for s in samples)
            rows.append({"history_k": k or "all", "split": split, "n": len(samples),
                         "platform": round(100 * right / max(len(samples), 1), 1)})

    print(f"Command: python bench/history_ceiling.py --k {' '.join(map(str, args.k))}")
    print("\n| history_k | " + " | ".join(SPLITS) + " |\n|---|---|---|---|")
    for k in [*args.k, "all"]:
        cells = [f"{r['platform']:.1f}" for r in rows if r["history_k"] == k]
        print(f"| {k} | " + " | ".join(cells) + " |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
