"""Benchmark: history-index build time and per-user search latency (p50/p95).

Builds a throwaway store of USERS x EVENTS synthetic events (temp SQLite + temp Chroma, the real
bundled embedding model), then times QUERIES searches, each for a random user.

Run:  python bench/history_search.py [--users 100] [--events 200] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from sqlmodel import Session

from profiles import crud
from profiles.db import init_db, make_engine
from profiles.embeddings import embed_texts
from profiles.history_index import HistoryIndex
from profiles.models import BasicFeatures, HistoryEventCreate, UserCreate

VERBS = ["bought", "ordered", "booked", "watched", "subscribed to", "rented", "scheduled"]
THINGS = [
    "red wine",
    "running shoes",
    "a sushi platter",
    "a flight to Rome",
    "a jazz concert",
    "a hotel in Lisbon",
    "noise cancelling headphones",
    "a pepperoni pizza",
    "a sci-fi series",
    "a team meeting",
    "a vintage camera",
    "groceries for the week",
    "a train to Lyon",
]
PLATFORMS = [
    ("shopping", "MegaMart"),
    ("shopping", "LuxeLane"),
    ("takeout", "QuickBite"),
    ("travel", "SkyJet"),
    ("entertainment", "StreamMax"),
    ("work", "TaskFlow"),
]
QUERIES = [
    "wine",
    "something to eat tonight",
    "a trip abroad",
    "music event",
    "office work",
    "cheap electronics",
    "family holiday",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(0)
    embed_texts(["warm up"])  # model load is not part of the index build

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        init_db(engine)
        user_ids: list[str] = []
        with Session(engine) as session:
            for u in range(args.users):
                user = crud.create_user(
                    session=session,
                    user_create=UserCreate(
                        username=f"user{u:03d}", basic_features=BasicFeatures(name=f"User {u}")
                    ),
                )
                user_ids.append(user.id)
                events = []
                for _ in range(args.events):
                    scenario, platform = rng.choice(PLATFORMS)
                    action = f"{rng.choice(VERBS)} {rng.choice(THINGS)}"
                    events.append(
                        HistoryEventCreate(scenario=scenario, platform=platform, action=action)
                    )
                crud.add_events(session=session, user_id=user.id, events=events)
            session.commit()
            rows = list(crud.all_events(session=session))

        index = HistoryIndex.from_path(Path(tmp) / "chroma", engine)
        start = time.perf_counter()
        index.add(rows)
        build_s = time.perf_counter() - start

        latencies: list[float] = []
        for _ in range(args.queries):
            uid, text = rng.choice(user_ids), rng.choice(QUERIES)
            t0 = time.perf_counter()
            hits = index.search(user_id=uid, text=text, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert all(h.user_id == uid for h in hits)
        engine.dispose()

    n = len(rows)
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores\n")
    print(
        "| users | events/user | events | index build (s) | events/s "
        "| search p50 (ms) | search p95 (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.users} | {args.events} | {n} | {build_s:.1f} | {n / build_s:.0f} | "
        f"{statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} |"
    )


if __name__ == "__main__":
    main()
