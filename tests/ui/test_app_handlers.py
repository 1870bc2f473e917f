"""The app's handlers without a browser: real stores, real graph, a prompt-reading fake model."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import gradio as gr
import pytest

from tests.assistant.conftest import PERSONAS
from ui.app import build_app
from ui.chat_adapter import ChatService
from ui.session import BrowserSession
from ui.tabs import chat, history, persona
from ui.wiring import Workspace

ALICE_PHONE = "+1-415-555-0101"
SEEDED = sorted(str(u["username"]) for u in PERSONAS["users"])


def shown(markdown: object) -> str:
    """What a reader sees of escaped plain text: backslash escapes and entities resolved."""
    return html.unescape(re.sub(r"\\([\\`*_\[\]#|~!$])", r"\1", str(markdown)))


def _titles(messages: list[dict[str, object]]) -> list[str]:
    return [shown(m["metadata"]["title"]) for m in messages  # type: ignore[index]
            if m.get("metadata")]


def _as(ws: Workspace, name: str) -> BrowserSession:
    return persona.pick(ws, name, BrowserSession())[0]


def test_search_matches_username_and_full_name(workspace: Workspace) -> None:
    assert persona.search_personas(workspace, "MOREAU") == [("alice — Alice Moreau", "alice")]
    assert [v for _, v in persona.search_personas(workspace, "bo")] == ["bob"]
    assert len(persona.search_personas(workspace, "")) == len(SEEDED)


def test_pick_shows_basic_features_and_starts_fresh(workspace: Workspace) -> None:
    sess, card = persona.pick(workspace, "alice", BrowserSession(thread_id="old"))
    assert (sess.username, sess.user_id, sess.thread_id) == ("alice", "u-alice", None)
    assert ALICE_PHONE in card and "home address" in card and "takeout: 3" in card


def test_a_turn_shows_every_step_as_a_panel(service: ChatService, workspace: Workspace) -> None:
    history, sess = chat.send(service, "order me a hamburger", [], _as(workspace, "alice"))
    titles = _titles(history)
    assert titles == ["📚 History evidence (3 events)", "🏷️ Platform: FastFood",
                      "🔧 Call: FastFood_orderFood", "✅ Validation: passed"]
    call = next(m for m in history if "Call:" in str(m.get("metadata", {})))
    assert "| `phone` | +1-415-555-0101 | profile field | phone |" in str(call["content"])
    assert "your request" in str(call["content"])
    assert history[0] == {"role": "user", "content": "order me a hamburger"}
    assert "please confirm" in shown(history[-1]["content"])  # an order waits for a yes
    history, sess = chat.answer_consent(service, True, history, sess)
    assert _titles(history)[-1] == "📦 FastFood response: FastFood_orderFood"
    assert shown(history[-1]["content"]).startswith("Done: FastFood_orderFood")
    assert sess.thread_id and chat.thread_choices(service, sess)[0][1] == sess.thread_id


def test_consent_is_asked_in_the_chat_and_answered_by_button(
        service: ChatService, workspace: Workspace) -> None:
    history, sess = chat.send(service, "order me a sushi platter on NewEats", [],
                              _as(workspace, "alice"))
    assert "never used NewEats" in str(history[-1]["content"])
    assert [o["value"] for o in history[-1]["options"]] == ["yes", "no"]  # type: ignore[union-attr]
    assert not any("response" in t for t in _titles(history))  # nothing sent yet
    history, sess = chat.answer_consent(service, True, history, sess)
    assert not any("options" in m for m in history)  # cannot be answered twice
    assert "📦 NewEats response: NewEats_orderFood" in _titles(history)


def test_declined_consent_sends_nothing(service: ChatService, workspace: Workspace) -> None:
    history, sess = chat.send(service, "order me a sushi platter on NewEats", [],
                              _as(workspace, "alice"))
    history, _ = chat.answer_consent(service, False, history, sess)
    assert not any("response" in t for t in _titles(history))
    assert "NewEats" in str(history[-1]["content"])


def test_missing_profile_data_becomes_a_clarifying_question(
        service: ChatService, workspace: Workspace) -> None:
    history, _ = chat.send(service, "order me a hamburger", [], _as(workspace, "carol"))
    assert "phone" in str(history[-1]["content"]) and "options" not in history[-1]


def test_without_a_persona_the_chat_says_what_to_do(service: ChatService) -> None:
    history, sess = chat.send(service, "order me a hamburger", [], BrowserSession())
    assert "Persona" in str(history[-1]["content"]) and sess == BrowserSession()


def test_threads_replay_and_stay_private(service: ChatService, workspace: Workspace) -> None:
    history, alice = chat.send(service, "order me a hamburger", [], _as(workspace, "alice"))
    chat.answer_consent(service, True, history, alice)  # the turn finishes with the yes
    replay, same = chat.open_thread(service, alice.thread_id, _as(workspace, "alice"))
    assert same.thread_id == alice.thread_id
    assert replay[0]["content"] == "order me a hamburger" and len(replay) >= 3
    denied, bob = chat.open_thread(service, alice.thread_id, _as(workspace, "bob"))
    assert "no thread" in str(denied[0]["content"]) and bob.thread_id is None


def test_history_filters_search_and_chart(workspace: Workspace) -> None:
    sess = _as(workspace, "alice")
    table = history.events_table(workspace, sess)
    assert len(table) == 4 and list(table.columns) == history.EVENT_COLUMNS
    assert set(history.events_table(workspace, sess, "takeout", "FastFood")["platform"]) == {
        "FastFood"}
    future = datetime.now(UTC) + timedelta(days=400)
    assert history.events_table(workspace, sess, since="last 7 days", now=future).empty
    counts = history.counts_frame(table)
    assert counts.set_index("platform")["events"].to_dict() == {
        "FastFood": 2, "FineDine": 1, "SkyJet": 1}
    hits = history.semantic_search(workspace, sess, "cheeseburger")
    assert hits.iloc[0]["action"] == "ordered a double cheeseburger"
    assert history.semantic_search(workspace, BrowserSession(), "x").empty


def test_added_and_deleted_events_change_the_next_turn(
        service: ChatService, workspace: Workspace) -> None:
    sess = _as(workspace, "carol")
    message = history.add_event(workspace, sess, "takeout", "FineDine", "ordered a burger")
    assert message.startswith("Added event")
    assert "NewEats is not" in history.add_event(workspace, sess, "travel", "NewEats", "x")
    event_id = int(message.split()[2].rstrip(":"))
    chat_history, _ = chat.send(service, "order me a hamburger", [], sess)
    evidence = str(chat_history[1]["content"])
    assert "FineDine" in evidence and "ordered a burger" in evidence
    assert history.delete_event(workspace, sess, event_id) == f"Deleted event {event_id}."
    assert "has no event" in history.delete_event(workspace, _as(workspace, "bob"), 1)
    assert "ordered a burger" not in set(history.events_table(workspace, sess)["action"])


def test_forget_needs_confirmation_and_ends_the_session(
        service: ChatService, workspace: Workspace) -> None:
    sess = _as(workspace, "bob")
    message, same = history.forget(service, sess, confirmed=False)
    assert "confirmation" in message and same == sess
    message, cleared = history.forget(service, sess, confirmed=True)
    assert "Forgot **bob**" in message and cleared == BrowserSession()
    assert [v for _, v in persona.search_personas(workspace, "")] == [
        name for name in SEEDED if name != "bob"]
    reply, _ = chat.send(service, "order me a hamburger", [], sess)  # a stale browser tab
    assert "no such user" in str(reply[-1]["content"])


def test_build_app_has_the_four_tabs_and_per_session_state(workspace: Workspace) -> None:
    demo = build_app(workspace, lambda: pytest.fail("no model call while building"))
    assert isinstance(demo, gr.Blocks)
    labels = {b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)}
    assert labels == {"Persona", "Chat", "History", "Benchmark"}
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert len(states) == 1 and states[0].value == BrowserSession()
