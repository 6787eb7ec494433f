"""The .ics a booked chat comes with: valid RFC 5545, long lines folded, text escaped, times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.booking.calendar_links import ics_file


def test_long_text_is_folded_and_reads_back_unchanged() -> None:
    start = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    details = "Agenda; goals, feedback, and what's next — " * 8 + "\nSecond line with ümlauts"
    title = "Coffee chat: Ana, Bob, Chiara and Dmitri (mentoring circle, round 3)"
    text = ics_file("tandem-meeting-1@tandem", title, start, start + timedelta(minutes=30), details, start)
    lines = text.split("\r\n")
    assert text.endswith("\r\n") and all(len(line.encode()) <= 75 for line in lines), max(lines, key=len)
    assert any(line.startswith(" ") for line in lines)  # continuation lines: the long description was folded
    event = Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == title and str(event["DESCRIPTION"]) == details
    assert event.decoded("DTSTART") == start.astimezone(UTC)
    assert "DTSTART:20260310T090000Z" in lines and "METHOD:PUBLISH" in lines
