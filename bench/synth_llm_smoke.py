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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from profiles.models import BasicFeatures
from synth.backends.llm import LLMBackend, LLMWorldConfig
from synth.backends.runner import StructuredRunner
from synth.models import Persona
from train.serving.client import chat_model

CONFIG = LLMWorldConfig(
    seed=0,
    scenarios=("shopping",),
    platforms=2,
    areas=1,
    apis_per_area=2,
    users=1,
    events_per_scenario=3,
    samples_per_pair=2,
)
PERSONA = Persona(
    id="u-smoke",
    username="smoke",
    traits={"budget": "frugal"},
    basic_features=BasicFeatures(
        name="Sam Smoke",
        home_address="1 Main St, Springfield",
        email="sam@example.com",
        phone="+1-555-0100",
    ),
)


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
        world, catalog = LLMBackend(runner, CONFIG).build(personas=[PERSONA])
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
