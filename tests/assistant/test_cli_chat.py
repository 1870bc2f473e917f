"""``ptool chat`` through the real CLI on a temp workspace (no model needed for these paths)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.assistant.conftest import PERSONAS, order_call, write_catalog
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


def test_an_embedded_server_that_cannot_start_shows_its_log(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server loads while the turn runs; when it dies, the model call's error carries
    its log and nothing is executed."""
    from train.serving import embedded

    def broken(**kw: object) -> list[str]:
        return [embedded.sys.executable, "-c", "raise SystemExit('model file is missing')"]

    monkeypatch.setattr(embedded, "server_command", broken)
    monkeypatch.delenv("PTOOL_MODEL_BASE_URL", raising=False)
    result = runner.invoke(_app(), ["chat", "--user", "alice", "order me a hamburger"],
                           env=env)
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "did not answer" in output and "model file is missing" in output


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


class _OneAnswer(BaseHTTPRequestHandler):
    """A stand-in OpenAI endpoint that always answers with the same order."""

    answer = order_call("FastFood")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "ptool",
                           "choices": [{"index": 0, "finish_reason": "stop", "message": {
                               "role": "assistant", "content": self.answer}}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                     "total_tokens": 15}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _OneAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _orders(env: dict[str, str]) -> int:
    with sqlite3.connect(Path(env["PTOOL_WORKSPACE"]) / "ptool.db") as conn:
        return int(conn.execute("SELECT count(*) FROM api_record").fetchone()[0])


def test_a_script_gets_the_pending_confirmation_and_yes_approves(env: dict[str, str],
                                                                 endpoint: str) -> None:
    before = _orders(env)
    values = {**env, "PTOOL_MODEL_BASE_URL": endpoint}
    asked = runner.invoke(_app(), ["chat", "--user", "alice", "order me a hamburger", "--json"],
                          env=values)
    assert asked.exit_code == 0, asked.output
    pending = json.loads(asked.output)
    assert pending["status"] == "consent" and pending["executions"] == []
    assert pending["confirmation"]["changes"] == ["FastFood_orderFood"]
    assert _orders(env) == before
    done = runner.invoke(_app(), ["chat", "--user", "alice", "order me a hamburger", "--yes"],
                         env=values)
    assert done.exit_code == 0, done.output
    assert "Done: FastFood_orderFood" in done.output and _orders(env) == before + 1
