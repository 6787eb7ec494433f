"""The one rule for someone found in a program's channel: invite them, enrol and tell them, or leave them be.

Both ways people are found go through here: one person joining the channel (an adapter's member-joined
event) and everyone already in it (a channel sync, bot/programs/channel_sync.py), on every platform.
Nobody is ever enrolled silently: an opt-out program enrols and tells, with a one-click way out.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, to_user
from bot.kernel.messages import Actions, Message, Section, Text
from bot.programs.buttons import JOIN, LEAVE, ProgramRef
from bot.programs.membership import invite, join, membership, new_membership_row
from storage.enums import Enrolment, MembershipStatus
from storage.tables import Delivery, Membership, Program, User
from storage.upsert import insert_ignore

SYNC_STEP = "channel_sync"  # the outbox step of messages to people already in a channel
WELCOME_STEP = "welcome"  # ... and to someone who just joined it


class Reach(StrEnum):
    INVITE = "invite"
    ENROL = "enrol"


def decide(program: Program, existing: Membership | None, *, arrived: bool) -> Reach | None:
    """What to do about one person in the channel, or None to leave them alone.

    ``arrived``: they just joined the channel, which counts as a fresh start (a welcome, even when they
    were asked before). Otherwise they were found already there: people in the program or already asked
    are left alone, and people who left it once are only ever asked again, never enrolled.
    """
    status = existing.status if existing is not None else None
    if status == MembershipStatus.ACTIVE.value:
        return None
    opt_out = program.enrolment == Enrolment.OPT_OUT.value
    if arrived:
        return Reach.ENROL if opt_out else Reach.INVITE
    if status == MembershipStatus.INVITED.value:
        return None
    if status == MembershipStatus.LEFT.value:
        return Reach.INVITE
    return Reach.ENROL if opt_out else Reach.INVITE


def reach_message(program: Program, action: Reach, *, arrived: bool) -> Message:
    """The invitation (with a Join button) or the enrolment notice (with a Leave button)."""
    ref = ProgramRef(program.id or 0)
    # never the channel's platform id ("19:…@thread.tacv2" means nothing to people): the program's name says it
    where = "Welcome! The channel you just joined runs" if arrived else "A channel you're in now runs"
    if action == Reach.ENROL:
        text = (
            f"👋 {where} **{program.name}**, so you're in: I'll introduce you to someone new each round. "
            "Not for you? One click and you're out."
        )
        button = LEAVE.button("Leave the program", ref, style="danger")
    else:
        text = f"👋 {where} **{program.name}**: I introduce people to each other and help them book a chat. Want in?"
        button = JOIN.button("Join", ref, style="primary")
    return Message(summary=f"About {program.name}", blocks=(Section(text=Text.of(text)), Actions(elements=(button,))))


def reach_key(program: Program, user: User, now: datetime, *, arrived: bool) -> str:
    """One message per person and program from a sync, ever; one welcome per day from joining the channel."""
    if arrived:
        return f"program:{program.id}:welcome:{user.id}:{now:%Y%m%d}"
    return f"program:{program.id}:reach:{user.id}"


def _outgoing(program: Program, user: User, action: Reach, now: datetime, *, arrived: bool) -> Outgoing:
    return Outgoing(
        key=reach_key(program, user, now, arrived=arrived),
        step=WELCOME_STEP if arrived else SYNC_STEP,
        target=to_user(user.platform_user_id),
        message=reach_message(program, action, arrived=arrived),
        program_id=program.id,
    )


async def reach(
    session: AsyncSession, program: Program, user: User, now: datetime, *, arrived: bool
) -> tuple[Reach | None, Outgoing | None]:
    """Apply the rule to one person: their membership changes now, their message is returned for the outbox."""
    if user.is_bot:
        return None, None
    action = decide(program, await membership(session, program.id, user.id), arrived=arrived)
    if action is None:
        return None, None
    if action == Reach.ENROL:
        await join(session, program, user, now)
    else:
        await invite(session, program, user, now)
    return action, _outgoing(program, user, action, now, arrived=arrived)


async def reach_found(
    session: AsyncSession, program: Program, users: list[User], now: datetime
) -> tuple[list[Reach | None], list[Outgoing]]:
    """The same rule for many people found already in the channel (a sync batch), in three queries.

    Returns what was done for each person (in order) and their messages for the outbox. Someone a sync
    asked before (who said no, or left since) is not asked again. Found people only ever get a new row:
    the rule leaves everyone who has one alone, or only invites them (who left)."""
    query = select(Membership).where(
        Membership.program_id == program.id, col(Membership.user_id).in_([u.id for u in users])
    )
    existing = {m.user_id: m for m in (await session.exec(query)).all()}
    keys = [reach_key(program, u, now, arrived=False) for u in users]
    asked = set(
        (await session.exec(select(Delivery.idempotency_key).where(col(Delivery.idempotency_key).in_(keys)))).all()
    )
    actions = [
        None if u.is_bot or key in asked else decide(program, existing.get(u.id or 0), arrived=False)
        for u, key in zip(users, keys, strict=True)
    ]
    rows = [
        new_membership_row(program, u.id, now if action == Reach.ENROL else None)
        for u, action in zip(users, actions, strict=True)
        if action is not None and u.id not in existing
    ]
    await insert_ignore(session, Membership, rows, ["program_id", "user_id"])
    items = [
        _outgoing(program, u, action, now, arrived=False)
        for u, action in zip(users, actions, strict=True)
        if action is not None
    ]
    return actions, items
