"""The buttons of the weekly at-risk digest: nudge a pair, rematch them next round, or pause someone.

Registered in the button registry at import. Each one checks that the clicker is an admin of the pair's
program (``ctx.require_admin``) and writes an audit entry.
"""

from __future__ import annotations

from datetime import timedelta

from bot.admin.risk import NUDGE, PAUSE, REMATCH, MatchRef, MemberRef
from bot.chat.context import Ctx, say
from bot.chat.registry import on_click
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.kernel.events import Response
from bot.kernel.messages import Message, Section, Text
from bot.kernel.timeutil import show
from bot.programs.matches import end_match, members_of
from bot.programs.membership import membership, pause
from storage.enums import EndReason
from storage.tables import Match, Program, User, Workspace

ADMIN_PAUSE = timedelta(weeks=4)


async def _match_and_program(ctx: Ctx, value: MatchRef) -> tuple[Match, Program] | None:
    match = await ctx.session.get(Match, value.match_id)
    program = await ctx.session.get(Program, match.program_id) if match else None
    if match is None or program is None or program.workspace_id != ctx.workspace.id:
        return None
    return match, program


@on_click(NUDGE)
async def nudge(ctx: Ctx, value: MatchRef) -> Response:
    """A friendly DM to the pair, in their group chat where the platform has one."""
    found = await _match_and_program(ctx, value)
    if found is None:
        return say("That pair no longer exists.")
    match, program = found
    ctx.require_admin(program)
    users = [u for _, u in await members_of(ctx.session, match.id)]
    message = Message(
        summary=f"A nudge from {program.name}",
        blocks=(
            Section(
                text=Text.of(
                    f"👋 A friendly nudge from the organisers of **{program.name}**: have you found a time to meet yet? "
                    "Use the booking buttons in your intro, or reply here. If it isn't working out, just say so and we'll "
                    "find you someone new."
                )
            ),
        ),
    )
    workspace = await ctx.session.get(Workspace, program.workspace_id)
    groups = workspace is not None and ctx.core.port(workspace.platform).capabilities.group_conversations
    key = f"match:{match.id}:nudge:{ctx.now:%Y%m%d}"
    if groups:
        items = [
            Outgoing(
                key=key,
                step="nudge",
                target=to_group([u.platform_user_id for u in users]),
                message=message,
                program_id=program.id,
                match_id=match.id,
            )
        ]
    else:
        items = [
            Outgoing(
                key=f"{key}:user:{u.id}",
                step="nudge",
                target=to_user(u.platform_user_id),
                message=message,
                program_id=program.id,
                match_id=match.id,
            )
            for u in users
        ]
    sent = await enqueue(ctx.session, program.workspace_id, items, ctx.now)
    await ctx.audit("nudge", program, match_id=match.id, members=[u.platform_user_id for u in users])
    names = " and ".join(u.display_name for u in users)
    return say(f"Nudged {names}." if sent else f"{names} were already nudged today.")


@on_click(REMATCH)
async def rematch(ctx: Ctx, value: MatchRef) -> Response:
    """Both get someone new next round (a mentoring pair is released from its track)."""
    found = await _match_and_program(ctx, value)
    if found is None:
        return say("That pair no longer exists.")
    match, program = found
    ctx.require_admin(program)
    end_match(match, EndReason.REMATCH, ctx.now)
    await ctx.audit("rematch", program, match_id=match.id)
    return say(f"Done: everyone in that pair gets a new match in the next round of {program.name}.")


@on_click(PAUSE)
async def pause_member(ctx: Ctx, value: MemberRef) -> Response:
    """Pause someone for four weeks and tell them why, so nobody waits on them."""
    program = await ctx.session.get(Program, value.program_id)
    user = await ctx.session.get(User, value.user_id)
    if program is None or user is None or program.workspace_id != ctx.workspace.id:
        return say("That person or program no longer exists.")
    ctx.require_admin(program)
    if await membership(ctx.session, program.id, user.id) is None:
        return say(f"{user.display_name} isn't in {program.name}.")
    until = ctx.now + ADMIN_PAUSE
    await pause(ctx.session, user, until, program)
    await enqueue(
        ctx.session,
        program.workspace_id,
        [
            Outgoing(
                key=f"program:{program.id}:admin_pause:{user.id}:{ctx.now:%Y%m%d}",
                step="admin_pause",
                target=to_user(user.platform_user_id),
                program_id=program.id,
                message=Message(
                    summary=f"Paused in {program.name}",
                    blocks=(
                        Section(
                            text=Text.of(
                                f"The organisers of **{program.name}** have paused your matches until "
                                f"{show(until, user.timezone)}, so nobody waits on you. `resume` any time to come back."
                            )
                        ),
                    ),
                ),
            )
        ],
        ctx.now,
    )
    await ctx.audit("pause", program, user=user.platform_user_id, name=user.display_name, until=until.isoformat())
    return say(f"Paused {user.display_name} in {program.name} for four weeks; they've been told.")
