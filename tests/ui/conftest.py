"""A small real workspace for the app (catalog + personas of the assistant tests) and a scripted
chat model that answers from what the prompt shows it.

Why a prompt-reading fake instead of a queue: the browser tests run two sessions at once, and a
queue would hand one persona's answer to the other. This fake fills the call from the *profile in
the prompt* it receives, so any cross-talk between sessions would show up as the wrong phone
number in a panel. It is for the app's control flow only; the real model has its own test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from assistant import accounts
from profiles.io import read_persona_file
from tests.assistant.conftest import PERSONAS, write_catalog
from ui.app import build_app, launch_options
from ui.chat_adapter import ChatService
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace


def _section(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.S)
    return match.group(1) if match else ""


class ProfileEchoModel(BaseChatModel):
    """Orders the dish the request names, on the platform the request names or else the one
    the retrieved history shows most, filling address and phone from the prompt's profile."""

    delay_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "profile-echo-fake"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        system, request = str(messages[0].content), str(messages[1].content).lower()
        profile = dict(line.split(": ", 1) for line in _section(system, "profile").splitlines()
                       if ": " in line)
        platforms = re.findall(r"^(\w+) \(", _section(system, "platforms"), re.M)
        used = Counter(re.findall(r"^- \[(\w+)\]", _section(system, "history"), re.M))
        named = [p for p in platforms if p.lower() in request]
        platform = named[0] if named else (used.most_common(1)[0][0] if used else platforms[0])
        dish = re.search(r"order me an? ([a-z ]+?)(?: on \w+)?$", request)
        args = [f"dish={(dish.group(1) if dish else 'hamburger')!r}", "quantity=1",
                f"delivery_address={profile.get('home_address', 'unknown')!r}"]
        if "phone" in profile:
            args.append(f"phone={profile['phone']!r}")
        time.sleep(self.delay_s)
        text = f"{platform}:[{platform}_orderFood({', '.join(args)})]"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def make_workspace(root: Path) -> Workspace:
    catalog = write_catalog(root / "catalog")
    seed = root / "personas.json"
    seed.write_text(json.dumps(PERSONAS), encoding="utf-8")
    settings = Settings(workspace=root / "ws", catalog_dir=catalog, seed_file=seed)
    ws = open_workspace(settings, create=True)
    accounts.seed_personas(engine=ws.engine, index=ws.index, personas=read_persona_file(seed))
    return ws


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path)
    yield ws
    ws.engine.dispose()


@pytest.fixture
def service(workspace: Workspace) -> ChatService:
    return ChatService(workspace, ProfileEchoModel)


# -- browser tests -----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
REQUIRE_BROWSER = os.environ.get("UI_REQUIRE_BROWSER") == "1"
"""CI sets this after scripts/install_browser.sh: a missing browser is then a failure."""

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the app in headless Chromium")


def _no_browser(reason: str) -> None:
    message = f"{reason}; install it with scripts/install_browser.sh"
    if REQUIRE_BROWSER:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Python's playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the Python package playwright is not installed")
    chromium = shutil.which("chromium") or CHROMIUM
    if not Path(chromium).is_file():
        _no_browser(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@dataclass
class RunningApp:
    url: str
    workspace: Workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(ws: Workspace, factory: Callable[[], BaseChatModel]) -> Iterator[RunningApp]:
    """The app on a free localhost port for the ``with`` block; always closed afterwards."""
    demo = build_app(ws, factory)
    port = free_port()
    demo.launch(**{**launch_options(ws, port=port), "prevent_thread_lock": True,
                   "quiet": True})
    try:
        yield RunningApp(url=f"http://127.0.0.1:{port}/", workspace=ws)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """One app per test module, with a fake model slow enough that two sessions overlap."""
    ws = make_workspace(tmp_path_factory.mktemp("app"))
    with serve(ws, lambda: ProfileEchoModel(delay_s=1.5)) as running:
        yield running
    ws.engine.dispose()
