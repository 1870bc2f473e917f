"""Turn results -> chat messages (plain dicts in Gradio's messages format). Pure functions.

Why separate from the handlers: what the user sees of a turn -- one collapsible panel per step
of the tool invocation -- is the part worth unit-testing without a browser, and keeping it free
of Gradio objects makes it trivially comparable. A message with ``metadata.title`` renders as a
collapsed panel in Gradio's chatbot; ``options`` render as buttons under the message (used for
consent).

Everything that comes from data -- history events, usernames, tool arguments and responses, the
model's answer -- is untrusted text, and the chatbot renders Markdown (titles included). So data
goes through :func:`md_text` (or :func:`md_code` / :func:`_json` for code), never straight into
the Markdown: an event text like ``![x](https://evil/?q=...)`` must show as text, not load.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.turns import TurnResult

Message = dict[str, Any]

SOURCE_LABELS = {
    "request": "your request",
    "profile": "profile field",
    "history": "history event",
    "earlier_turn": "earlier turn",
    "inferred": "inferred",
}
CONSENT_OPTIONS = [{"value": "yes", "label": "Yes, send it"},
                   {"value": "no", "label": "No, cancel"}]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~!$])")
_BACKTICKS = re.compile(r"`+")


def md_text(value: Any) -> str:
    """``value`` as literal text inside Markdown: HTML becomes entities, and the characters that
    make links, images, emphasis, code, headings, table cells or LaTeX are backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))


def _fence(text: str, minimum: int) -> str:
    """A run of backticks longer than any in ``text``, so ``text`` cannot close it."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    return "`" * max(minimum, longest + 1)


def md_code(value: Any, *, in_table: bool = False) -> str:
    """``value`` as an inline code span (literal by construction); in a table, ``|`` is escaped
    too, since GitHub-flavoured tables split cells on it even inside code."""
    text = str(value).replace("\n", " ")
    if in_table:
        text = text.replace("|", "\\|")
    fence = _fence(text, 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def user_message(text: str) -> Message:
    return {"role": "user", "content": md_text(text)}


def panel(title: str, body: str, *, log: str | None = None) -> Message:
    metadata: dict[str, Any] = {"title": title, "status": "done"}
    if log:
        metadata["log"] = log
    return {"role": "assistant", "content": body, "metadata": metadata}


def _json(value: Any) -> str:
    """A fenced JSON block; the fence outgrows any backtick run inside the values."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    fence = _fence(text, 3)
    return f"{fence}json\n{text}\n{fence}"


