"""The Gradio app: persona picker, chat with tool panels, history inspector, benchmark view.

Why a builder function: the app gets its stores and its chat model from the caller (``ptool ui``,
tests), does nothing at import time, and keeps per-browser state in one ``gr.State`` (a frozen
:class:`~ui.session.BrowserSession`). Everything shared -- the workspace handles, the catalog's
tool embeddings -- is read-only or a store that is safe to share, so two people chatting at once
never see each other's conversations.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import gradio as gr
from sqlalchemy.engine import make_url

from assistant.checkpoints import checkpoint_path
from ui.chat_adapter import ChatModelFactory, ChatService
from ui.errors import UsageError
from ui.session import BrowserSession
from ui.tabs import bench, chat, history, persona
from ui.wiring import Workspace

CSS = """
#chatbot .message-wrap { font-size: 0.95rem; }
#persona-choices label { min-width: 14rem; }
"""


def build_app(workspace: Workspace, chat_model_factory: ChatModelFactory) -> gr.Blocks:
    """Assemble the app. ``chat_model_factory`` is called once per chat turn or benchmark run."""
    svc = ChatService(workspace, chat_model_factory)
    with gr.Blocks(title="ptool — personalized tool invocation") as demo:
        state = gr.State(BrowserSession())
        gr.Markdown("## ptool — a personalized tool-invocation assistant\n"
                    "Pick a persona, ask for something (\"order me a hamburger\"), and see which "
                    "platform it chose, why, and where every argument came from.")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Persona", id="persona", elem_id="tab-persona"):
                people = persona.build(workspace, state)
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                talk = chat.build(svc, state)
            with gr.Tab("History", id="history", elem_id="tab-history") as hist_tab:
                hist = history.build(svc, state)
            with gr.Tab("Benchmark", id="benchmark", elem_id="tab-benchmark"):
                runs = bench.build(svc)

        def refresh_chat(sess: BrowserSession) -> tuple[str, list[dict[str, object]], gr.Radio]:
            return chat.refresh(svc, sess)

        def refresh_people(sess: BrowserSession) -> gr.Radio:
            return gr.Radio(choices=persona.search_personas(workspace, ""), value=sess.username)

        chat_outputs = talk.refresh_outputs()
        people.picked.then(refresh_chat, state, chat_outputs).then(
            hist.refresh, hist.inputs, hist.outputs)
        hist.forgot.then(refresh_chat, state, chat_outputs).then(refresh_people, state,
                                                                  people.choices)
        # the chat records new events: show the store as it is whenever the tab is opened
        hist_tab.select(hist.refresh, hist.inputs, hist.outputs)
        demo.load(runs.reload, None, runs.run)
    return demo


# -- how the app is served ----------------------------------------------------------------------
#
# Gradio serves any file under ``allowed_paths`` to anyone who can reach the port
# (``/gradio_api/file=<path>``). The workspace holds every persona's profile and history, so
# only the benchmark runs folder (the plots the Benchmark tab shows) is allowed, and the
# databases and the history index are blocked on top (``blocked_paths`` wins over everything).

Auth = tuple[str, str]
LOOPBACK_NAMES = frozenset({"localhost"})
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")
"""A SQLite database is its file plus these companions; each holds rows."""


def is_loopback(host: str) -> bool:
    """Only this machine can connect: ``localhost``, 127.0.0.0/8 or ``::1`` (``0.0.0.0`` and
    ``::`` listen on every interface)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_auth(text: str) -> Auth:
    """``USER:PASSWORD`` -> (user, password); the password may itself contain ``:``."""
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise UsageError("--auth / PTOOL_UI_AUTH must be USER:PASSWORD, e.g. ana:correct-horse")
    return user.strip(), password


def check_exposure(host: str, auth: Auth | None) -> None:
    """Refuse to serve every persona's data to a network without a login."""
    if auth is None and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host} without a login: anyone who can reach it could read "
            "and change every persona's data; pass --auth USER:PASSWORD (or set PTOOL_UI_AUTH), "
            "or use --host 127.0.0.1")


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def served_paths(workspace: Workspace) -> list[str]:
    """What the browser may fetch by path: the benchmark runs folder, nothing else."""
    return [str(bench.runs_dir(workspace).resolve())]


def private_paths(workspace: Workspace) -> list[str]:
    """Never served, even if inside a served folder: databases (with their WAL/journal files),
    chat checkpoints and the history index."""
    settings = workspace.settings
    databases = [checkpoint_path(settings.workspace)]
    profile_db = _sqlite_file(settings.resolved_database_url)
    if profile_db is not None:
        databases.append(profile_db)
    paths = [db.with_name(db.name + side) for db in databases for side in SQLITE_SIDE_FILES]
    if not settings.chroma_url:
        paths.append(settings.resolved_chroma_path)
    return [str(p.resolve()) for p in paths]


def launch_options(workspace: Workspace, host: str = "127.0.0.1", port: int | None = None,
                   auth: Auth | None = None) -> dict[str, Any]:
    """``demo.launch`` keywords: localhost unless a login is set, only the run plots readable."""
    check_exposure(host, auth)
    return {"server_name": host, "server_port": port, "css": CSS, "show_error": True,
            "auth": auth, "allowed_paths": served_paths(workspace),
            "blocked_paths": private_paths(workspace)}
