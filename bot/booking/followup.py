"""After each chat: "how did it go?", then "we met" (counted once), "it didn't happen" (fresh times) or a recap.

A booked time passing is not a meeting: only someone in the pair saying so counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.booking.offers import (
    MATCH_ENDED,
    BookingError,
    MeetingRef,
    group_target,
    load_booking,
    meetings_in_context,
    offer,
    offer_blocks,
)
from bot.booking.recaps import my_recap, parse_recap, recap_form, save_recap
from bot.chat.registry import ButtonKind, encode
from bot.delivery.outbox import Outgoing, enqueue
from bot.kernel.messages import Actions, Context, Form, Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import show
from storage.enums import MatchStatus, MeetingState, ProgramStatus
from storage.tables import Match, Meeting, Program, User

MET = ButtonKind("chat:met", MeetingRef)
MISSED = ButtonKind("chat:missed", MeetingRef)
RECAP = ButtonKind("chat:recap", MeetingRef)
FOLLOWUP_WINDOW = timedelta(days=7)  # a chat that ended longer ago than this (service down) gets no question


def names_of(users: list[User]) -> str:
    names = [u.display_name for u in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mentions(users: list[User]) -> list[str | Mention]:
    """'Ana', 'Ana and Ben', 'Ana, Ben and Cy' as mentions."""
    parts: list[str | Mention] = []
    for index, user in enumerate(users):
        if index:
            parts.append(" and " if index == len(users) - 1 else ", ")
        parts.append(Mention(user_id=user.platform_user_id, name=user.display_name))
    return parts


def followup_message(meeting: Meeting, users: list[User], viewer: User | None) -> Message:
    """To the group ("how did your chat go, Ana and Ben?") or to one person ("how did your chat with Ben go?")."""
    ref = MeetingRef(meeting.id or 0)
    assert meeting.start_at is not None
    if viewer is None:
        question = Text.of("💬 How did your chat go, ", *mentions(users), "?")
        summary = f"How did your chat go, {names_of(users)}?"
    else:
        others = [u for u in users if u.id != viewer.id]
        when = show(meeting.start_at, viewer.timezone, with_zone=False)
        question = Text.of("💬 How did your chat with ", *mentions(others), f" go? ({when})")
        summary = f"How did your chat with {names_of(others)} go?"
    return Message(
        summary=summary,
        blocks=(
            Section(text=question),
            Actions(
                elements=(
                    MET.button("We met ✓", ref, style="primary"),
                    MISSED.button("It didn't happen", ref),
                    RECAP.button("Write a recap", ref),
                )
            ),
            Context(text=Text.of("A recap is private to you and your match: a note and action items for next time.")),
        ),
    )


async def send_followups(core: Runtime) -> int:
    """Once per booked chat, after its end: ask the group how it went. Returns how many messages went out."""
    now = core.clock.now()
    count = 0
    async with core.db.transaction() as session:
        rows = (
            await session.exec(
                meetings_in_context()
                .where(
                    Meeting.state == MeetingState.CONFIRMED.value,
                    col(Meeting.followed_up_at).is_(None),
                    col(Meeting.end_at) <= now,
                    col(Match.status) != MatchStatus.ENDED.value,
                )
                .order_by(col(Meeting.id))
            )
        ).all()
        for meeting, match, program, workspace in rows:
            meeting.followed_up_at = now
            assert meeting.end_at is not None
            if meeting.end_at < now - FOLLOWUP_WINDOW or program.status != ProgramStatus.ACTIVE.value:
                continue  # long past (the service was down) or the program is paused: don't ask
            _, _, _, users = await load_booking(session, meeting.id or 0)
            items = [
                Outgoing(
                    key=f"meeting:{meeting.id}:followup:{who}",
                    step="followup",
                    target=target,
                    message=followup_message(meeting, users, None if who == "group" else _user(users, who)),
                    program_id=program.id,
                    match_id=match.id,
                )
                for who, target in group_target(core, workspace.platform, users)
            ]
            count += await enqueue(session, program.workspace_id, items, now)
    return count


def _user(users: list[User], platform_user_id: str) -> User | None:
    return next((u for u in users if u.platform_user_id == platform_user_id), None)


@dataclass(frozen=True)
class Chat:
    """One chat someone clicked about, checked: theirs, of a live match, and over."""

    meeting: Meeting
    match: Match
    program: Program
    users: list[User]


async def chat_for(session: AsyncSession, actor: User, meeting_id: int, now: datetime) -> Chat:
    """The chat behind a follow-up button; a clear BookingError (nothing changed) when it can't be acted on."""
    meeting, match, program, users = await load_booking(session, meeting_id)
    if actor.id not in {u.id for u in users}:
        raise BookingError("This chat belongs to another group.")
    if match.status == MatchStatus.ENDED.value:
        raise BookingError(MATCH_ENDED)
    if meeting.start_at is None or meeting.end_at is None or meeting.start_at > now:
        raise BookingError("That chat hasn't happened yet.")
    return Chat(meeting, match, program, users)


@dataclass(frozen=True)
class Held:
    """The outcome of a "we met" click: ``counted`` when this click was the one that counted the chat."""

    counted: bool
    text: str
    match: Match


