"""``ptool ui``: the Gradio app on localhost, with the embedded defaults started for you.

Why here: this is the composition root for the app -- it reads settings, creates the workspace
when there is none (``ptool setup``), starts the embedded CPU model server when no endpoint is
configured (``train.client.endpoint``), and stops it again when the app stops.
"""

from __future__ import annotations

from typing import Annotated

import typer
from langchain_core.language_models import BaseChatModel
from rich.console import Console

from profiles.db import StoreUnavailable
from ui.errors import cli_errors
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace

console = Console()


def register(app: typer.Typer) -> None:
    """Add ``ptool ui`` to the ``ptool`` app."""
    app.command("ui")(ui)


def _open_or_setup(settings: Settings) -> Workspace:
    try:
        return open_workspace(settings)
    except StoreUnavailable:
        from ui.commands.store import setup

        console.print(f"no workspace at {settings.workspace}: running `ptool setup` first")
        setup()
        return open_workspace(settings)


@cli_errors
def ui(
    host: Annotated[str, typer.Option(help="Interface to listen on (localhost by default).")] = (
        "127.0.0.1"),
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
) -> None:
    """Start the web app: persona picker, chat with tool panels, history, benchmark runs.

    Uses PTOOL_MODEL_BASE_URL when set; otherwise starts the embedded model server (first start
    ~20 s) and stops it when you press Ctrl+C.
    """
    from train.client import endpoint, make_chat_model
    from ui.app import build_app, launch_options

    settings = Settings()
    ws = _open_or_setup(settings)
    if not settings.model_base_url:
        console.print("PTOOL_MODEL_BASE_URL is unset: starting the embedded model server ...")
    with endpoint(settings.model_base_url, workspace=settings.workspace) as url:

        def chat_model() -> BaseChatModel:
            return make_chat_model(url, settings.model_name, settings.model_api_key)

        demo = build_app(ws, chat_model)
        console.print(f"model endpoint {url}; open http://{host}:{port} (Ctrl+C stops)")
        try:
            demo.launch(**launch_options(ws, host, port))
        finally:
            demo.close()
            ws.engine.dispose()
