"""When the request itself settles the platform: the user named it, or referred to a record.

Why this is code and not left to the model: "order it on LuxeLane" and "where is my order
ORD-27181" leave nothing to infer, yet the fine-tuned 135M model overruled them about a third of
the time on the frozen benchmark (``bench/platform_breakdown.py``: "explicit" and "record" keys).
An assistant must never silently move a user's order to a platform they did not pick, so a pin
narrows the answer grammar to that platform and validation rejects any other (``nodes``); the
model still writes the calls. The panel in the UI says why the platform was fixed.

A pin needs one unambiguous reading: exactly one listed platform named as a whole word, or a
record id (letters, an optional dash, three or more digits: ``ORD-27181``, ``INV2024``) that
this user's history shows on exactly one platform. Named and referred platforms that disagree
pin nothing. Only the requesting user's own events are searched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.state import Event, Pin

RECORD_ID = re.compile(r"\b[A-Za-z]{1,8}-?\d{3,}\b")
"""The shape of a record reference (order, booking, ticket number) in a request."""


def named_platforms(request: str, platforms: Sequence[str]) -> list[str]:
    """Listed platforms the request names as whole words (case-insensitive)."""
    return [p for p in platforms
            if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", request, flags=re.IGNORECASE)]


def record_platforms(request: str, events: Sequence[Event]) -> dict[str, set[str]]:
    """{record id in the request: platforms of this user's events that mention it}."""
    out: dict[str, set[str]] = {}
    for record in dict.fromkeys(RECORD_ID.findall(request)):
        pattern = re.compile(rf"(?<![\w-]){re.escape(record)}(?![\w-])", flags=re.IGNORECASE)
        out[record] = {e["platform"] for e in events if pattern.search(e["action"])}
    return out


def find_pin(request: str, platforms: Sequence[str], events: Sequence[Event]) -> Pin | None:
    """The platform the request fixes, with the reason shown to the user; ``None`` when the
    model has to choose. ``events`` is the requesting user's history of this scenario."""
    named = named_platforms(request, platforms)
    by_record = {record: home for record, found in record_platforms(request, events).items()
                 if len(found) == 1 and (home := next(iter(found))) in platforms}
    choices = set(named) | set(by_record.values())
    if len(choices) != 1:
        return None
    platform = choices.pop()
    if named:
        return {"platform": platform, "reason": f"the request names {platform}"}
    record = next(r for r, p in by_record.items() if p == platform)
    return {"platform": platform, "reason": f"{record} in your history is on {platform}"}
