"""Run the synth LLM backend once, end to end, against a real OpenAI-compatible endpoint.

Quality aside, this shows the plumbing works with a real model: structured output (the embedded
server's grammar-constrained ``json_schema``), retries, verification and token accounting.
With no ``--base-url`` the embedded CPU server (SmolLM2-135M) is started for the run.

Run:  python bench/synth_llm_smoke.py [--base-url URL] [--model NAME] [--workspace data]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synth.backends.llm import LLMBackend
from synth.backends.runner import StructuredRunner
from tests.synth.fakes import ONE_USER, SMALL_WORLD
from train.serving.client import chat_model

# The world of the backend's recorded test, with two samples per user and scenario (each sample
# is three model calls: the request, the solution and the verdict).
CONFIG = replace(SMALL_WORLD, samples_per_pair=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--workspace", type=Path, default=Path("data"))
    parser.add_argument("--max-tokens", type=int, default=1024)
    args = parser.parse_args()
    start = time.perf_counter()
    # Room for whole structured objects: a 135M model fills arrays up to the grammar's caps.
    with chat_model(
        args.base_url, args.model, workspace=args.workspace, max_tokens=args.max_tokens
    ) as model:
        runner = StructuredRunner(
            model=model, cache_path=None, concurrency=1, backoff_s=0.5, show_progress=True
        )
        world, catalog = LLMBackend(runner, CONFIG).build(personas=[ONE_USER])
    wall = time.perf_counter() - start
    apis = sum(len(p.apis) for s in catalog.values() for p in s.platforms)
    print(f"command: python {' '.join(sys.argv)}")
    print(
        "| model | calls | retries | failures | input tok | output tok | platforms | APIs "
        "| events | accepted samples | rejected | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    u = runner.usage
    print(
        f"| {args.model} | {u.calls} | {u.retries} | {getattr(u, 'failures', 'n/a')} | "
        f"{u.input_tokens} | {u.output_tokens} | "
        f"{sum(len(s.platforms) for s in catalog.values())} | {apis} | {len(world.events)} | "
        f"{len(world.samples)} | {len(world.rejections)} | {wall:.0f} |"
    )


if __name__ == "__main__":
    main()
