"""A person's busy time across every program: their booked chats and the times already offered to them.

Slot search treats these as taken, so a mentor with two mentees is never offered, nor booked into, the same
time twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import MatchStatus, MeetingState
from storage.tables import Match, MatchMember, Meeting, Program, User

Interval = tuple[datetime, datetime]


async def busy_times(
    session: AsyncSession, users: Iterable[User], now: datetime, *, except_meeting: int | None = None
) -> tuple[Interval, ...]:
    """Booked or proposed chats still ahead, and open offers' times, of any of ``users`` in any live match."""
    user_ids = sorted({u.id for u in users if u.id is not None})
    if not user_ids:
        return ()
    rows = (
        await session.exec(
            select(Meeting, Program.meeting_minutes)
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
    ).all()
    busy: set[Interval] = set()
    for meeting, minutes in rows:
        if meeting.id == except_meeting:
            continue
        busy.update(interval for interval in _intervals(meeting, minutes) if interval[1] > now)
    return tuple(sorted(busy))


def _intervals(meeting: Meeting, minutes: int) -> list[Interval]:
    if meeting.state == MeetingState.OFFERED.value:  # every time still on offer is spoken for
        length = timedelta(minutes=minutes)
        return [(start, start + length) for start in (datetime.fromisoformat(s) for s in meeting.slots)]
    if meeting.start_at is None or meeting.end_at is None:
        return []
    return [(meeting.start_at, meeting.end_at)]


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
