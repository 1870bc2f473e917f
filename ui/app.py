"""The Gradio app: persona picker, chat with tool panels, history inspector, benchmark view.

Why a builder function: the app gets its stores and its chat model from the caller (``ptool ui``,
tests), does nothing at import time, and keeps per-browser state in one ``gr.State`` (a frozen
:class:`~ui.session.BrowserSession`). Everything shared -- the workspace handles, the catalog's
tool embeddings -- is read-only or a store that is safe to share, so two people chatting at once
never see each other's conversations.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.chat_adapter import ChatModelFactory, ChatService
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


def launch_options(workspace: Workspace, host: str = "127.0.0.1",
                   port: int | None = None) -> dict[str, Any]:
    """``demo.launch`` keywords: localhost, and the workspace readable for the run plots."""
    return {"server_name": host, "server_port": port, "css": CSS, "show_error": True,
            "allowed_paths": [str(workspace.settings.workspace.resolve())]}
