"""The store commands end to end through the real CLI, on a temp workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from profiles.db import make_engine
from profiles.io import default_seed_file, read_persona_file
from toolcatalog.loader import default_catalog_dir, load_catalog
from toolcatalog.state import ApiRecord
from ui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    ws = tmp_path_factory.mktemp("ws")
    env = {"PTOOL_WORKSPACE": str(ws)}
    result = runner.invoke(app, ["setup"], env=env)
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["setup"], env=env)
    assert again.exit_code == 0 and "0 new" in again.output
    return env


def _first_user() -> str:
    return read_persona_file(default_seed_file()).users[0].username


def _records(env: dict[str, str]) -> list[ApiRecord]:
    engine = make_engine(f"sqlite:///{Path(env['PTOOL_WORKSPACE']) / 'ptool.db'}")
    with Session(engine) as session:
        rows = list(session.exec(select(ApiRecord)).all())
    engine.dispose()
    return rows


def _order_api() -> tuple[str, str, dict[str, object]]:
    for _, platform, api in load_catalog().iter_apis():
        props = api.function.parameters.get("properties", {})
        if api.effect == "create" and all(
            props[r].get("type") == "string" and "enum" not in props[r] for r in api.required
        ):
            return platform.name, api.name, {r: "x" for r in api.required}
    raise AssertionError("no string-only create API")


def test_users_and_show(workspace: dict[str, str]) -> None:
    first = read_persona_file(default_seed_file()).users[0].username
    result = runner.invoke(app, ["users"], env={**workspace, "COLUMNS": "400"})
    assert result.exit_code == 0 and first in result.output
    shown = runner.invoke(app, ["user", "show", first, "--json"], env=workspace)
    assert shown.exit_code == 0
    assert json.loads(shown.output)["username"] == first


def _shown_actions(output: str) -> list[str]:
    """The action column of a rendered history table (rows are '│'-separated)."""
    rows = [line.split("│") for line in output.splitlines() if line.count("│") >= 5]
    return [cells[4].strip() for cells in rows if cells[4].strip() not in ("", "action")]


def test_history_search_is_semantic_and_per_user(workspace: dict[str, str]) -> None:
    personas = read_persona_file(default_seed_file()).users
    wine_lover = next(p for p in personas if any("wine" in e.action for e in p.history))
    result = runner.invoke(
        app,
        ["history", wine_lover.username, "--search", "wine", "-k", "2"],
        env={**workspace, "COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    top = _shown_actions(result.output)
    assert len(top) == 2 and all("wine" in a.lower() for a in top), top
    for other in personas[:6]:
        out = runner.invoke(
            app,
            ["history", other.username, "--search", "wine", "-k", "30"],
            env={**workspace, "COLUMNS": "400"},
        ).output
        own = {e.action for e in other.history}
        shown = _shown_actions(out)
        assert shown and set(shown) <= own, other.username


def test_call_executes_and_bad_input_writes_nothing(workspace: dict[str, str]) -> None:
    platform, api, args = _order_api()
    before = len(_records(workspace))
    bad_json = runner.invoke(
        app,
        ["call", f"{platform}.{api}", "--user", _first_user(), "--args", "{not json"],
        env=workspace,
    )
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.output
    bad_schema = runner.invoke(
        app, ["call", f"{platform}.{api}", "--user", _first_user(), "--args", "{}"], env=workspace
    )
    assert bad_schema.exit_code == 1 and "call:missing_required" in bad_schema.output
    unknown = runner.invoke(
        app,
        ["call", f"{platform}.{api}", "--user", "nobody", "--args", json.dumps(args)],
        env=workspace,
    )
    assert unknown.exit_code == 1 and "no such user" in unknown.output
    assert len(_records(workspace)) == before
    ok = runner.invoke(
        app,
        ["call", f"{platform}.{api}", "--user", _first_user(), "--args", json.dumps(args)],
        env=workspace,
    )
    assert ok.exit_code == 0, ok.output
    assert len(_records(workspace)) == before + 1


def test_unknown_user_everywhere(workspace: dict[str, str]) -> None:
    for argv in (["user", "show", "zed"], ["history", "zed"], ["forget", "zed", "--yes"]):
        result = runner.invoke(app, argv, env=workspace)
        assert result.exit_code == 1 and "no such user 'zed'" in result.output


def test_corrupt_catalog_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for f in default_catalog_dir().glob("*.json"):
        (catalog / f.name).write_text(f.read_text())
    (catalog / "travel.json").write_text('{"name": "travel"}')
    env = {"PTOOL_WORKSPACE": str(tmp_path / "ws"), "PTOOL_CATALOG_DIR": str(catalog)}
    result = runner.invoke(app, ["setup"], env=env)
    assert result.exit_code == 1
    assert "travel.json" in result.output and "field 'description'" in result.output
    assert not (tmp_path / "ws").exists(), "a failed setup must not leave a workspace behind"


def test_unreachable_database(tmp_path: Path) -> None:
    env = {
        "PTOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'such.db'}",
        "PTOOL_WORKSPACE": str(tmp_path / "ws"),
    }
    result = runner.invoke(app, ["users"], env=env)
    assert result.exit_code == 1 and "ptool setup" in result.output
    env = {
        "PTOOL_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PTOOL_WORKSPACE": str(tmp_path / "ws2"),
    }
    result = runner.invoke(app, ["users"], env=env)
    assert result.exit_code == 1 and "PTOOL_DATABASE_URL" in result.output


def test_forget_then_reindex(workspace: dict[str, str]) -> None:
    victim = read_persona_file(default_seed_file()).users[-1]
    result = runner.invoke(app, ["forget", victim.username, "--yes"], env=workspace)
    assert result.exit_code == 0 and f"forgot {victim.username}" in result.output
    listed = runner.invoke(app, ["users"], env={**workspace, "COLUMNS": "400"}).output
    assert f" {victim.username} " not in listed
    reindexed = runner.invoke(app, ["reindex"], env=workspace)
    assert reindexed.exit_code == 0
    gone = runner.invoke(app, ["history", victim.username], env=workspace)
    assert gone.exit_code == 1 and "no such user" in gone.output


def test_catalog_listing(workspace: dict[str, str]) -> None:
    result = runner.invoke(app, ["catalog", "--scenario", "travel"], env=workspace)
    assert result.exit_code == 0 and "travel" in result.output
    bad = runner.invoke(app, ["catalog", "--scenario", "mars"], env=workspace)
    assert bad.exit_code == 2 and "unknown scenario" in bad.output


def test_markup_characters_in_history_print_literally(workspace: dict[str, str]) -> None:
    from assistant import accounts
    from profiles import crud
    from profiles.history_index import HistoryIndex
    from profiles.models import EventSource, HistoryEventCreate

    ws = Path(workspace["PTOOL_WORKSPACE"])
    engine = make_engine(f"sqlite:///{ws / 'ptool.db'}")
    with Session(engine) as session:
        user = crud.require_user(session=session, name_or_id=_first_user())
    accounts.record_events(engine=engine, index=HistoryIndex.from_path(ws / "chroma", engine),
                           user_id=user.id, events=[HistoryEventCreate(
                               scenario="shopping", platform="MegaMart",
                               source=EventSource.seeded, action="bought [/] and [bold]x[/bold]")])
    engine.dispose()
    result = runner.invoke(app, ["history", _first_user(), "--scenario", "shopping"],
                           env={**workspace, "COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "bought [/] and [bold]x[/bold]" in result.output


MARKUP_USER = "[/]eve[bold]"


def test_markup_characters_in_usernames_print_literally(workspace: dict[str, str]) -> None:
    from profiles import crud
    from profiles.models import BasicFeatures, UserCreate

    engine = make_engine(f"sqlite:///{Path(workspace['PTOOL_WORKSPACE']) / 'ptool.db'}")
    with Session(engine) as session:
        crud.create_user(session=session, user_create=UserCreate(
            username=MARKUP_USER, basic_features=BasicFeatures(name="[red]Eve[/red]")))
        session.commit()
    engine.dispose()
    wide = {**workspace, "COLUMNS": "400"}
    listed = runner.invoke(app, ["users", "--search", "eve"], env=wide)
    assert listed.exit_code == 0, listed.output
    assert MARKUP_USER in listed.output and "[red]Eve[/red]" in listed.output
    for argv in (["history", MARKUP_USER], ["user", "show", MARKUP_USER],
                 ["chat", "--user", MARKUP_USER, "--threads"]):
        shown = runner.invoke(app, argv, env=wide)
        assert shown.exit_code == 0 and MARKUP_USER in shown.output, (argv, shown.output)
    unknown = runner.invoke(app, ["history", "[/]nobody"], env=wide)
    assert unknown.exit_code == 1 and "no such user '[/]nobody'" in unknown.output
    gone = runner.invoke(app, ["forget", MARKUP_USER, "--yes"], env=wide)
    assert gone.exit_code == 0 and f"forgot {MARKUP_USER}:" in gone.output


def test_chat_prints_answers_and_reply_hints_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from assistant.turns import TurnResult
    from ui.commands import chat

    out = io.StringIO()
    monkeypatch.setattr(chat, "console", Console(file=out, width=400))
    result = TurnResult(thread_id="t[1]", status="consent", answer="Send [/] to [bold]x?")
    chat._print(result, False, MARKUP_USER)
    printed = out.getvalue()
    assert "Send [/] to [bold]x?" in printed
    assert f"--user {MARKUP_USER} --thread t[1]" in printed


def test_a_locked_database_is_one_line_without_the_values(
        workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    monkeypatch.setattr("profiles.db.BUSY_TIMEOUT_S", 0.2)  # fail fast instead of waiting 15 s
    platform, api, args = _order_api()
    secret = {name: f"SECRET-{i}-4711" for i, name in enumerate(args)}
    argv = ["call", f"{platform}.{api}", "--user", _first_user(), "--args", json.dumps(secret)]
    writer = sqlite3.connect(Path(workspace["PTOOL_WORKSPACE"]) / "ptool.db",
                             isolation_level=None, timeout=0.2)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process is writing: readers go on, writers wait
        result = runner.invoke(app, argv, env=workspace)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    _assert_one_locked_line(result.exit_code, result.output)


def test_a_database_locked_for_readers_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from tests.ui.conftest import make_workspace

    ws = make_workspace(tmp_path)  # a fresh workspace: no other connection of this process open
    ws.engine.dispose()
    env = {"PTOOL_WORKSPACE": str(ws.settings.workspace),
           "PTOOL_CATALOG_DIR": str(ws.settings.catalog_dir)}
    monkeypatch.setattr("profiles.db.BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(ws.settings.workspace / "ptool.db", isolation_level=None,
                             timeout=0.2)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # before its first access: no WAL sharing
        holder.execute("BEGIN EXCLUSIVE")  # now even readers wait
        result = runner.invoke(app, ["users", "--search", "SECRET-name"], env=env)
    finally:
        holder.close()
    _assert_one_locked_line(result.exit_code, result.output)


def _assert_one_locked_line(exit_code: int, output: str) -> None:
    assert exit_code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "database is locked" in lines[0] and "retry" in lines[0], lines
    assert "SECRET" not in output and "Traceback" not in output


def _persona(username: str, user_id: str | None = None, **features: str) -> dict[str, object]:
    return {"id": user_id, "username": username, "basic_features": {"name": username, **features}}


def test_an_invalid_persona_file_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "personas.json"
    bad.write_text(json.dumps({"users": [_persona("ana"),
                                         _persona("ben", email="not-an-email")]}))
    env = {"PTOOL_WORKSPACE": str(tmp_path / "ws")}
    result = runner.invoke(app, ["setup", "--personas", str(bad)], env=env)
    assert result.exit_code == 1 and "users.1.basic_features.email" in result.output
    assert not (tmp_path / "ws").exists(), "a rejected persona file must leave nothing behind"
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps({"users": [_persona("ana"), _persona("ana")]}))
    result = runner.invoke(app, ["setup", "--personas", str(twice)], env=env)
    assert result.exit_code == 1 and "repeats users.0" in result.output
    assert not (tmp_path / "ws").exists()


def test_personas_that_would_shadow_stored_users_are_refused(
        workspace: dict[str, str], tmp_path: Path) -> None:
    seeded = read_persona_file(default_seed_file()).users[0]
    assert seeded.id
    for clash in (_persona(seeded.id), _persona("newcomer", user_id=seeded.username)):
        personas = tmp_path / "clash.json"
        personas.write_text(json.dumps({"users": [_persona("harmless"), clash]}))
        result = runner.invoke(app, ["setup", "--personas", str(personas)], env=workspace)
        assert result.exit_code == 1 and "users.1" in result.output, result.output
        assert "nothing was imported" in result.output
        listed = runner.invoke(app, ["users", "--search", "harmless"],
                               env={**workspace, "COLUMNS": "400"})
        assert "harmless" not in listed.output
