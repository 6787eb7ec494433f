"""A person's busy time across every program: their booked chats and the times already offered to them.

Slot search treats these as taken, so a mentor with two mentees is never offered, nor booked into, the same
time twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import MatchStatus, MeetingState
from storage.tables import Match, MatchMember, Meeting, Program, User

Interval = tuple[datetime, datetime]


def _live_meetings(user_ids: Any):  # noqa: ANN202 - a list of ids or a subquery of them
    """Each offered, proposed or booked meeting of a live match, once per member among ``user_ids``."""
    return (
        select(MatchMember.user_id, Meeting, Program.meeting_minutes)
        .join(Match, col(Match.id) == Meeting.match_id)
        .join(Program, col(Program.id) == Match.program_id)
        .join(MatchMember, col(MatchMember.match_id) == Match.id)
        .where(
            col(MatchMember.user_id).in_(user_ids),
            col(Match.status) != MatchStatus.ENDED.value,
            col(Meeting.state).in_(
                [MeetingState.OFFERED.value, MeetingState.PROPOSED.value, MeetingState.CONFIRMED.value]
            ),
        )
    )


async def busy_times(
    session: AsyncSession, users: Iterable[User], now: datetime, *, except_meeting: int | None = None
) -> tuple[Interval, ...]:
    """Booked or proposed chats still ahead, and open offers' times, of any of ``users`` in any live match."""
    user_ids = sorted({u.id for u in users if u.id is not None})
    if not user_ids:
        return ()
    rows = (await session.exec(_live_meetings(user_ids))).all()
    busy: set[Interval] = set()
    for _user_id, meeting, minutes in rows:
        if meeting.id == except_meeting:
            continue
        busy.update(interval for interval in _intervals(meeting, minutes) if interval[1] > now)
    return tuple(sorted(busy))


class BusyBook:
    """Everyone's busy time for a batch of offers (a whole round), read in one query instead of one per group.

    An offer made from it must be :meth:`add`-ed, so later groups sharing a person (a mentor with several
    mentees) see it exactly as :func:`busy_times` would have read it back from the database.
    """

    def __init__(self, by_user: dict[int, set[Interval]], now: datetime) -> None:
        self.by_user = by_user
        self.now = now

    def of(self, users: Iterable[User]) -> tuple[Interval, ...]:
        """What :func:`busy_times` gives for ``users``: their intervals together, each once, in order."""
        busy: set[Interval] = set()
        for user in users:
            busy.update(self.by_user.get(user.id or 0, ()))
        return tuple(sorted(busy))

    def add(self, users: Iterable[User], slots: list[str], minutes: int) -> None:
        """A new offer of ``slots`` to ``users``: those times are now spoken for."""
        intervals = [interval for interval in _offered(slots, minutes) if interval[1] > self.now]
        for user in users:
            if user.id is not None:
                self.by_user.setdefault(user.id, set()).update(intervals)


async def round_busy(session: AsyncSession, round_id: int, now: datetime) -> BusyBook:
    """:func:`busy_times` of every person in one round's groups, by person, in one query."""
    in_round = (
        select(MatchMember.user_id).join(Match, col(Match.id) == MatchMember.match_id).where(Match.round_id == round_id)
    )
    rows = (await session.exec(_live_meetings(in_round))).all()
    by_user: dict[int, set[Interval]] = {}
    for user_id, meeting, minutes in rows:
        by_user.setdefault(user_id, set()).update(i for i in _intervals(meeting, minutes) if i[1] > now)
    return BusyBook(by_user, now)


def _intervals(meeting: Meeting, minutes: int) -> list[Interval]:
    if meeting.state == MeetingState.OFFERED.value:  # every time still on offer is spoken for
        return _offered(meeting.slots, minutes)
    if meeting.start_at is None or meeting.end_at is None:
        return []
    return [(meeting.start_at, meeting.end_at)]


def _offered(slots: list[str], minutes: int) -> list[Interval]:
    length = timedelta(minutes=minutes)
    return [(start, start + length) for start in (datetime.fromisoformat(s) for s in slots)]


def overlaps(start: datetime, end: datetime, busy: Iterable[Interval]) -> bool:
    return any(start < b_end and b_start < end for b_start, b_end in busy)


async def clash(
    session: AsyncSession, users: list[User], start: datetime, end: datetime, meeting_id: int
) -> User | None:
    """Someone in ``users`` who already has another chat booked or proposed over [start, end), if anyone."""
    for user in users:
        if overlaps(start, end, await _booked_only(session, user, start, meeting_id)):
            return user
    return None


async def _booked_only(session: AsyncSession, user: User, after: datetime, meeting_id: int) -> list[Interval]:
    rows = (
        await session.exec(
            select(Meeting.start_at, Meeting.end_at)
            .join(Match, col(Match.id) == Meeting.match_id)
            .join(MatchMember, col(MatchMember.match_id) == Match.id)
            .where(
                MatchMember.user_id == user.id,
                Meeting.id != meeting_id,
                col(Match.status) != MatchStatus.ENDED.value,
                col(Meeting.state).in_([MeetingState.PROPOSED.value, MeetingState.CONFIRMED.value]),
                col(Meeting.end_at) > after,
            )
        )
    ).all()
    return [(a, b) for a, b in rows if a is not None and b is not None]
