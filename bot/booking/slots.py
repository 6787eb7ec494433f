"""Finding coffee-chat times inside everyone's working hours, each in their own time zone."""

from __future__ import annotations

import bisect
import functools
import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from bot.kernel.timeutil import working_window, zone

GRID = timedelta(minutes=30)
Interval = tuple[datetime, datetime]


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


def _minute(instant: datetime) -> int:
    return int(instant.timestamp() // 60)


class _Person:
    """One person's working windows as UTC epoch minutes, computed once per search (fast to compare)."""

    def __init__(self, person: Availability, first: datetime, last: datetime, holidays: frozenset[date]) -> None:
        self.zone = zone(person.timezone)
        self.holidays = holidays
        day = first.astimezone(self.zone).date() - timedelta(days=1)
        stop = last.astimezone(self.zone).date() + timedelta(days=1)
        self.windows: list[tuple[int, int]] = []
        while day <= stop:
            begin, finish = working_window(day, person.work_start, person.work_end, person.timezone)
            self.windows.append((_minute(begin), _minute(finish)))
            day += timedelta(days=1)
        self.begins = [begin for begin, _ in self.windows]

    def working_day(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        return local.weekday() < 5 and local.date() not in self.holidays

    def fit(self, start: datetime, length: timedelta) -> tuple[int, int]:
        """(minutes of the chat outside working hours, minutes between the chat and the nearest working hours)."""
        s = _minute(start)
        n = int(length.total_seconds() // 60)
        e = s + n
        best = (n, 24 * 60)
        at = bisect.bisect_right(self.begins, s)
        for begin, finish in self.windows[max(0, at - 2) : at + 1]:
            overlap = max(0, min(finish, e) - max(begin, s))
            fit = (n - overlap, max(0, begin - e, s - finish))
            if fit < best:
                best = fit
        return best


def _first_start(after: datetime) -> datetime:
    """The earliest offer: two hours from now (time to read the message), on the half hour."""
    first = (after + timedelta(hours=2)).replace(second=0, microsecond=0)
    return first + (-first.minute % 30) * timedelta(minutes=1)


@dataclass(frozen=True)
class _Row:
    """One person over a search's half hours: works that day, cost (outside + distance), minutes outside."""

    works: np.ndarray
    cost: np.ndarray
    outside: np.ndarray


@functools.lru_cache(maxsize=64)
def _cursors(first: datetime, horizon: datetime) -> tuple[datetime, ...]:
    count = -(-(horizon - first) // GRID)  # every half hour from ``first``, before ``horizon``
    return tuple(first + i * GRID for i in range(count))


@functools.lru_cache(maxsize=512)
def _row(
    person: Availability, first: datetime, horizon: datetime, length: timedelta, holidays: frozenset[date]
) -> _Row:
    """A person's part of every start, computed once per zone and hours (a round has a few dozen of them)."""
    p = _Person(person, first, horizon, holidays)
    cursors = _cursors(first, horizon)
    fits = [p.fit(cursor, length) for cursor in cursors]
    return _Row(
        works=np.array([p.working_day(cursor) for cursor in cursors], dtype=bool),
        cost=np.array([a + b for a, b in fits], dtype=np.int64),
        outside=np.array([a for a, _ in fits], dtype=np.int64),
    )


@functools.lru_cache(maxsize=1024)  # about 40 kB each: at most ~40 MB, and a round clears them when done
def _grid(
    people: tuple[Availability, ...], first: datetime, horizon: datetime, length: timedelta, holidays: frozenset[date]
) -> tuple[tuple[int, datetime, int], ...]:
    """Every half hour on a day everyone works: (cost, start, minutes outside working hours), busy times aside.

    It depends only on the people's zones and hours, not on who they are, so groups share it (``people``
    comes sorted: cost and minutes are sums of whole minutes, the same in any order).
    """
    cursors = _cursors(first, horizon)
    works = np.ones(len(cursors), dtype=bool)
    cost = np.zeros(len(cursors), dtype=np.int64)
    outside = np.zeros(len(cursors), dtype=np.int64)
    for person in people:
        row = _row(person, first, horizon, length, holidays)
        works &= row.works
        cost += row.cost
        outside += row.outside
    keep = np.flatnonzero(works)
    starts = [cursors[i] for i in keep.tolist()]
    return tuple(zip(cost[keep].tolist(), starts, outside[keep].tolist(), strict=True))


def forget_plans() -> None:
    """Drop cached rows, grids and plans: they serve one search start (a round's "now") and no later one."""
    for cached in (_cursors, _row, _grid, _free_plan):
        cached.cache_clear()


def _spread(pool: list[tuple[int, datetime]], count: int) -> list[tuple[int, datetime]]:
    """Up to ``count`` picks, one per day first so people get a real choice, then other times."""
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
    return chosen


def find_slots(
    people: list[Availability],
    after: datetime,
    *,
    length_minutes: int = 30,
    working_days: int = 7,
    holidays: frozenset[date] = frozenset(),
    count: int = 3,
    busy: tuple[Interval, ...] = (),
) -> SlotPlan:
    """Up to ``count`` starts in the next ``working_days`` working days, spread over different days.

    The cost of a start is, summed over people, the minutes outside their working hours plus how far from
    their working hours it lies (so 08:00 beats 06:00 when nothing fits everyone). A start that overlaps
    ``busy`` (someone's other chats, or times already offered to them) is never offered.
    """
    length = timedelta(minutes=length_minutes)
    first = _first_start(after)
    horizon = first + timedelta(days=working_days + 5)  # weekends on the way
    # cost and minutes are sums of whole minutes, the same in any order: sorted, groups share cached grids
    ordered = tuple(sorted(people, key=lambda p: (p.timezone, p.work_start, p.work_end)))
    if not busy:  # most groups of a round: the whole plan depends on zones and hours alone
        return _free_plan(ordered, first, horizon, length, holidays, count)
    return _plan(_free(_grid(ordered, first, horizon, length, holidays), length, busy), count)


def _free(
    grid: tuple[tuple[int, datetime, int], ...], length: timedelta, busy: tuple[Interval, ...]
) -> list[tuple[int, datetime, int]]:
    """The grid's starts that overlap no busy interval: a start overlaps [b, e) when b - length < start < e,
    a run of the (ordered) grid found by bisection, not by testing every start against every interval."""
    blocked = bytearray(len(grid))
    for b_start, b_end in busy:
        lo = bisect.bisect_right(grid, b_start - length, key=_start)
        hi = bisect.bisect_left(grid, b_end, key=_start)
        if hi > lo:
            blocked[lo:hi] = b"\x01" * (hi - lo)
    return [entry for entry, taken in zip(grid, blocked, strict=True) if not taken]


_start = operator.itemgetter(1)


@functools.lru_cache(maxsize=4096)
def _free_plan(
    people: tuple[Availability, ...],
    first: datetime,
    horizon: datetime,
    length: timedelta,
    holidays: frozenset[date],
    count: int,
) -> SlotPlan:
    return _plan(list(_grid(people, first, horizon, length, holidays)), count)


def _plan(scored: list[tuple[int, datetime, int]], count: int) -> SlotPlan:
    """The offer from the free starts (cost, start, minutes outside): the cheapest, spread over days."""
    if not scored:
        return SlotPlan(starts=(), shared=False)
    outside = {start: minutes for _, start, minutes in scored}
    candidates = [(cost, start) for cost, start, _ in scored]
    shared = [c for c in candidates if c[0] == 0]
    pool = shared if shared else sorted(candidates, key=lambda c: (c[0], c[1]))
    chosen = _spread(pool, count)
    chosen.sort(key=lambda c: c[1])
    minutes = tuple(outside[s] for _, s in chosen)
    return SlotPlan(starts=tuple(s for _, s in chosen), shared=bool(shared), minutes_outside=minutes)


def shared_hours(people: list[Availability], on: date) -> float:
    """Hours on ``on`` (UTC date) when everyone is inside working hours; for stats and reasons."""
    start = datetime(on.year, on.month, on.day, tzinfo=zone("UTC"))
    persons = [_Person(p, start, start + timedelta(days=1), frozenset()) for p in people]
    total = 0
    cursor = start
    while cursor < start + timedelta(days=1):
        if all(p.fit(cursor, GRID)[0] == 0 for p in persons):
            total += 1
        cursor += GRID
    return total / 2
