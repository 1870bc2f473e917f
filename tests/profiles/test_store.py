"""Profile store CRUD on a real temp-path SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from profiles import crud
from profiles.db import StoreUnavailable, check_reachable, init_db, make_engine
from profiles.io import PersonaFileError, default_seed_file, import_personas, read_persona_file
from profiles.models import BasicFeatures, HistoryEventCreate, UserCreate


def test_crud_round_trip(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    init_db(engine)
    with Session(engine) as session:
        user = crud.create_user(
            session=session,
            user_create=UserCreate(
                username="zoe", basic_features=BasicFeatures(name="Zoe", phone="+1-555")
            ),
        )
        crud.add_events(
            session=session,
            user_id=user.id,
            events=[
                HistoryEventCreate(
                    scenario="shopping",
                    platform="MegaMart",
                    action="bought milk",
                    timestamp=datetime(2026, 1, 1),
                ),
            ],
        )
        session.commit()
        assert crud.require_user(session=session, name_or_id="zoe").id == user.id
        events = crud.list_events(session=session, user_id=user.id, scenario="shopping")
        assert [e.action for e in events] == ["bought milk"]
        assert events[0].timestamp.replace(tzinfo=UTC) == datetime(2026, 1, 1, tzinfo=UTC)
        assert crud.list_events(session=session, user_id=user.id, scenario="travel") == []
        with pytest.raises(crud.UnknownUser, match=r"Did you mean 'zoe'"):
            crud.require_user(session=session, name_or_id="zoey")


def test_wal_mode_is_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    init_db(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_basic_features_have_a_declared_schema() -> None:
    with pytest.raises(ValidationError):
        BasicFeatures.model_validate({"name": "x", "favourite_platform": "MegaMart"})
    with pytest.raises(ValidationError):
        BasicFeatures.model_validate({"name": "x", "email": "not-an-email"})


def test_seed_personas_import_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    init_db(engine)
    personas = read_persona_file(default_seed_file())
    assert len(personas.users) >= 5
    with Session(engine) as session:
        users, events = import_personas(session=session, personas=personas)
        session.commit()
        again_users, again_events = import_personas(session=session, personas=personas)
    assert len(users) == len(personas.users) and events
    assert again_users == [] and again_events == []


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="ptool setup"):
        make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    (tmp_path / "dir.db").mkdir()  # a directory where the database file should be
    engine = make_engine(f"sqlite:///{tmp_path / 'dir.db'}")
    with pytest.raises(StoreUnavailable, match="cannot reach database"):
        check_reachable(engine)


def test_malformed_persona_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"users": [{"username": "x", "basic_features": {"name": 3}}]}')
    with pytest.raises(PersonaFileError, match=r"field 'users\.0\.basic_features\.name'"):
        read_persona_file(bad)
