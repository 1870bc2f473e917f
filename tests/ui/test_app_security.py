"""What the web app exposes: which files it serves, who may connect, where runs may write, and
that data shown in its Markdown panels stays text.

The file checks run against a real ``ptool ui`` process on a free loopback port (no model: the
endpoint is never called while nothing is chatted) and plain HTTP requests, as an attacker
would send them.
"""

from __future__ import annotations

import base64
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from assistant.checkpoints import checkpoint_path
from profiles import crud
from profiles.models import BasicFeatures, UserCreate
from tests.ui.conftest import ProfileEchoModel, free_port, make_workspace
from train.serving.embedded import stop_process
from ui import render
from ui.app import build_app, check_exposure, is_loopback, launch_options, parse_auth
from ui.chat_adapter import ChatService
from ui.cli import app as cli
from ui.errors import UsageError
from ui.session import BrowserSession
from ui.tabs import bench, chat, persona
from ui.wiring import Workspace

REPO = Path(__file__).resolve().parents[2]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
                       "60e6kgAAAABJRU5ErkJggg==")
SQLITE_MAGIC = b"SQLite format 3"
HOSTILE = "![x](https://evil.example/?q=1) <img src=x onerror=alert(1)> | **b** `c` [l](j:x)"
"""Event text that would load an image, inject HTML, split a table cell and format."""


# -- a real `ptool ui` process -----------------------------------------------------------------

@dataclass
class Served:
    url: str
    home: Path
    plot: Path


