"""Platform accuracy of a benchmark run, broken down by what decides the gold platform.

The frozen benchmark is generated (``ptool synth world --seed 0``), so every sample's deciding
key is known to the generator though not written in the files: the request names the platform
(``explicit``) or a record from the history (``record``), or the user's latent rule decides by
urgency (``urgent``), price tier (``budget`` / ``premium``) or request category (``category``).
Beside the run's accuracy per key this prints the history reader's (``synth.baselines``: true
conditions, rules inferred from all history / from the ``k`` retrieved events), so a miss can be
told apart as "the evidence was not in the prompt" or "the model did not read it".

Run: ``python bench/platform_breakdown.py bench/out/full/adapter [more run dirs] --k 5``
(rebuilds the seed-0 world, ~15 s, plus MiniLM embeddings for the ``--k`` column).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from synth.baselines import reader_platforms, refers_to_record
from synth.models import Sample, World
from synth.preferences import deciding_key
from synth.world import WorldConfig, build_world


def sample_key(world: World, sample: Sample) -> str:
    """The deciding key of one sample (``urgent``, ``budget``, ``category``, ...)."""
    if sample.explicit_platform:
        return "explicit"
    if refers_to_record(sample):
        return "record"
    persona = next(p for p in world.personas if p.id == sample.user_id)
    return deciding_key(persona.latent[sample.scenario], sample.condition).split(":")[0]


def read_predictions(run: Path) -> dict[str, str | None]:
    """{sample id: predicted platform} from a run's ``predictions.jsonl``."""
    out: dict[str, str | None] = {}
    with (run / "predictions.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                out[str(row["id"])] = row.get("platform")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="ptool bench output folders")
    parser.add_argument("--k", type=int, default=5, help="history_k the runs retrieved with")
    parser.add_argument("--split", default="test_untrained_user", help="'all' for every split")
    args = parser.parse_args()

    from history_ceiling import retrieved_events  # the sibling script (bench/ is on sys.path)

    from profiles.embeddings import CachedEmbedder, embed_texts

    world, _ = build_world(WorldConfig(seed=0, with_train=False))
    samples = [s for s in world.samples if args.split in ("all", s.split)]
    keys = {s.id: sample_key(world, s) for s in samples}
    columns: dict[str, dict[str, str | None]] = {
        f"reader k={args.k}": dict(reader_platforms(
            world, retrieved_events(CachedEmbedder(embed_texts), args.k))),
        "reader all": dict(reader_platforms(world)),
    }
    for run in args.runs:
        columns[str(run)] = dict(read_predictions(run))
    counts = Counter(keys.values())
    print(f"Command: python bench/platform_breakdown.py {' '.join(map(str, args.runs))} "
          f"--k {args.k} --split {args.split}\n")
    print("| deciding key | n | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for key in [*sorted(counts, key=lambda k: -counts[k]), "all"]:
        chosen = [s for s in samples if key in ("all", keys[s.id])]
        cells = []
        for picks in columns.values():
            scored = [s for s in chosen if s.id in picks]
            right = sum(picks[s.id] == s.platform for s in scored)
            cells.append(f"{100 * right / len(scored):.1f}" if scored else "-")
        print(f"| {key} | {len(chosen)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
