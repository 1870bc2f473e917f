"""Dataset statistics (in the spirit of the paper's Table 5) and the train/test leakage check."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import mean

from synth.models import World
from synth.verification import normalize_query
from toolcatalog.models import Scenario

SPLITS = ("train", "test_trained_user", "test_untrained_user", "test_unseen_scenario")


def world_stats(world: World, catalog: dict[str, Scenario]) -> dict[str, dict[str, float | int]]:
    """Per split: sizes and what a sample looks like."""
    out: dict[str, dict[str, float | int]] = {}
    per_user_scn = Counter((e.user_id, e.scenario) for e in world.events)
    for split in SPLITS:
        rows = [s for s in world.samples if s.split == split]
        if not rows:
            continue
        scns = {s.scenario for s in rows}
        out[split] = {
            "samples": len(rows),
            "users": len({s.user_id for s in rows}),
            "scenarios": len(scns),
            "platforms": sum(len(catalog[s].platforms) for s in scns),
            "apis": sum(len(p.apis) for s in scns for p in catalog[s].platforms),
            "distinct functions used": len({c.name for s in rows for c in s.calls}),
            "avg calls / sample": round(mean(len(s.calls) for s in rows), 2),
            "avg params / call": round(mean(len(c.arguments) for s in rows for c in s.calls), 2),
            "avg query params": round(mean(len(s.query_params) for s in rows), 2),
            "avg profile params": round(mean(len(s.profile_params) for s in rows), 2),
            "avg query words": round(mean(len(s.query.split()) for s in rows), 1),
            "explicit platform %": round(100 * mean(s.explicit_platform for s in rows), 1),
            "avg history events / user & scenario": round(
                mean(per_user_scn[(s.user_id, s.scenario)] for s in rows), 1
            ),
        }
    return out


def leakage(world: World) -> dict[str, float | int]:
    """Exact (normalised) request overlap between train and each test split, plus the share of
    test requests whose nearest train request of the same user and scenario shares >= 80% of
    its words (Jaccard) -- near-duplicates a model could memorise."""
    train = [s for s in world.samples if s.split == "train"]
    train_norm = {normalize_query(s.query) for s in train}
    by_pair: dict[tuple[str, str], list[set[str]]] = defaultdict(list)
    for s in train:
        by_pair[(s.user_id, s.scenario)].append(set(normalize_query(s.query).split()))
    out: dict[str, float | int] = {}
    for split in SPLITS[1:]:
        rows = [s for s in world.samples if s.split == split]
        if not rows:
            continue
        exact = sum(normalize_query(s.query) in train_norm for s in rows)
        near = 0
        for s in rows:
            words = set(normalize_query(s.query).split())
            best = max(
                (len(words & t) / len(words | t) for t in by_pair[(s.user_id, s.scenario)]),
                default=0.0,
            )
            near += best >= 0.8
        out[f"{split}: exact overlap with train"] = exact
        out[f"{split}: near-duplicates (Jaccard >= 0.8) %"] = round(100 * near / len(rows), 2)
    return out


def markdown_table(stats: dict[str, dict[str, float | int]]) -> str:
    if not stats:  # e.g. a small LLM-built world whose samples were all rejected
        return "(no accepted samples in any split)"
    splits = list(stats)
    keys = list(next(iter(stats.values())))
    lines = ["| statistic | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    lines += [f"| {k} | " + " | ".join(str(stats[s][k]) for s in splits) + " |" for k in keys]
    return "\n".join(lines)
