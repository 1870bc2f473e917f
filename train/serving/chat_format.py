"""How OpenAI chat messages and tools become model text, and how tool calls come back out.

Why here: the small bundled models' chat templates know nothing about tools, so the server puts
the tool list into the system message and expects calls in the Hermes format
(``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``) — the same format vLLM's
``--tool-call-parser hermes`` reads on GPU hosts, so one adapter works on both engines. The SFT
data builder must render training examples with :func:`to_template_messages` too: one source of
truth for what the model sees.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
_TOOL_CALL_RE = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)

TOOLS_PREAMBLE = (
    "You may call one or more functions to assist with the user query. The functions are "
    "listed as JSON Schemas inside <tools></tools>:\n<tools>\n{tools}\n</tools>\n"
    "To call a function, answer with a JSON object holding the function name and its arguments "
    'inside <tool_call></tool_call> tags:\n<tool_call>\n{{"name": <function-name>, '
    '"arguments": <args-json-object>}}\n</tool_call>'
)


@dataclass(frozen=True)
class ParsedToolCall:
    """A tool call found in model output: its name and arguments as a JSON string."""

    name: str
    arguments: str
    id: str


def _text(content: Any) -> str:
    """OpenAI content may be a string or a list of text parts; the model sees plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def render_tool_call(name: str, arguments: str | dict[str, Any]) -> str:
    """One call in the exact text form the model is trained and constrained to produce."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return (
        f'{TOOL_CALL_OPEN}\n{{"name": {json.dumps(name)}, "arguments": {args}}}\n{TOOL_CALL_CLOSE}'
    )


def tool_call_prefix(name: str) -> str:
    """The fixed text of a call up to its arguments; constrained decoding starts after it."""
    return f'{TOOL_CALL_OPEN}\n{{"name": {json.dumps(name)}, "arguments": '


TOOL_CALL_SUFFIX = f"}}\n{TOOL_CALL_CLOSE}"


def to_template_messages(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
) -> list[dict[str, str]]:
    """Flatten OpenAI messages (tool calls, tool results, tools) into system/user/assistant text.

    Tool results go back as a user turn wrapped in ``<tool_response>``, as Qwen2.5 and Hermes do;
    that keeps any chat template (even one with strict role alternation) usable.
    """
    out: list[dict[str, str]] = []
    if tools:
        listing = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        block = TOOLS_PREAMBLE.format(tools=listing)
        if messages and messages[0].get("role") in ("system", "developer"):
            out.append(
                {"role": "system", "content": f"{_text(messages[0].get('content'))}\n\n{block}"}
            )
            messages = messages[1:]
        else:
            out.append({"role": "system", "content": block})
    for msg in messages:
        role = msg.get("role")
        if role == "developer":
            role = "system"
        if role == "assistant":
            parts = [_text(msg.get("content"))] if msg.get("content") else []
            for call in msg.get("tool_calls") or []:
                fn = call.get("function", {})
                parts.append(render_tool_call(fn.get("name", ""), fn.get("arguments", "{}")))
            out.append({"role": "assistant", "content": "\n".join(parts)})
        elif role == "tool":
            body = f"<tool_response>\n{_text(msg.get('content'))}\n</tool_response>"
            if (
                out
                and out[-1]["role"] == "user"
                and out[-1]["content"].startswith("<tool_response>")
            ):
                out[-1]["content"] += "\n" + body
            else:
                out.append({"role": "user", "content": body})
        else:
            out.append({"role": str(role), "content": _text(msg.get("content"))})
    return out


def parse_tool_calls(text: str) -> tuple[str, list[ParsedToolCall]]:
    """Split model output into (free text, tool calls); malformed call blocks stay as text."""
    calls: list[ParsedToolCall] = []
    kept: list[str] = []
    last = 0
    for match in _TOOL_CALL_RE.finditer(text):
        try:
            obj = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            continue
        args = obj.get("arguments", {})
        calls.append(
            ParsedToolCall(
                name=obj["name"],
                arguments=json.dumps(args, ensure_ascii=False),
                id=f"call_{uuid.uuid4().hex[:24]}",
            )
        )
        kept.append(text[last : match.start()])
        last = match.end()
    kept.append(text[last:])
    return "".join(kept).strip(), calls


def render_prompt(
    tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
) -> str:
    """The prompt text the model is fed: chat template with the generation prompt. The server and
    the training encoder both use this, so a trained prompt is token-for-token the served one
    (tokenize the result with ``add_special_tokens=False``)."""
    text: str = tokenizer.apply_chat_template(
        to_template_messages(messages, tools), add_generation_prompt=True, tokenize=False
    )
    return text
