"""The app in headless Chromium: pick, chat, panels, confirmation, history search, two sessions
at once.

Screenshots of every tab are written to ``$UI_SCREENSHOT_DIR`` when it is set (docs/ui-*.png are
made that way: ``UI_SCREENSHOT_DIR=docs pytest -m browser tests/ui``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import RunningApp

pytestmark = pytest.mark.browser
TIMEOUT_MS = 90_000
ALICE_PHONE, BOB_PHONE = "+1-415-555-0101", "+1-212-555-0199"


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("UI_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"ui-{name}.png"), full_page=True)


def _open_as(browser: Any, app: RunningApp, search: str, label: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app.url)
    page.get_by_label("Search personas by name").fill(search)
    page.get_by_label(label).check()
    page.locator("#persona-card").get_by_text(label.split(" — ")[1]).first.wait_for()
    return page


def _send(page: Any, text: str) -> None:
    page.get_by_role("tab", name="Chat").click()
    page.locator("#chat-input textarea").fill(text)
    page.locator("#chat-send").click()


def test_pick_chat_see_panels_then_search_history(browser: Any, app: RunningApp) -> None:
    page = _open_as(browser, app, "moreau", "alice — Alice Moreau")
    card = page.locator("#persona-card")
    assert ALICE_PHONE in card.inner_text() and "home address" in card.inner_text()
    _shot(page, "persona")

    _send(page, "order me a hamburger")
    chatbot = page.locator("#chatbot")
    chatbot.get_by_text("Platform: FastFood").wait_for()
    for title in ("History evidence (3 events)", "Call: FastFood_orderFood",
                  "Validation: passed"):
        chatbot.get_by_text(title).wait_for()
    # an order changes something: the exact call waits for a yes, nothing has run yet
    chatbot.get_by_text("Before I do this on FastFood").wait_for()
    assert "FastFood response" not in chatbot.inner_text()
    chatbot.get_by_role("button", name="Yes, send it").click()
    chatbot.get_by_text("FastFood response: FastFood_orderFood").wait_for()
    chatbot.get_by_text("Call: FastFood_orderFood").last.click()  # panels start collapsed
    chatbot.locator("td").filter(has_text="home_address").wait_for()
    assert "profile field" in chatbot.inner_text()
    page.locator("#chat-threads").get_by_text("order me a hamburger").wait_for()
    _shot(page, "chat")

    page.get_by_role("tab", name="History").click()
    new_event = page.locator("#hist-table").get_by_text("orderFood")  # recorded by the chat
    new_event.filter(visible=True).first.wait_for()
    page.locator("#hist-query textarea").fill("cheeseburger")
    page.locator("#hist-search").click()
    page.locator("#hist-hits").get_by_text("ordered a double cheeseburger").filter(
        visible=True).first.wait_for()
    _shot(page, "history")

    page.context.close()


def test_a_small_benchmark_run_from_the_browser(browser: Any, app: RunningApp) -> None:
    page = _open_as(browser, app, "alice", "alice — Alice Moreau")
    page.get_by_role("tab", name="Benchmark").click()
    page.get_by_text("Start a small run").click()
    page.get_by_label("Samples per split").first.fill("1")
    page.get_by_label("Run name (blank: time stamp)").fill("tiny")
    page.locator("#bench-start").click()
    page.locator("#bench-status").get_by_text("Finished tiny").wait_for()
    page.locator("#bench-table").get_by_text("overall").filter(visible=True).first.wait_for()
    page.locator("#bench-plots img").first.wait_for()
    page.get_by_text("Start a small run").click()  # fold it away for the picture
    _shot(page, "benchmark")
    page.context.close()


def test_consent_is_answered_inside_the_chat(browser: Any, app: RunningApp) -> None:
    page = _open_as(browser, app, "alice", "alice — Alice Moreau")
    _send(page, "order me a sushi platter on NewEats")
    chatbot = page.locator("#chatbot")
    chatbot.get_by_text("You have never used NewEats").wait_for()
    chatbot.get_by_role("button", name="Yes, send it").click()
    chatbot.get_by_text("NewEats response: NewEats_orderFood").wait_for()
    page.context.close()


def test_two_sessions_chat_at_once_without_cross_talk(browser: Any, app: RunningApp) -> None:
    alice = _open_as(browser, app, "alice", "alice — Alice Moreau")
    bob = _open_as(browser, app, "bob", "bob — Bob Stone")
    _send(alice, "order me a hamburger")
    _send(bob, "order me a veggie wrap")  # both turns are now in flight (the model sleeps)
    seen: dict[str, str] = {}

    def wait(name: str, page: Any) -> None:
        page.locator("#chatbot").get_by_text("Validation: passed").wait_for()
        seen[name] = page.locator("#chatbot").inner_text()

    # playwright's sync pages belong to this thread: wait on each in turn, the server runs both
    wait("alice", alice)
    wait("bob", bob)
    assert "hamburger" in seen["alice"] and "veggie wrap" not in seen["alice"]
    assert "veggie wrap" in seen["bob"] and "hamburger" not in seen["bob"]
    for page, name, mine, other in ((alice, "alice", ALICE_PHONE, BOB_PHONE),
                                    (bob, "bob", BOB_PHONE, ALICE_PHONE)):
        page.locator("#chatbot").get_by_text("Call:").first.click()
        text = page.locator("#chatbot").inner_text()
        assert mine in text and other not in text, name
        assert page.locator("#chat-header").inner_text().startswith(f"Chatting as {name}")
        assert len(page.locator("#chat-threads label").all()) >= 1
    alice_threads = alice.locator("#chat-threads").inner_text()
    assert "hamburger" in alice_threads and "veggie wrap" not in alice_threads
    alice.context.close()
    bob.context.close()
