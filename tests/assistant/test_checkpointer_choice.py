"""Which checkpointer a database URL gets, and what a missing PostgreSQL driver says (no server
needed; the live behaviour is in tests/scale)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from assistant.checkpoints import CHECKPOINT_FILE, open_for, postgres_conninfo, uses_postgres
from profiles.db import StoreUnavailable, make_engine


@pytest.mark.parametrize(("url", "postgres"), [
    ("sqlite:///data/ptool.db", False),
    ("postgresql+psycopg://ptool:pw@127.0.0.1:5432/ptool", True),
    ("postgresql://ptool@db/ptool", True),
])
def test_the_backend_follows_the_database_url(url: str, postgres: bool) -> None:
    assert uses_postgres(url) is postgres


def test_psycopg_gets_a_libpq_uri_with_the_password_kept() -> None:
    assert postgres_conninfo("postgresql+psycopg://ptool:p%40ss@db:5433/ptool?sslmode=require") == (
        "postgresql://ptool:p%40ss@db:5433/ptool?sslmode=require")


def test_a_sqlite_store_keeps_threads_in_the_workspace_file(tmp_path: Path) -> None:
    with open_for(f"sqlite:///{tmp_path / 'ptool.db'}", tmp_path) as saver:
        assert isinstance(saver, SqliteSaver)
    assert (tmp_path / CHECKPOINT_FILE).is_file()


def test_a_missing_driver_names_the_extra_and_the_url_form() -> None:
    try:
        import psycopg2  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        pytest.skip("psycopg2 is installed here: the URL below has its driver")
    advice = r"pip install '\.\[postgres\]'.*postgresql\+psycopg://"
    with pytest.raises(StoreUnavailable, match=advice):
        make_engine("postgresql+psycopg2://ptool@127.0.0.1:5432/ptool")
