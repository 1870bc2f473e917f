"""Persona picker: search personas by name, show the chosen one's basic features.

Handlers are plain functions of the workspace and their inputs, so tests call them directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlmodel import Session

from profiles import crud
from ui.render import md_cell, md_code
from ui.session import BrowserSession
from ui.wiring import Workspace

MAX_SHOWN = 30


def search_personas(ws: Workspace, text: str) -> list[tuple[str, str]]:
    """(label, username) of personas whose username or full name contains ``text``."""
    needle = text.strip().lower()
    with Session(ws.engine) as session:
        users = crud.list_users(session=session)
    out = [(f"{u.username} — {u.basic_features.get('name', '')}", u.username) for u in users
           if not needle or needle in u.username.lower()
           or needle in str(u.basic_features.get("name", "")).lower()]
    return out[:MAX_SHOWN]


def pick(ws: Workspace, username: str | None,
         sess: BrowserSession) -> tuple[BrowserSession, str]:
    """Chat as ``username`` from now on (a new conversation); returns the persona card."""
    if not username:
        return sess, "Pick a persona to chat as."
    user_id, name, text = persona_card(ws, username)
    return sess.with_user(user_id, name), text


def persona_card(ws: Workspace, username: str) -> tuple[str, str, str]:
    """(user id, username, markdown card with basic features and history counts)."""
    with Session(ws.engine) as session:
        user = crud.require_user(session=session, name_or_id=username)
        counts = Counter(e.scenario for e in crud.list_events(session=session, user_id=user.id))
        features = dict(user.basic_features)
        user_id, name = user.id, user.username
    # profile data is shown literally: a feature value may hold any text
    rows = "\n".join(f"| {md_cell(k.replace('_', ' '))} | {md_cell(v)} |"
                     for k, v in features.items())
    hist = ", ".join(f"{md_cell(s)}: {n}" for s, n in sorted(counts.items())) or "no events"
    title = md_cell(features.get("name", name))
    card = (f"### {title} ({md_code(name)})\n\n| feature | value |\n|---|---|\n"
            f"{rows}\n\n**History:** {sum(counts.values())} events — {hist}")
    return user_id, name, card


@dataclass
class PersonaTab:
    search: gr.Textbox
    choices: gr.Radio
    card: gr.Markdown
    picked: Any
    """The pick event: the app chains the chat and history refreshes on it with ``.then``."""


def build(ws: Workspace, state: gr.State) -> PersonaTab:
    """Lay out the tab and wire its own events."""
    search = gr.Textbox(label="Search personas by name", placeholder="e.g. chloe92 or Moreau",
                        elem_id="persona-search")
    choices = gr.Radio(choices=search_personas(ws, ""), label="Personas",
                       elem_id="persona-choices")
    card = gr.Markdown("Pick a persona to chat as.", elem_id="persona-card")

    def on_search(text: str) -> gr.Radio:
        return gr.Radio(choices=search_personas(ws, text))

    def on_pick(username: str | None, sess: BrowserSession) -> tuple[BrowserSession, str]:
        return pick(ws, username, sess)

    search.change(on_search, search, choices)
    pick_event = choices.change(on_pick, [choices, state], [state, card])
    return PersonaTab(search=search, choices=choices, card=card, picked=pick_event)


