"""Dates and times in requests, resolved against a fixed clock (a Tuesday)."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.dates import find_dates, find_datetimes, find_times

NOW = datetime(2026, 12, 1, 9, 0)  # Tuesday


@pytest.mark.parametrize(("text", "expected"), [
    ("show me hotels in Tenerife for 29 March 2026", "2026-03-29"),
    ("schedule it on 2026-05-09 at 11:30", "2026-05-09"),
    ("Book a meeting: June 9, 2026 4 pm", "2026-06-09"),
    ("Mar 30 2026 18:45", "2026-03-30"),
    ("book me a flight to Lisbon next Friday", "2026-12-04"),
    ("next Tuesday please", "2026-12-08"),
    ("on Tuesday", "2026-12-01"),
    ("schedule a meeting with my team tomorrow at 10am", "2026-12-02"),
    ("a table for tonight", "2026-12-01"),
    ("in 3 days", "2026-12-04"),
    ("in two weeks", "2026-12-15"),
    ("Feb 5", "2027-02-05"),
    ("the 3rd of December", "2026-12-03"),
    ("12/24/2026", "2026-12-24"),
])
def test_dates_resolve_against_the_clock(text: str, expected: str) -> None:
    assert find_dates(text, NOW)[0][1] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("have 3 gelato delivered at 2:45pm", "14:45"),
    ("pick up at 20:15", "20:15"),
    ("tomorrow at 10am", "10:00"),
    ("June 9, 2026 4 pm", "16:00"),
    ("12 am sharp", "00:00"),
    ("lunch at noon", "12:00"),
])
def test_times_become_24_hour_clock(text: str, expected: str) -> None:
    assert find_times(text)[0][1] == expected


def test_no_false_dates_or_times_in_ids_and_phones() -> None:
    text = "track ORD-12345 and call +1-415-555-7656"
    assert find_dates(text, NOW) == []
    assert find_times(text) == []
    assert find_dates("February 30, 2026", NOW) == []


def test_datetime_joins_date_and_time() -> None:
    assert find_datetimes("tomorrow at 10am", NOW)[0][1] == "2026-12-02T10:00"
    assert find_datetimes("tomorrow", NOW)[0][1] == "2026-12-02"
