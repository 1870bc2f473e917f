"""Read a chat model's answer: its text (fences and a sentence around the answer tolerated) or
its OpenAI tool calls, into the paper's :class:`~ptbench.answers.ParsedOutput`.

Why here and not in :mod:`ptbench.answers`: only the runtime meets LangChain messages and the
chatter of small models; the paper's format itself is parsed and rendered in ``ptbench``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ptbench.answers import Call, ParsedOutput, ParseError, parse_output


def message_text(content: Any) -> str:
    """The text of a chat message's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b if isinstance(b, str) else str(b.get("text", "")) for b in content
                 if isinstance(b, str | dict)]
        return "".join(parts)
    return str(content)


def _candidates(text: str) -> list[str]:
    """The whole answer first, then the pieces a chatty model may wrap it in."""
    stripped = text.strip()
    out = [stripped]
    if "```" in stripped:
        for block in stripped.split("```")[1::2]:
            first, _, rest = block.partition("\n")
            out.append(rest.strip() if first.strip().isalpha() else block.strip())
    for line in stripped.splitlines():
        line = line.strip()
        if ":" in line and ("[" in line or "(" in line):
            out.append(line)
    if "{" in stripped and "}" in stripped:
        out.append(stripped[stripped.index("{"): stripped.rindex("}") + 1])
    return list(dict.fromkeys(c for c in out if c))


def parse_answer_text(text: str) -> ParsedOutput:
    """Parse an answer in the text or JSON form, tolerating fences and a sentence around it."""
    first_error: ParseError | None = None
    for candidate in _candidates(text):
        try:
            return parse_output(candidate, "auto")
        except ParseError as exc:
            first_error = first_error or exc
    raise first_error or ParseError("empty answer")


def parse_tool_calls(
    tool_calls: list[dict[str, Any]], owner_of: Callable[[str], str | None]
) -> ParsedOutput:
    """OpenAI-style tool calls (``[{"name", "args"}]``); the platform is the first call's owner."""
    calls = [Call(name=str(tc["name"]), arguments=dict(tc.get("args") or {}))
             for tc in tool_calls]
    owners = [o for o in (owner_of(c.name) for c in calls) if o]
    if not owners:
        raise ParseError("tool calls name no API of a listed platform")
    return ParsedOutput(platform=owners[0], calls=calls)
