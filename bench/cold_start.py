"""Cold start of a one-shot ``ptool chat``: process start to printed answer, in a real process.

Each run starts ``python -m ui.cli chat --user U "REQUEST" --json`` in a set-up workspace and
times it twice: to the printed answer (its first line of output) and to exit (the server
stopped, the interpreter gone). The embedded CPU model server is started by that process (no
endpoint is configured), so the time includes loading the model. Two conditions, alternated:

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
import tempfile
import time
from pathlib import Path

from profiles.db import make_engine
from profiles.history_index import CATALOG_VECTORS, HistoryIndex


def _env(workspace: Path) -> dict[str, str]:
    env = {**os.environ, "PTOOL_WORKSPACE": str(workspace), "HF_HUB_OFFLINE": "1"}
    env.pop("PTOOL_MODEL_BASE_URL", None)
    return env


def _ptool(workspace: Path, *args: str) -> tuple[float, float, str]:
    """Run ``ptool ARGS``: seconds to its first line of output (the answer: a one-shot prints
    nothing before it), seconds to exit (the embedded server stopped, the interpreter gone),
    and its output."""
    with tempfile.TemporaryFile(mode="w+") as err:  # a file: stderr cannot fill a pipe
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", *args], env=_env(workspace),
                                stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        answered = time.perf_counter() - start
        rest = proc.stdout.read()
        proc.wait(timeout=900)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"ptool {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{(first + rest)[-2000:]}\n{err.read()[-2000:]}")
    return answered, wall, first + rest


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
        _, setup_s, _ = _ptool(args.workspace, "setup")
        print(f"setup: {setup_s:.1f} s")
    _ptool(args.workspace, "chat", "--user", args.user, args.request, "--json")  # converts the
    # model into the workspace once, like any first run; not counted
    times: dict[str, list[float]] = {"no tool vectors": [], "tool vectors": []}
    answers: dict[str, list[float]] = {condition: [] for condition in times}
    status = ""
    for _ in range(args.runs):
        for condition, wall in times.items():
            if condition == "no tool vectors":
                _drop_tool_vectors(args.workspace)
            answered, seconds, out = _ptool(args.workspace, "chat", "--user", args.user,
                                            args.request, "--json")
            status = json.loads(out)["status"]
            wall.append(seconds)
            answers[condition].append(answered)
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores; the turn ends with status {status!r}\n")
    print("| condition | runs | to the answer: median s | min s | max s | to exit: median s |")
    print("|---|---:|---:|---:|---:|---:|")
    for condition, wall in times.items():
        shown = answers[condition]
        print(f"| {condition} | {len(wall)} | {statistics.median(shown):.1f} | {min(shown):.1f} "
              f"| {max(shown):.1f} | {statistics.median(wall):.1f} |")


if __name__ == "__main__":
    main()
