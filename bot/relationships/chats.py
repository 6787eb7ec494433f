"""The buttons after each chat and the recap form: "we met" (counted, celebrated, next chat), "it didn't happen", recaps.

These live above booking and engagement because "we met" touches both: the chat is counted by booking, the
milestone is celebrated by engagement, and the next chat is offered at the pair's cadence.
"""

from __future__ import annotations

from bot.booking.followup import MET, MISSED, RECAP, mark_held, missed, recap_form_for, write_recap
from bot.booking.offers import MeetingRef
from bot.booking.recaps import FORM
from bot.booking.recurring import offer_next
from bot.chat.context import Ctx, say
from bot.chat.registry import decode, on_click, on_submit
from bot.engagement.celebrations import on_meeting_reported
from bot.kernel.events import FormErrors, FormSubmittedEvent, OpenForm, Response
from storage.tables import Program


@on_click(MET)
async def met_clicked(ctx: Ctx, value: MeetingRef) -> Response:
    """The first "we met" per chat counts it and celebrates milestones; the next chat is offered if it's due."""
    held = await mark_held(ctx.core, ctx.session, ctx.user, value.meeting_id)
    if held.counted:
        await on_meeting_reported(ctx.core, ctx.session, held.match)
        program = await ctx.session.get(Program, held.match.program_id)
        if program is not None:
            await offer_next(ctx.core, ctx.session, held.match, program, ctx.workspace.platform)
    return say(held.text)


@on_click(MISSED)
async def missed_clicked(ctx: Ctx, value: MeetingRef) -> Response:
    return say(await missed(ctx.core, ctx.session, ctx.workspace.platform, ctx.user, value.meeting_id))


@on_click(RECAP)
async def recap_clicked(ctx: Ctx, value: MeetingRef) -> Response:
    return OpenForm(form=await recap_form_for(ctx.session, ctx.user, value.meeting_id, ctx.now))


@on_submit(FORM)
async def recap_submitted(ctx: Ctx, event: FormSubmittedEvent) -> Response:
    ref = decode(MeetingRef, event.state)
    if ref is None:
        return say("That form is damaged; please use the latest message.")
    text, errors = await write_recap(ctx.core, ctx.session, ctx.user, ref.meeting_id, dict(event.values))
    if errors:
        return FormErrors(errors=errors)
    return say(text)
