"""Finding coffee-chat times inside everyone's working hours, each in their own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.timeutil import working_window, zone

GRID = timedelta(minutes=30)


@dataclass(frozen=True)
class Availability:
    timezone: str
    work_start: str = "09:00"
    work_end: str = "17:00"


@dataclass(frozen=True)
class SlotPlan:
    """Offered starts (UTC). ``shared`` is False when no time fits everyone: these are the least-bad ones."""

    starts: tuple[datetime, ...]
    shared: bool
    minutes_outside: tuple[int, ...] = ()


def _is_working_day(instant: datetime, person: Availability, holidays: frozenset[date]) -> bool:
    local = instant.astimezone(zone(person.timezone))
    return local.weekday() < 5 and local.date() not in holidays


def _fit(start: datetime, length: timedelta, person: Availability) -> tuple[int, int]:
    """(minutes of the chat outside working hours, minutes between the chat and the nearest working hours)."""
    local_day = start.astimezone(zone(person.timezone)).date()
    best: tuple[int, int] | None = None
    end = start + length
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        begin, finish = working_window(day, person.work_start, person.work_end, person.timezone)
        overlap = max(timedelta(0), min(finish, end) - max(begin, start))
        outside = int((length - overlap).total_seconds() // 60)
        gap = max(timedelta(0), begin - end, start - finish)
        fit = (outside, int(gap.total_seconds() // 60))
        best = fit if best is None else min(best, fit)
    assert best is not None
    return best


def _minutes_outside(start: datetime, length: timedelta, person: Availability) -> int:
    return _fit(start, length, person)[0]


def _inconvenience(start: datetime, length: timedelta, person: Availability) -> int:
    """Minutes outside working hours plus how far from them the chat lies: 8:00 beats 6:00."""
    outside, gap = _fit(start, length, person)
    return outside + gap


def find_slots(people: list[Availability], after: datetime, *, length_minutes: int = 30, working_days: int = 7,
               holidays: frozenset[date] = frozenset(), count: int = 3) -> SlotPlan:
    """Up to ``count`` starts in the next ``working_days`` working days, spread over different days."""
    length = timedelta(minutes=length_minutes)
    first = (after + timedelta(hours=2)).replace(second=0, microsecond=0)
    first += (-first.minute % 30) * timedelta(minutes=1)
    horizon = first + timedelta(days=working_days + 5)  # weekends on the way
    candidates: list[tuple[int, datetime]] = []
    cursor = first
    while cursor < horizon:
        if all(_is_working_day(cursor, p, holidays) for p in people):
            cost = sum(_inconvenience(cursor, length, p) for p in people)
            candidates.append((cost, cursor))
        cursor += GRID
    if not candidates:
        return SlotPlan(starts=(), shared=False)
    shared = [c for c in candidates if c[0] == 0]
    pool = shared if shared else sorted(candidates, key=lambda c: (c[0], c[1]))
    chosen: list[tuple[int, datetime]] = []
    used_days: set[date] = set()
    for cost, start in pool:
        day = start.date()
        if day in used_days:
            continue
        chosen.append((cost, start))
        used_days.add(day)
        if len(chosen) == count:
            break
    for cost, start in pool:  # fewer distinct days than wanted: fill with other times
        if len(chosen) >= count:
            break
        if (cost, start) not in chosen:
            chosen.append((cost, start))
    chosen.sort(key=lambda c: c[1])
    minutes = tuple(sum(_minutes_outside(s, length, p) for p in people) for _, s in chosen)
    return SlotPlan(starts=tuple(s for _, s in chosen), shared=bool(shared), minutes_outside=minutes)


def shared_hours(people: list[Availability], on: date) -> float:
    """Hours on ``on`` (UTC date) when everyone is inside working hours; for stats and reasons."""
    start = datetime(on.year, on.month, on.day, tzinfo=zone("UTC"))
    total = 0
    cursor = start
    while cursor < start + timedelta(days=1):
        if all(_minutes_outside(cursor, GRID, p) == 0 for p in people):
            total += 1
        cursor += GRID
    return total / 2
