"""User-facing wording: answers, clarifying and consent questions, runtime history entries.

Why code and not a second model call: the answer restates what was executed and why, and both
are already known exactly (provenance, API responses); a template is faster on a CPU and
cannot misreport. Model-facing text lives in ``prompts.py``; this module is what the user reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.provenance import profile_fields_for
from assistant.safety import risky_param
from assistant.state import (
    CallProvenance,
    Confirmation,
    Event,
    Execution,
    PlatformInfo,
    PreferenceView,
)

_NICE = {"home_address": "home address", "work_address": "work address",
         "payment_method": "payment method", "passport_number": "passport number"}


def nice_field(field: str) -> str:
    return _NICE.get(field, field.replace("_", " "))


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clarify_question(params: Sequence[str], platform: str | None) -> str:
    """Ask for values that are neither in the request nor in the profile."""
    names = ", ".join(p.replace("_", " ") for p in params)
    where = f" on {platform}" if platform else ""
    return (f"What {names} should I use{where}? It is not in your request or your profile. "
            "Reply with the value and I will continue.")


def confirm_question(confirmation: Confirmation) -> str:
    """The exact calls, where each value came from, and why the assistant asks first."""
    platform = confirmation["platform"]
    lines = [f"Before I do this on {platform}, please confirm:"]
    for call in confirmation["calls"]:
        lines.append(f"{call['name']} ({call['effect']}):")
        lines.extend(_values([{"name": call["name"], "arguments": call["sources"]}],
                             [{"arguments": call["arguments"]}]))
    if confirmation["untrusted"]:
        named = ", ".join(u.split(".", 1)[-1].replace("_", " ") for u in confirmation["untrusted"])
        lines.append(f"Careful: the {named} came from your history or a platform's answer, "
                     "not from you.")
    if confirmation["features"]:
        fields = ", ".join(nice_field(f) for f in confirmation["features"])
        lines.append(f"You have never used {platform}; this sends it your {fields}.")
    lines.append("Go ahead? (yes/no)")
    return "\n".join(lines)


def event_action(name: str, arguments: dict[str, Any],
                 basic_features: Mapping[str, Any] | None = None) -> str:
    """A runtime history entry: the API's verb and its short, non-personal arguments. Left out:
    parameters that carry profile data (addresses, phones, payment), any value equal to a
    profile field, and free text (message bodies, notes, recipients, anything over four words),
    so the searchable history never repeats what the user wrote to someone."""
    verb = name.split("_", 1)[-1]
    profile = {str(v).strip().lower() for v in (basic_features or {}).values() if v}
    shown = [f"{k}={_short(v, 40)}" for k, v in arguments.items()
             if not profile_fields_for(k) and not _free_text(k, v)
             and v not in (None, "") and str(v).strip().lower() not in profile]
    return f"{verb} ({', '.join(shown)})" if shown else verb


def _free_text(param: str, value: Any) -> bool:
    """Free text or an addressee: a body, note or recipient, or more than four words."""
    return risky_param(param) or (isinstance(value, str) and len(value.split()) > 4)


def intent_question(descriptions: Sequence[str]) -> str:
    """Ask what to do when the request could mean several actions and one of them would change
    something (an order, a booking, a payment): a vague request asks, it does not act."""
    listed = "; ".join(d.rstrip(". ") for d in descriptions)
    return (f"What would you like me to do: {listed}? Reply in a few words and I will "
            "continue.")


def scenario_question(options: Sequence[str]) -> str:
    """Ask which kind of service a request is for when routing is unsure."""
    named = " or ".join(o.replace("_", " ") for o in options)
    return (f"Which kind of service do you mean: {named}? Reply in a few words (for example "
            f"\"{options[0].replace('_', ' ')}\") and I will continue.")


def _why_platform(platform: str, support: Sequence[Event],
                  platforms: Sequence[PlatformInfo],
                  preference: PreferenceView | None = None) -> str:
    scores = preference["scores"] if preference else []
    score = next((s["probability"] for s in scores if s["platform"] == platform), None)
    reasons = [r for r in (preference["reasons"] if preference else [])
               if r["platform"] == platform]
    if score is not None and reasons:
        quoted = "; ".join(f'"{_short(r["text"])}"' for r in reasons[:3])
        return (f"Why {platform}: the preference model rates it {score:.0%} for you, from "
                f"{quoted}.")
    if support:
        quoted = "; ".join(f'"{_short(e["action"])}"' for e in support[:3])
        return f"Why {platform}: your history there — {quoted}."
    info = next((p for p in platforms if p["name"] == platform), None)
    profile = info["profile"] if info else {}
    traits = ", ".join(f"{k}: {v}" for k, v in profile.items())
    return (f"Why {platform}: no past use found; chosen from what it offers"
            + (f" ({_short(traits, 120)})." if traits else "."))


def _values(provenance: Sequence[CallProvenance], calls: Sequence[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for prov, call in zip(provenance, calls, strict=False):
        for arg, source in prov["arguments"].items():
            value = _short(call["arguments"].get(arg))
            detail = {
                "request": "your request",
                "profile": f"your profile: {source['detail']}",
                "history": f"history: {_short(source['detail'])}",
                "earlier_turn": f"earlier in this chat ({source['detail']})",
                "inferred": "chosen by the model",
            }[source["kind"]]
            lines.append(f"  {arg} = {value!r} ({detail})")
    return lines


def done_answer(
    *,
    platform: str,
    executions: Sequence[Execution],
    provenance: Sequence[CallProvenance],
    support: Sequence[Event],
    platforms: Sequence[PlatformInfo],
    preference: PreferenceView | None = None,
) -> str:
    lines: list[str] = []
    for ex in executions:
        if ex["ok"]:
            keys = [k for k in ex["response"] if k.endswith("_id") or k in ("status", "total",
                                                                             "price", "eta")]
            facts = ", ".join(f"{k} {_short(ex['response'][k], 40)}" for k in keys[:4])
            lines.append(f"Done: {ex['name']} on {platform}" + (f" → {facts}." if facts else "."))
        else:
            lines.append(f"{platform} refused {ex['name']}: "
                         f"{_short(ex['response'].get('error', 'unknown error'), 200)}")
    lines.append(_why_platform(platform, support, platforms, preference))
    values = _values(provenance, [{"arguments": ex["arguments"]} for ex in executions])
    if values:
        lines.append("Values:")
        lines.extend(values)
    return "\n".join(lines)


def invalid_answer(errors: Sequence[str]) -> str:
    shown = "; ".join(_short(e, 160) for e in errors[:3]) or "the model's answer was unusable"
    return (f"I could not produce a valid call, so nothing was executed ({shown}). Try naming "
            "what you want more precisely, e.g. the item and the platform.")


def declined_answer(platform: str | None) -> str:
    return f"OK — nothing was sent to {platform or 'the platform'}."
