"""Every chat booked: a mentoring pair gets its next chat offered at its cadence until the relationship ends.

The cadence is the one the pair agreed (``Match.cadence``), else the program's. Three days before the next
chat is due (the last chat's start plus the interval), the pair gets fresh times from a day before it is due
on, avoiding everyone's other chats. Peer groups have one chat per round: they get no recurring offers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.booking.followup import is_open, mentions
from bot.booking.offers import group_target, offer, offer_blocks
from bot.booking.recaps import action_items_block, latest_action_items
from bot.delivery.outbox import Outgoing, enqueue
from bot.kernel.messages import Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.matches import match_users
from bot.programs.membership import everyone_available
from storage.enums import Cadence, MatchStatus, MeetingState, ProgramKind, ProgramStatus
from storage.tables import Match, Meeting, Program, User, Workspace

CADENCE_DAYS = {Cadence.WEEKLY.value: 7, Cadence.BIWEEKLY.value: 14, Cadence.MONTHLY.value: 28}
CADENCE_WORDS = {
    Cadence.WEEKLY.value: "every week",
    Cadence.BIWEEKLY.value: "every two weeks",
    Cadence.MONTHLY.value: "every month",
}
LEAD = timedelta(days=3)  # the next chat is offered this long before it is due
EARLIEST = timedelta(days=1)  # and its first offered time is at most this long before it is due


def cadence_of(match: Match, program: Program) -> str:
    """The pair's agreed cadence, else the program's (an unknown value counts as weekly)."""
    cadence = match.cadence or program.cadence
    return cadence if cadence in CADENCE_DAYS else Cadence.WEEKLY.value


def interval_of(match: Match, program: Program) -> timedelta:
    return timedelta(days=CADENCE_DAYS[cadence_of(match, program)])


def track_end(match: Match, program: Program) -> datetime | None:
    return match.created_at + timedelta(weeks=program.track_weeks) if match.created_at else None


def last_chat(meetings: list[Meeting], match: Match) -> datetime | None:
    """When the pair's latest held or booked chat started (else when they said they met, if they did)."""
    starts = [
        m.start_at
        for m in meetings
        if m.start_at is not None and (m.held_at is not None or m.state == MeetingState.CONFIRMED.value)
    ]
    return max(starts) if starts else match.met_at


def next_offer_from(match: Match, program: Program, meetings: list[Meeting], now: datetime) -> datetime | None:
    """From when the next chat's times should start, if it is time to offer them now; None if not (yet)."""
    if match.status == MatchStatus.ENDED.value or program.kind != ProgramKind.MENTORING.value:
        return None
    if any(is_open(m, now) for m in meetings):
        return None  # times on offer, a proposal or a booked chat ahead: one thing at a time
    anchor = last_chat(meetings, match)
    if anchor is None:
        return None  # never booked: the intro's offer and its nudge are the way in
    due = anchor + interval_of(match, program)
    if now < due - LEAD:
        return None
    start = max(now, due - EARLIEST)
    end = track_end(match, program)
    if end is None or start >= end:
        return None  # the track is over: no more chats to book
    return start


async def offer_next_chats(core: Runtime) -> int:
    """The scheduler step: offer the next chat to every live mentoring pair that is due one."""
    now = core.clock.now()
    count = 0
    async with core.db.transaction() as session:
        rows = (
            await session.exec(
                select(Match, Program, Workspace)
                .join(Program, col(Program.id) == Match.program_id)
                .join(Workspace, col(Workspace.id) == Program.workspace_id)
                .where(
                    col(Match.status) != MatchStatus.ENDED.value,
                    Program.kind == ProgramKind.MENTORING.value,
                    Program.status == ProgramStatus.ACTIVE.value,
                )
                .order_by(col(Match.id))
            )
        ).all()
        live = [(m, p, w) for m, p, w in rows if (end := track_end(m, p)) is not None and end > now]
        meetings = await _meetings_of(session, [m.id for m, _, _ in live])
        for match, program, workspace in live:
            count += await offer_next(
                core, session, match, program, workspace.platform, meetings.get(match.id or 0, [])
            )
    return count


async def _meetings_of(session: AsyncSession, match_ids: list[int | None]) -> dict[int, list[Meeting]]:
    """Every meeting of these matches in one query."""
    found: dict[int, list[Meeting]] = {}
    if not match_ids:
        return found
    for meeting in (await session.exec(select(Meeting).where(col(Meeting.match_id).in_(match_ids)))).all():
        found.setdefault(meeting.match_id, []).append(meeting)
    return found


async def offer_next(
    core: Runtime,
    session: AsyncSession,
    match: Match,
    program: Program,
    platform: str,
    meetings: list[Meeting] | None = None,
) -> int:
    """Offer this pair its next chat if it is due (see ``next_offer_from``); how many messages went out."""
    now = core.clock.now()
    if meetings is None:
        meetings = list((await session.exec(select(Meeting).where(Meeting.match_id == match.id))).all())
    start = next_offer_from(match, program, meetings, now)
    if start is None:
        return 0
    users = await match_users(session, match.id or 0)
    if not users or not await everyone_available(session, program, users, now):
        return 0  # someone is away or left: no offer until they're back
    for old in meetings:  # offers and proposals whose times have all passed are replaced by this one
        if old.state in (MeetingState.OFFERED.value, MeetingState.PROPOSED.value):
            old.state = MeetingState.CANCELLED.value
    fresh, plan = await offer(session, program, match, users, now, after=start)
    todo = action_items_block(await latest_action_items(session, match.id))
    items = []
    for who, target in group_target(core, platform, users):
        viewer = next((u for u in users if u.platform_user_id == who), None)
        message = Message(
            summary=f"Time to book your next chat with {_names(users, viewer)}",
            blocks=(
                Section(text=_heading(match, program, users, viewer)),
                *([todo] if todo else []),
                *offer_blocks(fresh, plan, users, viewer=viewer),
            ),
        )
        items.append(
            Outgoing(
                key=f"meeting:{fresh.id}:next:{who}",
                step="booking",
                target=target,
                message=message,
                program_id=program.id,
                match_id=match.id,
            )
        )
    return await enqueue(session, program.workspace_id, items, now)


def _names(users: list[User], viewer: User | None) -> str:
    others = [u.display_name for u in users if viewer is None or u.id != viewer.id]
    return others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]


def _heading(match: Match, program: Program, users: list[User], viewer: User | None) -> Text:
    others = [u for u in users if viewer is None or u.id != viewer.id]
    how = CADENCE_WORDS[cadence_of(match, program)]
    agreed = "as you agreed" if match.cadence else f"the rhythm of {program.name}"
    lead = "☕ Time to book your next chat, " if viewer is None else "☕ Time to book your next chat with "
    return Text.of(lead, *mentions(others), f": {how}, {agreed}.")
