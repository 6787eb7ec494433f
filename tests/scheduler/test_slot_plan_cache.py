"""Slot plans come from grids cached by zones and hours: they must equal the plain search, time by time.

The reference below is the search as it was before the cache (every half hour, every person, every group),
built from the same small pieces of bot/booking/slots.py. Cases cover DST weeks in both hemispheres, zones
with half- and quarter-hour offsets, night shifts across midnight, holidays, busy times and group orders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.booking import slots
from bot.booking.slots import Availability, SlotPlan, find_slots

ZONES = [
    "UTC",
    "America/New_York",  # DST starts 8 March 2026
    "America/Los_Angeles",
    "Europe/Berlin",  # DST starts 29 March 2026, ends 25 October
    "Europe/London",
    "Australia/Sydney",  # DST ends 5 April 2026, starts 4 October
    "Asia/Kolkata",  # UTC+5:30
    "Asia/Kathmandu",  # UTC+5:45
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Asia/Tokyo",
    "America/Sao_Paulo",
]
HOURS = [("09:00", "17:00"), ("08:00", "16:00"), ("07:30", "15:30"), ("22:00", "06:00"), ("10:00", "18:00")]
AFTERS = [  # weeks around DST changes, plus an ordinary one; odd minutes exercise the rounding to half hours
    datetime(2026, 3, 5, 14, 7, tzinfo=UTC),
    datetime(2026, 3, 26, 23, 40, tzinfo=UTC),
    datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 3, 15, tzinfo=UTC),
    datetime(2026, 10, 22, 18, 30, tzinfo=UTC),
    datetime(2026, 1, 12, 6, 0, tzinfo=UTC),
]


def _taken(start: datetime, length: timedelta, busy: tuple[tuple[datetime, datetime], ...]) -> bool:
    end = start + length
    return any(start < b_end and b_start < end for b_start, b_end in busy)


def reference(
    people: list[Availability],
    after: datetime,
    *,
    length_minutes: int = 30,
    working_days: int = 7,
    holidays: frozenset[date] = frozenset(),
    count: int = 3,
    busy: tuple[tuple[datetime, datetime], ...] = (),
) -> SlotPlan:
    """The uncached search: each half hour checked for each person of this one group."""
    length = timedelta(minutes=length_minutes)
    first = slots._first_start(after)
    horizon = first + timedelta(days=working_days + 5)
    persons = [slots._Person(p, first, horizon, holidays) for p in people]
    candidates: list[tuple[int, datetime]] = []
    cursor = first
    while cursor < horizon:
        if all(p.working_day(cursor) for p in persons) and not _taken(cursor, length, busy):
            candidates.append((sum(sum(p.fit(cursor, length)) for p in persons), cursor))
        cursor += slots.GRID
    if not candidates:
        return SlotPlan(starts=(), shared=False)
    shared = [c for c in candidates if c[0] == 0]
    pool = shared if shared else sorted(candidates, key=lambda c: (c[0], c[1]))
    chosen = slots._spread(pool, count)
    chosen.sort(key=lambda c: c[1])
    minutes = tuple(sum(p.fit(s, length)[0] for p in persons) for _, s in chosen)
    return SlotPlan(starts=tuple(s for _, s in chosen), shared=bool(shared), minutes_outside=minutes)


people_st = st.lists(
    st.tuples(st.sampled_from(ZONES), st.sampled_from(HOURS)).map(lambda t: Availability(t[0], *t[1])),
    min_size=1,
    max_size=4,
)


@st.composite
def busy_st(draw: st.DrawFn, after: datetime) -> tuple[tuple[datetime, datetime], ...]:
    starts = draw(st.lists(st.integers(0, 12 * 48), max_size=6))
    lengths = draw(st.lists(st.sampled_from([30, 45, 60]), min_size=len(starts), max_size=len(starts)))
    base = after.replace(minute=0, second=0, microsecond=0)
    return tuple(
        sorted(
            {
                (base + i * timedelta(minutes=30), base + i * timedelta(minutes=30) + timedelta(minutes=m))
                for i, m in zip(starts, lengths, strict=True)
            }
        )
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), people=people_st)
def test_cached_plans_equal_the_plain_search(data: st.DataObject, people: list[Availability]) -> None:
    after = data.draw(st.sampled_from(AFTERS))
    length = data.draw(st.sampled_from([30, 45, 60]))
    count = data.draw(st.integers(1, 5))
    holiday_days = data.draw(st.lists(st.integers(0, 12), max_size=3))
    holidays = frozenset(after.date() + timedelta(days=d) for d in holiday_days)
    busy = data.draw(st.one_of(st.just(()), busy_st(after)))
    kwargs = {"length_minutes": length, "holidays": holidays, "count": count, "busy": busy}
    expected = reference(people, after, **kwargs)  # type: ignore[arg-type]
    assert find_slots(people, after, **kwargs) == expected  # type: ignore[arg-type]
    shuffled = data.draw(st.permutations(people))
    assert find_slots(list(shuffled), after, **kwargs) == expected, "any order, cached or not"  # type: ignore[arg-type]


def test_a_table_of_groups_across_every_zone_and_dst_week() -> None:
    """Every zone paired with every other, each DST week: the cached plan is the plain one."""
    for after in AFTERS:
        for index, a in enumerate(ZONES):
            for b in ZONES[index:]:
                for hours in (HOURS[0], HOURS[3]):
                    people = [Availability(a, *HOURS[0]), Availability(b, *hours)]
                    assert find_slots(people, after) == reference(people, after), (after, a, b, hours)
