"""Load test of the scale path: several app processes running chat turns against PostgreSQL and
a Chroma server, versus the default SQLite file with an embedded Chroma folder.

What runs: a fresh workspace per backend, set up the way ``ptool setup`` sets it up
(``ui.wiring.open_workspace(create=True)`` and ``assistant.accounts.seed_personas``) with the
assistant tests' catalog and ``--users`` synthetic personas (each with its own phone number and
address). Then ``--processes`` worker processes (``bench/load_workers.py``) each open the
workspace as an app worker does and run ``--turns`` chat turns through the app's adapter
(``ui.chat_adapter.ChatService``) on ``--threads`` threads: "order me a <dish>" for a random
user, which stops at the confirmation, then the "Yes" that executes it. One warm-up turn per
process (embedding model, tool index) is not timed; the timed phase starts in every process at
once.

The chat model is the UI tests' ``ProfileEchoModel``: instant, and it fills the order's address
and phone from the profile in the prompt it is sent, so a prompt carrying another user's profile
would show as another user's phone number in an executed call. What is timed is therefore the
store side of a turn: wall time of the request plus the yes, less the time spent in the model.

After the load the script checks, per backend: every turn asked and then executed; every
``api_record`` row's phone and address are its owner's own; every thread belongs to the user who
asked; ``api_record`` rows == ``executed_call`` rows == approved yeses, per user too (nothing lost
or doubled); the history index holds as many events as the database. It prints a Markdown table
with the command line and the machine, then the checks, and exits 1 when a check fails.

PostgreSQL (Debian's server, ``scripts/install_postgres.sh``) and ``chroma run`` are started
as throwaway servers on free loopback ports (``tests/live_servers.py``) and stopped at the end,
also on an error; every file lives in a temp folder that is removed.

    python bench/load_test.py                       # 20 users, 3 processes x 10 turns x 2 threads
    python bench/load_test.py --backend postgres --processes 4 --turns 25
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import random
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from sqlmodel import Session, select  # noqa: E402

from assistant import accounts  # noqa: E402
from bench.load_workers import (  # noqa: E402
    DISHES,
    TurnRecord,
    WorkerReport,
    read_report,
    worker_main,
)
from profiles.embeddings import embed_texts  # noqa: E402
from profiles.io import read_persona_file  # noqa: E402
from profiles.models import ChatThread, User  # noqa: E402
from tests import live_servers  # noqa: E402
from tests.assistant.conftest import write_catalog  # noqa: E402
from toolcatalog.state import ApiRecord, ExecutedCall  # noqa: E402
from ui.settings import Settings  # noqa: E402
from ui.wiring import open_workspace  # noqa: E402

Backend = Literal["sqlite", "postgres"]
BACKEND_LABEL: dict[Backend, str] = {"sqlite": "SQLite + embedded Chroma",
                                     "postgres": "PostgreSQL + Chroma server"}
PLATFORMS = ["FastFood", "FineDine", "NewEats"]  # the test catalog's takeout platforms
LIMITS = {"users": 500, "processes": 16, "threads": 16, "turns": 500}
DATABASE = "ptool_load"


# -- the world -------------------------------------------------------------------------------

def synthetic_personas(n: int, seed: int) -> dict[str, Any]:
    """``n`` users with unique phone numbers and addresses and a short takeout history."""
    rng = random.Random(seed)
    users = []
    for i in range(n):
        favourite = rng.choice(PLATFORMS)
        users.append({
            "id": f"u-load-{i:04d}", "username": f"load{i:04d}",
            "basic_features": {"name": f"Load User {i:04d}", "phone": f"+1-555-{2000 + i:04d}",
                               "home_address": f"{100 + i} Bench Street, Loadville",
                               "email": f"load{i:04d}@example.com"},
            "history": [{"scenario": "takeout", "platform": favourite,
                         "action": f"ordered a {rng.choice(DISHES)}"} for _ in range(3)],
        })
    return {"format_version": 1, "users": users}


def set_up(settings: Settings) -> float:
    """``ptool setup`` with the persona file; returns the seconds it took."""
    start = time.perf_counter()
    ws = open_workspace(settings, create=True)
    try:
        assert settings.seed_file is not None
        accounts.seed_personas(engine=ws.engine, index=ws.index,
                               personas=read_persona_file(settings.seed_file))
    finally:
        ws.engine.dispose()
    return time.perf_counter() - start


@dataclass
class RunResult:
    backend: Backend
    setup_s: float
    reports: list[WorkerReport]
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def timed(self) -> list[TurnRecord]:
        return [t for r in self.reports for t in r.turns if t.timed]

    @property
    def wall_s(self) -> float:
        spans = [r for r in self.reports if r.end > 0]
        return max(r.end for r in spans) - min(r.start for r in spans) if spans else 0.0


def run_workers(settings: Settings, args: argparse.Namespace, user_ids: list[str],
                out_dir: Path) -> list[WorkerReport]:
    """Start the worker processes together; any still running at the deadline is stopped."""
    ctx = mp.get_context("spawn")  # a clean process per worker, as `ptool ui` workers are
    barrier = ctx.Barrier(args.processes)
    procs = []
    for k in range(args.processes):
        p = ctx.Process(target=worker_main, name=f"load-worker-{k}",
                        args=(k, settings, user_ids, args.turns, args.threads, args.seed, barrier,
                              str(out_dir / f"worker-{k}.json"), args.timeout_s))
        p.start()
        procs.append(p)
    deadline = time.monotonic() + args.timeout_s
    try:
        for p in procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        for p in procs:  # only the processes started here
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)
    return [read_report(out_dir / f"worker-{k}.json", k) for k in range(args.processes)]


# -- the checks ------------------------------------------------------------------------------

def check_store(settings: Settings, reports: list[WorkerReport],
                expected_turns: int) -> list[tuple[str, bool, str]]:
    """What must hold after the load, read back from the stores. ``expected_turns`` counts
    the warm-up turns too."""
    turns = [t for r in reports for t in r.turns]
    broken = [r.worker for r in reports if r.error]
    approved = [t for t in turns if t.yes_status == "done"]
    per_user = Counter(t.user_id for t in approved for _ in range(t.executed))
    ws = open_workspace(settings)
    try:
        with Session(ws.engine) as session:
            users = {u.id: u for u in session.exec(select(User)).all()}
            records = list(session.exec(select(ApiRecord)).all())
            keys = [c.key for c in session.exec(select(ExecutedCall)).all()]
            owners = {t.id: t.user_id for t in session.exec(select(ChatThread)).all()}
        events, indexed = accounts.event_count(engine=ws.engine), ws.index.count()
    finally:
        ws.engine.dispose()

    leaks = []
    for rec in records:
        args = rec.payload.get("arguments", {})
        features = users[rec.owner].basic_features if rec.owner in users else {}
        want = (features.get("phone"), features.get("home_address"))
        if (args.get("phone"), args.get("delivery_address")) != want:
            leaks.append(f"{rec.owner}: {args.get('phone')!r}, {args.get('delivery_address')!r}")
    wrong_threads = [t.thread_id for t in turns if t.thread_id
                     and owners.get(t.thread_id) != t.user_id]
    rows_per_user = Counter(r.owner for r in records)
    failed = [t for t in turns if not t.ok]
    return [
        ("every worker ran all its turns", not broken and len(turns) == expected_turns,
         f"{len(turns)}/{expected_turns} turns reported"
         + (f"; workers {broken} failed" if broken else "")),
        ("every turn asked, then executed once on the yes", not failed,
         f"{len(turns) - len(failed)}/{len(turns)} (incl. the warm-ups)"
         + (f"; first failure: {failed[0].error or (failed[0].ask_status, failed[0].yes_status)}"
            if failed else "")),
        ("no cross-user leak (phone and address of every api_record row are its owner's)",
         not leaks, f"{len(records)} rows, {len(leaks)} foreign" + (f": {leaks[:3]}" if leaks
                                                                       else "")),
        ("every thread belongs to the user who asked", not wrong_threads,
         f"{len(wrong_threads)} of {sum(1 for t in turns if t.thread_id)} wrong"),
        ("api_record rows == approved yeses (nothing lost or doubled)",
         len(records) == len(approved) == sum(per_user.values()),
         f"{len(records)} rows, {len(approved)} approved"),
        ("executed_call rows == approved yeses, keys unique",
         len(keys) == len(set(keys)) == len(approved),
         f"{len(keys)} keys, {len(set(keys))} distinct"),
        ("api_record rows per user == that user's approved yeses", rows_per_user == per_user,
         f"{len(per_user)} users ordered"),
        ("history index holds every database event", events == indexed,
         f"{events} events, {indexed} vectors"),
    ]


# -- the servers and one run -----------------------------------------------------------------

@contextmanager
def postgres_database(stack: ExitStack) -> Iterator[str]:
    """A database on a throwaway cluster; the cluster stops when ``stack`` closes."""
    import psycopg

    from assistant.checkpoints import postgres_conninfo

    server = stack.enter_context(live_servers.postgres_cluster(live_servers.postgres_bindir()))
    with psycopg.connect(postgres_conninfo(f"{server}/postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    yield f"{server}/{DATABASE}"


def run_backend(backend: Backend, args: argparse.Namespace, root: Path, catalog: Path,
                seed_file: Path, user_ids: list[str]) -> RunResult:
    work = root / backend
    work.mkdir()
    with ExitStack() as stack:  # servers stop here, also when something above raised
        url = chroma = None  # SQLite and an embedded Chroma folder inside the workspace
        if backend == "postgres":
            url = stack.enter_context(postgres_database(stack))
            chroma = stack.enter_context(
                live_servers.chroma_server(live_servers.chroma_executable()))
        # Built here, it crosses the workers' process start by pickle.
        settings = Settings(workspace=work / "ws", catalog_dir=catalog, seed_file=seed_file,
                            database_url=url, chroma_url=chroma)
        print(f"[{backend}] setting up {len(user_ids)} users ...", file=sys.stderr, flush=True)
        setup_s = set_up(settings)
        print(f"[{backend}] {args.processes} processes x {args.turns} turns x "
              f"{args.threads} threads ...", file=sys.stderr, flush=True)
        reports = run_workers(settings, args, user_ids, work)
        for r in reports:
            if r.error:
                print(f"[{backend}] worker {r.worker} failed:\n{r.error}", file=sys.stderr)
        result = RunResult(backend=backend, setup_s=setup_s, reports=reports)
        result.checks = check_store(settings, reports, args.processes * (args.turns + 1))
        return result


# -- the report ------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * p / 100) - 1))]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) / 2**20 for line in
                Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0.0)
    pg = live_servers.postgres_bindir().parent.name if Path("/usr/lib/postgresql").is_dir() \
        else "?"
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, PostgreSQL {pg}, "
            f"chromadb {version('chromadb')}, psycopg {version('psycopg')}, "
            f"langgraph {version('langgraph')}")


def table(results: list[RunResult], args: argparse.Namespace) -> str:
    rows = ["| backend | processes x threads | timed turns | failed | setup s | wall s | "
            "turns/s | turn p50 ms | turn p95 ms | request p50 ms | yes p50 ms | "
            "model ms/turn |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        timed = r.timed
        ok = [t for t in timed if t.ok]
        non_model = [t.non_model_s * 1000 for t in ok]
        wall = r.wall_s
        rows.append(
            f"| {BACKEND_LABEL[r.backend]} | {args.processes} x {args.threads} | {len(timed)} | "
            f"{len(timed) - len(ok)} | {r.setup_s:.1f} | {wall:.1f} | "
            f"{len(ok) / wall if wall else 0.0:.2f} | {percentile(non_model, 50):.0f} | "
            f"{percentile(non_model, 95):.0f} | "
            f"{percentile([t.ask_s * 1000 for t in ok], 50):.0f} | "
            f"{percentile([t.yes_s * 1000 for t in ok], 50):.0f} | "
            f"{sum(t.model_s for t in ok) * 1000 / max(1, len(ok)):.1f} |")
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20, help="synthetic users (M)")
    parser.add_argument("--processes", type=int, default=3, help="app worker processes (P)")
    parser.add_argument("--turns", type=int, default=10, help="timed turns per process (N)")
    parser.add_argument("--threads", type=int, default=2, help="concurrent turns per process")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None,
                        help="also write every turn's record (timings, statuses, errors) here")
    parser.add_argument("--timeout-s", type=float, default=600.0,
                        help="limit per backend for the workers; stragglers are stopped")
    args = parser.parse_args(argv)
    for name, top in LIMITS.items():
        if not 1 <= getattr(args, name) <= top:
            parser.error(f"--{name} must be between 1 and {top}")
    if not 10 <= args.timeout_s <= 3600:
        parser.error("--timeout-s must be between 10 and 3600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends: list[Backend] = (["sqlite", "postgres"] if args.backend == "both"
                               else [args.backend])
    command = "python bench/load_test.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ptool-load-") as tmp:
        root = Path(tmp)
        catalog = write_catalog(root / "catalog")
        seed_file = root / "personas.json"
        personas = synthetic_personas(args.users, args.seed)
        seed_file.write_text(json.dumps(personas), encoding="utf-8")
        user_ids = [u["id"] for u in personas["users"]]
        embed_texts(["warm-up"])  # the embedding model loads here, not in the first setup
        results = [run_backend(b, args, root, catalog, seed_file, user_ids) for b in backends]
    load_after = os.getloadavg()
    if args.json is not None:
        args.json.write_text(json.dumps(
            {r.backend: {"setup_s": r.setup_s, "wall_s": r.wall_s,
                         "reports": [asdict(w) for w in r.reports],
                         "checks": r.checks} for r in results}, indent=1), encoding="utf-8")

    print(f"`{command.strip()}`\n")
    print(f"Machine: {machine()}; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after.\n")
    print(f"{args.users} users, {args.processes} processes x {args.turns} timed turns "
          f"({args.threads} threads each), one untimed warm-up turn per process. A turn is the "
          "request (stops at the confirmation) plus the Yes that executes the order; its "
          "latency is wall time less the fake model's time.\n")
    print(table(results, args))
    failed = False
    for r in results:
        print(f"\nChecks, {BACKEND_LABEL[r.backend]}:")
        for name, ok, detail in r.checks:
            failed |= not ok
            print(f"- [{'x' if ok else ' '}] {name}: {detail}")
    print("\nAll checks passed." if not failed else "\nSOME CHECKS FAILED.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