def md_cell(value: Any) -> str:
    """A table cell (or list item) of literal text: one line, escaped."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return md_text(text.replace("\r", " ").replace("\n", " "))


def evidence_panel(evidence: Sequence[Mapping[str, Any]], platform: str | None) -> Message:
    if not evidence:
        return panel("📚 History evidence: none retrieved", "No past event matched this request.")
    lines = ["| | platform | what you did | when |", "|---|---|---|---|"]
    for e in evidence:
        mark = "★" if platform and e["platform"].lower() == platform.lower() else ""
        lines.append(f"| {mark} | {md_cell(e['platform'])} | {md_cell(e['action'])} "
                     f"| {md_cell(str(e.get('timestamp', ''))[:10])} |")
    return panel(f"📚 History evidence ({len(evidence)} events)", "\n".join(lines),
                 log="★ = on the chosen platform")


def platform_panel(result: TurnResult) -> Message:
    platform = result.platform or "?"
    shown = md_text(platform)
    support = result.platform_support
    traits = next((p.get("profile") for p in result.platforms if p.get("name") == platform), None)
    others = [p["name"] for p in result.platforms if p.get("name") != platform]
    lines = []
    scores = (result.preference or {}).get("scores", [])
    reasons = [r for r in (result.preference or {}).get("reasons", [])
               if r.get("platform") == platform]
    if result.pin_reason:
        lines.append(f"**{shown}** is fixed by your request: {md_cell(result.pin_reason)}.")
    elif scores and reasons:
        lines.append(f"The preference model read your history and profile for **{shown}**:")
        lines += [f"- {md_cell(r['text'])}" for r in reasons]
    elif support:
        lines.append(f"You used **{shown}** before for similar things:")
        lines += [f"- {md_cell(e['action'])}" for e in support]
    else:
        lines.append(f"No retrieved event is on **{shown}**; the model chose it from the "
                     "platforms' characteristics and your request.")
    if scores:
        lines.append("\nPreference scores: " + ", ".join(
            f"{md_cell(s['platform'])} {s['probability']:.0%}" for s in scores)
            + (" (answer narrowed to the top platform)" if result.narrowed_to else ""))
    if traits:
        lines.append("\nCharacteristics: " + "; ".join(f"{md_cell(k)}: {md_cell(v)}"
                                                        for k, v in traits.items()))
    if others:
        where = md_cell(result.scenario or "this scenario")
        lines.append(f"\nAlternatives in {where}: {', '.join(md_cell(o) for o in others)}")
    return panel(f"🏷️ Platform: {shown}", "\n".join(lines))


def call_panels(result: TurnResult) -> list[Message]:
    sources = {p["name"]: p.get("arguments", {}) for p in result.provenance}
    out: list[Message] = []
    for call in result.calls:
        args: Mapping[str, Any] = call.get("arguments", {})
        lines = ["| argument | value | from | detail |", "|---|---|---|---|"]
        for arg, value in args.items():
            src = sources.get(call["name"], {}).get(arg, {})
            kind = SOURCE_LABELS.get(src.get("kind", ""), src.get("kind", "?"))
            lines.append(f"| {md_code(arg, in_table=True)} | {md_cell(value)} | {md_cell(kind)} "
                         f"| {md_cell(src.get('detail', ''))} |")
        out.append(panel(f"🔧 Call: {md_text(call['name'])}", "\n".join(lines)))
    return out


def validation_panel(checks: Sequence[Mapping[str, Any]]) -> Message | None:
    if not checks:
        return None
    ok = all(c.get("valid") for c in checks)
    lines = []
    for c in checks:
        if c.get("valid"):
            lines.append(f"- {md_code(c['name'])}: valid against its JSON Schema")
        else:
            errs = "; ".join(c.get("errors", [])) or c.get("error_type") or "invalid"
            lines.append(f"- {md_code(c['name'])}: **{md_cell(c.get('error_type'))}** — "
                         f"{md_cell(errs)}")
    return panel("✅ Validation: passed" if ok else "❌ Validation: failed", "\n".join(lines))


def response_panels(executions: Sequence[Mapping[str, Any]]) -> list[Message]:
    return [panel(f"📦 {md_text(e['platform'])} response: {md_text(e['name'])}"
                  + ("" if e.get("ok") else " (error)"), _json(e.get("response", {})))
            for e in executions]


def turn_messages(result: TurnResult) -> list[Message]:
    """The assistant's side of one turn: panels first (in pipeline order), then the answer."""
    messages: list[Message] = [evidence_panel(result.evidence, result.platform)]
    if result.platform:
        messages.append(platform_panel(result))
    messages += call_panels(result)
    check = validation_panel(result.checks)
    if check:
        messages.append(check)
    messages += response_panels(result.executions)
    answer: Message = {"role": "assistant",
                       "content": md_text(result.answer or f"({result.status})")}
    if result.status == "consent":
        answer["options"] = CONSENT_OPTIONS
    messages.append(answer)
    return messages


def replay_messages(turns: Sequence[Mapping[str, Any]]) -> list[Message]:
    """A past thread as messages: each request, its calls and platform answers, the reply."""
    out: list[Message] = []
    for turn in turns:
        out.append(user_message(str(turn.get("request", ""))))
        for call in turn.get("calls", []):
            out.append(panel(f"🔧 Call on {md_text(turn.get('platform'))}: "
                             f"{md_text(call['name'])}", _json(call.get("arguments", {}))))
        for res in turn.get("results", []):
            out.append(panel(f"📦 Response: {md_text(res['name'])}",
                             _json(res.get("response", {}))))
        out.append({"role": "assistant",
                    "content": md_text(turn.get("answer") or turn.get("status"))})
    return out


def error_message(text: str) -> Message:
    return {"role": "assistant", "content": f"⚠️ {md_text(text)}"}
