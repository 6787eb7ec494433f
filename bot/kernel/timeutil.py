"""Time zone and time-of-day helpers: everything stored in UTC, shown in the reader's own zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.kernel.safe_text import ZONE_MAX

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BadTime(ValueError):
    """A time, date or zone that can't be used; the message is for the person who typed it."""


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        if len(name) > ZONE_MAX:  # no zone is that long; the file lookup would fail with an OSError
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise BadTime(f"'{shown}' is not a time zone I know (try a name like Europe/Berlin)") from None


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except BadTime:
        return False
    return True


def parse_hhmm(text: str) -> time:
    match = _HHMM.match(text.strip())
    if not match:
        raise BadTime(f"'{text}' is not a time of day like 09:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_weekday(text: str) -> int:
    key = text.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if key in (name, name[:3]):
            return index
    if key.isdigit() and 0 <= int(key) <= 6:
        return int(key)
    raise BadTime(f"'{text}' is not a weekday (monday … sunday)")


def local_dt(day: date, at: time, zone_name: str) -> datetime:
    """The instant that is ``day`` at ``at`` on the wall clocks of ``zone_name`` (DST-aware)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=zone(zone_name))


def show(instant: datetime, zone_name: str, *, with_zone: bool = True) -> str:
    """'Tue 24 Nov, 10:00 (Europe/Berlin)': how a person reads a time."""
    if instant.tzinfo is None:  # read as the machine's local time, as astimezone does: nothing to cache
        return _show(instant, zone_name, with_zone)
    return _show_instant(instant.astimezone(UTC), zone_name, with_zone)


@lru_cache(maxsize=8192)  # a round shows the same few dozen starts in the same few dozen zones thousands of times
def _show_instant(instant: datetime, zone_name: str, with_zone: bool) -> str:
    """Keyed by the UTC instant: equal local times in a DST fold are different instants, cached apart."""
    return _show(instant, zone_name, with_zone)


def _show(instant: datetime, zone_name: str, with_zone: bool) -> str:
    local = instant.astimezone(zone(zone_name))
    text = f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
    return f"{text} ({zone_name})" if with_zone else text


def working_window(day: date, start: str, end: str, zone_name: str) -> tuple[datetime, datetime]:
    """A person's working hours on one local day, as UTC instants."""
    begin = local_dt(day, parse_hhmm(start), zone_name)
    finish = local_dt(day, parse_hhmm(end), zone_name)
    if finish <= begin:
        finish += timedelta(days=1)
    return begin, finish


_DURATION = re.compile(r"^(\d{1,3})\s*(d|day|days|w|wk|week|weeks|m|month|months)$")


def parse_pause(text: str, now: datetime, zone_name: str) -> datetime:
    """'2w', '10d', '1 month' or 'until 2026-12-24' → the instant the pause ends (start of that day)."""
    raw = text.strip().lower()
    if raw.startswith("until"):
        raw_date = raw[len("until") :].strip()
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise BadTime(f"'{raw_date}' is not a date like 2026-12-24") from None
        end = local_dt(day, time(0, 0), zone_name)
        if end <= now:
            raise BadTime(f"{raw_date} is already in the past")
        if end - now > timedelta(days=366):
            raise BadTime("a pause can last at most a year")
        return end
    match = _DURATION.match(raw)
    if not match:
        raise BadTime(f"'{text}' is not a pause length like 2w, 10d or 'until 2026-12-24'")
    count, unit = int(match.group(1)), match.group(2)[0]
    days = count * {"d": 1, "w": 7, "m": 30}[unit]
    if days == 0:
        raise BadTime("a pause needs to last at least a day")
    if days > 366:
        raise BadTime("a pause can last at most a year")
    local_today = now.astimezone(zone(zone_name)).date()
    return local_dt(local_today + timedelta(days=days), time(0, 0), zone_name)
