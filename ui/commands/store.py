"""Workspace, persona, history and catalog commands: setup, users, user, history, forget,
catalog, call, reindex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from assistant import accounts
from profiles import crud
from profiles.io import default_seed_file, export_user, read_persona_file
from ui.errors import UsageError, cli_errors, fail
from ui.settings import Settings
from ui.wiring import open_workspace, thread_forget_hook


def _console() -> Console:
    """A console per command, so its width follows the caller's terminal (``COLUMNS``)."""
    return Console()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``ptool`` app."""
    app.command("setup")(setup)
    app.command("users")(users)
    user_app = typer.Typer(help="Inspect one persona.", no_args_is_help=True)
    user_app.command("show")(user_show)
    app.add_typer(user_app, name="user")
    app.command("history")(history)
    app.command("forget")(forget)
    app.command("catalog")(catalog)
    app.command("call")(call)
    app.command("reindex")(reindex)


@cli_errors
def setup(
    personas_file: Annotated[Path | None, typer.Option(
        "--personas", help="Persona file to import (default: PTOOL_SEED_FILE, else the shipped "
        "personas). Checked as a whole first: a bad file writes nothing.")] = None,
) -> None:
    """Create the workspace (database, history index) and load the seeded personas. Idempotent."""
    settings = Settings()
    # read and check the file before the workspace exists: a bad file must leave nothing behind
    personas = read_persona_file(personas_file or settings.seed_file or default_seed_file())
    ws = open_workspace(settings, create=True)
    report = accounts.seed_personas(engine=ws.engine, index=ws.index, personas=personas)
    # a setup killed after its database commit left the index behind: catch it up
    accounts.repair_index(engine=ws.engine, index=ws.index)
    n_apis = len(ws.catalog.iter_apis())
    _console().print(
        f"workspace [bold]{escape(str(settings.workspace))}[/]: {report.users_total} personas "
        f"({report.users_added} new, {report.events_indexed} events indexed), catalog of "
        f"{len(ws.catalog.scenarios)} scenarios / {n_apis} APIs. Next: `ptool users`."
    )


def _add_row(table: Table, *cells: str) -> None:
    """Data is printed literally: an event text such as ``[/]`` is not Rich markup."""
    table.add_row(*(escape(str(c)) for c in cells))


@cli_errors
def users(
    search: Annotated[str | None, typer.Option(help="Only usernames containing this text.")] = None,
) -> None:
    """List the personas in the workspace."""
    ws = open_workspace(Settings())
    table = Table("username", "id", "name", "city", "events")
    with Session(ws.engine) as session:
        counts = crud.event_counts(session=session)
        for user in crud.list_users(session=session, search=search):
            n = counts.get(user.id, 0)
            _add_row(table,
                user.username,
                user.id,
                user.basic_features.get("name", ""),
                user.basic_features.get("city", ""),
                str(n),
            )
    _console().print(table)


@cli_errors
def user_show(
    name: Annotated[str, typer.Argument(help="Username (or id).")],
    as_json: Annotated[bool, typer.Option("--json", help="Full export as JSON.")] = False,
) -> None:
    """Show one persona's basic features and history counts per scenario."""
    ws = open_workspace(Settings())
    with Session(ws.engine) as session:
        user = crud.require_user(session=session, name_or_id=name)
        if as_json:
            _console().print_json(json.dumps(export_user(session=session, user=user)))
            return
        table = Table("feature", "value", title=escape(f"{user.username} ({user.id})"))
        for key, value in user.basic_features.items():
            _add_row(table, key, str(value))
        _console().print(table)
        counts: dict[str, int] = {}
        for event in crud.list_events(session=session, user_id=user.id):
            counts[event.scenario] = counts.get(event.scenario, 0) + 1
    shown = ", ".join(f"{s}={n}" for s, n in sorted(counts.items()))
    _console().print(f"history: {escape(shown)}", highlight=False)


