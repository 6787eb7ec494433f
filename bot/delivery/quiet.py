"""A person's day: when messages that can wait may reach them (their zone, their hours, not their weekend).

Defaults are 08:00 to 20:00 on weekdays; people change theirs in the profile form. Everything here is
pure time arithmetic, so the pacing pass (bot/delivery/pacing.py) and the tests share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.kernel.timeutil import WEEKDAYS, BadTime, local_dt, parse_hhmm, parse_weekday, zone

DAY_START = "08:00"
DAY_END = "20:00"
WEEKEND = (5, 6)  # Saturday and Sunday
NO_WEEKEND = ("none", "no", "-")


@dataclass(frozen=True)
class Day:
    """One person's waking, working week: a window of hours on the days that are not their weekend."""

    zone: str = "UTC"
    start: time = time(8, 0)
    end: time = time(20, 0)
    weekend: frozenset[int] = frozenset(WEEKEND)

    @classmethod
    def of(cls, zone_name: str, start: str, end: str, weekend: Iterable[int] | None) -> Day:
        """From stored settings; anything unusable falls back to the default rather than failing a send."""
        try:
            begin, finish = parse_hhmm(start), parse_hhmm(end)
            zone(zone_name)
        except BadTime:
            return cls(zone=zone_name if _known(zone_name) else "UTC")
        days = frozenset(d for d in (weekend if weekend is not None else WEEKEND) if 0 <= d <= 6)
        if begin >= finish or len(days) == 7:
            return cls(zone=zone_name, weekend=days if len(days) < 7 else frozenset(WEEKEND))
        return cls(zone=zone_name, start=begin, end=finish, weekend=days)

    def contains(self, instant: datetime) -> bool:
        local = instant.astimezone(zone(self.zone))
        return local.weekday() not in self.weekend and self.start <= local.time() < self.end

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(zone(self.zone)).date()

    def starts(self, instant: datetime, days: int = 8) -> list[datetime]:
        """The starts of this person's next days (the one under way first, if it is not over yet)."""
        today = self.local_date(instant)
        found = []
        for offset in range(-1, days + 1):
            day = today + timedelta(days=offset)
            if day.weekday() in self.weekend:
                continue
            begin = local_dt(day, self.start, self.zone)
            if begin + (self._length()) > instant:
                found.append(begin)
        return found

    def next_start(self, instant: datetime) -> datetime:
        """The first instant at or after ``instant`` inside the person's day."""
        if self.contains(instant):
            return instant
        return next((s for s in self.starts(instant) if s >= instant), instant + timedelta(days=1))

    def next_day(self, instant: datetime) -> datetime:
        """The start of the person's next day after the local date of ``instant``."""
        today = self.local_date(instant)
        return next((s for s in self.starts(instant) if self.local_date(s) > today), instant + timedelta(days=1))

    def week_start(self, instant: datetime) -> datetime:
        """Monday 00:00 of the person's current week, in their zone."""
        today = self.local_date(instant)
        return local_dt(today - timedelta(days=today.weekday()), time(0, 0), self.zone)

    def next_week(self, instant: datetime) -> datetime:
        """The start of the person's first day in their next week."""
        return self.next_start(self.week_start(instant) + timedelta(days=7, hours=1))

    def _length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)


def _known(name: str) -> bool:
    try:
        zone(name)
    except BadTime:
        return False
    return True


def common_start(days: Sequence[Day], instant: datetime) -> datetime:
    """The first instant at or after ``instant`` inside everyone's day (a group conversation's next good time).

    A common window opens at ``instant`` or at someone's day start, so only those are tried. When the group
    shares no hour within a week, the time that suits the most of them (earliest first) is taken instead.
    """
    candidates = sorted({instant, *(s for d in days for s in d.starts(instant) if s >= instant)})
    best, best_count = instant, -1
    for candidate in candidates:
        count = sum(d.contains(candidate) for d in days)
        if count == len(days):
            return candidate
        if count > best_count:
            best, best_count = candidate, count
    return best


def parse_day_hours(text: str) -> tuple[str, str]:
    """'08:00-20:00' (or '8:00 to 20:00') → ('08:00', '20:00'); BadTime says what's wrong."""
    parts = [p for p in text.replace("–", "-").replace(" to ", "-").split("-") if p.strip()]
    if len(parts) != 2:
        raise BadTime("Write your day as two 24-hour times, like 08:00-20:00.")
    try:
        begin, finish = (parse_hhmm(p) for p in parts)
    except BadTime as problem:
        raise BadTime(f"{problem}: write your day as two 24-hour times, like 08:00-20:00.") from None
    if begin >= finish:
        raise BadTime("Your day must start before it ends, like 08:00-20:00.")
    if datetime.combine(date.min, finish) - datetime.combine(date.min, begin) < timedelta(hours=2):
        raise BadTime("Leave at least two hours a day for messages, like 08:00-20:00.")
    return begin.strftime("%H:%M"), finish.strftime("%H:%M")


def parse_weekend(text: str) -> list[int]:
    """'sat, sun' → [5, 6]; 'none' → []; BadTime for an unknown day or a week with no days left."""
    words = [w for w in text.replace(",", " ").replace("/", " ").split() if w]
    if len(words) == 1 and words[0].lower() in NO_WEEKEND:
        return []
    try:
        days = sorted({parse_weekday(w) for w in words})
    except BadTime as problem:
        raise BadTime(f"{problem}: write days like sat, sun (or none).") from None
    if len(days) >= 7:
        raise BadTime("Keep at least one day of the week for messages.")
    return days


def show_weekend(days: Iterable[int]) -> str:
    names = [WEEKDAYS[d][:3] for d in sorted(days)]
    return ", ".join(names) if names else "none"
