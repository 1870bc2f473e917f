"""What one browser session remembers: the persona it chats as and its open thread.

Why a small frozen value in ``gr.State``: Gradio copies a ``gr.State`` default for every browser
session, so two tabs never share it, and handlers return a new value instead of mutating one --
there is no module-level or app-level mutable state anywhere in ``ui/``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class BrowserSession:
    user_id: str | None = None
    username: str | None = None
    thread_id: str | None = None

    def with_user(self, user_id: str, username: str) -> BrowserSession:
        return BrowserSession(user_id=user_id, username=username, thread_id=None)

    def with_thread(self, thread_id: str | None) -> BrowserSession:
        return replace(self, thread_id=thread_id)
