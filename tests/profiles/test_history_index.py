"""Chroma history index with the real embedding model: ranking, isolation, forget, rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant import accounts
from profiles import crud
from profiles.db import init_db, make_engine
from profiles.history_index import PREFIX, HistoryIndex
from profiles.models import BasicFeatures, HistoryEventCreate, UserCreate
from toolcatalog import state

ACTIONS = [
    ("shopping", "LuxeLane", "bought a bottle of red wine"),
    ("shopping", "MegaMart", "bought a pack of batteries"),
    ("takeout", "QuickBite", "ordered a cheeseburger"),
    ("travel", "SkyJet", "booked a flight to Lisbon"),
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Engine, HistoryIndex, str, str]]:
    """Two users with near-identical histories (only the platform differs)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    init_db(engine)
    index = HistoryIndex.from_path(tmp_path / "chroma", engine)
    ids = []
    for name, platform_suffix in (("ann", ""), ("ben", "")):
        with Session(engine) as session:
            user = crud.create_user(
                session=session,
                user_create=UserCreate(
                    username=name, basic_features=BasicFeatures(name=name.title())
                ),
            )
            session.commit()
            ids.append(user.id)
        accounts.record_events(
            engine=engine,
            index=index,
            user_id=user.id,
            events=[
                HistoryEventCreate(scenario=s, platform=p + platform_suffix, action=f"{a} ({name})")
                for s, p, a in ACTIONS
            ],
        )
    yield engine, index, ids[0], ids[1]
    engine.dispose()


def test_search_ranks_by_meaning(world: tuple[Engine, HistoryIndex, str, str]) -> None:
    _, index, ann, _ = world
    hits = index.search(user_id=ann, text="wine", k=4)
    assert "wine" in hits[0].action
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    hits = index.search(user_id=ann, text="plane trip", k=1)
    assert "flight" in hits[0].action


def test_searches_never_cross_users(world: tuple[Engine, HistoryIndex, str, str]) -> None:
    _, index, ann, ben = world
    for text in ("wine", "bought a bottle of red wine (ben)", "ben", "flight"):
        for uid, other in ((ann, "(ben)"), (ben, "(ann)")):
            hits = index.search(user_id=uid, text=text, k=10)
            assert len(hits) == len(ACTIONS)
            assert all(h.user_id == uid and other not in h.action for h in hits)
    scoped = index.search(user_id=ann, text="wine", k=10, scenario="travel")
    assert [h.scenario for h in scoped] == ["travel"]
    with pytest.raises(ValueError):
        index.search(user_id="", text="wine")


def test_forget_deletes_rows_vectors_and_platform_state(
    world: tuple[Engine, HistoryIndex, str, str],
) -> None:
    engine, index, ann, ben = world
    with Session(engine) as session:
        crud.create_thread(session=session, user_id=ann, title="t")
        session.add(
            state.ApiRecord(
                owner=ann,
                platform="MegaMart",
                record="order",
                record_id="ORD-1",
                status="confirmed",
            )
        )
        session.commit()
    forgotten: list[tuple[str, list[str]]] = []
    report = accounts.forget_user(
        engine=engine,
        index=index,
        name_or_id="ann",
        forget_hooks=[lambda uid, threads: forgotten.append((uid, threads))],
    )
    assert report.events_deleted == len(ACTIONS) and report.threads_deleted == 1
    assert report.api_records_deleted == 1
    assert forgotten and forgotten[0][0] == ann
    assert index.count(ann) == 0
    assert index.count(ben) == len(ACTIONS)
    with Session(engine) as session:
        assert crud.get_user(session=session, user_id=ann) is None
        assert crud.list_events(session=session, user_id=ann) == []
    with pytest.raises(crud.UnknownUser):
        accounts.forget_user(engine=engine, index=index, name_or_id="ann")


def test_rebuild_from_database(world: tuple[Engine, HistoryIndex, str, str]) -> None:
    engine, index, ann, _ = world
    index.delete_user(ann)
    assert index.count(ann) == 0
    assert accounts.reindex(engine=engine, index=index) == 2 * len(ACTIONS)
    assert index.count(ann) == len(ACTIONS)
    assert index.search(user_id=ann, text="wine", k=1)[0].user_id == ann


def test_a_search_racing_a_rebuild_never_swaps_in_an_empty_index(
    world: tuple[Engine, HistoryIndex, str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader that listed the collections just before another handle's rebuild dropped the
    old generation must look again, not re-create that generation empty."""
    engine, writer, ann, _ = world
    reader = HistoryIndex.from_path(tmp_path / "chroma", engine)
    stale = reader._names()
    with Session(engine) as session:
        events = [e for uid in world[2:] for e in crud.list_events(session=session, user_id=uid)]
    writer.rebuild(events)
    listings = iter([stale])
    real_names = reader._names
    monkeypatch.setattr(reader, "_names", lambda: next(listings, None) or real_names())
    hits = reader.search(user_id=ann, text="wine", k=10)
    assert len(hits) == len(ACTIONS)
    assert [n for n in real_names() if n.startswith(PREFIX)] == [f"{PREFIX}g000002"]


def test_a_user_missing_from_the_index_searches_empty_after_the_retries(
    world: tuple[Engine, HistoryIndex, str, str],
) -> None:
    _, index, ann, ben = world
    index.delete_user(ann)
    assert index.search(user_id=ann, text="wine", k=3) == []
    assert len(index.search(user_id=ben, text="wine", k=3)) == 3


def test_cached_embedder_embeds_each_text_once_and_stays_bounded() -> None:
    import numpy as np

    from profiles.embeddings import CachedEmbedder

    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    cached = CachedEmbedder(embed, max_items=2)
    first = cached(["a", "bb", "a"])
    assert calls == [["a", "bb"]] and first[:, 0].tolist() == [1.0, 2.0, 1.0]
    cached(["bb"])
    assert len(calls) == 1  # a hit embeds nothing
    cached(["ccc"])  # evicts "a", the least recently used
    cached(["bb", "a"])
    assert calls[-1] == ["a"]
