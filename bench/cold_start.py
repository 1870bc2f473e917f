"""Cold start of a one-shot ``ptool chat``: process start to printed answer, in a real process.

Each run starts ``python -m ui.cli chat --user U "REQUEST" --json`` in a set-up workspace and
times it to exit. The embedded CPU model server is started by that process (no endpoint is
configured), so the time includes loading the model. Two conditions, alternated:

* ``no tool vectors``: the workspace's persisted API vectors are dropped first, so the process
  embeds the scenario's API texts again for the intent scorer (what every process did before
  they were persisted);
* ``tool vectors``: they are there, and the process embeds no API text.

The turn stops at the confirmation (an order asks first), which is the answer a one-shot prints.

Run: ``python bench/cold_start.py --workspace /tmp/ptool-cold --runs 2`` (runs ``ptool setup``
there first when the workspace is empty). Prints a Markdown table with the command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from profiles.db import make_engine
from profiles.history_index import CATALOG_VECTORS, HistoryIndex


def _env(workspace: Path) -> dict[str, str]:
    env = {**os.environ, "PTOOL_WORKSPACE": str(workspace), "HF_HUB_OFFLINE": "1"}
    env.pop("PTOOL_MODEL_BASE_URL", None)
    return env


def _ptool(workspace: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ui.cli", *args], env=_env(workspace),
                          capture_output=True, text=True, timeout=900, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ptool {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, done.stdout


def _drop_tool_vectors(workspace: Path) -> None:
    engine = make_engine(f"sqlite:///{workspace / 'ptool.db'}")
    index = HistoryIndex.from_path(workspace / "chroma", engine)
    if CATALOG_VECTORS in [c.name for c in index.client.list_collections()]:
        index.client.delete_collection(CATALOG_VECTORS)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/ptool-cold"))
    parser.add_argument("--user", default="chloe92")
    parser.add_argument("--request", default="order me a bottle of red wine")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not (args.workspace / "ptool.db").is_file():
        setup_s, _ = _ptool(args.workspace, "setup")
        print(f"setup: {setup_s:.1f} s")
    _ptool(args.workspace, "chat", "--user", args.user, args.request, "--json")  # converts the
    # model into the workspace once, like any first run; not counted
    times: dict[str, list[float]] = {"no tool vectors": [], "tool vectors": []}
    status = ""
    for _ in range(args.runs):
        for condition, wall in times.items():
            if condition == "no tool vectors":
                _drop_tool_vectors(args.workspace)
            seconds, out = _ptool(args.workspace, "chat", "--user", args.user, args.request,
                                  "--json")
            status = json.loads(out)["status"]
            wall.append(seconds)
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores; the turn ends with status {status!r}\n")
    print("| condition | runs | median s | min s | max s |")
    print("|---|---:|---:|---:|---:|")
    for condition, wall in times.items():
        print(f"| {condition} | {len(wall)} | {statistics.median(wall):.1f} | {min(wall):.1f} "
              f"| {max(wall):.1f} |")


if __name__ == "__main__":
    main()
