"""Profile store CRUD on a real temp-path SQLite database."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from profiles import crud
from profiles.db import (
    StoreUnavailable,
    check_reachable,
    explain_database_error,
    init_db,
    make_engine,
)
from profiles.io import (
    PersonaFile,
    PersonaFileError,
    default_seed_file,
    import_personas,
    read_persona_file,
)
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


def test_failed_statements_hide_their_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    init_db(engine)
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.exec_driver_sql("INSERT INTO nowhere VALUES (?)", ("SECRET-phone-4711",))
    assert "SECRET" not in str(caught.value)
    assert explain_database_error(caught.value).startswith("no such table: nowhere: ")
    assert "ptool setup" in explain_database_error(caught.value)


def test_a_locked_database_is_explained_in_one_line() -> None:
    message = explain_database_error(sqlite3.OperationalError("database is locked"))
    assert "\n" not in message and "another process" in message and "retry" in message


def _users(*records: dict[str, object]) -> dict[str, object]:
    return {"users": [{"basic_features": {"name": str(r["username"])}, **r} for r in records]}


@pytest.mark.parametrize(("records", "problem"), [
    ([{"username": "ann"}, {"username": "ann"}], "username 'ann' repeats users.0"),
    ([{"id": "a1", "username": "ann"}, {"id": "a1", "username": "bo"}], "id 'a1' repeats"),
    ([{"id": "a1", "username": "ann"}, {"username": "a1"}], "username 'a1' is the id of users.0"),
])
def test_a_persona_file_is_checked_as_a_whole(
        tmp_path: Path, records: list[dict[str, object]], problem: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_users(*records)))
    with pytest.raises(PersonaFileError, match=re.escape(problem)):
        read_persona_file(path)


def test_an_id_equal_to_its_own_username_is_fine() -> None:
    PersonaFile.model_validate(_users({"id": "ann", "username": "ann"}))


@pytest.mark.parametrize(("clash", "problem"), [
    ({"username": "u-ann"}, "username 'u-ann' is another user's id"),
    ({"id": "ann", "username": "zed"}, "id 'ann' is another user's username"),
    ({"id": "u-ann", "username": "zed"}, "id 'u-ann' already belongs to user 'ann'"),
    ({"id": "u-other", "username": "ann"}, "username 'ann' already belongs to user id 'u-ann'"),
])
def test_import_refuses_names_and_ids_that_would_shadow_stored_users(
        tmp_path: Path, clash: dict[str, object], problem: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    init_db(engine)
    with Session(engine) as session:
        import_personas(session=session, personas=PersonaFile.model_validate(
            _users({"id": "u-ann", "username": "ann"})))
        session.commit()
        clashing = PersonaFile.model_validate(_users({"username": "harmless"}, clash))
        with pytest.raises(PersonaFileError, match=re.escape(problem)):
            import_personas(session=session, personas=clashing)
        session.commit()
        assert [u.username for u in crud.list_users(session=session)] == ["ann"]
        again, _ = import_personas(session=session, personas=PersonaFile.model_validate(
            _users({"id": "u-ann", "username": "ann"})))
        assert again == []  # the same record again is still skipped
