"""Calendar hand-offs for a booked chat: Google and Outlook web links and an .ics file."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from icalendar import Calendar, Event


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


def ics_file(uid: str, title: str, start: datetime, end: datetime, details: str, now: datetime) -> str:
    """An RFC 5545 event in UTC (calendars show it in each reader's own zone), written by ``icalendar``,
    which escapes text and folds long lines at 75 octets as the standard requires."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", title)
    event.add("description", details)
    calendar = Calendar()
    calendar.add("prodid", "-//Tandem//Coffee chat//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
