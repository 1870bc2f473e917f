"""What a request says in so many words: its word spans, its numbers, and typed values such as
record ids, e-mail addresses and phone numbers.

Why apart from :mod:`assistant.grounding`: these read the request text alone (no schema, no
profile), so they are the part of grounding that tests and benchmark scripts can check on
requests by themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from assistant import dates

MAX_SPAN_WORDS = 6
MAX_SPANS = 96
"""Bounds that keep grammars small whatever the request holds."""

RECORD_ID = re.compile(r"\b[A-Z]{2,5}-\d{3,}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
QUOTED = re.compile(r"(?<!\w)[\"'“‘]([^\"'”’]+)[\"'”’](?!\w)")
PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
NUMBER_WORDS = {w: n for n, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve"))}
NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?!\w)")
NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)
SPAN_EDGES = frozenset({
    "please", "pls", "plz", "thx", "ty", "thanks", "hi", "hey", "hello", "yo", "ok", "okay",
    "so", "can", "could", "would", "will", "me", "my", "i", "you", "to", "for", "of", "and",
    "or", "with", "on", "at", "in", "by", "from", "is", "are", "be", "get", "want", "need",
    "just"
})
"""Words a value never starts or ends with (politeness, pronouns, prepositions)."""
ARTICLES = frozenset({"the", "a", "an"})
"""Words a value may start with ("The Baker's Dozen") but never ends with."""


def _clauses(request: str) -> list[list[str]]:
    """The request's words in runs that a value never crosses: a run ends at a word followed
    by , . ! ? ; or : and at a token that is punctuation only ("-", ":)")."""
    runs: list[list[str]] = [[]]
    for raw in request.split():
        word = raw.strip(",.!?;:\"'()")
        if not any(c.isalnum() for c in word):
            runs.append([])
            continue
        runs[-1].append(word)
        if raw.rstrip("\"')").endswith((",", ".", "!", "?", ";", ":")):
            runs.append([])
    return [run for run in runs if run]


@dataclass(frozen=True)
class Span:
    """A word span of the request with where it sits: its clause's words and the span's word
    range in them (what the span ranker reads), and whether it is a singular variant."""

    text: str
    clause: tuple[str, ...]
    start: int
    end: int
    clause_index: int
    singular: bool = False
    quoted: bool = False
    """The request puts exactly this span in quotes ("put 'the onboarding guide' on my list")."""

    @property
    def where(self) -> tuple[int, int, int]:
        """Clause and word range: a span and its singular variant share it."""
        return self.clause_index, self.start, self.end


def span_candidates(request: str, platforms: Sequence[str] = ()) -> list[Span]:
    """Word spans of the request that could be a value (up to :data:`MAX_SPAN_WORDS` words
    within a clause, not starting with a filler word, not ending with a filler word or an
    article, platform names left out), longest first, then their singular variants."""
    drop = {p.lower() for p in platforms}
    quoted = {q.lower() for q in QUOTED.findall(request)}
    spans: dict[str, Span] = {}
    for c, words in enumerate(_clauses(request)):
        tokens = tuple(words)
        for i in range(len(tokens)):
            for j in range(i + 1, min(len(tokens), i + MAX_SPAN_WORDS) + 1):
                first, last = tokens[i].lower(), tokens[j - 1].lower()
                if first in SPAN_EDGES or last in SPAN_EDGES | ARTICLES:
                    continue
                if any(t.lower() in drop for t in tokens[i:j]):
                    continue
                text = " ".join(tokens[i:j])
                spans.setdefault(text, Span(text, tokens, i, j, c,
                                            quoted=text.lower() in quoted))
    unique = sorted(spans.values(), key=lambda s: -(s.end - s.start))
    singular = [replace(span, text=one, singular=True) for span in unique
                if (one := _singular(span.text)) != span.text]
    by_text: dict[str, Span] = {}
    for span in [*unique, *singular]:
        by_text.setdefault(span.text, span)  # the first of a text wins
    return list(by_text.values())[:MAX_SPANS]


def request_spans(request: str, platforms: Sequence[str] = ()) -> list[str]:
    """The texts of :func:`span_candidates`."""
    return [s.text for s in span_candidates(request, platforms)]


def _singular(span: str) -> str:
    """The span with its last word in the singular ("two sushi sets" -> "two sushi set"): an
    answer may name the thing, not the request's count of it."""
    head, _, last = span.rpartition(" ")
    low = last.lower()
    if len(low) < 4 or not low.endswith("s") or low.endswith(("ss", "us", "is")):
        return span
    if low.endswith("ies"):
        one = last[:-3] + "y"
    elif low.endswith(("ches", "shes", "xes", "sses")):
        one = last[:-2]
    else:
        one = last[:-1]
    return f"{head} {one}" if head else one


def request_numbers(request: str, now: datetime, *, integer: bool) -> list[tuple[str, str]]:
    """``(expression, number)`` for the numbers the request says, digits or words ("two
    nights"), in text order. Clock times, dates, record ids, phone numbers and e-mail addresses
    are left out first, so "pick up a salad at 3 pm" says no number."""
    text = request
    taken = [e for e, _ in dates.find_times(request)] + [e for e, _ in
                                                           dates.find_dates(request, now)]
    for pattern in (RECORD_ID, PHONE, EMAIL):
        taken += pattern.findall(text)
    for expression in sorted(taken, key=len, reverse=True):
        text = text.replace(expression, " ")
    found: list[tuple[int, str, str]] = []
    for m in NUMBER.finditer(text):
        digits = m.group(0).replace(",", "")
        if integer and "." in digits:
            continue
        found.append((m.start(), m.group(0), digits))
    for m in NUMBER_WORD.finditer(text):
        found.append((m.start(), m.group(0), str(NUMBER_WORDS[m.group(0).lower()])))
    return [(e, n) for _, e, n in sorted(found)]
