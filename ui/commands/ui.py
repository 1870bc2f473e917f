"""``ptool ui``: the Gradio app on localhost, with the embedded defaults started for you.

Why here: this is the composition root for the app -- it reads settings, creates the workspace
when there is none (``ptool setup``), starts the embedded CPU model server when no endpoint is
configured (``train.serving.client.endpoint``), and stops it again when the app stops. It refuses to
listen beyond this machine without a login (:func:`ui.app.check_exposure`) before it starts
anything.
"""

from __future__ import annotations

from typing import Annotated

import typer
from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.markup import escape

from profiles.db import StoreUnavailable
from ui.errors import cli_errors
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace

console = Console(highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``ptool ui`` to the ``ptool`` app."""
    app.command("ui")(ui)


def _open_or_setup(settings: Settings) -> Workspace:
    try:
        return open_workspace(settings)
    except StoreUnavailable:
        from ui.commands.store import setup

        console.print(f"no workspace at {escape(str(settings.workspace))}: running `ptool setup` "
                      "first")
        setup()
        return open_workspace(settings)


@cli_errors
def ui(
    host: Annotated[str, typer.Option(
        help="Interface to listen on (localhost by default; any other needs --auth).")] = (
        "127.0.0.1"),
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
    auth: Annotated[str | None, typer.Option(
        help="USER:PASSWORD the app asks for. PTOOL_UI_AUTH does the same and keeps the "
        "password out of the process list.")] = None,
) -> None:
    """Start the web app: persona picker, chat with tool panels, history, benchmark runs.

    Uses PTOOL_MODEL_BASE_URL when set; otherwise starts the embedded model server (first start
    ~20 s) and stops it when you press Ctrl+C.
    """
    from ui.app import build_app, check_exposure, launch_options, parse_auth

    settings = Settings()
    secret = auth or (settings.ui_auth.get_secret_value() if settings.ui_auth else None)
    login = parse_auth(secret) if secret else None
    check_exposure(host, login)  # before anything is created or started
    from train.serving.client import endpoint, make_chat_model

    ws = _open_or_setup(settings)
    if not settings.model_base_url:
        console.print("PTOOL_MODEL_BASE_URL is unset: starting the embedded model server ...")
    with endpoint(settings.model_base_url, workspace=settings.workspace,
                  api_key=settings.model_api_key) as url:

        def chat_model() -> BaseChatModel:
            return make_chat_model(url, settings.model_name, settings.model_api_key)

        demo = build_app(ws, chat_model)
        console.print(f"model endpoint {escape(url)}; open http://{escape(host)}:{port} "
                      "(Ctrl+C stops)")
        try:
            demo.launch(**launch_options(ws, host, port, login))
        finally:
            demo.close()
            ws.engine.dispose()
