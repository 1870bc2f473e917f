"""Chat tab: talk to the assistant as the picked persona; every tool step is a collapsible panel.

Clarifying questions are ordinary assistant messages (the next message answers them: the graph
keeps the pending request); consent questions carry Yes/No buttons under the message and typing
yes/no works too. Each handler takes and returns the session value, never shared state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.errors import ModelUnavailable, ThreadNotFound
from profiles.crud import UnknownUser
from ui import render
from ui.chat_adapter import ChatService
from ui.render import Message
from ui.session import BrowserSession

USER_ERRORS: tuple[type[Exception], ...] = (ModelUnavailable, ThreadNotFound, UnknownUser)
NO_PERSONA = "Pick a persona in the **Persona** tab first."


def header(sess: BrowserSession) -> str:
    if not sess.username:
        return NO_PERSONA
    where = (f"thread {render.md_code(sess.thread_id)}" if sess.thread_id
             else "a new conversation")
    return f"Chatting as **{render.md_text(sess.username)}** — {where}."


def thread_choices(svc: ChatService, sess: BrowserSession) -> list[tuple[str, str]]:
    if not sess.user_id:
        return []
    return [(f"{t.title} · {t.updated}", t.id) for t in svc.threads(sess.user_id)]


def send(svc: ChatService, text: str, history: list[Message],
         sess: BrowserSession) -> tuple[list[Message], BrowserSession]:
    """Run one turn and append the request, its panels and the answer."""
    text = text.strip()
    if not text:
        return history, sess
    history = [*history, render.user_message(text)]
    if not sess.username:
        return [*history, render.error_message(NO_PERSONA)], sess
    try:
        result = svc.send(user=sess.user_id or sess.username, text=text,
                          thread_id=sess.thread_id)
    except USER_ERRORS as exc:
        return [*history, render.error_message(str(exc))], sess
    return [*history, *render.turn_messages(result)], sess.with_thread(result.thread_id)


def answer_consent(svc: ChatService, granted: bool, history: list[Message],
                   sess: BrowserSession) -> tuple[list[Message], BrowserSession]:
    """A click on Yes/No under a consent question resumes the paused turn."""
    if not sess.thread_id:
        return history, sess
    # the buttons belong to the question: drop them so it cannot be answered twice
    history = [{k: v for k, v in m.items() if k != "options"} for m in history]
    history.append(render.user_message("yes" if granted else "no"))
    try:
        result = svc.consent(thread_id=sess.thread_id, granted=granted)
    except USER_ERRORS as exc:
        return [*history, render.error_message(str(exc))], sess
    return [*history, *render.turn_messages(result)], sess


def open_thread(svc: ChatService, thread_id: str | None,
                sess: BrowserSession) -> tuple[list[Message], BrowserSession]:
    if not thread_id or not sess.user_id:
        return [], sess
    if thread_id not in {t.id for t in svc.threads(sess.user_id)}:
        return [render.error_message(f"no thread {thread_id} for {sess.username}")], sess
    return render.replay_messages(svc.replay(thread_id)), sess.with_thread(thread_id)


@dataclass
class ChatTab:
    header: gr.Markdown
    chatbot: gr.Chatbot
    threads: gr.Radio

    def refresh_outputs(self) -> list[Any]:
        return [self.header, self.chatbot, self.threads]


def build(svc: ChatService, state: gr.State) -> ChatTab:
    """Lay out the tab and wire its events (concurrency 2: two sessions may chat at once)."""
    with gr.Row():
        with gr.Column(scale=1, min_width=220):
            new = gr.Button("New conversation", elem_id="chat-new")
            threads = gr.Radio(choices=[], label="Past conversations", elem_id="chat-threads")
        with gr.Column(scale=4):
            head = gr.Markdown(NO_PERSONA, elem_id="chat-header")
            chatbot = gr.Chatbot(label="Assistant", height=560, elem_id="chatbot",
                                 feedback_options=None, buttons=["copy"])
            with gr.Row():
                box = gr.Textbox(placeholder="e.g. order me a hamburger", show_label=False,
                                 scale=5, elem_id="chat-input", submit_btn=False)
                go = gr.Button("Send", variant="primary", scale=1, elem_id="chat-send")

    def on_send(text: str, history: list[Message], sess: BrowserSession
                ) -> tuple[list[Message], BrowserSession, str, str, gr.Radio]:
        history, sess = send(svc, text, history, sess)
        return (history, sess, "", header(sess),
                gr.Radio(choices=thread_choices(svc, sess), value=sess.thread_id))

    def on_option(evt: gr.SelectData, history: list[Message], sess: BrowserSession
                  ) -> tuple[list[Message], BrowserSession]:
        return answer_consent(svc, str(evt.value).lower().startswith("yes"), history, sess)

    def on_new(sess: BrowserSession) -> tuple[list[Message], BrowserSession, str, gr.Radio]:
        sess = sess.with_thread(None)
        return [], sess, header(sess), gr.Radio(value=None)

    def on_thread(thread_id: str | None, sess: BrowserSession
                  ) -> tuple[list[Message], BrowserSession, str]:
        if not thread_id or thread_id == sess.thread_id:
            return gr.skip(), sess, header(sess)
        history, sess = open_thread(svc, thread_id, sess)
        return history, sess, header(sess)

    outputs = [chatbot, state, box, head, threads]
    for trigger in (go.click, box.submit):
        trigger(on_send, [box, chatbot, state], outputs, concurrency_limit=2,
                concurrency_id="chat")
    chatbot.option_select(on_option, [chatbot, state], [chatbot, state], concurrency_limit=2,
                          concurrency_id="chat")
    new.click(on_new, state, [chatbot, state, head, threads])
    threads.input(on_thread, [threads, state], [chatbot, state, head])
    return ChatTab(header=head, chatbot=chatbot, threads=threads)


def refresh(svc: ChatService, sess: BrowserSession) -> tuple[str, list[Message], gr.Radio]:
    """After a persona pick or a forget: empty chat, that persona's threads."""
    return header(sess), [], gr.Radio(choices=thread_choices(svc, sess), value=None)