def _plot(ws: Workspace) -> Path:
    plot = bench.runs_dir(ws) / "tiny" / "metrics.png"
    plot.parent.mkdir(parents=True, exist_ok=True)
    plot.write_bytes(PNG)
    return plot


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`ptool ui` exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`ptool ui` did not answer within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    ws = make_workspace(root)
    settings = ws.settings
    ws.engine.dispose()
    with sqlite3.connect(checkpoint_path(settings.workspace)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS checkpoints (thread_id TEXT)")
    plot = _plot(ws)
    port = free_port()
    env = {**os.environ, "PTOOL_WORKSPACE": str(settings.workspace),
           "PTOOL_CATALOG_DIR": str(settings.catalog_dir), "PTOOL_SEED_FILE": str(
               settings.seed_file), "PTOOL_MODEL_BASE_URL": "http://127.0.0.1:9/v1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    log = root / "ptool-ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ui", "--port", str(port)],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_until_up(url, proc, log, timeout_s=240)
        yield Served(url=url, home=settings.workspace, plot=plot)
    finally:
        stop_process(proc, timeout_s=30)


def _fetch(base: str, path: Path, client: httpx.Client | None = None) -> httpx.Response:
    getter = client.get if client else httpx.get
    return getter(f"{base.rstrip('/')}/gradio_api/file={path}", timeout=30)


@pytest.mark.slow
def test_the_file_endpoint_serves_plots_but_no_database(served: Served) -> None:
    shown = _fetch(served.url, served.plot)
    assert shown.status_code == 200 and shown.content == PNG
    private = [served.home / "ptool.db", served.home / "checkpoints.sqlite",
               served.home / "chroma" / "chroma.sqlite3"]
    private += [p for p in served.home.glob("ptool.db-*")]  # WAL companions, while they exist
    for path in private:
        assert path.is_file(), path
        refused = _fetch(served.url, path)
        assert refused.status_code == 403, path
        assert SQLITE_MAGIC not in refused.content
    elsewhere = served.home / "notes.txt"  # in the workspace, outside the runs folder
    elsewhere.write_text("private")
    assert _fetch(served.url, elsewhere).status_code == 403


def test_a_login_guards_the_app_and_its_files(workspace: Workspace) -> None:
    plot = _plot(workspace)
    demo = build_app(workspace, ProfileEchoModel)
    port = free_port()
    options = launch_options(workspace, host="127.0.0.1", port=port, auth=("ana", "s3cr:et"))
    demo.launch(**{**options, "prevent_thread_lock": True, "quiet": True})
    base = f"http://127.0.0.1:{port}"
    try:
        assert _fetch(base, plot).status_code in (401, 403)
        with httpx.Client(base_url=base) as client:
            assert client.post("/login", data={"username": "ana", "password": "no"}
                               ).status_code == 400
            assert client.post("/login", data={"username": "ana", "password": "s3cr:et"}
                               ).status_code == 200
            assert _fetch(base, plot, client).content == PNG
            db = workspace.settings.workspace / "ptool.db"
            assert _fetch(base, db, client).status_code == 403
    finally:
        demo.close()


def test_only_the_runs_folder_is_allowed_and_the_stores_are_blocked(
        workspace: Workspace) -> None:
    home = workspace.settings.workspace.resolve()
    options = launch_options(workspace)
    assert options["allowed_paths"] == [str(home / "bench")]
    assert not any(re.search(r"\.(db|sqlite\d?)$|chroma", p) for p in options["allowed_paths"])
    blocked = set(options["blocked_paths"])
    assert {str(home / n) for n in ("ptool.db", "ptool.db-wal", "ptool.db-shm",
                                    "checkpoints.sqlite", "checkpoints.sqlite-wal",
                                    "chroma")} <= blocked


# -- who may connect ---------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_other_hosts_need_a_login(host: str, workspace: Workspace) -> None:
    assert not is_loopback(host)
    with pytest.raises(UsageError, match="--auth"):
        launch_options(workspace, host=host)
    assert launch_options(workspace, host=host, auth=("ana", "pw"))["auth"] == ("ana", "pw")


def test_auth_is_user_colon_password() -> None:
    assert parse_auth("ana:pa:ss") == ("ana", "pa:ss")
    for bad in ("ana", ":pw", "ana:", ""):
        with pytest.raises(UsageError, match="USER:PASSWORD"):
            parse_auth(bad)


def test_ptool_ui_refuses_a_public_host_without_a_login(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"PTOOL_WORKSPACE": str(tmp_path / "ws")}
    result = runner.invoke(cli, ["ui", "--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "0.0.0.0" in lines[0] and "--auth" in lines[0]
    assert not (tmp_path / "ws").exists(), "refused before anything was created"
    bad = runner.invoke(cli, ["ui", "--host", "0.0.0.0", "--auth", "no-colon"], env=env)
    assert bad.exit_code == 2 and "USER:PASSWORD" in bad.output
    from_env = runner.invoke(cli, ["ui", "--host", "0.0.0.0"],
                             env={**env, "PTOOL_UI_AUTH": "no-colon"})
    assert from_env.exit_code == 2 and "USER:PASSWORD" in from_env.output


# -- where a benchmark run may write -----------------------------------------------------------

def test_run_names_are_plain_folder_names() -> None:
    for good in ("tiny", "run-2.b_3", "A" * 64):
        assert bench.run_folder_name(f" {good} ") == good
    assert bench.run_folder_name("").startswith("ui-")
    for bad in ("/tmp/x", "../x", "..", ".hidden", "a/b", "a\\b", "a b", "A" * 65, "-x", "ü"):
        with pytest.raises(bench.BadRunName, match="not allowed"):
            bench.run_folder_name(bad)


def test_a_run_with_an_absolute_name_writes_nothing(
        workspace: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "outside"
    svc = ChatService(workspace, ProfileEchoModel)
    with pytest.raises(bench.BadRunName):
        bench.start_run(svc, str(bench.DEFAULT_DATA), 1, str(target))
    assert not target.exists() and not bench.runs_root(svc).exists()


# -- data in Markdown panels stays text --------------------------------------------------------

def _unescaped(markdown: str, chars: str) -> list[str]:
    """Markup characters in ``markdown`` that no backslash escapes."""
    return re.findall(rf"(?<!\\)[{re.escape(chars)}]", markdown)


def test_panels_show_hostile_data_as_text() -> None:
    evidence = render.evidence_panel([{"platform": "FastFood", "action": HOSTILE,
                                       "timestamp": "2026-01-01"}], "FastFood")
    row = str(evidence["content"]).splitlines()[-1]
    assert "<img" not in row and not _unescaped(row.split("|", 3)[3], "[]`*!")
    assert len(re.split(r"(?<!\\)\|", row)) == 6, "the text must not add table cells"
    reply = render.error_message(HOSTILE)
    assert "<img" not in reply["content"] and not _unescaped(reply["content"], "[]`*")
    assert render.user_message("<b>hi</b>")["content"] == "&lt;b&gt;hi&lt;/b&gt;"
    executions = [{"platform": "P", "name": "n", "ok": True, "response": {"x": "```\n<b>"}}]
    body = str(render.response_panels(executions)[0]["content"])
    fence = body.split("json", 1)[0]
    assert len(fence) > 3 and body.endswith("\n" + fence), "the value cannot close the block"


def test_usernames_and_profiles_are_escaped_in_the_app(workspace: Workspace) -> None:
    name = "[/]<b>eve</b>*"
    with Session(workspace.engine) as session:
        crud.create_user(session=session, user_create=UserCreate(
            username=name, basic_features=BasicFeatures(name=HOSTILE, city="a|b")))
        session.commit()
    sess, card = persona.pick(workspace, name, BrowserSession())
    assert sess.username == name
    outside_code = card.replace(render.md_code(name), "")  # a code span shows text as is
    assert render.md_code(name) in card
    assert "<b>" not in outside_code and "<img" not in card and "![" not in card
    assert "a\\|b" in card
    assert f"**{render.md_text(name)}**" in chat.header(sess)
