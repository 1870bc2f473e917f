"""``ptool chat``: talk to the assistant as one persona (one shot, REPL, JSON, threads).

Composition only: settings -> workspace, chat model (configured endpoint, or the embedded CPU
server from ``train/``), checkpointer -> the assistant graph. Business logic is in ``assistant``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated

import typer
from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from assistant.context import DEFAULT_HISTORY_K, DEFAULT_TOOLS_PER_PLATFORM, Context
from assistant.errors import ModelUnavailable, ThreadNotFound
from assistant.graph import build_graph
from assistant.turns import TurnResult, answer_consent, run_turn
from profiles import crud
from ui.errors import cli_errors, fail
from ui.settings import Settings
from ui.wiring import Workspace, open_checkpointer_for, open_workspace

console = Console()
NO_ENDPOINT = (
    "no model endpoint: set PTOOL_MODEL_BASE_URL to an OpenAI-compatible endpoint "
    "(e.g. http://localhost:8000/v1); the embedded CPU server could not be started ({why})"
)


def register(app: typer.Typer) -> None:
    """Add ``chat`` to the ``ptool`` app."""
    app.command("chat")(chat)


@contextmanager
def chat_model_for(settings: Settings) -> Iterator[tuple[BaseChatModel, str]]:
    """The configured endpoint, else the embedded server for the ``with`` block.

    The client comes from ``train.serving.client``, the one chat-model factory; it needs only
    core dependencies, so it is always importable and only starting the server can fail."""
    from train.serving.client import chat_model

    label = settings.model_base_url or "the embedded model server"
    try:
        cm = chat_model(settings.model_base_url, settings.model_name,
                        workspace=settings.workspace, api_key=settings.model_api_key,
                        max_retries=0, timeout=120)
        model = cm.__enter__()
    except Exception as exc:  # any start failure gets the same advice
        raise fail(NO_ENDPOINT.format(why=str(exc).strip()[:300])) from None
    try:
        yield model, label
    finally:
        cm.__exit__(None, None, None)


def _print(result: TurnResult, as_json: bool, user: str) -> None:
    if as_json:
        console.print_json(result.model_dump_json())
        return
    style = {"done": "green", "clarify": "yellow", "consent": "yellow"}.get(result.status, "red")
    console.print(f"[{style}]{escape(result.answer)}[/]", highlight=False)
    if result.status in ("clarify", "consent"):
        hint = (f"thread {result.thread_id}: reply with `ptool chat --user {user} "
                f"--thread {result.thread_id} \"...\"`")
        console.print(f"[dim]{escape(hint)}[/]", highlight=False)


def _ask_on_terminal(as_json: bool) -> bool:
    """A person at a terminal answers the confirmation here; a pipe or --json gets the
    pending question (its thread id) and answers with another `ptool chat`."""
    return not as_json and sys.stdin.isatty()


def _list_threads(ws: Workspace, user: str) -> None:
    with Session(ws.engine) as session:
        owner = crud.require_user(session=session, name_or_id=user)
        table = Table("thread", "title", "updated",
                      title=escape(f"{owner.username}: chat threads"))
        for t in crud.list_threads(session=session, user_id=owner.id):
            table.add_row(escape(t.id), escape(t.title), t.updated_at.isoformat()[:16])
    console.print(table)


@cli_errors
def chat(
    request: Annotated[str | None, typer.Argument(
        help="What to do, e.g. \"order me a hamburger\". Omit for an interactive session.")] = None,
    user: Annotated[str, typer.Option("--user", "-u", help="Username (or id) to act for.")] = "",
    thread: Annotated[str | None, typer.Option(
        "--thread", "-t", help="Continue this thread (see --threads).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the structured result: platform, calls, provenance, responses.")
    ] = False,
    threads: Annotated[bool, typer.Option("--threads", help="List the user's threads.")] = False,
    history_k: Annotated[int, typer.Option(
        help="History events shown to the model.")] = DEFAULT_HISTORY_K,
    tools_per_platform: Annotated[int, typer.Option(
        help="Candidate APIs per platform.")] = DEFAULT_TOOLS_PER_PLATFORM,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Approve the calls a one-shot request asks to confirm (scripts). "
        "Without it a terminal asks, and --json or a pipe reports the pending confirmation.")
    ] = False,
) -> None:
    """Ask the assistant to do something as USER: it picks the platform that user prefers,
    fills the call from the request and profile, validates, asks before anything that would
    create, change or cancel something, runs it on the mock platform and explains where each
    value came from. Needs PTOOL_MODEL_BASE_URL or the embedded server."""
    if not user:
        raise fail("--user is required; see `ptool users`", code=2)
    settings = Settings()
    if threads:
        _list_threads(open_workspace(settings), user)
        return
    with ExitStack() as stack:
        # The model first: the embedded server loads while the workspace opens.
        model, label = stack.enter_context(chat_model_for(settings))
        ws = open_workspace(settings)
        saver = stack.enter_context(open_checkpointer_for(settings))
        graph = build_graph(saver)
        context = Context(chat_model=model, source=ws.source(), history_k=history_k,
                          tools_per_platform=tools_per_platform, model_label=label,
                          answer_grammar=settings.answer_grammar,
                          preference=settings.preference,
                          preapproved=settings.preapproved)
        try:
            if request is not None:
                result = run_turn(graph, context=context, user=user, request=request,
                                  thread_id=thread)
                _print(result, as_json, user)
                if result.status == "consent" and (yes or _ask_on_terminal(as_json)):
                    granted = yes or typer.confirm("Go ahead?", default=False)
                    _print(answer_consent(graph, context=context, thread_id=result.thread_id,
                                          granted=granted), as_json, user)
                return
            console.print(f"chatting as {escape(user)} (empty line or Ctrl-D to quit)",
                          highlight=False)
            while True:
                try:
                    text = console.input("[bold]you> [/]").strip()
                except EOFError:
                    break
                if not text or text in ("quit", "exit"):
                    break
                result = run_turn(graph, context=context, user=user, request=text,
                                  thread_id=thread)
                thread = result.thread_id
                _print(result, as_json, user)
        except (ModelUnavailable, ThreadNotFound) as exc:
            raise fail(str(exc)) from None
