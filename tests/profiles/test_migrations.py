"""Schema migrations on SQLite and on a live PostgreSQL: a fresh database gets the head
revision, a workspace made before migrations upgrades without losing a row, setup is
idempotent, and the head revision matches the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from profiles import crud, migrations
from profiles.db import StoreUnavailable, check_schema, init_db, make_engine
from profiles.models import BasicFeatures, HistoryEventCreate, UserCreate
from tests.assistant.conftest import write_catalog
from toolcatalog import state as _catalog_tables  # noqa: F401  (registers api_record, ...)
from ui.settings import Settings
from ui.wiring import open_workspace

TABLES = {"user", "history_event", "chat_thread", "forget_request", "api_record",
          "executed_call"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.scale)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'ptool.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _add_user(engine: Engine, username: str) -> str:
    with Session(engine) as session:
        user = crud.create_user(session=session, user_create=UserCreate(
            username=username, basic_features=BasicFeatures(name=username.title())))
        crud.add_events(session=session, user_id=user.id, events=[HistoryEventCreate(
            scenario="takeout", platform="FastFood", action="ordered a burger")])
        session.commit()
        return user.id


def test_a_fresh_database_gets_the_head_revision(engine: Engine) -> None:
    with pytest.raises(StoreUnavailable, match="run `ptool setup`"):
        check_schema(engine)
    init_db(engine)
    assert migrations.current_revision(engine) == migrations.head_revision()
    assert _tables(engine) >= TABLES
    check_schema(engine)


def test_a_workspace_made_before_migrations_upgrades_keeping_its_rows(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)  # how workspaces were created before migrations
    user_id = _add_user(engine, "olga")
    with engine.begin() as conn:  # an older workspace: made before this table existed
        conn.exec_driver_sql("DROP TABLE executed_call")
    with pytest.raises(StoreUnavailable, match="no schema revision"):
        check_schema(engine)

    init_db(engine)

    assert migrations.current_revision(engine) == migrations.head_revision()
    assert _tables(engine) >= TABLES
    with Session(engine) as session:
        assert crud.require_user(session=session, name_or_id="olga").id == user_id
        assert [e.action for e in crud.list_events(session=session, user_id=user_id)] == [
            "ordered a burger"]


def test_the_head_revision_matches_the_models(engine: Engine) -> None:
    init_db(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ours = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert ours == [], "the models changed: add a revision under profiles/migrations/versions/"


def test_setup_twice_is_idempotent(database_url: str, tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", database_url=database_url,
                        catalog_dir=write_catalog(tmp_path / "catalog"))  # small: loads fast
    first = open_workspace(settings, create=True)
    user_id = _add_user(first.engine, "pia")
    first.engine.dispose()

    again = open_workspace(settings, create=True)
    try:
        assert migrations.current_revision(again.engine) == migrations.head_revision()
        with Session(again.engine) as session:
            assert [u.id for u in crud.list_users(session=session)] == [user_id]
    finally:
        again.engine.dispose()
    reopened = open_workspace(settings)  # a read-only command: the schema check passes
    reopened.engine.dispose()
