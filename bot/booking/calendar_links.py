"""Calendar hand-offs for a booked chat: Google and Outlook web links and an .ics file."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(title: str, start: datetime, end: datetime, details: str = "") -> str:
    query = urlencode(
        {"action": "TEMPLATE", "text": title, "dates": f"{_stamp(start)}/{_stamp(end)}", "details": details}
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_link(title: str, start: datetime, end: datetime, details: str = "") -> str:
    query = urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": title,
            "startdt": start.astimezone(UTC).isoformat(),
            "enddt": end.astimezone(UTC).isoformat(),
            "body": details,
        }
    )
    return f"https://outlook.office.com/calendar/0/deeplink/compose?{query}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_file(uid: str, title: str, start: datetime, end: datetime, details: str, now: datetime) -> str:
    """An RFC 5545 event in UTC; calendars show it in each reader's own zone."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tandem//Coffee chat//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{_escape(title)}",
        f"DESCRIPTION:{_escape(details)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
