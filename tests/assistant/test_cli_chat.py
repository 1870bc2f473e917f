"""``ptool chat`` through the real CLI on a temp workspace (no model needed for these paths)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.assistant.conftest import PERSONAS, write_catalog
from ui.commands import chat, store

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    store.register(app)
    chat.register(app)
    return app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("chatws")
    seed = root / "personas.json"
    seed.write_text(json.dumps(PERSONAS))
    values = {"PTOOL_WORKSPACE": str(root / "data"),
              "PTOOL_CATALOG_DIR": str(write_catalog(root / "catalog")),
              "PTOOL_SEED_FILE": str(seed)}
    result = runner.invoke(_app(), ["setup"], env=values)
    assert result.exit_code == 0, result.output
    return values


def test_endpoint_down_says_what_to_do(env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = runner.invoke(_app(), ["chat", "--user", "alice", "order me a hamburger"],
                           env={**env, "PTOOL_MODEL_BASE_URL": url})
    assert result.exit_code == 1
    assert "did not answer" in result.output and "PTOOL_MODEL_BASE_URL" in result.output
    # the thread was created and kept; nothing else changed
    listed = runner.invoke(_app(), ["chat", "--user", "alice", "--threads"], env=env)
    assert listed.exit_code == 0 and "order me a hamburger" in listed.output


def test_unknown_user_and_missing_user(env: dict[str, str]) -> None:
    result = runner.invoke(_app(), ["chat", "--user", "alise", "--threads"], env=env)
    assert result.exit_code == 1 and "ptool users" in result.output
    result = runner.invoke(_app(), ["chat", "order food"], env=env)
    assert result.exit_code == 2 and "--user is required" in result.output


def test_foreign_thread_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = runner.invoke(_app(), ["chat", "--user", "bob", "--thread", "nope", "hi"],
                           env={**env, "PTOOL_MODEL_BASE_URL": url})
    assert result.exit_code == 1 and "no chat thread 'nope' for bob" in result.output