async def mark_held(core: Runtime, session: AsyncSession, actor: User, meeting_id: int) -> Held:
    """Mark a chat held ("we met"): the first click per chat counts it (held_at, meetings_count, met); later ones say it's noted."""
    now = core.clock.now()
    chat = await chat_for(session, actor, meeting_id, now)
    meeting, match = chat.meeting, chat.match
    others = names_of([u for u in chat.users if u.id != actor.id])
    if meeting.state == MeetingState.CANCELLED.value:
        raise BookingError("That chat was called off or replaced by another time; nothing was changed.")
    won = (
        await session.exec(
            update(Meeting).where(col(Meeting.id) == meeting.id, col(Meeting.held_at).is_(None)).values(held_at=now)
        )
    ).rowcount
    if not won:
        return Held(False, f"Already noted: you met {others} for that chat. Thanks!", match)
    await session.exec(
        update(Match).where(col(Match.id) == match.id).values(meetings_count=col(Match.meetings_count) + 1)
    )
    await session.refresh(meeting)
    await session.refresh(match)
    match.status = MatchStatus.MET.value
    match.met_at = match.met_at or now
    text = f"Great, noted: chat number {match.meetings_count} with {others}. 🎉"
    return Held(True, text, match)


async def missed(core: Runtime, session: AsyncSession, platform: str, actor: User, meeting_id: int) -> str:
    """Answer "it didn't happen": offer fresh times to the group right away (once: a second click finds them on offer)."""
    now = core.clock.now()
    chat = await chat_for(session, actor, meeting_id, now)
    meeting, match, program, users = chat.meeting, chat.match, chat.program, chat.users
    if meeting.held_at is not None:
        return "Someone already noted that this chat took place, so nothing was changed."
    if meeting.state == MeetingState.CANCELLED.value or await _open_offer(session, match, now):
        return "Fresh times are already on offer: pick one from the latest message."
    meeting.state = MeetingState.CANCELLED.value
    if match.status == MatchStatus.SCHEDULED.value:
        match.status = MatchStatus.INTRODUCED.value
    fresh, plan = await offer(session, program, match, users, now)
    items = []
    for who, target in group_target(core, platform, users):
        viewer = None if who == "group" else _user(users, who)
        others = users if viewer is None else [u for u in users if u.id != viewer.id]
        message = Message(
            summary="Let's find another time",
            blocks=(
                Section(
                    text=Text.of(
                        Mention(user_id=actor.platform_user_id, name=actor.display_name),
                        " says your chat didn't happen. No problem: here are fresh times for ",
                        *mentions(others),
                        ".",
                    )
                ),
                *offer_blocks(fresh, plan, users, viewer=viewer),
            ),
        )
        items.append(
            Outgoing(
                key=f"meeting:{fresh.id}:missed:{who}",
                step="booking",
                target=target,
                message=message,
                program_id=program.id,
                match_id=match.id,
            )
        )
    await enqueue(session, program.workspace_id, items, now)
    return "Thanks for saying. I've offered fresh times to the group."


async def _open_offer(session: AsyncSession, match: Match, now: datetime) -> bool:
    """Whether the group has times on offer, a proposal or a booked chat still ahead."""
    meetings = (await session.exec(select(Meeting).where(Meeting.match_id == match.id))).all()
    return any(is_open(m, now) for m in meetings)


def is_open(meeting: Meeting, now: datetime) -> bool:
    """An offer with a time still ahead, or a proposed or booked chat that hasn't started."""
    if meeting.state == MeetingState.OFFERED.value:
        return any(datetime.fromisoformat(s) > now for s in meeting.slots)
    if meeting.state in (MeetingState.PROPOSED.value, MeetingState.CONFIRMED.value):
        return meeting.start_at is not None and meeting.start_at > now
    return False


async def recap_form_for(session: AsyncSession, actor: User, meeting_id: int, now: datetime) -> Form:
    """The recap form, filled with this person's recap of that chat if they wrote one."""
    chat = await chat_for(session, actor, meeting_id, now)
    mine = await my_recap(session, chat.meeting.id or 0, actor.id)
    state = encode(MeetingRef(chat.meeting.id or 0))
    if mine is None:
        return recap_form(state)
    return recap_form(state, mine.text, list(mine.action_items))


async def write_recap(
    core: Runtime, session: AsyncSession, actor: User, meeting_id: int, values: dict
) -> tuple[str, dict[str, str]]:
    """Save a submitted recap: (confirmation, {}) or ("", errors by field) with nothing saved."""
    now = core.clock.now()
    chat = await chat_for(session, actor, meeting_id, now)
    text, items, errors = parse_recap(values)
    if errors:
        return "", errors
    await save_recap(session, chat.match.id or 0, chat.meeting.id or 0, actor.id or 0, text, items, now)
    others = names_of([u for u in chat.users if u.id != actor.id])
    said = f" with {len(items)} action item{'s' if len(items) != 1 else ''}" if items else ""
    return (
        f"Recap saved{said}. It's private: only you and {others} can see it, never the program's admins. "
        "I'll bring the action items up again before your next chat.",
        {},
    )
