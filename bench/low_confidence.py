"""The requests the preference model is unsure of: who chooses their platform better, the model
or the language model? This is how ``constrain``'s threshold was chosen.

Writes the dev requests whose top probability is below the weights' confidence point (and that
no pin decides) as a PTBench file and prints how often the model's top platform is right on
them. The language model's side is a run of the same file with ``--preference hint`` (the
scores in the prompt, the grammar not narrowed: what ``constrain`` did below the threshold):

    python bench/dev_split.py --out data/dev/data.json
    python bench/low_confidence.py --data data/dev/data.json --limit 500 --out data/dev/low.json
    ptool bench --data data/dev/low.json --out data/bench/dev-low --preference hint
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.benchmark import sample_to_inline
from assistant.pinning import find_pin
from assistant.preference import platform_preference, shipped_weights
from assistant.sources import SampleSource
from profiles.embeddings import CachedEmbedder, embed_texts
from ptbench.samples import parse_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    raw = json.loads(args.data.read_text(encoding="utf-8"))[: args.limit]
    samples, problems = parse_samples(raw, args.data, "dev")
    if problems:
        raise SystemExit("; ".join(problems[:3]))
    weights, embed = shipped_weights(), CachedEmbedder(embed_texts)
    low, right = [], 0
    for row, sample in zip(raw, samples, strict=True):
        source = SampleSource(sample_to_inline(sample.model_dump()), embed)
        platforms = source.sample["platforms"]
        names = [p["name"] for p in platforms]
        if find_pin(sample.query, names, source.scenario_history("", None, names)):
            continue
        view = platform_preference(source, user_id="", scenario=None, request=sample.query,
                                   platforms=platforms,
                                   basic_features=source.sample["basic_features"],
                                   weights=weights)
        top = view["scores"][0]
        if top["probability"] < weights.threshold:
            low.append(row)
            right += top["platform"] == sample.answer.platform
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(low), encoding="utf-8")
    print(f"{len(low)} of {len(raw)} requests below {weights.threshold:.2f}; the model's top "
          f"platform is right on {right} -> {args.out}")


if __name__ == "__main__":
    main()
