"""Coffee-chat booking: offer times, propose one, everyone accepts, confirm with calendar links."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from bot.booking.busy import busy_times, clash, round_busy
from bot.booking.calendar_links import google_link, ics_file, outlook_link
from bot.booking.recaps import action_items_block, latest_action_items
from bot.booking.slots import Availability, SlotPlan, find_slots, forget_plans
from bot.chat.errors import CommandError
from bot.chat.registry import ButtonKind
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.kernel.messages import (
    Actions,
    Button,
    Context,
    FileAttachment,
    Header,
    Mention,
    Message,
    Section,
    Text,
)
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import show
from bot.programs.matches import match_users, names_of_others
from bot.programs.membership import everyone_available
from storage.bulk import insert_returning_ids
from storage.enums import MatchStatus, MeetingState, ProgramStatus
from storage.tables import Match, Meeting, Program, User, Workspace


class SlotRef(NamedTuple):
    """One offered time of a meeting (its index in ``Meeting.slots``, which only ever grows)."""

    meeting_id: int
    slot: int


class MeetingRef(NamedTuple):
    meeting_id: int


PROPOSE = ButtonKind("book:propose", SlotRef)  # older messages carry "meeting:slot": decode still reads it
ACCEPT = ButtonKind("book:accept", MeetingRef)
DECLINE = ButtonKind("book:decline", MeetingRef)
MATCH_ENDED = "This match has ended, so there is nothing more to book or note for it; nothing was changed."
NUDGE_AFTER = timedelta(days=3)  # an offer nobody picked from for this long gets one nudge with fresh times


def plan_for(
    program: Program, users: list[User], after: datetime, busy: tuple[tuple[datetime, datetime], ...] = ()
) -> SlotPlan:
    holidays = frozenset(date.fromisoformat(d) for d in program.holidays if _is_date(d))
    people = [Availability(u.timezone, u.work_start, u.work_end) for u in users]
    return find_slots(people, after, length_minutes=program.meeting_minutes, holidays=holidays, busy=busy)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


async def offer(
    session: AsyncSession,
    program: Program,
    match: Match,
    users: list[User],
    now: datetime,
    *,
    after: datetime | None = None,
) -> tuple[Meeting, SlotPlan]:
    """A new offer of times for the group (from ``after`` on, default now), avoiding everyone's busy time."""
    plan = plan_for(program, users, max(now, after or now), await busy_times(session, users, now))
    meeting = Meeting(
        match_id=match.id or 0,
        state=MeetingState.OFFERED.value,
        slots=[s.isoformat() for s in plan.starts],
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    return meeting, plan


class Offered(NamedTuple):
    """A meeting's id and offered times: all an offer's message needs (a :class:`Meeting` is one too)."""

    id: int | None
    slots: list[str]


async def offer_round(
    session: AsyncSession, program: Program, round_id: int, groups: list[tuple[Match, list[User]]], now: datetime
) -> list[tuple[Offered, SlotPlan]]:
    """:func:`offer` for each of a round's groups, in order, with busy times read once and one batched insert.

    Each group's offer counts as busy for the groups after it, as it would once written, so the times are
    the ones group-by-group offers would give.
    """
    book = await round_busy(session, round_id, now)
    plans: list[SlotPlan] = []
    rows: list[dict] = []
    try:
        for match, users in groups:
            plan = plan_for(program, users, now, book.of(users))
            slots = [s.isoformat() for s in plan.starts]
            book.add(users, slots, program.meeting_minutes)
            plans.append(plan)
            rows.append(
                {
                    "match_id": match.id or 0,
                    "state": MeetingState.OFFERED.value,
                    "slots": slots,
                    "accepted_user_ids": [],
                    "created_at": now,
                }
            )
    finally:
        forget_plans()  # the round's grids are of no use to the next search (tens of MB for a big round)
    ids = await insert_returning_ids(session, Meeting, rows)
    return [(Offered(i, row["slots"]), plan) for i, row, plan in zip(ids, rows, plans, strict=True)]


def slot_lines(starts: list[datetime], users: list[User]) -> list[str]:
    """'Option 1: Tue 24 Nov, 09:00 for Ana (America/New_York) · 15:00 for Ben (Europe/Berlin)'."""
    lines = []
    for index, start in enumerate(starts, 1):
        local = " · ".join(
            f"{show(start, u.timezone, with_zone=False)} for {u.display_name} ({u.timezone})" for u in users
        )
        lines.append(f"Option {index}: {local}")
    return lines


def offer_blocks(
    meeting: Meeting | Offered, plan: SlotPlan, users: list[User], viewer: User | None = None, first: int = 0
) -> list:
    """The 'pick a time' part of an intro. ``viewer`` set: times shown in that one person's zone.

    ``first`` offers only the meeting's slots from that index on (a nudge appends fresh ones, and the
    buttons keep their index so older messages' buttons still mean what they said)."""
    starts = [datetime.fromisoformat(s) for s in meeting.slots[first:]]
    if not starts:
        return [
            Section(
                text=Text.of(
                    "I couldn't find any working day in the next week to suggest. Try agreeing a time in this chat."
                )
            )
        ]
    blocks: list = []
    if plan.shared:
        blocks.append(Section(text=Text.of("**Pick a time for your chat** (these fit everyone's working hours):")))
    else:
        blocks.append(
            Section(
                text=Text.of(
                    "Your working hours don't overlap at all, so there is no time that suits everyone. "
                    "You could **start asynchronously**: share a short voice or video note about yourselves, "
                    "then meet at one of the least-bad times below:"
                )
            )
        )
    if viewer is not None:
        lines = [f"Option {i}: {show(s, viewer.timezone)}" for i, s in enumerate(starts, 1)]
    else:
        lines = slot_lines(starts, users)
    blocks.append(Section(text=Text.of("\n".join(lines))))
    buttons = [
        PROPOSE.button(f"Propose option {i}", SlotRef(meeting.id or 0, first + i - 1))
        for i in range(1, len(starts) + 1)
    ]
    blocks.append(Actions(elements=tuple(buttons)))
    return blocks


def proposal_message(meeting: Meeting, proposer: User, users: list[User]) -> Message:
    assert meeting.start_at is not None
    when = " · ".join(f"{show(meeting.start_at, u.timezone)} for {u.display_name}" for u in users)
    body = Text.of(
        Mention(user_id=proposer.platform_user_id, name=proposer.display_name), f" proposed a coffee chat: {when}."
    )
    return Message(
        summary=f"{proposer.display_name} proposed a time for your chat",
        blocks=(
            Section(text=body),
            Actions(
                elements=(
                    ACCEPT.button("Accept", MeetingRef(meeting.id or 0), style="primary"),
                    DECLINE.button("Can't make it", MeetingRef(meeting.id or 0), style="danger"),
                )
            ),
        ),
    )


def confirmation_message(program: Program, meeting: Meeting, user: User, others: list[User], now: datetime) -> Message:
    assert meeting.start_at is not None and meeting.end_at is not None
    names = ", ".join(o.display_name for o in others)
    title = f"Coffee chat: {user.display_name} & {names}"
    details = f"Tandem · {program.name}"
    ics = ics_file(f"tandem-meeting-{meeting.id}@tandem", title, meeting.start_at, meeting.end_at, details, now)
    return Message(
        summary=f"Your chat with {names} is booked for {show(meeting.start_at, user.timezone)}",
        blocks=(
            Header(text="Your coffee chat is booked ✅"),
            Section(
                text=Text.of(
                    f"With {names}: **{show(meeting.start_at, user.timezone)}** ({program.meeting_minutes} min)."
                )
            ),
            Actions(
                elements=(
                    Button(
                        label="Google Calendar",
                        action_id="link:google",
                        url=google_link(title, meeting.start_at, meeting.end_at, details),
                    ),
                    Button(
                        label="Outlook",
                        action_id="link:outlook",
                        url=outlook_link(title, meeting.start_at, meeting.end_at, details),
                    ),
                    DECLINE.button("Can't make it", MeetingRef(meeting.id or 0), style="danger"),
                )
            ),
            Context(text=Text.of(f"I'll remind you {program.reminder_minutes} minutes before.")),
        ),
        files=(
            FileAttachment(
                filename="coffee-chat.ics",
                mime_type="text/calendar",
                title=title,
                content_b64=base64.b64encode(ics.encode()).decode(),
            ),
        ),
    )


class BookingError(CommandError):
    """A click that can't be applied (stale, not yours); the message is for the person."""


async def load_booking(session: AsyncSession, meeting_id: int) -> tuple[Meeting, Match, Program, list[User]]:
    """A booking with its match, program and people; BookingError when it no longer exists."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise BookingError("That booking no longer exists.")
    match = await session.get(Match, meeting.match_id)
    assert match is not None
    program = await session.get(Program, match.program_id)
    assert program is not None
    return meeting, match, program, await match_users(session, match.id or 0)


async def _load_live(session: AsyncSession, meeting_id: int) -> tuple[Meeting, Match, Program, list[User]]:
    """As :func:`load_booking`, for a click that would change a booking: an ended match's buttons change nothing."""
    loaded = await load_booking(session, meeting_id)
    if loaded[1].status == MatchStatus.ENDED.value:
        raise BookingError(MATCH_ENDED)
    return loaded


def group_target(core: Runtime, platform: str, users: list[User]) -> list[tuple[str, dict]]:
    """One group conversation where the platform has them, else each person 1:1 (keyed "group" or user id)."""
    if core.port(platform).capabilities.group_conversations:
        return [("group", to_group([u.platform_user_id for u in users]))]
    return [(u.platform_user_id, to_user(u.platform_user_id)) for u in users]


async def propose(
    core: Runtime, session: AsyncSession, platform: str, actor: User, meeting_id: int, slot_index: int
) -> str:
    meeting, match, program, users = await _load_live(session, meeting_id)
    if actor.id not in {u.id for u in users}:
        raise BookingError("This booking belongs to another group.")
    if meeting.state == MeetingState.CONFIRMED.value:
        return "This chat is already booked. Use “Can't make it” on the confirmation to change it."
    if meeting.state == MeetingState.CANCELLED.value:
        raise BookingError("Those times were replaced by newer ones: pick one from the latest message.")
    if not 0 <= slot_index < len(meeting.slots):
        raise BookingError("That time is no longer on offer.")
    now = core.clock.now()
    start = datetime.fromisoformat(meeting.slots[slot_index])
    if start <= now:
        raise BookingError("That time has already passed: pick a later one.")
    await _refuse_clash(session, users, start, start + timedelta(minutes=program.meeting_minutes), meeting)
    meeting.state = MeetingState.PROPOSED.value
    meeting.start_at = start
    meeting.end_at = start + timedelta(minutes=program.meeting_minutes)
    meeting.proposed_by_user_id = actor.id
    meeting.accepted_user_ids = [actor.id or 0]
    items = [
        Outgoing(
            key=f"meeting:{meeting.id}:proposal:{slot_index}:{who}",
            step="booking",
            target=target,
            message=proposal_message(meeting, actor, users),
            program_id=program.id,
            match_id=match.id,
        )
        for who, target in group_target(core, platform, users)
        if who != actor.platform_user_id  # 1:1 copies: the proposer's answer is their click's; no Accept for them
    ]
    await enqueue(session, program.workspace_id, items, now)
    return f"You proposed {show(start, actor.timezone)}. I'll confirm once everyone accepts."


async def accept(core: Runtime, session: AsyncSession, platform: str, actor: User, meeting_id: int) -> str:
    meeting, match, program, users = await _load_live(session, meeting_id)
    if actor.id not in {u.id for u in users}:
        raise BookingError("This booking belongs to another group.")
    if meeting.state == MeetingState.CONFIRMED.value:
        return "This chat is already booked."
    if meeting.state != MeetingState.PROPOSED.value or meeting.start_at is None:
        return "There is no proposed time to accept yet; pick one of the options first."
    assert meeting.end_at is not None
    await _refuse_clash(session, [actor], meeting.start_at, meeting.end_at, meeting)
    accepted = set(meeting.accepted_user_ids) | {actor.id or 0}
    meeting.accepted_user_ids = sorted(accepted)
    if accepted >= {u.id for u in users}:
        await _confirm(core, session, meeting, match, program, users)
        # the confirmation that follows has the time and calendar links: this answer doesn't repeat it
        return "Booked ✅ Everyone gets the confirmation with calendar links now."
    return "Thanks, noted. I'll confirm once everyone has accepted."


async def _refuse_clash(
    session: AsyncSession, users: list[User], start: datetime, end: datetime, meeting: Meeting
) -> None:
    """Never book anyone twice at once, whatever the program: the other chat was there first."""
    busy = await clash(session, users, start, end, meeting.id or 0)
    if busy is not None:
        who = "you have" if len(users) == 1 else f"{busy.display_name} has"
        raise BookingError(f"That time clashes with another chat {who} booked; pick another option.")


async def _confirm(
    core: Runtime, session: AsyncSession, meeting: Meeting, match: Match, program: Program, users: list[User]
) -> None:
    now = core.clock.now()
    assert meeting.start_at is not None
    meeting.state = MeetingState.CONFIRMED.value
    meeting.confirmed_at = now
    meeting.reminder_at = meeting.start_at - timedelta(minutes=program.reminder_minutes)
    if match.status != MatchStatus.MET.value:  # a pair that has met stays "met" while booking the next chat
        match.status = MatchStatus.SCHEDULED.value
    stamp = meeting.start_at.strftime("%Y%m%d%H%M")
    items = [
        Outgoing(
            key=f"meeting:{meeting.id}:confirmed:{stamp}:{u.id}",
            step="booking",
            target=to_user(u.platform_user_id),
            message=confirmation_message(program, meeting, u, [o for o in users if o.id != u.id], now),
            program_id=program.id,
            match_id=match.id,
        )
        for u in users
    ]
    await enqueue(session, program.workspace_id, items, now)


async def decline(core: Runtime, session: AsyncSession, platform: str, actor: User, meeting_id: int) -> str:
    """“Can't make it”: drop the time and offer fresh options to the whole group."""
    meeting, match, program, users = await _load_live(session, meeting_id)
    if actor.id not in {u.id for u in users}:
        raise BookingError("This booking belongs to another group.")
    now = core.clock.now()
    meeting.state = MeetingState.CANCELLED.value
    if match.status == MatchStatus.SCHEDULED.value:
        match.status = MatchStatus.INTRODUCED.value
    fresh, plan = await offer(session, program, match, users, now)
    message = Message(
        summary="Let's find another time",
        blocks=(
            Section(
                text=Text.of(
                    Mention(user_id=actor.platform_user_id, name=actor.display_name),
                    " can't make that time. Here are fresh options:",
                )
            ),
            *offer_blocks(fresh, plan, users),
        ),
    )
    items = [
        Outgoing(
            key=f"meeting:{fresh.id}:reoffer:{who}",
            step="booking",
            target=target,
            message=message,
            program_id=program.id,
            match_id=match.id,
        )
        for who, target in group_target(core, platform, users)
    ]
    await enqueue(session, program.workspace_id, items, now)
    return "No problem, I've offered new times to the group."


def meetings_in_context() -> Select[Meeting, Match, Program, Workspace]:
    """Meetings with their match, program and workspace: what every sweep over meetings needs to write."""
    return (
        select(Meeting, Match, Program, Workspace)
        .join(Match, col(Match.id) == Meeting.match_id)
        .join(Program, col(Program.id) == Match.program_id)
        .join(Workspace, col(Workspace.id) == Program.workspace_id)
    )


async def _unanswered_offers(session: AsyncSession, now: datetime) -> list[tuple[Meeting, Match, Program, Workspace]]:
    """Offers nobody picked a time from within ``NUDGE_AFTER``, and not nudged yet: each gets one nudge only."""
    return list(
        (
            await session.exec(
                meetings_in_context()
                .where(
                    Meeting.state == MeetingState.OFFERED.value,
                    col(Meeting.nudged_at).is_(None),
                    col(Meeting.created_at) <= now - NUDGE_AFTER,
                )
                .order_by(col(Meeting.id))
            )
        ).all()
    )


async def _still_looking(session: AsyncSession, meeting: Meeting, match: Match, now: datetime) -> bool:
    """Whether the group still has no time: a first chat while nothing happened, a later one while none is booked.

    A pair that has had a chat gets its next one offered at its cadence (bot/booking/recurring.py); those offers
    are nudged like the first, unless another chat of theirs is already proposed or booked ahead.
    """
    if match.status == MatchStatus.ENDED.value:
        return False
    others = [
        m for m in (await session.exec(select(Meeting).where(Meeting.match_id == match.id))).all() if m.id != meeting.id
    ]
    booked = (MeetingState.PROPOSED.value, MeetingState.CONFIRMED.value)
    if any(m.state in booked and m.end_at is not None and m.end_at > now for m in others):
        return False
    had_chat = any(m.held_at is not None or m.state == MeetingState.CONFIRMED.value for m in others)
    return had_chat or match.status == MatchStatus.INTRODUCED.value


def _nudge_message(meeting: Meeting, plan: SlotPlan, users: list[User], viewer: User | None, first: int) -> Message:
    """The nudge: fresh times, and permission to ignore it if they already agreed a time."""
    names = names_of_others(viewer, users) if viewer is not None else ""
    chat = f"your coffee chat with {names}" if names else "your coffee chat"
    return Message(
        summary="Still looking for a time for your coffee chat?",
        blocks=(
            Section(
                text=Text.of(
                    f"☕ Nobody has picked a time for {chat} yet. "
                    "Here are some fresh options; one click proposes it to the others."
                )
            ),
            *offer_blocks(meeting, plan, users, viewer=viewer, first=first),
            Context(text=Text.of("Already agreed a time elsewhere? No problem: just ignore this.")),
        ),
    )


async def _nudge(
    core: Runtime,
    session: AsyncSession,
    meeting: Meeting,
    match: Match,
    program: Program,
    workspace: Workspace,
    now: datetime,
) -> int:
    """Append fresh times to one offer and tell the group; 0 when they're better left alone."""
    meeting.nudged_at = now
    if program.status != ProgramStatus.ACTIVE.value or not await _still_looking(session, meeting, match, now):
        return 0  # they met, booked elsewhere, the match ended or the program is paused: leave them be
    users = await match_users(session, match.id or 0)
    if not await everyone_available(session, program, users, now):
        return 0  # someone is away or left: a nudge would only nag the others
    plan = plan_for(program, users, now, await busy_times(session, users, now, except_meeting=meeting.id))
    known = set(meeting.slots)
    fresh = [s.isoformat() for s in plan.starts if s.isoformat() not in known]
    first = len(meeting.slots)
    meeting.slots = [*meeting.slots, *fresh]
    if not fresh:
        return 0
    items = [
        Outgoing(
            key=f"meeting:{meeting.id}:nudge:{who}",
            step="booking",
            target=target,
            message=_nudge_message(
                meeting, plan, users, next((u for u in users if u.platform_user_id == who), None), first
            ),
            program_id=program.id,
            match_id=match.id,
        )
        for who, target in group_target(core, workspace.platform, users)
    ]
    return await enqueue(session, program.workspace_id, items, now)


async def send_booking_nudges(core: Runtime) -> int:
    """One nudge, with fresh times, to a group that hasn't picked a time ``NUDGE_AFTER`` after the offer.

    "Nobody actually scheduled the chat" is the commonest way a match quietly fails. The fresh times are
    appended to the same offer, so the intro's buttons keep working for times still ahead.
    """
    now = core.clock.now()
    count = 0
    async with core.db.transaction() as session:
        for meeting, match, program, workspace in await _unanswered_offers(session, now):
            count += await _nudge(core, session, meeting, match, program, workspace, now)
    return count


async def send_due_reminders(core: Runtime) -> int:
    """Remind everyone shortly before a booked chat (once per meeting)."""
    now = core.clock.now()
    count = 0
    async with core.db.transaction() as session:
        # a reminder missed while the service was down is pointless once the chat has started: drop it
        await session.exec(
            update(Meeting)
            .where(
                col(Meeting.state) == MeetingState.CONFIRMED.value,
                col(Meeting.reminder_at).is_not(None),
                col(Meeting.start_at) <= now,
            )
            .values(reminder_at=None)
        )
        due = (
            await session.exec(
                select(Meeting).where(
                    Meeting.state == MeetingState.CONFIRMED.value,
                    col(Meeting.reminder_at).is_not(None),
                    col(Meeting.reminder_at) <= now,
                    col(Meeting.start_at) > now,
                )
            )
        ).all()
        for meeting in due:
            _, match, program, users = await load_booking(session, meeting.id or 0)
            assert meeting.start_at is not None
            if match.status == MatchStatus.ENDED.value:
                meeting.reminder_at = None  # an ended match hears nothing more (its calendar invite still stands)
                continue
            todo = action_items_block(await latest_action_items(session, match.id))
            items = []
            for u in users:
                others = ", ".join(o.display_name for o in users if o.id != u.id)
                items.append(
                    Outgoing(
                        key=f"meeting:{meeting.id}:reminder:{meeting.start_at:%Y%m%d%H%M}:{u.id}",
                        step="reminder",
                        target=to_user(u.platform_user_id),
                        program_id=program.id,
                        match_id=match.id,
                        message=Message(
                            summary=f"Coffee chat with {others} soon",
                            blocks=(
                                Section(
                                    text=Text.of(
                                        f"⏰ Your coffee chat with {others} starts at {show(meeting.start_at, u.timezone)}."
                                    )
                                ),
                                *([todo] if todo else []),
                            ),
                        ),
                    )
                )
            count += await enqueue(session, program.workspace_id, items, now)
            meeting.reminder_at = None
    return count
