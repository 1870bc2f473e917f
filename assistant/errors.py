"""Failures the assistant reports to its caller; each message says what to do next."""

from __future__ import annotations


class ModelUnavailable(RuntimeError):
    """The chat model endpoint did not answer. The thread keeps its earlier turns."""


class ThreadNotFound(LookupError):
    """No chat thread with that id belongs to this user."""
