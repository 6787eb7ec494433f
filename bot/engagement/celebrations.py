"""Shout-outs in the program channel when a pair reaches a milestone (unless either opted out)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, enqueue, to_channel
from bot.kernel.messages import Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.matches import members_of
from storage.tables import Match, Program

MILESTONES = {1: "had their first chat 🎉", 4: "have met four times 🌟"}
COMPLETED = "completed the program together 🎓 Thank you both!"


async def on_meeting_reported(core: Runtime, session: AsyncSession, match: Match) -> bool:
    milestone = MILESTONES.get(match.meetings_count)
    if milestone is None:
        return False
    return await celebrate(core, session, match, f"meetings:{match.meetings_count}", milestone)


async def on_program_completed(core: Runtime, session: AsyncSession, match: Match) -> bool:
    """The end of a mentoring track, when every member said yes to celebrating; only pairs who actually met.

    Called by the wrap-up (bot/relationships/wrapup.py) as the relationship ends, never when a survey opens.
    """
    if match.meetings_count < 1 and match.met_at is None:
        return False
    return await celebrate(core, session, match, "completed", COMPLETED)


async def celebrate(core: Runtime, session: AsyncSession, match: Match, key: str, what: str) -> bool:
    """One shout-out per match and milestone (the key makes it idempotent); none if anyone opted out."""
    members = await members_of(session, match.id)
    if not members or any(not u.shoutouts for _, u in members):
        return False
    program = await session.get(Program, match.program_id)
    assert program is not None
    parts: list = []
    for index, (_, user) in enumerate(members):
        if index:
            parts.append(" and " if index == len(members) - 1 else ", ")
        parts.append(Mention(user_id=user.platform_user_id, name=user.display_name))
    parts.append(f" {what}")
    body = Text.of(*parts)
    item = Outgoing(
        key=f"celebrate:match:{match.id}:{key}",
        step="celebration",
        target=to_channel(program.channel_id),
        message=Message(summary=body.plain(), blocks=(Section(text=body),)),
        program_id=program.id,
        match_id=match.id,
    )
    return bool(await enqueue(session, program.workspace_id, [item], core.clock.now()))
