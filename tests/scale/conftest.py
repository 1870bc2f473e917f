"""One workspace per test on each backend: SQLite with an embedded Chroma folder (the default
path), and PostgreSQL (psycopg) with a Chroma server over HTTP (the scale path).

Both are built the way ``ptool setup`` builds them (``ui.wiring.open_workspace(create=True)``
from :class:`~ui.settings.Settings`), seeded with the assistant tests' personas and catalog, so
a test runs the same code on both and only the settings differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import accounts
from profiles.io import PersonaFile
from tests.assistant.conftest import PERSONAS, World, write_catalog
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace


@pytest.fixture(scope="session")
def scale_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("scale-catalog"))


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, scale_catalog: Path) -> Settings:
    """The backend's settings, as the environment (PTOOL_*) would give them."""
    if request.param == "postgres":
        return Settings(workspace=tmp_path / "ws", catalog_dir=scale_catalog,
                        database_url=request.getfixturevalue("postgres_url"),
                        chroma_url=request.getfixturevalue("chroma_url"))
    return Settings(workspace=tmp_path / "ws", catalog_dir=scale_catalog)


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    """``ptool setup`` with the test personas; the engine is closed afterwards so the
    test's database can be dropped."""
    ws = open_workspace(settings, create=True)
    accounts.seed_personas(engine=ws.engine, index=ws.index,
                           personas=PersonaFile.model_validate(PERSONAS))
    yield ws
    ws.engine.dispose()


@pytest.fixture
def world(workspace: Workspace) -> World:
    """The assistant tests' :class:`World` over this workspace's stores."""
    return World(engine=workspace.engine, index=workspace.index, catalog=workspace.catalog,
                 tool_index=workspace.tool_index(), executor=workspace.executor,
                 checkpoints=workspace.settings.workspace / "checkpoints.sqlite")
