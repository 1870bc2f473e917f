"""Write the dev users' requests as a PTBench ``data.json``: where runtime settings are chosen.

The dev users are the share of the frozen world's *training* users that ``ptool train
preference`` holds out (``train.preference.split_users``, same share and seed), so the decision
models never fitted their requests and the frozen test splits stay unread.

    python bench/dev_split.py --out data/dev/data.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synth.world import WorldConfig, build_world
from synth.writers import SampleRenderer
from train.preference import split_users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/dev/data.json"))
    parser.add_argument("--dev-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    world, catalog = build_world(WorldConfig(seed=0))
    train = [s for s in world.samples if s.split == "train"]
    # ptool train preference names users "s<world seed>-<id>" before splitting
    dev = split_users([f"s0-{s.user_id}" for s in train], args.dev_share, args.seed)
    renderer = SampleRenderer(world, catalog)
    rows = [renderer.ptbench(s) for s in train if f"s0-{s.user_id}" in dev]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows), encoding="utf-8")
    print(f"{len(rows)} requests of {len(dev)} dev users -> {args.out}")


if __name__ == "__main__":
    main()
