"""Surface language of the procedural world: cue pools, slot renderings, register and typos.

History events and requests describe price and urgency with *different* vocabularies on
purpose (a history says "on sale", a request "nothing fancy"): matching them takes
understanding, not word overlap. Typos are only applied to the wording around slot values,
so a value that is annotated as coming from the query still appears in it verbatim.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

HISTORY_CUES = {
    "budget": (
        "on sale",
        "at a discount",
        "with a coupon",
        "the budget version",
        "second-hand",
        "in the clearance section",
        "for cheap",
    ),
    "premium": (
        "the deluxe version",
        "top-shelf",
        "splurged a bit",
        "the luxury edition",
        "no expense spared",
        "the premium option",
    ),
    "urgent": (
        "with express delivery",
        "needed it same day",
        "last-minute",
        "in a rush",
        "rush order",
    ),
}
QUERY_CUES = {
    "budget": (
        "nothing fancy",
        "on a tight budget",
        "don't want to spend much",
        "as cheap as possible",
        "low budget pls",
        "budget-friendly",
        "cheapest option",
        "money's tight this month",
        "keep it affordable",
    ),
    "premium": (
        "the best quality",
        "something really nice",
        "top of the line",
        "money is no object",
        "want to treat myself",
        "high-end please",
        "the fancy one",
        "only the good stuff",
        "best you can find",
    ),
    "urgent": (
        "asap",
        "need it today",
        "in a hurry",
        "urgent!!",
        "as fast as possible",
        "right now",
        "quick please",
        "it's kind of an emergency",
        "can't wait long",
    ),
}
OPENERS = (
    "",
    "",
    "",
    "hey, ",
    "hi! ",
    "could you ",
    "please ",
    "pls ",
    "yo ",
    "ok so ",
    "hello, can you ",
    "quick one: ",
    "",
)
NEUTRAL_OPENERS = ("", "", "", "hey, ", "hi! ", "yo ", "ok so ", "quick one: ")
CLOSERS = ("", "", "", " thanks", " thx", "!", " :)", ".", " please", " ty")
MENTIONS = ("on {p}", "via {p}", "use {p}", "through {p}", "from {p}", "with {p}")
DEST_HOME = ("", "", " to my place", " to home", " to my flat")
DEST_WORK = (" to the office", " to work", " to my work address")
REASONS = (
    "it arrived damaged",
    "wrong size",
    "not as described",
    "it stopped working",
    "i changed my mind",
    "it came too late",
)
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)
ENUM_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "doc_type": {
        "text": ("doc", "text document", "word doc"),
        "spreadsheet": ("spreadsheet", "sheet"),
        "slides": ("slide deck", "presentation"),
    },
    "level": {
        "beginner": ("beginner", "total beginner"),
        "intermediate": ("intermediate",),
        "advanced": ("advanced", "expert"),
    },
    "currency": {
        "USD": ("USD", "dollars", "bucks"),
        "EUR": ("EUR", "euros"),
        "GBP": ("GBP", "pounds"),
        "JPY": ("yen", "JPY"),
        "CAD": ("CAD",),
    },
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_KEYBOARD = dict(zip("abcdefghijklmnopqrstuvwxyz", "sqwrtgfjolkpnbiaqtdyiwcxuz", strict=True))


def quantity_surface(n: int, rng: random.Random) -> str:
    if n == 1:
        return rng.choice(("one", "1", "a"))
    return rng.choice((str(n), NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)))


def parse_quantity(surface: str) -> int | None:
    s = surface.strip().lower()
    if s == "a":
        return 1
    if s in NUMBER_WORDS:
        return NUMBER_WORDS.index(s)
    return int(s) if s.isdigit() else None


def date_surface(d: date, rng: random.Random) -> str:
    month = _MONTHS[d.month - 1]
    return rng.choice(
        (
            d.isoformat(),
            f"{month} {d.day}, {d.year}",
            f"{d.day} {month} {d.year}",
            f"{month[:3]} {d.day} {d.year}",
        )
    )


def parse_date(surface: str) -> str | None:
    """Inverse of :func:`date_surface` (used by verification)."""
    s = surface.replace(",", "").strip()
    parts = s.split()
    try:
        if len(parts) == 1:
            return date.fromisoformat(s).isoformat()
        months = {m[:3].lower(): k + 1 for k, m in enumerate(_MONTHS)}
        if parts[0][:3].lower() in months:
            return date(int(parts[2]), months[parts[0][:3].lower()], int(parts[1])).isoformat()
        return date(int(parts[2]), months[parts[1][:3].lower()], int(parts[0])).isoformat()
    except (ValueError, IndexError, KeyError):
        return None


def random_date(rng: random.Random) -> date:
    return date(2026, 2, 1) + timedelta(days=rng.randrange(150))


def time_surface(hour: int, minute: int, rng: random.Random) -> str:
    h12 = hour % 12 or 12
    ampm = "am" if hour < 12 else "pm"
    if minute == 0:
        return rng.choice((f"{hour:02d}:00", f"{h12}{ampm}", f"{h12} {ampm}"))
    return rng.choice((f"{hour:02d}:{minute:02d}", f"{h12}:{minute:02d}{ampm}"))


def parse_time(surface: str) -> str | None:
    s = surface.replace(" ", "").lower()
    pm = s.endswith("pm")
    if s.endswith(("am", "pm")):
        s = s[:-2]
    try:
        hour, minute = (int(x) for x in s.split(":")) if ":" in s else (int(s), 0)
    except ValueError:
        return None
    if pm and hour < 12:
        hour += 12
    return f"{hour:02d}:{minute:02d}"


def typo(word: str, rng: random.Random) -> str:
    """One realistic slip: a swapped pair, a dropped letter or a neighbouring key."""
    if len(word) < 4 or not word.isalpha():
        return word
    k = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    if kind == 1:
        return word[:k] + word[k + 1 :]
    return word[:k] + _KEYBOARD.get(word[k], word[k]) + word[k + 1 :]


def roughen(text: str, rng: random.Random, rate: float) -> str:
    """Casual register on literal text: maybe a typo, 'you' -> 'u', dropped apostrophes."""
    words = text.split(" ")
    out = []
    for word in words:
        if rng.random() < rate:
            word = typo(word, rng)
        if word == "you" and rng.random() < 0.3:
            word = "u"
        out.append(word)
    text = " ".join(out)
    if rng.random() < 0.2:
        text = text.replace("'", "")
    return text
