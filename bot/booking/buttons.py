"""The booking buttons: propose one of the offered times, accept a proposal, or say you can't make it."""

from __future__ import annotations

from bot.booking.closing import close_booking_buttons
from bot.booking.offers import ACCEPT, DECLINE, PROPOSE, MeetingRef, SlotRef, accept, decline, propose
from bot.chat.context import Ctx, say
from bot.chat.registry import on_click
from bot.kernel.events import Response
from storage.enums import MeetingState
from storage.tables import Meeting


@on_click(PROPOSE)
async def propose_clicked(ctx: Ctx, value: SlotRef) -> Response:
    return say(await propose(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, value.meeting_id, value.slot))


@on_click(ACCEPT)
async def accept_clicked(ctx: Ctx, value: MeetingRef) -> Response:
    answer = await accept(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, value.meeting_id)
    meeting = await ctx.session.get(Meeting, value.meeting_id)
    if meeting is not None and meeting.state == MeetingState.CONFIRMED.value:  # booked: close the old buttons
        await close_booking_buttons(ctx.core, ctx.session, meeting, ctx.workspace.id or 0)
    return say(answer)


@on_click(DECLINE)
async def decline_clicked(ctx: Ctx, value: MeetingRef) -> Response:
    return say(await decline(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, value.meeting_id))
