"""How often the grounded grammar *can* produce the right call: no model involved.

For every sample of a PTBench file, on the answer's platform (as if the platform were chosen
right), with the runtime's defaults (3 APIs per platform ranked by the intent scorer):

* API: the answer's API is among the candidates; the intent scorer narrows to one API, and
  that API is the answer's;
* values: for every parameter of the answer, whether it is offered, whether an accepted value
  is among the code's candidates (the first candidate, any candidate) or only reachable as free
  text, or not reachable at all; and optional parameters offered that the answer leaves out.

This is the ceiling the language model works under, and a fast check of the candidate
extractor and the profile matcher (seconds per hundred samples).

Run: ``python bench/grounding_recall.py --data DATA.json`` (e.g. the frozen benchmark's
``eval/data/ptbench_synth/test_untrained_user/data.json``).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant import grounding, intent
from assistant.benchmark import sample_to_inline
from assistant.retrieval import inline_candidates, scope_events
from assistant.state import ParamOptions
from eval.metrics import accepts
from profiles.embeddings import CachedEmbedder, embed_texts


def _value_outcome(options: ParamOptions, accepted: list[Any]) -> str:
    """Where the answer's value is among the options, scored by the benchmark's own rule."""
    number = options["kind"] == "number"
    values: list[Any] = [float(o["value"]) if number else o["value"]
                         for o in options["candidates"]]
    if values and accepts(values[0], accepted):
        return "first candidate"
    if any(accepts(v, accepted) for v in values):
        return "a later candidate"
    if options["free_text"] or options["kind"] == "other":
        return "free (model writes it)"
    return "unreachable"


def measure(samples: list[dict[str, Any]], now: datetime,
            per_platform: int = 3) -> dict[str, Counter[str]]:
    embed = CachedEmbedder(embed_texts)
    threshold = intent.shipped_intent().threshold
    out: dict[str, Counter[str]] = {"api": Counter(), "values": Counter(), "kinds": Counter(),
                                    "extra": Counter()}
    for sample in samples:
        inline = sample_to_inline(sample)
        found = inline_candidates(inline, str(sample["query"]), embed, per_platform)
        platform, calls = sample["answer"]
        mine = [(c["tool"]["function"]["name"], c["intent"]) for c in found["candidates"]
                if c["platform"] in (platform, None)]
        offered = intent.selected(mine, threshold)
        gold = {name: args for call in calls for name, args in call.items()}
        out["api"]["samples"] += 1
        out["api"]["answer API among candidates"] += set(gold) <= {n for n, _ in mine}
        out["api"]["narrowed to one API"] += len(offered) == 1
        out["api"]["narrowed to the answer's API"] += (len(offered) == 1
                                                       and set(offered) == set(gold))
        tools = {t["function"]["name"]: t for t in inline["tools"]}
        history = scope_events(inline["history"], [p["name"] for p in inline["platforms"]])
        for name, args in gold.items():
            options = grounding.ground_call(tools[name], request=str(sample["query"]),
                                            basic_features=inline["basic_features"],
                                            history=history, turns=[], now=now,
                                            platforms=[p["name"] for p in inline["platforms"]])
            for param, accepted in args.items():
                opt = options.get(param)
                if opt is None:
                    continue
                outcome = _value_outcome(opt, accepted) if opt["offer"] else "not offered"
                out["values"][outcome] += 1
                out["kinds"][f"{opt['kind']}: {outcome}"] += 1
            out["extra"]["optional parameters offered beyond the answer"] += sum(
                1 for p, o in options.items() if o["offer"] and p not in args)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a PTBench data.json")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--now", type=datetime.fromisoformat, default=datetime.now(),
                        help="ISO time relative dates are resolved against (default: now)")
    args = parser.parse_args()
    samples = json.loads(args.data.read_text(encoding="utf-8"))[: args.limit]
    result = measure(samples, args.now)
    n = result["api"]["samples"]
    print(f"| API ({n} samples) | share |\n|---|---|")
    for key, value in result["api"].items():
        if key != "samples":
            print(f"| {key} | {100 * value / n:.1f} |")
    total = sum(result["values"].values())
    print(f"\n| answer's values ({total}) | share |\n|---|---|")
    for key, value in result["values"].most_common():
        print(f"| {key} | {100 * value / total:.1f} |")
    print("\n| kind: outcome | count |\n|---|---|")
    for key, value in sorted(result["kinds"].items()):
        print(f"| {key} | {value} |")
    for key, value in result["extra"].items():
        print(f"\n{key}: {value}")


if __name__ == "__main__":
    main()
