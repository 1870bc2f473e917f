"""Dates and times in a request, resolved against the current time the runtime passes in.

Why code: a small model writes ``date='2022-01-01'`` for "next Friday" and for "tomorrow at
10am" alike. Here the expressions people write -- ISO dates, "29 March 2026", "Mar 30", "next
Friday", "tomorrow", "tonight", "in 3 days", "7:15pm", "at 16:00", "noon" -- become
``YYYY-MM-DD`` and ``HH:MM`` strings the answer grammar offers as candidates. A date without a
year is its next occurrence; a weekday is the coming one ("next Friday" on a Friday is a week
away). Month and weekday names come from the ``calendar`` module's English names.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
_WEEKDAYS.update({name.lower(): n for n, name in enumerate(calendar.day_abbr)})
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "a": 1}

ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH})\.?,?(?: (\d{{4}}))?\b",
                       re.IGNORECASE)
MONTH_DAY = re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?\b",
                       re.IGNORECASE)
SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
RELATIVE = re.compile(
    rf"\b(day after tomorrow|today|tonight|tomorrow|(?:next|this|on|coming) ({_WEEKDAY})|"
    rf"({_WEEKDAY})|in (\d+|{'|'.join(_NUMBERS)}) (days?|weeks?)|next week)\b", re.IGNORECASE)
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?:\s*([ap])\.?m\.?)?(?![\d:])", re.IGNORECASE)
HOUR = re.compile(r"\b(\d{1,2})\s*([ap])\.?m\b\.?", re.IGNORECASE)
NAMED_TIMES = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, today: date) -> date | None:
    """The next ``month``/``day`` on or after today (this year or the next)."""
    found = _safe(today.year, month, day)
    if found is not None and found < today:
        found = _safe(today.year + 1, month, day)
    return found


def _weekday(name: str, today: date, strictly_after: bool) -> date:
    target = _WEEKDAYS[name.lower()]
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return today + timedelta(days=ahead)


def _relative(match: re.Match[str], today: date) -> date:
    text = match.group(1).lower()
    if text in ("today", "tonight"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "day after tomorrow":
        return today + timedelta(days=2)
    if text == "next week":
        return today + timedelta(days=7)
    if match.group(2):
        return _weekday(match.group(2), today, strictly_after=text.startswith("next"))
    if match.group(3):
        return _weekday(match.group(3), today, strictly_after=False)
    count = match.group(4).lower()
    n = _NUMBERS.get(count) or int(count)
    return today + timedelta(days=n * (7 if match.group(5).lower().startswith("week") else 1))


def find_dates(text: str, now: datetime) -> list[tuple[str, str]]:
    """``(expression, YYYY-MM-DD)`` for every date expression in ``text``, in text order."""
    today = now.date()
    found: list[tuple[int, str, date]] = []
    for m in ISO.finditer(text):
        d = _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), m.group(0), d))
    for m in DAY_MONTH.finditer(text):
        month, day = _MONTHS[m.group(2).lower()], int(m.group(1))
        d = _safe(int(m.group(3)), month, day) if m.group(3) else _upcoming(month, day, today)
        if d:
            found.append((m.start(), m.group(0), d))
    for m in MONTH_DAY.finditer(text):
        month, day = _MONTHS[m.group(1).lower()], int(m.group(2))
        d = _safe(int(m.group(3)), month, day) if m.group(3) else _upcoming(month, day, today)
        if d:
            found.append((m.start(), m.group(0), d))
    for m in SLASHED.finditer(text):
        d = _safe(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        if d:
            found.append((m.start(), m.group(0), d))
    if not found:
        found = [(m.start(), m.group(0), _relative(m, today)) for m in RELATIVE.finditer(text)]
    found.sort(key=lambda f: f[0])
    out: list[tuple[str, str]] = []
    for _, expression, d in found:
        if all(d.isoformat() != iso for _, iso in out):
            out.append((expression, d.isoformat()))
    return out


def _clock(hour: int, minute: int, half: str | None) -> str | None:
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def find_times(text: str) -> list[tuple[str, str]]:
    """``(expression, HH:MM)`` for every clock time in ``text`` (24-hour), in text order."""
    found: list[tuple[int, str, str]] = []
    for m in CLOCK.finditer(text):
        t = _clock(int(m.group(1)), int(m.group(2)), m.group(3))
        if t:
            found.append((m.start(), m.group(0), t))
    for m in HOUR.finditer(text):
        t = _clock(int(m.group(1)), 0, m.group(2))
        if t:
            found.append((m.start(), m.group(0), t))
    for word, t in NAMED_TIMES.items():
        for m in re.finditer(rf"\b{word}\b", text, re.IGNORECASE):
            found.append((m.start(), m.group(0), t))
    found.sort(key=lambda f: f[0])
    return list(dict.fromkeys((e, t) for _, e, t in found))


def find_datetimes(text: str, now: datetime) -> list[tuple[str, str]]:
    """Dates with their time of day (``YYYY-MM-DDTHH:MM``); a date alone when no time is said."""
    found_dates = find_dates(text, now)
    times = find_times(text)
    if not times:
        return [(e, d) for e, d in found_dates]
    return [(f"{e} {te}", f"{d}T{t}") for e, d in found_dates for te, t in times[:2]]