@cli_errors
def history(
    name: Annotated[str, typer.Argument(help="Username (or id).")],
    scenario: Annotated[str | None, typer.Option(help="Only this scenario.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Rank this user's events by meaning (semantic search).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many search results.")] = 5,
) -> None:
    """A persona's behaviour history, or a semantic search over it (only ever this user's)."""
    ws = open_workspace(Settings())
    with Session(ws.engine) as session:
        user = crud.require_user(session=session, name_or_id=name)
        if scenario and scenario not in ws.catalog.scenarios:
            raise UsageError(
                f"unknown scenario {scenario!r}; known: {', '.join(sorted(ws.catalog.scenarios))}"
            )
        if search:
            hits = ws.index.search(user_id=user.id, text=search, k=k, scenario=scenario)
            table = Table(
                "score",
                "scenario",
                "platform",
                "action",
                "time",
                title=escape(f"{user.username}: events closest to {search!r}"),
            )
            for hit in hits:
                _add_row(table,
                    f"{1 - hit.distance:.3f}",
                    hit.scenario,
                    hit.platform,
                    hit.action,
                    hit.timestamp[:16],
                )
        else:
            table = Table(
                "id",
                "scenario",
                "platform",
                "action",
                "time",
                "source",
                title=escape(f"{user.username}: history"),
            )
            for e in crud.list_events(session=session, user_id=user.id, scenario=scenario):
                _add_row(table,
                    str(e.id),
                    e.scenario,
                    e.platform,
                    e.action,
                    e.timestamp.isoformat()[:16],
                    e.source.value,
                )
    _console().print(table)


@cli_errors
def forget(
    name: Annotated[str, typer.Argument(help="Username (or id).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a persona: profile, history, index vectors, platform records and chat threads."""
    ws = open_workspace(Settings())
    with Session(ws.engine) as session:
        user = crud.require_user(session=session, name_or_id=name, forgetting=True)
    if not yes and not typer.confirm(f"Forget {user.username!r} and everything about them?"):
        raise fail("nothing deleted", code=1)
    report = accounts.forget_user(
        engine=ws.engine,
        index=ws.index,
        name_or_id=user.id,
        forget_hooks=[thread_forget_hook(ws.settings)],
    )
    _console().print(
        f"forgot {escape(report.username)}: {report.events_deleted} events, "
        f"{report.threads_deleted} threads, {report.api_records_deleted} platform records",
        highlight=False,
    )
    if report.index_note:
        _console().print(f"[yellow]note:[/] {escape(report.index_note)}", highlight=False)


@cli_errors
def catalog(
    scenario: Annotated[str | None, typer.Option(help="Only this scenario.")] = None,
) -> None:
    """List scenarios, platforms (with their characteristics) and APIs."""
    ws = open_workspace(Settings())
    try:
        entries = ws.catalog.iter_apis(scenario)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    table = Table("scenario", "platform", "api", "required", "effect")
    for s, p, a in entries:
        _add_row(table, s.name, p.name, a.name, ", ".join(a.required), a.effect)
    _console().print(table)


@cli_errors
def call(
    target: Annotated[str, typer.Argument(help="PLATFORM.API, e.g. MegaMart.MegaMart_trackOrder")],
    user: Annotated[str, typer.Option("--user", help="Username whose platform state is used.")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
) -> None:
    """Execute one mock platform API as a user (validated against its schema first)."""
    platform, sep, api_name = target.partition(".")
    if not sep or not api_name:
        raise UsageError(f"expected PLATFORM.API, got {target!r}; see `ptool catalog`")
    try:
        arguments: Any = json.loads(args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON ({exc.msg} at column {exc.colno})") from None
    ws = open_workspace(Settings())
    with Session(ws.engine) as session:
        owner = crud.require_user(session=session, name_or_id=user).id
    result = ws.executor.execute(owner=owner, platform=platform, name=api_name, arguments=arguments)
    if not result.check.valid or not result.ok:
        detail = "; ".join(result.check.errors) or str(result.response.get("error"))
        kind = result.check.error_type or "call:failed"
        raise fail(f"{kind}: {detail}")
    _console().print_json(json.dumps(result.response))


@cli_errors
def reindex(
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Delete the local index files first (a damaged index).")] = False,
) -> None:
    """Rebuild the history index from the database (the source of truth). The new index is
    swapped in when complete, so running chats keep searching the old one until then."""
    ws = open_workspace(Settings())
    n = accounts.reindex(engine=ws.engine, index=ws.index, fresh=fresh)
    _console().print(f"reindexed {n} events")
