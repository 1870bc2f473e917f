"""Builds the stores from settings: the only place that turns configuration into live objects."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from assistant import accounts, checkpoints
from assistant.accounts import ForgetHook
from assistant.checkpoints import Checkpointer
from assistant.sources import StoreSource
from profiles.db import StoreUnavailable, check_reachable, check_schema, init_db, make_engine
from profiles.embeddings import RUNTIME_CACHE, CachedEmbedder, StoredVectors, embed_texts
from profiles.history_index import HistoryIndex, IndexUnavailable
from toolcatalog import state as _catalog_tables  # noqa: F401  (registers api_record table)
from toolcatalog.executor import MockExecutor
from toolcatalog.loader import load_catalog
from toolcatalog.models import Catalog
from toolcatalog.retrieval import ToolIndex
from ui.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Workspace:
    """Open handles on one workspace: database engine, history index, catalog."""

    settings: Settings
    engine: Engine
    index: HistoryIndex
    catalog: Catalog
    _executor: MockExecutor | None = field(default=None, repr=False)

    @property
    def executor(self) -> MockExecutor:
        if self._executor is None:
            self._executor = MockExecutor(self.catalog, self.engine)
        return self._executor

    def tool_index(self) -> ToolIndex:
        """The catalog's tool index for a chat process: requests through a bounded in-memory
        cache, API texts through vectors kept in the workspace's Chroma, so they are embedded
        once per workspace rather than once per process."""
        return ToolIndex(self.catalog, CachedEmbedder(embed_texts, RUNTIME_CACHE),
                         catalog_embed=StoredVectors(embed_texts, self.index.catalog_vectors))

    def source(self, tool_index: ToolIndex | None = None) -> StoreSource:
        """What a chat turn reads and writes through (chat, app, turn benchmark alike);
        ``tool_index`` lets a long-lived caller keep one index, and its caches, across turns."""
        return StoreSource(engine=self.engine, history_index=self.index, catalog=self.catalog,
                           tool_index=tool_index or self.tool_index(), executor=self.executor)


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def open_workspace(settings: Settings, *, create: bool = False) -> Workspace:
    """Open the configured workspace. With ``create`` make folders and tables (``ptool setup``);
    without it a missing SQLite file is an error telling the user to run setup -- so read-only
    commands never create an empty database by accident."""
    url = settings.resolved_database_url
    db_file = _sqlite_file(url)
    catalog = load_catalog(settings.catalog_dir)  # first: a bad catalog must not leave files behind
    if create:
        settings.workspace.mkdir(parents=True, exist_ok=True)
        if db_file is not None:
            db_file.parent.mkdir(parents=True, exist_ok=True)
    elif db_file is not None and not db_file.is_file():
        raise StoreUnavailable(
            f"no database at {db_file}; run `ptool setup` first (or set PTOOL_WORKSPACE / "
            "PTOOL_DATABASE_URL)"
        )
    engine = make_engine(url)
    if create:
        init_db(engine)
    else:
        check_reachable(engine)
        check_schema(engine)
    index = (
        HistoryIndex.from_url(settings.chroma_url, engine)
        if settings.chroma_url
        else HistoryIndex.from_path(settings.resolved_chroma_path, engine)
    )
    if not create:
        _catch_up(engine, index)
    return Workspace(settings=settings, engine=engine, index=index, catalog=catalog)


def open_checkpointer_for(settings: Settings) -> AbstractContextManager[Checkpointer]:
    """The chat-thread checkpointer of the configured database: threads in PostgreSQL when the
    profile store is PostgreSQL (every worker sees them), else ``<workspace>/checkpoints.sqlite``.
    The connection closes when the block ends."""
    return checkpoints.open_for(settings.resolved_database_url, settings.workspace)


def thread_forget_hook(settings: Settings) -> ForgetHook:
    """For ``accounts.forget_user``: deletes a forgotten user's threads wherever
    :func:`open_checkpointer_for` keeps them."""
    return checkpoints.forget_hook_for(settings.resolved_database_url, settings.workspace)


def _catch_up(engine: Engine, index: HistoryIndex) -> None:
    """Start-up check: an index behind the database (a crash between a commit and the index
    write) is repaired before anything searches it. A damaged index is left alone here: the
    commands that need it say to run `ptool reindex --fresh`, the others still work."""
    try:
        if accounts.event_count(engine=engine) == index.count():
            return
        report = accounts.repair_index(engine=engine, index=index)
    except IndexUnavailable as exc:
        log.warning("%s", exc)
        return
    log.warning("history index repaired: %d events added, %d removed", report.added,
                report.removed)
